"""The difference-key baseline: alpha from |src - bgr|, available wherever a checkpoint is."""

from __future__ import annotations

import pytest
import torch

from bgmcli import load_model
from bgmcli.errors import BgmError
from bgmcli.model.difference_key import DifferenceKey


def test_alpha_maps_the_largest_channel_difference_between_the_thresholds():
    bgr = torch.zeros(1, 3, 8, 8)
    src = bgr.clone()
    src[0, 1, :, 4:] = 0.12  # halfway between low 0.04 and high 0.2
    src[0, 2, :2, :] = 0.5  # beyond high
    out = DifferenceKey(low=0.04, high=0.2)(src, bgr)
    assert torch.allclose(out.pha[0, 0, 4:, 4:], torch.full((4, 4), 0.5))
    assert out.pha[0, 0, 4:, :4].eq(0).all()
    assert out.pha[0, 0, :2].eq(1).all()
    assert torch.equal(out.fgr, src)
    assert out.ref_sm.shape == (1, 1, 2, 2) and out.ref_sm.eq(0).all()


def test_load_model_gives_the_difference_key_by_name():
    model = load_model("difference-key")
    assert isinstance(model, DifferenceKey)
    src = torch.rand(2, 3, 30, 42)
    out = model(src, src)
    assert out.pha.shape == (2, 1, 30, 42) and out.pha.eq(0).all()


def test_thresholds_must_be_ordered():
    with pytest.raises(BgmError, match="low < high"):
        DifferenceKey(low=0.3, high=0.1)


def test_fitted_thresholds_recover_the_mapping_that_made_the_alpha():
    from bgmcli.model.difference_key import fit_thresholds

    gen = torch.Generator().manual_seed(0)
    frames = []
    for _ in range(2):
        pha = torch.rand(1, 32, 48, generator=gen)
        bgr = torch.rand(3, 32, 48, generator=gen) * 0.5
        src = bgr.clone()
        src[1] += 0.1 + 0.3 * pha[0]  # the key of (0.1, 0.4) reproduces pha exactly
        frames.append({"src": src, "bgr": bgr, "true_pha": pha, "mask": None})
    low, high = fit_thresholds(frames)
    assert low == pytest.approx(0.1, abs=0.01) and high == pytest.approx(0.4, abs=0.01)
    masked = [{**f, "mask": (f["true_pha"][0] > 0.5).numpy()} for f in frames]
    low, high = fit_thresholds(masked)  # only alphas above 0.5 count: still the same mapping
    assert high == pytest.approx(0.4, abs=0.01)
