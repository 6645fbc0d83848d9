"""The paper's losses on known tensors: zero when perfect, hand-computed small cases."""

from __future__ import annotations

import pytest
import torch

from bgmcli.model.matting import MattingOutput
from bgmcli.train.losses import (
    alpha_loss,
    base_loss,
    error_loss,
    foreground_loss,
    refine_loss,
    sobel,
)


def _soft_alpha(h=16, w=16):
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return ((0.3 - ((yy - 0.5) ** 2 + (xx - 0.5) ** 2).sqrt()) * 8).clamp(0, 1)[None, None]


def test_sobel_of_a_ramp_is_one_inside_and_half_at_replicated_borders():
    ramp = torch.arange(6.0).expand(6, 6)[None, None]  # x increases by 1 per column
    g = sobel(ramp, eps=0.0)
    assert torch.allclose(g[..., 1:-1], torch.ones(1, 1, 6, 4))
    assert torch.allclose(g[..., [0, -1]], torch.full((1, 1, 6, 2), 0.5))
    assert torch.allclose(sobel(ramp.transpose(2, 3), eps=0.0), g.transpose(2, 3))


def test_sobel_of_a_constant_is_sqrt_eps_per_channel():
    g = sobel(torch.full((2, 3, 5, 5), 0.7), eps=1e-6)
    assert g.shape == (2, 3, 5, 5)
    assert torch.allclose(g, torch.full_like(g, 1e-3))


def test_losses_are_zero_for_perfect_predictions():
    pha = _soft_alpha()
    fgr = torch.rand(1, 3, 16, 16)
    err = torch.zeros_like(pha)
    assert float(alpha_loss(pha, pha)) == 0.0
    assert float(foreground_loss(fgr, fgr, pha)) == 0.0
    assert float(base_loss(pha, fgr, err, pha, fgr)) == 0.0
    small = torch.nn.functional.interpolate(pha, (4, 4), mode="area")
    small_fgr = torch.nn.functional.interpolate(fgr, (4, 4), mode="area")
    # every term but the error map's is zero; that one compares the error map, upsampled, with
    # what upsampling the coarse alpha loses (the next test)
    up = torch.nn.functional.interpolate(small, (16, 16), mode="bilinear", align_corners=False)
    out = MattingOutput(pha, fgr, small, small_fgr, torch.zeros_like(small), small)
    expected = float(((up - pha).abs() ** 2).mean())
    assert float(refine_loss(out, pha, fgr)) == pytest.approx(expected, rel=1e-5)


def test_refine_error_target_is_the_full_resolution_error_of_the_upsampled_coarse_alpha():
    """A coarse alpha equal to the truth shrunk to its grid still misses a sharp edge once
    upsampled: the error map must learn that error (official train_refine.py), not zero."""
    pha = torch.zeros(1, 1, 16, 16)
    pha[..., :, 7:] = 1.0  # a sharp edge between coarse cells
    fgr = torch.rand(1, 3, 16, 16)
    small = torch.nn.functional.interpolate(pha, (4, 4), mode="area")
    small_fgr = torch.nn.functional.interpolate(fgr, (4, 4), mode="area")
    up = torch.nn.functional.interpolate(small, (16, 16), mode="bilinear", align_corners=False)
    no_error = MattingOutput(pha, fgr, small, small_fgr, torch.zeros_like(small), small)
    expected = float(((up - pha).abs() ** 2).mean())
    assert expected > 0.01
    assert float(refine_loss(no_error, pha, fgr)) == pytest.approx(expected, rel=1e-5)


def test_alpha_loss_of_constant_maps_is_their_l1_distance():
    pred, true = torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 0.25)
    assert float(alpha_loss(pred, true)) == pytest.approx(0.25)


def test_foreground_loss_ignores_pixels_where_true_alpha_is_zero():
    pha = torch.zeros(1, 1, 2, 2)
    pha[..., 0, :] = 0.5  # top row has some foreground
    true = torch.zeros(1, 3, 2, 2)
    pred = true.clone()
    pred[..., 1, :] = 1.0  # wrong only where alpha == 0: no loss
    assert float(foreground_loss(pred, true, pha)) == 0.0
    pred[..., 0, 0] = 0.4  # wrong by 0.4 on 1 of 4 pixels, 3 channels: mean over 12 values
    assert float(foreground_loss(pred, true, pha)) == pytest.approx(0.4 * 3 / 12)


def test_error_loss_targets_the_actual_error_without_moving_alpha():
    true = torch.tensor([[[[0.0, 1.0]]]])
    pred = torch.tensor([[[[0.5, 0.75]]]], requires_grad=True)
    err = torch.tensor([[[[0.5, 0.0]]]], requires_grad=True)
    loss = error_loss(err, pred, true)
    assert float(loss.detach()) == pytest.approx((0.0 + 0.25**2) / 2)
    loss.backward()
    assert pred.grad is None and err.grad is not None


def test_the_truth_on_the_coarse_grid_keeps_a_thin_strand_as_its_mean():
    true = torch.zeros(1, 1, 8, 8)
    true[..., 3] = 1.0  # a one-pixel strand: each 4x4 cell it crosses is a quarter covered
    pred = torch.zeros(1, 1, 2, 2)
    pred[..., 0] = 0.25
    fgr = torch.zeros(1, 3, 8, 8)
    loss = base_loss(pred, fgr[..., :2, :2], torch.zeros_like(pred), true, fgr)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)


def test_base_loss_compares_at_the_prediction_resolution():
    true = torch.ones(1, 1, 8, 8)
    pred = torch.ones(1, 1, 2, 2)
    fgr = torch.zeros(1, 3, 8, 8)
    loss = base_loss(pred, fgr[..., :2, :2], torch.zeros_like(pred), true, fgr)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)


def test_partial_weight_counts_the_error_on_partial_alpha_more():
    true = torch.zeros(1, 1, 8, 8)
    true[..., 0, :] = 0.5  # one row of a strand, the rest empty
    on_strand, elsewhere = true.clone(), true.clone()
    on_strand[..., 0, 3] += 0.4
    elsewhere[..., 6, 4] += 0.4

    def gain(pred) -> float:  # the weighting's change to the loss (the Sobel term cancels)
        return float(alpha_loss(pred, true, partial_weight=4.0) - alpha_loss(pred, true))

    assert gain(on_strand) > 0 > gain(elsewhere)
    assert gain(true) == 0
