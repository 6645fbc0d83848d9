"""Hand-held takes for `--bg auto`: each sampled frame registered to one reference frame (the
middle one) with the plate's registration (registration.py) and warped onto it (align.warp), with
where it has picture; frames of a still camera are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from bgmcli.engine.align import MOVED_PX, THRESHOLD_PX, warp
from bgmcli.engine.registration import Grey, NoEstimate, camera_moved, estimate


@dataclass(frozen=True)
class Aligned:
    images: np.ndarray  # uint8 (N, H, W, 3): in the reference frame's place
    valid: np.ndarray | None  # bool (N, H, W): where each has picture; None: all of them
    kept: tuple[int, ...]  # the indices of the sample's frames in `images`
    reference: int  # the index of the reference frame in the sample
    warped: int  # frames moved onto the reference
    failed: int  # frames that could not be registered (left out)


def align_to_reference(images: list[np.ndarray]) -> Aligned:
    """The frames in the middle one's place; one that cannot be registered is left out."""
    reference = len(images) // 2
    target = Grey.of(images[reference])
    height, width = images[0].shape[:2]
    out, valid, kept, warped = [], [], [], 0
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only cost
        for index, image in enumerate(images):
            grey = Grey.of(image)
            if index == reference or not camera_moved(target, grey, MOVED_PX):
                out.append(image)
                valid.append(None)
                kept.append(index)
                continue
            try:
                motion = estimate(grey, target, width, height)  # this frame -> the reference
            except NoEstimate:
                continue
            kept.append(index)
            if motion.offset_px <= THRESHOLD_PX:
                out.append(image)
                valid.append(None)
                continue
            out.append(warp(image, motion.matrix))
            valid.append(picture_reach(motion.matrix, width, height))
            warped += 1
    return Aligned(np.stack(out), _valid(valid, height, width), tuple(kept), reference, warped,
                   len(images) - len(kept))  # fmt: skip


def picture_reach(matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """bool (H, W): the reference's pixels that a frame moved by `matrix` covers (a pixel's
    worth inside its edges: the warp repeats the edge beyond them)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    inverse = np.linalg.inv(matrix)
    x = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    y = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    return (x >= 1) & (x <= width - 2) & (y >= 1) & (y <= height - 2)


def _valid(masks: list, height: int, width: int) -> np.ndarray | None:
    if all(mask is None for mask in masks):
        return None
    full = np.ones((height, width), bool)
    return np.stack([full if mask is None else mask for mask in masks])
