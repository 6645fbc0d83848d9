"""Same weights, same outputs: the reference BackgroundMattingV2 package as the oracle."""

from __future__ import annotations

import pytest
import torch

from bgmcli import load_model
from tests.conftest import calibrate_random_weights, make_frame_pair

reference = pytest.importorskip("BackgroundMattingV2.model")

# (official refine_mode and kwargs, our refine settings): our k counts 4x4 patches, the
# official code counts pixels (refine_sample_pixels = 16 k).
MODES = {
    "full": ({"refine_mode": "full"}, {"refine": "full"}),
    "error": (
        {"refine_mode": "sampling", "refine_sample_pixels": 3_200},
        {"refine": "error", "k": 200},
    ),
    "threshold": (
        {"refine_mode": "thresholding", "refine_threshold": 0.1},
        {"refine": "threshold", "threshold": 0.1},
    ),
}


@pytest.fixture(scope="module", params=["mobilenetv2", "resnet50", "resnet101"])
def official_checkpoint(request, tmp_path_factory):
    torch.manual_seed(0)
    src, bgr = make_frame_pair(96, 128, seed=1)
    ref = reference.MattingRefine(request.param, backbone_scale=0.25, refine_mode="full")
    calibrate_random_weights(ref, src, bgr)
    path = tmp_path_factory.mktemp("official") / f"pytorch_{request.param}.pth"
    torch.save(ref.state_dict(), path)  # the official files are bare state dicts
    return request.param, path


# The training form computes what the reference computes, op for op: identical to 1e-5. The
# fast inference form resamples per patch instead of per frame, so it may differ by float
# rounding: the bounds of the speed issue (mean |diff| < 1e-5, max < 1e-3).
FORMS = {"training": {"fast": False}, "fast": {}}


@pytest.mark.slow
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("mode", list(MODES))
def test_outputs_match_reference(official_checkpoint, mode, form):
    backbone, path = official_checkpoint
    ref_kwargs, our_kwargs = MODES[mode]
    ref = reference.MattingRefine(backbone, backbone_scale=0.25, **ref_kwargs)
    ref.load_state_dict(torch.load(path, weights_only=True))
    ref.eval()
    ours = load_model(path, backbone_scale=0.25, **our_kwargs, **FORMS[form])  # backbone from keys
    assert ours.config.backbone == backbone

    src, bgr = make_frame_pair(96, 128, seed=2)
    with torch.no_grad():
        expected = ref(src, bgr)
        actual = ours(src, bgr)
    for name, want, got in zip(actual._fields, expected, actual, strict=True):
        assert got.shape == want.shape, name
        diff = (got - want).abs()
        if form == "training":
            assert diff.max().item() < 1e-5, name
        else:
            assert diff.mean().item() < 1e-5 and diff.max().item() < 1e-3, name
    assert actual.ref_sm.sum() > 0  # patches really were refined
