"""Foreground colour from an image and its alpha (blur-fusion): what image-matting data lacks to
be composited over another background (evaluation composites, moving clips)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

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
