"""`--bg auto`'s model round: each sampled frame matted against the plate of the rounds before by
the base network alone at a small scale (the frames are already in memory: no pass over the
input); where its alpha is above a low threshold, widened, the frame counts as covered.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from bgmcli.engine.compose import to_float
from bgmcli.model.settings import InferenceSettings

MATTE_SIDE = 320  # the base network's input, longer side (pixels): coarse, and cheap
COVERED_ALPHA = 0.02  # alpha above this counts as covered: a missed veil costs more than a
# background pixel left out of a median that has other frames
MIN_SPECK = 8  # base-network pixels: a covered part smaller than this is noise, not a subject
BATCH = 4  # frames a call (memory stays small at any frame size)


def has_base_network(model) -> bool:
    """Whether `model` can matte at a small scale (a network; the difference key cannot)."""
    return callable(getattr(model, "base", None)) and callable(getattr(model, "prepare", None))


def matte_masks(model, images: np.ndarray, plate: np.ndarray, reach: int,
                device: torch.device | str = "cpu") -> np.ndarray:  # fmt: skip
    """bool (N, H, W): where each of `images` (uint8 (N, H, W, 3)) is covered by its subject,
    from the base network's alpha against `plate` (uint8 (H, W, 3)), widened by `reach` px."""
    height, width = plate.shape[:2]
    scale = min(0.5, MATTE_SIDE / max(height, width))
    settings = InferenceSettings(backbone_scale=scale, mode="none")
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    bgr = _tensor(plate[None], device, dtype)
    least = MIN_SPECK / (scale * scale)  # in the frame's pixels
    masks = []
    with torch.inference_mode():
        for top in range(0, len(images), BATCH):
            src = _tensor(images[top : top + BATCH], device, dtype)
            prepared = model.prepare(src, bgr.expand_as(src), settings)
            pha = model.base(prepared.src_sm, prepared.bgr_sm).pha_sm.float()
            pha = F.interpolate(pha, size=prepared.src.shape[2:], mode="bilinear",
                                align_corners=False)[:, :, :height, :width]  # fmt: skip
            # widened by scipy: its maximum filter's time does not grow with the size (a torch
            # max pool's does, as its square: seconds a frame at 4K)
            covered = (pha[:, 0] > COVERED_ALPHA).cpu().numpy()
            masks += [ndimage.maximum_filter(_without_specks(m, least), 2 * reach + 1)
                      for m in covered]  # fmt: skip
    return np.stack(masks)


def _without_specks(mask: np.ndarray, least: float) -> np.ndarray:
    """`mask` less its parts smaller than `least` pixels (8-connected)."""
    labels, count = ndimage.label(mask, np.ones((3, 3), bool))
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    return (sizes >= least)[labels] & mask


def _tensor(images: np.ndarray, device, dtype) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> (N, 3, H, W) in [0, 1] on `device`."""
    return to_float(torch.from_numpy(np.ascontiguousarray(images)).to(device)).to(dtype)
