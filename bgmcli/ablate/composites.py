"""Background-matting test data from image-matting data: a photo with its true alpha has no clean
plate, so its foreground colour is estimated, composited over a background photo, and the model
gets a perturbed copy of that background as its plate (as in training)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import uniform_filter

from bgmcli.data import augment, synthetic

_EPS = 1e-4


def estimate_foreground(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours F with image ~ alpha F + (1 - alpha) B: blur-fusion (Forte & Pitie,
    "Approximate fast foreground colour estimation", ICIP 2021), a wide pass then a narrow one.
    image (H, W, 3) and alpha (H, W) floats in [0, 1]; returns (H, W, 3) in [0, 1]."""
    fgr, bgr = image, image
    for radius in (90, 6):
        fgr, bgr = _blur_fusion(image, alpha, fgr, bgr, radius)
    return np.clip(fgr, 0.0, 1.0)


def _blur_fusion(image, alpha, fgr, bgr, radius: int):
    size = 2 * radius + 1
    a = alpha[..., None]

    def box(x: np.ndarray) -> np.ndarray:
        return uniform_filter(x, size=(size, size, 1)[: x.ndim], mode="reflect")

    blurred_a = box(a)
    blurred_fgr = box(fgr * a) / (blurred_a + _EPS)
    blurred_bgr = box(bgr * (1 - a)) / ((1 - blurred_a) + _EPS)
    residual = image - a * blurred_fgr - (1 - a) * blurred_bgr
    return blurred_fgr + a * residual, blurred_bgr + (1 - a) * residual


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
