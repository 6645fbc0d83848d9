"""The paper's losses (official train_base.py / train_refine.py): alpha L1 + Sobel-gradient L1,
foreground L1 where the true alpha > 0, error-map MSE; pure tensor functions, kornia style."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# kornia's normalised Sobel kernel (divided by the sum of its absolute values, 8)
_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0


def sobel(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Gradient magnitude sqrt(gx^2 + gy^2 + eps) per channel, replicate padding (kornia.sobel)."""
    channels = x.shape[1]
    kx = _SOBEL_X.to(x.device, x.dtype)
    kernel = torch.stack([kx, kx.t()]).unsqueeze(1).repeat(channels, 1, 1, 1)  # (2C, 1, 3, 3)
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)
    g = g.unflatten(1, (channels, 2))
    return (g.pow(2).sum(dim=2) + eps).sqrt()


def alpha_loss(
    pred_pha: torch.Tensor, true_pha: torch.Tensor, partial_weight: float = 1.0
) -> torch.Tensor:
    """L1 + Sobel-gradient L1. `partial_weight` > 1 counts pixels of partial true alpha (strands,
    edges) that many times in the L1 (a weighted mean): on a coarse grid they are a few percent
    of the pixels and hold most of the error."""
    if partial_weight == 1.0:
        l1 = F.l1_loss(pred_pha, true_pha)
    else:
        partial = ((true_pha > 0) & (true_pha < 1)).to(pred_pha.dtype)
        weight = 1 + (partial_weight - 1) * partial
        l1 = (weight * (pred_pha - true_pha).abs()).sum() / weight.sum()
    return l1 + F.l1_loss(sobel(pred_pha), sobel(true_pha))


def foreground_loss(
    pred_fgr: torch.Tensor, true_fgr: torch.Tensor, true_pha: torch.Tensor
) -> torch.Tensor:
    """L1 over pixels where the true alpha > 0; elsewhere the foreground is undefined."""
    mask = (true_pha > 0).to(pred_fgr.dtype)
    return F.l1_loss(pred_fgr * mask, true_fgr * mask)


def error_loss(pred_err: torch.Tensor, pred_pha: torch.Tensor, true_pha: torch.Tensor):
    """MSE of the predicted error map against the actual |pred - true| (no gradient into it)."""
    return F.mse_loss(pred_err, (pred_pha.detach() - true_pha).abs())


def resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, tuple(size), mode="bilinear", align_corners=False)


def shrink(x: torch.Tensor, size) -> torch.Tensor:
    """The truth on a coarser grid: each cell the mean of what it covers. Bilinear sampling
    would keep a strand thinner than the step at full strength or drop it, by where it falls."""
    if tuple(x.shape[2:]) == tuple(size):  # already on that grid (stage base at input scale 1)
        return x
    return F.interpolate(x, tuple(size), mode="area")


def base_loss(
    pred_pha, pred_fgr, pred_err, true_pha, true_fgr, partial_weight: float = 1.0
) -> torch.Tensor:
    """The base stage: the coarse outputs against the truth at their resolution (shrunk if not)."""
    true_pha, true_fgr = shrink(true_pha, pred_pha.shape[2:]), shrink(true_fgr, pred_pha.shape[2:])
    return (
        alpha_loss(pred_pha, true_pha, partial_weight)
        + foreground_loss(pred_fgr, true_fgr, true_pha)
        + error_loss(pred_err, pred_pha, true_pha)
    )


def refine_loss(out, true_pha: torch.Tensor, true_fgr: torch.Tensor) -> torch.Tensor:
    """The refine stage, as the official train_refine.py: full-resolution alpha and foreground,
    the coarse alpha and foreground against the truth resized to their grid, and the error map
    against the error of the coarse alpha UPSAMPLED to full resolution: that is what the
    refiner has to fix, so the selection learns where upsampling loses detail (sub-grid
    strands, edges), not only where the coarse alpha is wrong on its own grid."""
    full = alpha_loss(out.pha, true_pha) + foreground_loss(out.fgr, true_fgr, true_pha)
    coarse_size, full_size = out.pha_sm.shape[2:], true_pha.shape[2:]
    true_pha_sm, true_fgr_sm = shrink(true_pha, coarse_size), shrink(true_fgr, coarse_size)
    coarse = alpha_loss(out.pha_sm, true_pha_sm) + foreground_loss(
        out.fgr_sm, true_fgr_sm, true_pha_sm
    )
    err = error_loss(resize(out.err_sm, full_size), resize(out.pha_sm, full_size), true_pha)
    return full + coarse + err
