"""Validation on a fixed held-out synthetic set: loss, alpha MAD and Grad, foreground L1."""

from __future__ import annotations

import numpy as np
import torch

from bgmcli import metrics
from bgmcli.train.stagenet import StageNet


@torch.no_grad()
def validate(net: StageNet, samples: list[dict], device: torch.device) -> dict[str, float]:
    """Means over the samples, one at a time (eval mode; restored to train mode after)."""
    net.eval()
    rows = []
    try:
        for sample in samples:
            x = {k: v.unsqueeze(0).to(device) for k, v in sample.items()}
            loss = net(x["src"], x["bgr"], x["true_pha"], x["true_fgr"])
            pha, fgr, _ = net.predict(x["src"], x["bgr"])
            rows.append(_metrics(float(loss), pha, fgr, x["true_pha"], x["true_fgr"]))
    finally:
        net.train()
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def _metrics(loss, pha, fgr, true_pha, true_fgr) -> dict[str, float]:
    p, t = pha[0, 0].float().cpu().numpy(), true_pha[0, 0].float().cpu().numpy()
    pf = fgr[0].float().permute(1, 2, 0).cpu().numpy()
    tf = true_fgr[0].float().permute(1, 2, 0).cpu().numpy()
    return {
        "val_loss": loss,
        "mad": metrics.mad(p, t),
        "grad": metrics.grad(p, t),
        "fgr_l1": metrics.fgr_l1(pf, tf, t),
    }
