"""Where the background plate sits on a frame: an affine motion (shift, rotation, scale, and the
slight shear and stretch of a camera turned between plate and take) from the
phase correlation of many small tiles, fitted with RANSAC on grey copies about 960 px wide; and
a cheap test of whether the camera moved since the last estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from skimage.filters import window
from skimage.measure import ransac
from skimage.registration import phase_cross_correlation
from skimage.transform import AffineTransform, downscale_local_mean

WORK_WIDTH = 960  # grey copies are reduced to about this width: tiles then hold enough detail
UPSAMPLE = 10  # tile shifts to 1/10 of a grey pixel; more costs time for no better fit
# Mean absolute step between neighbouring grey pixels (both directions summed) below which a
# tile says nothing reliable about where it is: sensor noise alone gives about 3.
MIN_GRADIENT = 6.0
MIN_TILES = 6  # fewer textured or agreeing tiles than this: no estimate
MAX_TILES = 48  # evenly spread over the picture; more cost time and barely move the fit
INLIER_PX = 1.0  # grey pixels: a tile further than this from the fit is an outlier
COARSE = 4  # the whole-picture shift is found first on a copy this much smaller again
MOVED_TILES = 3  # the camera-moved test compares a 3x3 grid of tiles


@dataclass(frozen=True)
class Grey:
    """A grey copy of a picture, `factor` times smaller (block means: no aliasing)."""

    pixels: np.ndarray  # float32 (h, w)
    factor: int

    @classmethod
    def of(cls, image: np.ndarray) -> Grey:
        factor = max(1, round(image.shape[1] / WORK_WIDTH))
        grey = Image.fromarray(image).convert("L")
        if factor > 1:
            grey = grey.reduce(factor)
        return cls(np.asarray(grey, np.float32), factor)

    @property
    def tile(self) -> int:
        return 64 if min(self.pixels.shape) >= 256 else 32

    def halved(self) -> Grey:
        return Grey(downscale_local_mean(self.pixels, 2).astype(np.float32), self.factor * 2)


@dataclass(frozen=True)
class Motion:
    """The plate -> frame motion, a 3x3 matrix in frame pixels (pixel centres at integers),
    and how well the tiles agreed on it."""

    matrix: np.ndarray
    inlier_share: float  # of the textured tiles (the subject's tiles are outliers too)
    residual_px: float  # RMS distance of the agreeing tiles from the fit, frame pixels
    # How far from this fit a second group of tiles that agree among themselves puts the plate
    # (frame pixels; 0: none). The subject's tiles match nothing; parallax or a moved part of
    # the background makes such a group.
    disagreement_px: float
    width: int
    height: int

    @property
    def shift(self) -> tuple[float, float]:
        """Where the frame's centre moved, in pixels (x right, y down)."""
        centre = np.array([(self.width - 1) / 2, (self.height - 1) / 2, 1.0])
        moved = self.matrix @ centre
        return float(moved[0] - centre[0]), float(moved[1] - centre[1])

    @property
    def rotation_deg(self) -> float:
        return math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0]))

    @property
    def scale(self) -> float:
        return math.hypot(self.matrix[0, 0], self.matrix[1, 0])

    @property
    def offset_px(self) -> float:
        """The misregistration: how far the plate's furthest corner lies from its place."""
        w, h = self.width - 1, self.height - 1
        corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], float)
        return float(np.abs(corners @ self.matrix.T - corners)[:, :2].max())


class NoEstimate(Exception):
    """The plate cannot be placed on this frame; str() says why."""


class TooLittleTexture(NoEstimate):
    def __init__(self):
        super().__init__("too little texture")


def estimate(plate: Grey, frame: Grey, width: int, height: int) -> Motion:
    """The plate's motion onto the frame; raises NoEstimate when too few tiles have texture or
    agree on one motion. Tiles are compared in place first (hand-held plates are a few
    pixels off); if that fails, at the whole picture's shift (a plate further off). A soft
    picture (a blurred backdrop, a plain wall) is tried again at half the size, where its
    gentle gradients rise above the sensor noise."""
    try:
        return _estimate_in_place(plate, frame, width, height)
    except NoEstimate as full_size:
        if min(frame.pixels.shape) < 4 * frame.tile:
            raise
        try:
            return _estimate_in_place(plate.halved(), frame.halved(), width, height)
        except NoEstimate:
            raise full_size from None


def _estimate_in_place(plate: Grey, frame: Grey, width: int, height: int) -> Motion:
    try:
        return _estimate_at(plate, frame, width, height, np.zeros(2, int))
    except TooLittleTexture:
        raise
    except NoEstimate as in_place:
        coarse = _coarse_shift(plate.pixels, frame.pixels)
        if np.abs(coarse).max() < frame.tile // 4:  # in place was as good as it gets
            raise
        try:
            return _estimate_at(plate, frame, width, height, coarse)
        except NoEstimate:
            raise in_place from None


def _estimate_at(plate: Grey, frame: Grey, width: int, height: int, coarse) -> Motion:
    src, dst = _tile_matches(plate.pixels, frame.pixels, frame.tile, coarse)
    if len(src) < MIN_TILES:
        raise TooLittleTexture
    model, inliers = ransac(
        (src, dst), AffineTransform, min_samples=3, residual_threshold=INLIER_PX,
        max_trials=100, rng=0,
    )  # fmt: skip
    if model is None or inliers is None or inliers.sum() < MIN_TILES:
        raise NoEstimate(
            f"{len(src)} textured tiles agree on no one motion (parallax, or a changed scene)"
        )
    residuals = model.residuals(src[inliers], dst[inliers])
    grid = _grid_to_frame(frame.factor)
    motion = Motion(
        matrix=grid @ model.params @ np.linalg.inv(grid), inlier_share=float(inliers.mean()),
        residual_px=float(np.sqrt(np.mean(residuals**2))) * frame.factor,
        disagreement_px=_disagreement(model, src[~inliers], dst[~inliers], frame) * frame.factor,
        width=width, height=height,
    )  # fmt: skip
    column = math.hypot(motion.matrix[0, 1], motion.matrix[1, 1])  # the other axis's scale
    if not (0.8 < motion.scale < 1.25 and 0.8 < column < 1.25 and abs(motion.rotation_deg) < 10):
        raise NoEstimate("the tiles agree on an implausible motion")
    return motion


def _disagreement(model, src: np.ndarray, dst: np.ndarray, frame: Grey) -> float:
    """How far (grey pixels, at the corners) the largest consistent group among the outlier
    tiles puts the plate from `model`; 0 when the outliers agree on nothing."""
    if len(src) < MIN_TILES:
        return 0.0
    other, agree = ransac(
        (src, dst), AffineTransform, min_samples=3, residual_threshold=INLIER_PX,
        max_trials=100, rng=0,
    )  # fmt: skip
    if other is None or agree is None or agree.sum() < MIN_TILES:
        return 0.0
    h, w = frame.pixels.shape
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    return float(np.hypot(*(model(corners) - other(corners)).T).max())


def camera_moved(reference: Grey, current: Grey, tolerance_px: float) -> bool:
    """Whether `current` is shifted from `reference` by more than `tolerance_px` (frame pixels)
    in two thirds of 3x3 tiles spread over the picture: a camera that moves moves them all, a
    subject walking through only some."""
    h, w = current.pixels.shape
    size = min(2 * current.tile, h // MOVED_TILES, w // MOVED_TILES)
    shifts = []
    for row in range(MOVED_TILES):
        for col in range(MOVED_TILES):
            y = (2 * row + 1) * h // (2 * MOVED_TILES) - size // 2
            x = (2 * col + 1) * w // (2 * MOVED_TILES) - size // 2
            cut = (slice(y, y + size), slice(x, x + size))
            ref, cur = reference.pixels[cut], current.pixels[cut]
            if not (_textured(ref) and _textured(cur)):
                continue
            shift, _, _ = phase_cross_correlation(
                _windowed(ref), _windowed(cur), upsample_factor=UPSAMPLE
            )
            shifts.append(float(np.hypot(*shift)) * current.factor)
    return bool(shifts) and float(np.percentile(shifts, 100 / 3)) > tolerance_px


def _coarse_shift(plate: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The whole-picture shift (rows, cols) of the plate onto the frame, to a few grey pixels, so
    that tiles compare the same part of the scene even when the plate is far off."""
    small_plate = downscale_local_mean(plate, (COARSE, COARSE))
    small_frame = downscale_local_mean(frame, (COARSE, COARSE))
    taper = window(("tukey", 0.5), small_frame.shape)  # all but the edges count alike
    shift, _, _ = phase_cross_correlation(
        (small_frame - small_frame.mean()) * taper, (small_plate - small_plate.mean()) * taper
    )
    return np.round(shift * COARSE).astype(int)


def _tile_matches(plate, frame, tile: int, coarse: np.ndarray):
    """(plate points, frame points) as (x, y) in grey pixels, one pair per textured tile."""
    dy, dx = coarse
    centre = (tile - 1) / 2
    src, dst = [], []
    for y, x in _textured_cells(plate, frame, tile, coarse):
        here = frame[y : y + tile, x : x + tile]
        there = plate[y - dy : y - dy + tile, x - dx : x - dx + tile]
        shift, _, _ = phase_cross_correlation(
            _windowed(here), _windowed(there), upsample_factor=UPSAMPLE
        )
        src.append((x - dx + centre, y - dy + centre))
        dst.append((x + centre + shift[1], y + centre + shift[0]))
    return np.array(src, float).reshape(-1, 2), np.array(dst, float).reshape(-1, 2)


def _textured_cells(plate, frame, tile: int, coarse: np.ndarray) -> list[tuple[int, int]]:
    """Top-left corners (in the frame) of the grid's tiles that have texture in the frame and
    in the plate (at the coarse shift), at most MAX_TILES of them, evenly spread."""
    height, width = frame.shape
    dy, dx = coarse
    cells = [
        (y, x)
        for y in range(0, height - tile + 1, tile)
        for x in range(0, width - tile + 1, tile)
        if 0 <= y - dy <= height - tile
        and 0 <= x - dx <= width - tile
        and _textured(frame[y : y + tile, x : x + tile])
        and _textured(plate[y - dy : y - dy + tile, x - dx : x - dx + tile])
    ]
    if len(cells) <= MAX_TILES:
        return cells
    return [cells[i] for i in np.linspace(0, len(cells) - 1, MAX_TILES).astype(int)]


def _textured(tile: np.ndarray) -> bool:
    steps = np.abs(np.diff(tile, axis=0)).mean() + np.abs(np.diff(tile, axis=1)).mean()
    return bool(steps >= MIN_GRADIENT)


def _windowed(pixels: np.ndarray) -> np.ndarray:
    """Mean removed and a Hann window applied: the tile's edges do not correlate."""
    return (pixels - pixels.mean()) * _hann(pixels.shape)


@cache
def _hann(shape: tuple[int, int]) -> np.ndarray:
    return window("hann", shape).astype(np.float32)


def _grid_to_frame(factor: int) -> np.ndarray:
    """Grey pixel centres -> frame pixel centres (a grey pixel is the mean of factor x factor)."""
    offset = (factor - 1) / 2
    return np.array([[factor, 0, offset], [0, factor, offset], [0, 0, 1.0]])
