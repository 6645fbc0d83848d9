"""--align: the background plate registered to the frames of hand-held footage. `auto` measures
how far the plate is off (on the first frame, and again when the camera moves) and warps it only
when that is more than a fraction of a pixel; `on` always warps it; `off` never looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from threadpoolctl import ThreadpoolController

from bgmcli.engine.registration import Grey, Motion, NoEstimate, camera_moved, estimate

# Misregistration (the plate's furthest corner, frame pixels) above which `auto` warps the plate:
# below it the model's matte is as clean as with an exact plate, and resampling would only blur
# the plate (docs/alignment.md has the measurements).
THRESHOLD_PX = 0.3
MOVED_PX = 0.25  # the camera moved this far since the estimate in use: estimate again
# A second group of tiles that puts the plate further off than this from the fit: the estimate
# cannot be trusted (parallax, or part of the background moved).
DISAGREEMENT_PX = 1.0


@dataclass(frozen=True)
class AlignmentReport:
    """What alignment found over a run (frames are counted from the run's first frame)."""

    mode: str
    threshold_px: float  # auto warps a plate further off than this
    frames: int
    aligned: int  # frames given a warped plate
    estimates: int  # full estimates made (a still camera needs one)
    first: Motion | None  # the first estimate
    furthest: Motion | None  # the estimate furthest off
    failed: tuple[int, ...]  # frames no estimate could be made for
    why: str | None  # why the latest of them failed
    uncertain: tuple[int, ...]  # frames whose plate's parts disagree on where it sits


class Aligner:
    """Gives each frame its plate, warped where the mode and the measured offset ask for it.
    A frame that cannot be registered reuses the last good estimate (or none); the first such
    frame is reported through `warn` at once, all of them by `warnings()` at the end."""

    def __init__(self, mode: str, warn):
        self.mode, self.warn = mode, warn
        self.frames = self.aligned = self.estimates = 0
        self.first = self.furthest = None
        self.failed: list[int] = []
        self.uncertain: list[int] = []
        self._why: str | None = None  # why the latest attempt failed; None once one succeeds
        self._last_why: str | None = None  # the reason of the latest failure, for the report
        self._motion: Motion | None = None  # the estimate in use: the last good one
        self._trusted = True
        self._reference: Grey | None = None  # the frame the estimate in use was made on
        self._plate: tuple[np.ndarray, Grey] | None = None
        self._warped: tuple[np.ndarray, Motion, np.ndarray] | None = None
        self._blas = ThreadpoolController()

    def __call__(self, plate: np.ndarray, frame: np.ndarray) -> np.ndarray:
        # One BLAS thread: the tiles' small products only lose time to threads, and the
        # model's threads need the cores.
        with self._blas.limit(limits=1, user_api="blas"):
            index, self.frames = self.frames, self.frames + 1
            grey = Grey.of(frame)
            if self._needs_estimate(plate, grey):
                self._estimate(plate, grey, index)
            if self._why is not None:
                self.failed.append(index)
            elif not self._trusted:
                self.uncertain.append(index)
            return self._plate_for(plate)

    def _needs_estimate(self, plate: np.ndarray, grey: Grey) -> bool:
        if self._reference is None:
            return True  # the first frame, or no estimate has succeeded yet
        if self._plate is not None and self._plate[0] is not plate:  # a video plate moves on
            return True
        return camera_moved(self._reference, grey, MOVED_PX)

    def _estimate(self, plate: np.ndarray, grey: Grey, index: int) -> None:
        self.estimates += 1
        if self._plate is None or self._plate[0] is not plate:
            self._plate = (plate, Grey.of(plate))
        height, width = plate.shape[:2]
        try:
            motion = estimate(self._plate[1], grey, width, height)
        except NoEstimate as exc:
            if self._why is None and not self.failed:
                fallback = "the previous alignment" if self._motion else "the plate unaligned"
                self.warn(f"cannot align the background to frame {index} ({exc}); using "
                          f"{fallback} (every such frame is named at the end)")  # fmt: skip
            self._why = self._last_why = str(exc)
            self._reference = None  # try again on the next frame
            return
        self._why, self._motion, self._reference = None, motion, grey
        self._trusted = motion.disagreement_px <= DISAGREEMENT_PX
        self.first = self.first or motion
        if self.furthest is None or motion.offset_px > self.furthest.offset_px:
            self.furthest = motion

    def _plate_for(self, plate: np.ndarray) -> np.ndarray:
        motion = self._motion
        if motion is None or (self.mode == "auto" and motion.offset_px <= THRESHOLD_PX):
            return plate
        self.aligned += 1
        if self._warped is None or self._warped[0] is not plate or self._warped[1] is not motion:
            self._warped = (plate, motion, warp(plate, motion.matrix))
        return self._warped[2]

    def report(self) -> AlignmentReport:
        return AlignmentReport(
            mode=self.mode, threshold_px=THRESHOLD_PX, frames=self.frames, aligned=self.aligned,
            estimates=self.estimates,
            first=self.first, furthest=self.furthest,
            failed=tuple(self.failed), why=self._last_why, uncertain=tuple(self.uncertain),
        )  # fmt: skip

    def warnings(self) -> list[str]:
        """The closing warnings: every frame whose alignment failed or is uncertain."""
        said = []
        if self.failed:
            said.append(f"background alignment failed on {_frames(self.failed)} of {self.frames} "
                        f"({self._last_why}): the plate was used unaligned or as last "
                        f"aligned there")  # fmt: skip
        if self.uncertain:
            said.append(f"background alignment is uncertain on {_frames(self.uncertain)} of "
                        f"{self.frames}: the plate's parts disagree on where it sits (parallax: "
                        f"shot from elsewhere, or the background changed)")  # fmt: skip
        return said


def warp(plate: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The plate moved by `matrix` (plate -> frame pixels), bilinear, edges repeated. Pillow on
    uint8 takes about half the time of torch's grid_sample on a CPU, and one thread."""
    height, width = plate.shape[:2]
    inverse = np.linalg.inv(matrix)  # frame -> plate, as a warp samples
    corners = np.array(
        [[0, 0, 1], [width - 1, 0, 1], [width - 1, height - 1, 1], [0, height - 1, 1]]
    )
    reach = (corners @ inverse.T)[:, :2]
    pad = int(np.ceil(max(0, -reach.min(), (reach - [width - 1, height - 1]).max()))) + 2
    padded = np.pad(plate, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    # Pillow maps output to input in pixel-corner coordinates (a pixel's centre is at +0.5).
    to_padded = np.array([[1, 0, pad + 0.5], [0, 1, pad + 0.5], [0, 0, 1.0]])
    from_corner = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1.0]])
    coefficients = (to_padded @ inverse @ from_corner)[:2].ravel()
    image = Image.fromarray(padded).transform(
        (width, height), Image.Transform.AFFINE, tuple(coefficients), Image.Resampling.BILINEAR
    )
    return np.asarray(image)


def _frames(indices: list[int], most: int = 8) -> str:
    """[0, 1, 2, 5] -> 'frames 0-2, 5' (the first `most` runs, then how many frames in all)."""
    runs, begin = [], indices[0]
    for prev, cur in zip(indices, indices[1:] + [None], strict=True):
        if cur != prev + 1:
            runs.append(f"{begin}-{prev}" if prev > begin else f"{begin}")
            begin = cur
    text = ", ".join(runs[:most]) + (", ..." if len(runs) > most else "")
    return f"frame{'s' * (len(indices) > 1)} {text}" + (
        f" ({len(indices)} frames)" if len(runs) > most else ""
    )
