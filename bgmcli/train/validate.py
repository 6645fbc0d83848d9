"""Validation on a fixed held-out synthetic set: loss, alpha MAD and Grad, foreground L1.

In stage refine it also scores the coarse alpha upsampled bilinearly (what `--refine none`
gives) and both outputs inside the refined patches, so a run shows whether the refiner pays.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bgmcli import metrics
from bgmcli.train.losses import shrink
from bgmcli.train.stagenet import StageNet


@torch.no_grad()
def validate(net: StageNet, samples: list[dict], device: torch.device) -> dict[str, float]:
    """Means over the samples, one at a time (eval mode; restored to train mode after)."""
    net.eval()
    rows = []
    try:
        for sample in samples:
            x = {k: v.unsqueeze(0).to(device) for k, v in sample.items()}
            true_pha, true_fgr = x["true_pha"], x["true_fgr"]
            out = net.outputs(x["src"], x["bgr"])  # one forward pass: loss and metrics
            if net.stage == "base":  # on the base network's grid (input_scale: shrunk)
                row = _metrics(
                    out[0], out[1], *(shrink(t, out[0].shape[2:]) for t in (true_pha, true_fgr))
                )
            else:
                row = _refine_metrics(out, true_pha, true_fgr)
            rows.append({"val_loss": float(net.loss(out, true_pha, true_fgr))} | row)
    finally:
        net.train()
    return {k: _mean_of_defined([r[k] for r in rows]) for k in rows[0]}


def _mean_of_defined(values: list[float]) -> float:
    """The mean over values that are not NaN (NaN if none is: e.g. no patch was refined)."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t[0].float().permute(1, 2, 0).squeeze(-1).cpu().numpy()


def _metrics(pha, fgr, true_pha, true_fgr) -> dict[str, float]:
    p, t = _numpy(pha), _numpy(true_pha)
    return {
        "mad": metrics.mad(p, t),
        "grad": metrics.grad(p, t),
        "fgr_l1": metrics.fgr_l1(_numpy(fgr), _numpy(true_fgr), t),
    }


def _refine_metrics(out, true_pha, true_fgr) -> dict[str, float]:
    upsampled = F.interpolate(out.pha_sm, true_pha.shape[2:], mode="bilinear", align_corners=False)
    t, up, p = _numpy(true_pha), _numpy(upsampled.clamp(0.0, 1.0)), _numpy(out.pha)
    patches = F.interpolate(out.ref_sm, scale_factor=4.0, mode="nearest")
    inside = _numpy(patches)[: t.shape[0], : t.shape[1]] > 0
    return _metrics(out.pha, out.fgr, true_pha, true_fgr) | {
        "mad_upsampled": metrics.mad(up, t),
        "grad_upsampled": metrics.grad(up, t),
        "patch_l1": _mean_inside(np.abs(p - t), inside),
        "patch_l1_upsampled": _mean_inside(np.abs(up - t), inside),
    }


def _mean_inside(values: np.ndarray, inside: np.ndarray) -> float:
    """NaN when nothing was refined; the means over samples skip it."""
    return float(values[inside].mean()) if inside.any() else float("nan")
