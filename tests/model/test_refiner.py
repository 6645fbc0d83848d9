"""The refiner's patches land where their inputs came from: with weights that copy one input
channel through the centre taps, every refined 4x4 patch reproduces that channel exactly."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bgmcli.loading import build_model, prepare_for_inference
from bgmcli.model.config import ModelConfig
from bgmcli.model.refiner import HIDDEN_CHANNELS, WIDTHS
from bgmcli.model.settings import InferenceSettings
from tests.conftest import calibrate_random_weights, make_frame_pair


def _copying_refiner(model, path: str):
    """conv1..conv4 pass one channel through their centre taps; BatchNorm is the identity."""
    r = model.refiner
    with torch.no_grad():
        for conv in (r.conv1, r.conv2, r.conv3, r.conv4):
            conv.weight.zero_()
        r.conv4.bias.zero_()
        for bn in (r.bn1, r.bn2, r.bn3):
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.zero_()
        if path == "full":  # src's red channel, joined at full resolution before conv3
            r.conv3.weight[0, WIDTHS[1], 1, 1] = 1.0
        else:  # the coarse alpha, through the half-resolution branch
            r.conv1.weight[0, HIDDEN_CHANNELS, 1, 1] = 1.0
            r.conv2.weight[0, 0, 1, 1] = 1.0
            r.conv3.weight[0, 0, 1, 1] = 1.0
        r.conv4.weight[0, 0, 1, 1] = 1.0
    return model


@pytest.mark.slow
@torch.no_grad()
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("path", ["full", "half"])
def test_refined_patches_are_aligned_with_their_inputs(path, fast):
    torch.manual_seed(0)
    settings = InferenceSettings(backbone_scale=0.25, mode="error", k=60)
    model = build_model(ModelConfig(backbone="mobilenetv2"), settings)
    height, width = 64, 96
    src, bgr = make_frame_pair(height, width)
    calibrate_random_weights(model, src, bgr)  # a non-zero error map, so that 60 are refined
    model = prepare_for_inference(_copying_refiner(model, path), torch.device("cpu"), fast=fast)
    out = model(src, bgr)
    inside = F.interpolate(out.ref_sm, scale_factor=4.0)[0, 0] > 0
    assert inside.sum() == 60 * 16
    if path == "full":
        expected = src[0, 0]
    else:  # the coarse alpha at half resolution, repeated over 2x2 by the nearest upsampling
        half = F.interpolate(out.pha_sm, (height // 2, width // 2), mode="bilinear")
        expected = F.interpolate(half, (height, width), mode="nearest")[0, 0]
    torch.testing.assert_close(out.pha[0, 0][inside], expected[inside], atol=1e-6, rtol=0)
