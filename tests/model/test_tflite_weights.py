"""Google's Coral TFLite weights (DeepLabV3-MobileNetV2, MobileNetV2 classifier) in our encoder and
ASPP: the converted network finds what the original finds; bad files fail in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from bgmcli.errors import BgmError
from bgmcli.model.config import ModelConfig
from bgmcli.model.matting import MattingModel
from bgmcli.model.tflite_weights import load_tflite_weights, read_conv_layers, read_tensors
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.train_fixtures import use_dataset_fn_in_cli

PRETRAINED = Path(__file__).resolve().parents[3] / "shared" / "pretrained"
DEEPLAB = PRETRAINED / "deeplabv3_mnv2_pascal_quant.tflite"
DEEPLAB_DM05 = PRETRAINED / "deeplabv3_mnv2_dm05_pascal_quant.tflite"
CLASSIFIER = PRETRAINED / "mobilenet_v2_1.0_224_quant.tflite"
BIRD, CAT, PERSON = 3, 8, 15  # Pascal VOC labels (pascal_voc_segmentation_labels.txt)

pytestmark = [
    pytest.mark.skipif(
        not DEEPLAB.exists(),
        reason=f"Coral test data (../shared/pretrained) not found: {PRETRAINED}",
    ),
    pytest.mark.usefixtures("one_thread"),
]


@pytest.fixture(scope="module")
def deeplab():
    """Our model with the file's encoder and ASPP, the file's logits layer, and what loaded."""
    model = MattingModel(ModelConfig(backbone="mobilenetv2")).eval()
    loaded = load_tflite_weights(model, DEEPLAB)
    return model, read_conv_layers(DEEPLAB)["logits/semantic"], loaded


def photo(name: str, size: int = 513) -> np.ndarray:
    image = Image.open(PRETRAINED / name).convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    return np.array(image)


def as_input(pixels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Source in [0, 1] and a 0.5 grey plate: there our first layer is exactly the file's first
    layer on y = 2x - 1, borders included (tflite_weights.source_and_plate_kernel)."""
    src = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    return src, torch.full_like(src, 0.5)


@torch.no_grad()
def segment(deeplab, pixels: np.ndarray) -> np.ndarray:
    """Pascal VOC labels: our encoder and ASPP, then a test-only copy of DeepLab's logits layer
    and its bilinear upsampling (align_corners, as the file's RESIZE_BILINEAR)."""
    model, logits, _ = deeplab
    features = model.backbone(torch.cat(as_input(pixels), dim=1))[0]
    scores = F.conv2d(model.aspp(features), torch.from_numpy(logits.weight),
                      torch.from_numpy(logits.bias))  # fmt: skip
    scores = F.interpolate(scores, size=pixels.shape[:2], mode="bilinear", align_corners=True)
    return scores[0].argmax(0).numpy()


def test_the_deeplab_file_fills_the_encoder_and_the_aspp(deeplab):
    model, _, loaded = deeplab
    assert loaded == "backbone + ASPP 1x1/pooling/projection"
    first = model.backbone.features[0][0].weight
    assert torch.equal(first[:, 3:], -first[:, :3])  # plate = -source: the difference image
    bn = model.backbone.features[5].conv[1][1]
    assert torch.equal(bn.weight, torch.ones(bn.num_features))
    assert torch.allclose(bn.running_var, torch.full((bn.num_features,), 1 - bn.eps))
    projection = model.aspp.project[0].weight
    assert projection.shape[1] == 5 * 256
    assert projection[:, 256:1024].eq(0).all() and projection[:, :256].ne(0).any()


@pytest.mark.parametrize(("name", "label"), [("grace_hopper.bmp", PERSON), ("cat.bmp", CAT)])
def test_finds_the_person_and_the_cat(deeplab, name, label):
    labels = segment(deeplab, photo(name))
    counts = np.bincount(labels.ravel(), minlength=21)
    assert counts[1:].argmax() + 1 == label and counts[label] > 0.2 * labels.size  # 0.68, 0.43


def test_segments_the_bird_like_the_reference_mask(deeplab):
    mask = np.array(Image.open(PRETRAINED / "bird_segmentation_mask.bmp"))
    # a label map resampled with interpolation: 0 background, 3 bird, 1 and 2 on its edge
    truth = mask >= 2
    bird = segment(deeplab, photo("bird_segmentation.bmp")) == BIRD
    assert (bird & truth).sum() / (bird | truth).sum() >= 0.9  # 0.909 (the runtime: 0.911)


def test_agrees_with_the_tflite_runtime(deeplab):
    interpreter = _interpreter(DEEPLAB)
    pixels = photo("grace_hopper.bmp")
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels[None])
    interpreter.invoke()
    theirs = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    assert (segment(deeplab, pixels) == theirs).mean() >= 0.97  # 0.998 (cat 0.991)


def _interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            pytest.skip("no TFLite runtime (pip install ai-edge-litert)")
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


@torch.no_grad()
def test_the_imagenet_classifier_loads_the_encoder_only():
    model = MattingModel(ModelConfig(backbone="mobilenetv2")).eval()
    assert load_tflite_weights(model, CLASSIFIER) == (
        "backbone only (the file has no DeepLab ASPP head)"
    )
    layers = read_conv_layers(CLASSIFIER)
    x = model.backbone(torch.cat(as_input(photo("grace_hopper.bmp", 224)), dim=1))[0]
    for name in ("MobilenetV2/Conv_1", "MobilenetV2/Logits/Conv2d_1c_1x1"):
        x = F.conv2d(x, *(torch.from_numpy(t) for t in layers[name]))
        x = x.clamp(0, 6).mean((2, 3), keepdim=True) if name.endswith("Conv_1") else x
    labels = (PRETRAINED / "imagenet_labels.txt").read_text().splitlines()
    assert labels[int(x.flatten().argmax())] == "military uniform"  # at output stride 16 too


def test_tensors_are_read_by_name_and_dequantised():
    tensors = read_tensors(DEEPLAB)
    bias = next(v for k, v in tensors.items() if k == "MobilenetV2/Conv/BatchNorm_Fold/bias")
    assert bias.dtype == np.float32 and bias.shape == (32,)
    assert np.allclose(bias, read_conv_layers(DEEPLAB)["MobilenetV2/Conv"].bias)


def test_bad_files_fail_in_one_line(tmp_path):
    model = MattingModel(ModelConfig(backbone="mobilenetv2"))
    text = tmp_path / "notes.tflite"
    text.write_text("not a model at all\n")
    pth = tmp_path / "weights.tflite"
    torch.save({"w": torch.zeros(2)}, pth)
    other = tmp_path / "other.tflite"
    other.write_bytes(_empty_tflite_model())
    cases = [
        (text, "is not a TFLite model"),
        (pth, "is not a TFLite model"),
        (other, "another architecture (no MobileNetV2 layers)"),
        (DEEPLAB_DM05, "MobileNetV2 0.5 wide, expected 1.0"),
    ]
    for path, needle in cases:
        with pytest.raises(BgmError, match=r"^[^\n]*$") as error:
            load_tflite_weights(model, path)
        assert needle in str(error.value)
    with pytest.raises(BgmError, match="fit backbone mobilenetv2 only, not resnet50"):
        load_tflite_weights(MattingModel(ModelConfig(backbone="resnet50")), DEEPLAB)


def _empty_tflite_model() -> bytes:
    """A valid TFLite flatbuffer with one empty subgraph: a model of 'another architecture'."""
    import flatbuffers
    import tflite

    builder = flatbuffers.Builder(64)
    tflite.SubGraphStart(builder)
    subgraph = tflite.SubGraphEnd(builder)
    tflite.ModelStartSubgraphsVector(builder, 1)
    builder.PrependUOffsetTRelative(subgraph)
    subgraphs = builder.EndVector()
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddSubgraphs(builder, subgraphs)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.slow
def test_train_records_the_origin_and_info_shows_it(tmp_path, capsys, monkeypatch):
    use_dataset_fn_in_cli(monkeypatch)
    out = tmp_path / "run"
    code, _, err = run_bgm(capsys, "train", "--preset", "smoke", "--stage", "base", "--steps", "1",
                        "--backbone-weights", DEEPLAB, "--out", out, "--device", "cpu",
                        "--quiet")  # fmt: skip
    assert code == 0, err
    code, text, _ = run_bgm(capsys, "info", out / "model.pt", "--json")
    start = json.loads(text)["start_weights"]
    assert start["file"] == DEEPLAB.name and len(start["sha256"]) == 64
    assert start["kind"] == "DeepLabV3-MobileNetV2 Pascal VOC (Coral test_data, Apache-2.0)"
    assert start["loaded"] == "backbone + ASPP 1x1/pooling/projection"
    code, text, _ = run_bgm(capsys, "info", out / "last.pt")
    assert code == 0 and "start weights kind" in text and "Coral test_data" in text


def test_train_refuses_the_tflite_file_for_resnet(tmp_path, capsys, monkeypatch):
    use_dataset_fn_in_cli(monkeypatch)
    code, _, err = run_bgm(capsys, "train", "--preset", "smoke", "--backbone", "resnet50",
                        "--backbone-weights", DEEPLAB, "--out", tmp_path / "o", "--device",
                        "cpu")  # fmt: skip
    assert_one_line_error(code, err, "mobilenetv2 only, not resnet50")
