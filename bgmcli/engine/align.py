"""--align: register the background plate to each frame of hand-held footage with scikit-image
(ORB features, RANSAC homography), so that a plate shot from a slightly different spot still fits.
"""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2gray
from skimage.feature import ORB, match_descriptors
from skimage.measure import ransac
from skimage.transform import ProjectiveTransform, rescale, warp

WORK_SIZE = 480  # features are found on a copy this wide: fast, and plenty for a homography
MIN_INLIERS = 12


class Aligner:
    """Warps the plate onto each frame; when a frame cannot be registered it reuses the last
    good registration (or none) and reports it through `warn`."""

    def __init__(self, warn):
        self.warn = warn
        self.frames = self.failures = 0
        self._last: np.ndarray | None = None  # 3x3, frame pixels -> plate pixels
        self._plate_key: int | None = None
        self._plate_features = None

    def __call__(self, plate: np.ndarray, frame: np.ndarray) -> np.ndarray:
        self.frames += 1
        matrix, why = self._estimate(plate, frame)
        if matrix is None:
            self.failures += 1
            if self.failures == 1:
                fallback = "the previous alignment" if self._last is not None else "it unaligned"
                self.warn(
                    f"cannot align the background to frame {self.frames - 1} ({why}); "
                    f"using {fallback} (further failures are counted at the end)"
                )
            matrix = self._last
        else:
            self._last = matrix
        if matrix is None:
            return plate
        warped = warp(plate, ProjectiveTransform(matrix), order=1, mode="edge", preserve_range=True)
        return warped.round().astype(np.uint8)

    def summary(self) -> str | None:
        if self.failures > 1:
            return f"background alignment failed on {self.failures} of {self.frames} frames"
        return None

    def _estimate(self, plate: np.ndarray, frame: np.ndarray):
        scale = min(1.0, WORK_SIZE / max(frame.shape[:2]))
        if self._plate_key != id(plate):  # a still plate is described once
            self._plate_key, self._plate_features = id(plate), _features(plate, scale)
        ours, theirs = _features(frame, scale), self._plate_features
        if ours is None or theirs is None:
            return None, "too few features"
        matches = match_descriptors(ours[1], theirs[1], cross_check=True, max_ratio=0.8)
        if len(matches) < MIN_INLIERS:
            return None, f"only {len(matches)} matching features"
        # (row, col) -> (x, y); the transform maps frame pixels to plate pixels, as warp wants.
        src = ours[0][matches[:, 0]][:, ::-1]
        dst = theirs[0][matches[:, 1]][:, ::-1]
        model, inliers = ransac(
            (src, dst), ProjectiveTransform, min_samples=4, residual_threshold=2.0,
            max_trials=500, rng=0,
        )  # fmt: skip
        if model is None or inliers is None or inliers.sum() < MIN_INLIERS:
            return None, "no consistent homography"
        to_small = np.diag([scale, scale, 1.0])
        matrix = np.linalg.inv(to_small) @ model.params @ to_small
        if not _plausible(matrix, frame.shape):
            return None, "implausible homography"
        return matrix, None


def _features(image: np.ndarray, scale: float):
    gray = rgb2gray(image)
    if scale < 1.0:
        gray = rescale(gray, scale, anti_aliasing=True)
    orb = ORB(n_keypoints=800, fast_threshold=0.05)
    try:
        orb.detect_and_extract(gray)
    except RuntimeError:  # no keypoints at all (a flat image)
        return None
    if len(orb.keypoints) < MIN_INLIERS:
        return None
    return orb.keypoints, orb.descriptors


def _plausible(matrix: np.ndarray, shape) -> bool:
    """A plate shot from nearly the same spot maps the frame to a similar-sized quadrilateral."""
    height, width = shape[:2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], float)
    mapped = corners @ matrix.T
    if np.any(mapped[:, 2] <= 1e-6):
        return False
    xy = mapped[:, :2] / mapped[:, 2:]
    x, y = xy[:, 0], xy[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))  # shoelace
    return 0.5 < area / (width * height) < 2.0
