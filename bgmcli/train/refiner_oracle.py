"""The refiner alone, with true coarse inputs (the "oracle" diagnostic): its coarse alpha and
foreground are the truth resized to the base network's grid, and its patches are where the
bilinear upsampling of that alpha errs most. What the refiner gains over bilinear upsampling,
apart from any error of the base network: `benchmarks/refiner_oracle.py` and a test use it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from bgmcli import metrics
from bgmcli.model.matting import clamp_unit
from bgmcli.model.refiner import HIDDEN_CHANNELS, Refiner, upsample_coarse
from bgmcli.model.selection import Selection, select_error
from bgmcli.train.losses import alpha_loss, foreground_loss, resize


def oracle_coarse(src: torch.Tensor, true_pha: torch.Tensor, true_fgr: torch.Tensor, scale: float):
    """(B, 32 + 1 + 3, h, w) coarse maps at `scale`: no hidden features, the true alpha and
    foreground residual resized to the coarse grid."""
    size = (round(src.shape[2] * scale), round(src.shape[3] * scale))
    hidden = src.new_zeros(src.shape[0], HIDDEN_CHANNELS, *size)
    return torch.cat([hidden, resize(true_pha, size), resize(true_fgr - src, size)], dim=1)


def oracle_selection(coarse: torch.Tensor, true_pha: torch.Tensor, k: int) -> Selection:
    """The k quarter-resolution locations where the upsampled coarse alpha errs most."""
    upsampled = upsample_coarse(coarse, *true_pha.shape[2:])[:, :1]
    return select_error(F.avg_pool2d((upsampled - true_pha).abs(), 4), k)


def oracle_forward(refiner: Refiner, batch: dict, scale: float, k: int):
    """(refined alpha + foreground residual (B, 4, H, W), the selection, the coarse maps)."""
    src, bgr = batch["src"], batch["bgr"]
    coarse = oracle_coarse(src, batch["true_pha"], batch["true_fgr"], scale)
    selection = oracle_selection(coarse, batch["true_pha"], k)
    out = refiner.forward_patches(torch.cat([src, bgr], dim=1), coarse, selection)
    return out, selection, coarse


def oracle_loss(refiner: Refiner, batch: dict, scale: float, k: int) -> torch.Tensor:
    """The refine stage's full-resolution terms on the pasted output."""
    out, _, _ = oracle_forward(refiner, batch, scale, k)
    # the straight-through clamp of stage refine, so the oracle trains the refiner the same way
    pha = clamp_unit(out[:, :1])
    fgr = clamp_unit(out[:, 1:] + batch["src"])
    return alpha_loss(pha, batch["true_pha"]) + foreground_loss(
        fgr, batch["true_fgr"], batch["true_pha"]
    )


def train_oracle(
    refiner: Refiner, batches: Iterable[dict], scale: float, k: int, lr: float = 1e-3
) -> list[float]:
    """Adam on the refiner alone over `batches`; returns the losses."""
    optimizer = torch.optim.Adam(refiner.parameters(), lr=lr)
    refiner.train()
    losses = []
    for batch in batches:
        loss = oracle_loss(refiner, batch, scale, k)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def oracle_scores(refiner: Refiner, samples: Iterable[dict], scale: float, k: int) -> dict:
    """Alpha MAD and Grad inside the refined patches, refined vs bilinear upsampling, summed
    (Grad) and averaged (MAD) over all patches of all samples; eval mode."""
    refiner.eval()
    sums = {"mad": 0.0, "mad_bilinear": 0.0, "grad": 0.0, "grad_bilinear": 0.0}
    pixels = 0
    for sample in samples:
        batch = {key: value[None] for key, value in sample.items()}
        out, selection, coarse = oracle_forward(refiner, batch, scale, k)
        height, width = batch["true_pha"].shape[2:]
        inside = _refined_pixels(selection, height, width)
        true = batch["true_pha"][0, 0].numpy()
        for name, pha in (("", out[:, :1]), ("_bilinear", upsample_coarse(coarse, height, width))):
            pred = pha[0, 0].clamp(0, 1).numpy()
            sums["mad" + name] += float(np.abs(pred - true)[inside].sum())
            sums["grad" + name] += metrics.grad(pred, true, inside)
        pixels += int(inside.sum())
    refiner.train()
    scores = {"mad": sums["mad"] / pixels, "mad_bilinear": sums["mad_bilinear"] / pixels}
    scores |= {"grad": sums["grad"], "grad_bilinear": sums["grad_bilinear"]}
    scores["mad_ratio"] = scores["mad"] / scores["mad_bilinear"]
    scores["grad_ratio"] = scores["grad"] / scores["grad_bilinear"]
    return scores


def _refined_pixels(selection: Selection, height: int, width: int) -> np.ndarray:
    ref = selection.to_map(height // 4, width // 4)
    return F.interpolate(ref, scale_factor=4.0, mode="nearest")[0, 0].numpy() > 0
