"""Background-matting test data from image-matting data: a photo with its true alpha has no clean
plate, so its foreground colour is estimated, composited over a background photo, and the model
gets a perturbed copy of that background as its plate (as in training)."""

from __future__ import annotations

import numpy as np
import torch

from bgmcli.data import augment, synthetic
from bgmcli.data.foreground import estimate_foreground


def composite(
    image: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, misalign: float = 1.0
) -> dict[str, torch.Tensor]:
    """src, bgr (the plate), true_pha, true_fgr as (C, H, W) float tensors: the estimated
    foreground over a background photo or texture; the plate misaligned, recoloured and noisy."""
    fgr = torch.from_numpy(estimate_foreground(image, alpha)).permute(2, 0, 1).float()
    pha = torch.from_numpy(alpha).float()[None]
    live = synthetic.background(rng, tuple(alpha.shape))[0]
    src = (fgr * pha + live * (1 - pha)).clamp(0.0, 1.0)
    plate = augment.perturb_plate(live, rng, misalign).clamp(0.0, 1.0)
    return {"src": src, "bgr": plate, "true_pha": pha, "true_fgr": fgr}
