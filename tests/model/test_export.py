"""`bgm export`: TorchScript and ONNX files give eager's outputs (within 1e-4) at the shape they
were exported for, refuse other shapes, and are written atomically."""

from __future__ import annotations

import json

import onnx
import pytest
import torch

from bgmcli.atomic import atomic_write
from bgmcli.errors import BgmError
from bgmcli.loading import load_model
from bgmcli.model.checkpoint import save_checkpoint
from bgmcli.model.export import (
    example_inputs,
    export_model,
    quiet,
    run_onnx,
)
from bgmcli.model.frame_size import parse_resolution
from tests.checkpoint_fixtures import lively_model
from tests.cli_helpers import run_bgm

SHAPE = (2, 3, 64, 96)  # batch 2: the patch indexing must keep frames apart
K = 40  # of 16 x 24 = 384 quarter-resolution locations
THRESHOLD = 0.44  # about the median error of lively_model: some locations refined, not all
CASES = [
    ("torchscript", "error"),
    ("onnx", "error"),
    ("torchscript", "full"),
    ("onnx", "full"),
    ("onnx", "random"),
    ("onnx", "uniform"),
    ("onnx", "threshold"),
]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "mobilenetv2.pt"
    save_checkpoint(path, lively_model(backbone="mobilenetv2"))
    return path


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory):
    """exported(format, mode) -> (eager model, ExportResult), each exported once per module."""
    folder, cache = tmp_path_factory.mktemp("exported"), {}

    def get(format: str, mode: str):
        if (format, mode) not in cache:
            model = load_model(checkpoint, refine=mode, k=K, threshold=THRESHOLD)
            path = folder / f"{mode}.{'onnx' if format == 'onnx' else 'pt'}"
            result = export_model(
                model, path, format=format, resolution=(SHAPE[3], SHAPE[2]), batch_size=SHAPE[0],
                verify=False,
            )  # fmt: skip
            cache[format, mode] = model, result
        return cache[format, mode]

    return get


def run_exported(result, inputs) -> list[torch.Tensor]:
    if result.format == "onnx":
        return [torch.from_numpy(x) for x in run_onnx(result.path, inputs)]
    with quiet():
        return list(torch.jit.load(str(result.path))(*inputs))


@pytest.mark.slow  # exports the model in each form
@pytest.mark.parametrize(("format", "mode"), CASES)
def test_exported_outputs_match_eager(exported, format, mode):
    model, result = exported(format, mode)
    inputs = example_inputs(SHAPE, seed=1)  # not the tracing input: nothing data-specific baked
    with torch.no_grad():
        expected = model(*inputs)
    got = run_exported(result, inputs)
    assert len(got) == len(expected) == 6
    for name, want, have in zip(expected._fields, expected, got, strict=True):
        assert have.shape == want.shape, name
        assert (have - want).abs().max().item() <= 1e-4, name
    refined = expected.ref_sm.mean().item()  # the selection was exercised: some, not all
    assert refined == 1 if mode == "full" else 0 < refined < 1


@pytest.mark.slow  # exports the model
def test_error_mode_refines_k_patches_per_frame(exported):
    model, result = exported("onnx", "error")
    ref_sm = run_exported(result, example_inputs(SHAPE, seed=2))[5]
    assert ref_sm.sum(dim=(1, 2, 3)).tolist() == [K, K]


@pytest.mark.slow  # exports the model
def test_torchscript_refuses_another_shape(exported):
    _, result = exported("torchscript", "error")
    src, bgr = example_inputs((2, 3, 64, 100))
    with pytest.raises(Exception, match=r"exported for src and bgr of shape \(2, 3, 64, 96\)"):
        with quiet():
            torch.jit.load(str(result.path))(src, bgr)


@pytest.mark.slow  # exports the model
def test_onnx_refuses_another_shape(exported):
    _, result = exported("onnx", "error")
    with pytest.raises(Exception, match="dimensions"):
        run_onnx(result.path, example_inputs((2, 3, 64, 100)))


@pytest.mark.slow  # exports the model
def test_onnx_file_records_config_and_shape(exported):
    _, result = exported("onnx", "full")
    props = {p.key: p.value for p in onnx.load(str(result.path)).metadata_props}
    meta = json.loads(props["bgm"])
    assert meta["input_shape"] == list(SHAPE)
    assert meta["settings"]["mode"] == "full"  # call-time settings, apart from the architecture


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_text("previous")

    def fail(tmp):
        assert tmp.name.startswith("model.") and tmp.name.endswith(".partial.onnx")  # unique
        tmp.write_text("half written")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.parametrize(
    ("text", "size"), [("96x64", (96, 64)), ("hd", (1920, 1080)), ("4K", (3840, 2160))]
)
def test_parse_resolution(text, size):
    assert parse_resolution(text) == size


@pytest.mark.parametrize("text", ["1920", "axb", "8x8", "1920x1080x2"])
def test_parse_resolution_rejects_bad_text(text):
    with pytest.raises(BgmError, match="resolution"):
        parse_resolution(text)


@pytest.mark.slow  # exports the model
def test_cli_export_says_which_shape_the_file_accepts(checkpoint, tmp_path, capsys):
    out = tmp_path / "m.pt"
    args = ["export", checkpoint, "-f", "torchscript", "-o", out, "-r", "96x64", "--k", K]
    code, stdout, stderr = run_bgm(capsys, *args)
    assert code == 0, stderr
    assert out.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
    assert "valid only for src and bgr of shape (1, 3, 64, 96)" in stdout
    assert "max |exported - eager|" in stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-f", "tflite"], "unknown export format 'tflite'"),
        (["-f", "onnx", "--opset", "9"], "opset 9 is not supported"),
        (["-f", "onnx", "--refine", "best"], "unknown refine mode 'best'"),
        (["-f", "onnx", "--k", "0"], "k must be a positive integer, got 0"),
        (["-f", "onnx", "-r", "big"], "resolution 'big'"),
        (["-f", "onnx", "-o", "."], "is a directory"),
    ],
)
@pytest.mark.slow
def test_cli_export_bad_options_fail_in_one_line(checkpoint, tmp_path, capsys, options, message):
    out = tmp_path / "m.onnx"
    code, stdout, stderr = run_bgm(capsys, "export", checkpoint, "-o", out, *options)
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_export_decides_the_settings_for_its_resolution(checkpoint):
    """`bgm export -r 4k` runs what `bgm matte` runs on 4K frames: 1/8 and k 20 000."""
    from bgmcli.model.traceable import TraceableMatting

    model = load_model(checkpoint, k=None)
    settings = TraceableMatting(model, (1, 3, 2160, 3840)).settings
    assert (settings.backbone_scale, settings.k) == (0.125, 20_000)
    settings = TraceableMatting(model, (1, 3, 1080, 1920)).settings
    assert (settings.backbone_scale, settings.k) == (0.25, 5_000)
