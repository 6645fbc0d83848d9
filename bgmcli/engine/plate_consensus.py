"""The first guess of `--bg auto`'s plate: at each pixel, the frames of the largest group that
agree with one another. The background stays put while a moving subject's colours change as it
passes, so a pixel covered in most frames still finds its background (a plain median would not).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

AGREE = 20  # grey levels (of 255, block means) within which two frames show the same thing
# (a codec may render a still background a dozen levels apart before and after a subject passes)
WORK_WIDTH = 240  # frames are compared as block means about this wide: the cost stays bounded


def agreeing_frames(images: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """bool (N, H, W): the frames in each pixel's largest group of agreeing frames (only those
    with picture there count), found on block means and given to every pixel of a block."""
    count, height, width = images.shape[:3]
    factor = max(2, -(-width // WORK_WIDTH))
    # channel planes (3, N, h, w): each comparison below runs over whole contiguous planes
    small = np.stack([_reduce(image, factor) for image in images]).astype(np.int16)
    planes = np.ascontiguousarray(small.transpose(3, 0, 1, 2))
    small_valid = valid[:, : small.shape[1] * factor : factor, : small.shape[2] * factor : factor]
    agree = np.zeros(small.shape[:3], bool)
    best = np.full(small.shape[1:3], -1)
    for j in range(count):
        near = small_valid & small_valid[j]
        for plane in planes:
            near &= np.abs(plane - plane[j]) <= AGREE
        support = near.sum(0)
        better = support > best
        best = np.where(better, support, best)
        agree[:, better] = near[:, better]
    rows = np.minimum(np.arange(height) // factor, small.shape[1] - 1)
    cols = np.minimum(np.arange(width) // factor, small.shape[2] - 1)
    return agree[:, rows][:, :, cols] & valid


def _reduce(image: np.ndarray, factor: int) -> np.ndarray:
    """Block means `factor` x `factor` (a few pixels of misregistration or noise average out)."""
    return np.asarray(Image.fromarray(image).reduce(factor))
