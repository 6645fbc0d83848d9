"""The bundled default model: shipped in the package, fp16 on disk, loaded by default."""

from __future__ import annotations

import pytest
import torch

from bgmcli import load_model
from bgmcli.loading import BUNDLED_MODEL
from bgmcli.model.checkpoint import read_checkpoint, split_checkpoint


@pytest.mark.slow
def test_the_bundled_model_is_half_precision_and_says_how_it_was_made():
    state, config, meta = split_checkpoint(read_checkpoint(BUNDLED_MODEL), BUNDLED_MODEL)
    floats = [v for v in state.values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert config["backbone"] == "mobilenetv2"
    assert meta["source"] == "bgm train" and meta["preset"] == "default"
    assert BUNDLED_MODEL.stat().st_size < 12 * 2**20


@pytest.mark.slow
def test_load_model_without_a_checkpoint_gives_the_bundled_model_in_fp32():
    model = load_model(refine="error", k=50)
    assert model.config.backbone == "mobilenetv2"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    gen = torch.Generator().manual_seed(0)
    # 192x256: the base network sees 96x128 px (scale 1/2, chosen from the frame's size)
    bgr = torch.rand(1, 3, 192, 256, generator=gen)
    src = bgr.clone()
    src[..., 48:144, 80:176] = torch.tensor([0.9, 0.2, 0.1])[:, None, None]
    with torch.inference_mode():
        out = model(src, bgr)
    assert out.pha.shape == (1, 1, 192, 256) and out.fgr.shape == (1, 3, 192, 256)
    # a trained model sees the subject: alpha inside the square is well above alpha outside
    assert out.pha[..., 64:128, 96:160].mean() > out.pha[..., :32, :].mean() + 0.5
