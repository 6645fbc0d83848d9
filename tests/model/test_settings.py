"""The frame-size rule for the base network's scale (and k), and that `bgm matte`, `bgm bench`,
evaluation and `load_model` all take it from bgmcli.model.settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bgmcli.ablate.evaluate import variant_settings
from bgmcli.bench.sweep import plan_sweep
from bgmcli.engine import matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.errors import BgmError
from bgmcli.loading import build_model, load_model
from bgmcli.model.config import ModelConfig, model_config
from bgmcli.model.difference_key import DifferenceKey
from bgmcli.model.frame_size import base_scale, default_k
from bgmcli.model.settings import InferenceSettings, resolve


def test_rule_keeps_the_papers_scales_and_grows_on_small_frames():
    assert base_scale(1920, 1080) == 0.25  # exactly the paper's: base input 480x270
    assert base_scale(3840, 2160) == 0.125  # likewise
    assert base_scale(1080, 1920) == 0.25  # portrait: the longer side counts
    assert base_scale(1280, 720) == 0.375
    assert base_scale(640, 360) == 0.5  # capped: not 0.75
    assert base_scale(64, 48) == 0.5
    assert all(0 < base_scale(w, 9) <= 0.5 for w in (16, 500, 961, 7680, 20_000))


def test_resolve_gives_explicit_values_precedence():
    assert resolve(640, 360) == resolve(640, 360, backbone_scale=None, k=None)
    assert resolve(640, 360).k == default_k(640, 360) == 556
    given = InferenceSettings(backbone_scale=0.25, k=7)
    assert resolve(640, 360, backbone_scale=0.25, k=7) == given
    assert resolve(3840, 2160, k_hd=100).k == 400  # a count given at HD, scaled with the area


def test_settings_check_their_values_in_one_line():
    assert InferenceSettings(backbone_scale=None).for_frame(1920, 1080).backbone_scale == 0.25
    assert InferenceSettings(backbone_scale=0.125).for_frame(640, 360).backbone_scale == 0.125
    for bad in (0.0, 0.6):
        with pytest.raises(BgmError, match="backbone_scale"):
            InferenceSettings(backbone_scale=bad)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(BgmError, match="k must be a positive integer"):
            InferenceSettings(k=bad)
    with pytest.raises(BgmError, match="unknown refine mode 'best'; known: error, random"):
        InferenceSettings(mode="best")


def test_older_model_configs_keep_loading_without_their_settings():
    old = {"backbone": "resnet50", "backbone_scale": 0.25, "refiner_residual": True,
           "refine": {"mode": "error", "k": 5000, "threshold": 0.1, "seed": 0}}  # fmt: skip
    assert model_config(old) == ModelConfig(backbone="resnet50", refiner_residual=True)


def _base_inputs(model, width: int, height: int) -> tuple[int, int]:
    """(width, height) of what the backbone sees for one frame of this size."""
    seen = []
    hook = model.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].shape))
    try:
        with torch.inference_mode():
            frame = torch.rand(1, 3, height, width)
            model(frame, frame.clone())
    finally:
        hook.remove()
    return seen[0][3], seen[0][2]


def test_load_model_applies_the_rule_to_each_frame(one_thread):
    model = load_model(refine="none")  # the bundled model; its config stores 0.25
    assert model.settings.backbone_scale is None
    assert _base_inputs(model, 96, 64) == (48, 32)  # 1/2
    assert _base_inputs(model, 1200, 80) == (480, 32)  # 480 / 1200 = 0.4
    fixed = load_model(refine="none", backbone_scale=0.125)  # explicit: wins everywhere
    assert _base_inputs(fixed, 1200, 80) == (150, 10)


def test_matte_takes_its_defaults_from_the_rule(monkeypatch):
    calls = []
    monkeypatch.setattr(matte, "load_model", lambda *a, **kw: calls.append(kw))
    config = MatteConfig(input=Path("in.mp4"), background=Path("bg.png"))
    matte._load_model(config, torch.device("cpu"))
    given = MatteConfig(input=Path("in.mp4"), background=Path("bg.png"), backbone_scale=0.25, k=9)
    matte._load_model(given, torch.device("cpu"))
    # one settings object, passed whole; the model decides what is left None for each frame
    assert [c["settings"] for c in calls] == [config.settings, given.settings]
    resolved = [c["settings"].for_frame(640, 360) for c in calls]
    assert [(s.backbone_scale, s.k) for s in resolved] == [(0.5, 556), (0.25, 9)]


def test_bench_takes_its_defaults_from_the_rule():
    (small, hd) = plan_sweep(resolution=["640x360", "hd"])
    assert (small.backbone_scale, small.k) == (0.5, 556)
    assert (hd.backbone_scale, hd.k) == (0.25, 5000)
    assert plan_sweep(resolution=["640x360"], backbone_scale=[0.125])[0].backbone_scale == 0.125


def test_evaluation_takes_its_settings_from_the_rule():
    model = build_model(ModelConfig()).eval()
    settings = variant_settings(model, 5000).for_frame(640, 360)
    assert (settings.k, settings.backbone_scale) == (556, 0.5)
    assert variant_settings(model, 5000, 0.25).for_frame(640, 360).backbone_scale == 0.25
    assert _base_inputs(model, 64, 36) == (32, 18)  # the model applies it to each frame
    src = torch.rand(1, 3, 36, 64)
    assert DifferenceKey()(src, src).pha_sm.shape[-2:] == (18, 32)  # the rule too
    assert DifferenceKey(backbone_scale=0.25)(src, src).pha_sm.shape[-2:] == (9, 16)
