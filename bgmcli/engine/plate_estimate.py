"""The background of a take from a sample of its frames (aligned to one reference): a first guess
from each pixel's largest group of agreeing frames (plate_consensus); then each frame's subject
(where it differs from that plate) is masked out and each pixel's background is the median of the
frames in which it was not covered. Frames with no subject at all (before it walks in, after it
leaves), when there are a few, give the first guess instead. A last round may add masks from
elsewhere (the model's mattes: plate_mattes). The coverage says where the background was seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from bgmcli.engine.plate_consensus import agreeing_frames

MIN_DIFF = 10  # grey levels (of 255, after a 3x3 mean) a subject differs from the plate by
NOISE_FACTOR = 10.0  # ... or this many times the 25th percentile of its differences (noise)
EMPTY_SHARE = 0.002  # a frame whose subject covers less of it than this is empty
MIN_EMPTY = 3  # this many empty frames or more: they are the first guess, refined as the rest
MIN_MOVED = 0.002  # something must move over this share of the frame: a subject to tell apart
BODY_SHARE = 0.1  # an enclosed region this large against what moved: a body that only sways
ROUNDS = 2  # masked medians after the first (the second corrects masks cut by the first)
TRUST_MODEL = 0.5  # the model's round may leave no less than this share of what was seen
ROWS = 32  # rows per chunk of the per-pixel median (bounds the memory it takes)
MISSING = np.uint16(256)  # stands for a pixel left out of a median: sorts after every value


@dataclass(frozen=True)
class PlateEstimate:
    plate: np.ndarray  # uint8 (H, W, 3)
    seen: np.ndarray  # int (H, W): in how many frames each pixel's background was seen
    frames: int  # frames the estimate was made from
    empty: tuple[int, ...]  # the indices of the frames with no subject
    moved_share: float  # of the frame: where a subject was seen in any frame

    @property
    def seen_share(self) -> float:
        """The share of the frame whose background was seen in at least one frame."""
        return float((self.seen > 0).mean())


def estimate_plate(
    images: np.ndarray,
    valid: np.ndarray | None = None,
    covered: Callable[[np.ndarray], np.ndarray] | None = None,
) -> PlateEstimate:
    """`images` uint8 (N, H, W, 3); `valid` bool (N, H, W): where each frame has picture (an
    aligned hand-held frame does not reach every corner of the reference), None: everywhere.
    `covered`: a last round's masks (bool (N, H, W)) from the plate so far (model mattes)."""
    valid = np.ones(images.shape[:3], bool) if valid is None else valid
    plate, keep, subject = _refine(
        images, valid, masked_median(images, agreeing_frames(images, valid))
    )
    shares = subject.reshape(len(images), -1).mean(1)
    empty = [int(i) for i in np.flatnonzero(shares < EMPTY_SHARE)]
    if len(empty) >= MIN_EMPTY:  # the empty scene itself: the surest guess to refine from
        some = valid[empty]
        seed = np.where(some.any(0)[..., None], masked_median(images[empty], some), plate)
        plate, keep, subject = _refine(images, valid, seed)
    moved = subject.any(0)
    if covered is not None:  # what moved stays the differences' (it tells a still subject)
        plate, keep, subject = _model_round(images, valid, plate, keep, subject, covered)
    # A subject that leaves empty frames has moved; otherwise what its motion encloses but never
    # uncovered was not seen, whatever the frames there agree on.
    seen = keep.sum(0) if len(empty) >= MIN_EMPTY else np.where(_unseen_body(moved), 0, keep.sum(0))
    return PlateEstimate(plate, seen, len(images), tuple(empty), float(moved.mean()))


def _model_round(images, valid, plate, keep, subject, covered):
    """(plate, keep, subject) again with each frame covered where the model's masks or the
    differences say so; unchanged when the masks leave less than TRUST_MODEL of what the
    differences saw (a model matting something else than this take: foreign or random weights)."""
    masks = (covered(plate) | subject) & valid
    masked_keep = valid & ~masks
    if masked_keep.any(0).mean() < TRUST_MODEL * keep.any(0).mean():
        return plate, keep, subject
    seen = masked_keep.sum(0) > 0
    return np.where(seen[..., None], masked_median(images, masked_keep), plate), masked_keep, masks


def _refine(images: np.ndarray, valid: np.ndarray, plate: np.ndarray):
    """(plate, keep, subject) after ROUNDS of: mask each frame's subject against the plate, then
    each pixel's median over the frames that did not cover it (all frames hold noise down)."""
    for _ in range(ROUNDS):
        subject = subject_masks(images, plate) & valid
        keep = valid & ~subject
        plate = np.where((keep.sum(0) > 0)[..., None], masked_median(images, keep), plate)
    return plate, keep, subject


def masked_median(images: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The per-pixel median of `images` over the frames `keep` marks (the mean of the middle
    two for an even count); over all of them where a pixel has none."""
    out = np.empty(images.shape[1:], np.uint8)
    for top in range(0, images.shape[1], ROWS):
        rows = slice(top, top + ROWS)
        kept = keep[:, rows] | ~keep[:, rows].any(0)
        # frames last: each pixel's values lie side by side, and the sort runs along them
        values = np.moveaxis(images[:, rows], 0, -1).astype(np.uint16)
        values[~np.moveaxis(np.broadcast_to(kept[..., None], images[:, rows].shape), 0, -1)] = (
            MISSING
        )
        values.sort(axis=-1)
        count = np.moveaxis(kept.sum(0, keepdims=True), 0, -1)[..., None, :]
        low = np.take_along_axis(values, (count - 1) // 2, -1)
        high = np.take_along_axis(values, count // 2, -1)
        out[rows] = ((low + high + 1) // 2)[..., 0]
    return out


def subject_masks(images: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """bool (N, H, W): where each frame differs from `plate` beyond its noise, opened (specks of
    noise go) and widened by a few pixels (soft edges, hair, shadows). Holes are not filled: a
    ring of slight differences (a codec's drift) would mask the background it surrounds."""
    plate_planes = _smooth_planes(plate)
    reach = subject_reach(plate.shape)
    masks = []
    for image in images:
        pairs = zip(_smooth_planes(image), plate_planes, strict=True)
        diff = np.maximum.reduce([np.abs(a - b) for a, b in pairs])
        # The quietest quarter of the frame tells its noise, however much the subject covers.
        threshold = max(MIN_DIFF, NOISE_FACTOR * float(np.percentile(diff, 25)))
        opened = ndimage.maximum_filter(ndimage.minimum_filter(diff > threshold, 3), 3)
        masks.append(ndimage.maximum_filter(opened, 2 * reach + 1))
    return np.stack(masks)


def _unseen_body(moved: np.ndarray) -> np.ndarray:
    """What the motion encloses, when that is a body the motion swayed around (at least
    BODY_SHARE of what moved), not a gap a walking subject carried along (a sliver of it)."""
    inside = enclosed(moved)
    return inside if inside.sum() >= BODY_SHARE * moved.sum() else np.zeros_like(inside)


def enclosed(moved: np.ndarray) -> np.ndarray:
    """The parts of the frame that what moved surrounds without ever covering them: the body of
    a subject that only sways (its outline moved, its middle never did; gaps of a few pixels in
    the outline are closed). Only regions that touch no edge of the frame count: the ground
    under a subject walking across (closed by the frame's bottom) was seen, not surrounded."""
    gap = 2 * subject_reach(moved.shape)
    y, x = np.ogrid[-gap : gap + 1, -gap : gap + 1]
    padded = np.pad(moved, gap, mode="edge")
    moved = ndimage.binary_closing(padded, structure=x * x + y * y <= gap * gap)[gap:-gap, gap:-gap]
    return ndimage.binary_fill_holes(moved) & ~moved


def subject_reach(shape) -> int:
    """How far (pixels) a subject's soft edge and shadow reach beyond where it differs."""
    return max(2, round(max(shape[:2]) / 160))


def _smooth_planes(image: np.ndarray) -> list[np.ndarray]:
    """The 3x3 means of each colour channel, as int16 planes (noise averaged down)."""
    blurred = Image.fromarray(image).filter(ImageFilter.BoxBlur(1))
    return [np.asarray(plane, np.int16) for plane in blurred.split()]


def coverage_picture(estimate: PlateEstimate) -> np.ndarray:
    """uint8 RGB: grey from 48 (background seen in one frame) to 255 (in every frame); red where
    it was never seen."""
    seen = estimate.seen
    grey = 48 + 207 * (seen - 1) / max(1, estimate.frames - 1)
    picture = np.repeat(np.clip(grey, 0, 255).round().astype(np.uint8)[..., None], 3, -1)
    picture[seen == 0] = (255, 0, 0)
    return picture
