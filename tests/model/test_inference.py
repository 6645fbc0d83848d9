"""The fast inference form computes what the training form computes, for every refine setting."""

from __future__ import annotations

import copy

import pytest
import torch

from bgmcli.loading import build_model, prepare_for_inference
from bgmcli.model.config import ModelConfig
from bgmcli.model.inference import InferenceMattingModel
from bgmcli.model.settings import InferenceSettings
from tests.conftest import calibrate_random_weights, make_frame_pair

CPU = torch.device("cpu")


@pytest.mark.slow
@pytest.mark.parametrize(
    "scale,kernel_size,mode,size",
    [
        (0.25, 3, "error", (64, 96)),
        (0.125, 3, "error", (96, 128)),  # coarse -> half is x4, as at 4K
        (0.3, 3, "random", (66, 90)),  # a non-integer ratio and padding to multiples of 4
        (0.5, 3, "uniform", (64, 80)),
        (0.25, 1, "threshold", (64, 96)),
    ],
)
def test_fast_form_matches_training_form(scale, kernel_size, mode, size):
    torch.manual_seed(0)
    settings = InferenceSettings(backbone_scale=scale, mode=mode, k=150)
    model = build_model(ModelConfig(kernel_size=kernel_size), settings)
    src, bgr = make_frame_pair(*size, seed=4)
    calibrate_random_weights(model, src, bgr)
    training = prepare_for_inference(copy.deepcopy(model), CPU, fast=False)
    fast = prepare_for_inference(model, CPU)
    assert isinstance(fast, InferenceMattingModel)
    with torch.inference_mode():
        want, got = training(src, bgr), fast(src, bgr)
    assert got.ref_sm.sum() > 0
    for name, a, b in zip(want._fields, want, got, strict=True):
        assert a.shape == b.shape, name
        assert (a - b).abs().max() < 1e-4, name


@pytest.mark.slow
def test_fast_form_runs_in_bfloat16_like_the_training_form():
    torch.manual_seed(0)
    model = build_model(ModelConfig(), InferenceSettings(backbone_scale=0.25, k=50))
    src, bgr = make_frame_pair(64, 96, seed=5)
    calibrate_random_weights(model, src, bgr)
    training = prepare_for_inference(copy.deepcopy(model), CPU, fast=False).to(torch.bfloat16)
    fast = prepare_for_inference(model, CPU).to(torch.bfloat16)
    with torch.inference_mode():
        want = training(src.bfloat16(), bgr.bfloat16())
        got = fast(src.bfloat16(), bgr.bfloat16())
    assert got.pha.dtype == torch.bfloat16
    # bf16 itself moves this random network's alpha by ~0.09 from fp32; the two forms in bf16
    # agree to ~3e-4.
    assert (got.pha.float() - want.pha.float()).abs().mean() < 2e-3


@pytest.mark.slow
def test_refining_in_chunks_gives_the_same_result(monkeypatch):
    torch.manual_seed(0)
    model = build_model(ModelConfig(), InferenceSettings(backbone_scale=0.25, k=100))
    src, bgr = make_frame_pair(64, 96, seed=6)
    calibrate_random_weights(model, src, bgr)
    fast = prepare_for_inference(model, CPU)
    with torch.inference_mode():
        whole = fast(src, bgr)
        monkeypatch.setattr("bgmcli.model.inference.PATCH_CHUNK", 7)  # 100 = 14 x 7 + 2
        chunked = fast(src, bgr)
    assert torch.equal(whole.pha, chunked.pha) and torch.equal(whole.fgr, chunked.fgr)
