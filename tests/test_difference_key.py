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
