"""The background plate (and a --target picture): one image, or a video played in step with the
input, at the input's size (resized with a warning) and optionally aligned to each frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bgmcli.engine.images import IMAGE_SUFFIXES, read_image, resize
from bgmcli.engine.sources import SourceInfo, VideoSource
from bgmcli.errors import BgmError


class Plate:
    """An image or a video, delivered frame by frame at the input's size.

    A video starts at the input's --start (they were recorded in step) and its last frame is
    held if it is shorter than the input.
    """

    def __init__(self, path: Path | np.ndarray, info: SourceInfo, *, what: str, warn):
        self.info, self.what, self.warn = info, what, warn
        self.still: np.ndarray | None = None
        self._video: VideoSource | None = None
        self._frames = None
        self._last: np.ndarray | None = None
        if isinstance(path, np.ndarray):  # a plate captured from the input (--bg capture)
            self.path, self.still = Path("captured"), resize(path, info.width, info.height)
            return
        self.path = Path(path)
        if self.path.is_dir():
            raise BgmError(f"{what} {path} is a folder; give an image or a video")
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            image = read_image(self.path, what)
            self._warn_size(image.shape[1], image.shape[0])
            self.still = resize(image, info.width, info.height)
        else:
            self._open_video()

    def _open_video(self) -> None:
        info = self.info
        self._video = VideoSource(self.path, start=info.offset or None, what=self.what)
        self._frames = self._video.frames()
        vinfo = self._video.info
        self._warn_size(vinfo.width, vinfo.height)
        if vinfo.frames and info.frames and vinfo.frames < info.frames:
            self.warn(
                f"{self.what} {self.path} has about {vinfo.frames} frames, fewer than the "
                f"input's {info.frames}: its last frame is held to the end"
            )

    def _warn_size(self, width: int, height: int) -> None:
        info = self.info
        if (width, height) == (info.width, info.height):
            return
        aspect = abs(width / height - info.width / info.height) > 0.01
        self.warn(
            f"{self.what} {self.path} is {width}x{height} but the input is "
            f"{info.width}x{info.height}: resized to fit"
            + (" (aspect ratio changed; the plate should be the same shot)" if aspect else "")
        )

    def next(self) -> np.ndarray:
        """The picture for the next input frame."""
        if self.still is not None:
            return self.still
        frame = next(self._frames, None)
        if frame is not None:
            self._last = resize(frame.image, self.info.width, self.info.height)
        return self._last

    def close(self) -> None:
        if self._video is not None:
            self._video.close()


class Background:
    """The plate for each frame: constant (`static`), or per frame for a video or --align."""

    def __init__(self, path: Path | np.ndarray, info: SourceInfo, *, align: str, warn):
        self.plate = Plate(path, info, what="background", warn=warn)
        self.aligner = None
        if align != "off":
            from bgmcli.engine.align import Aligner  # scikit-image is slow to import: only here

            self.aligner = Aligner(align, warn)

    @property
    def static(self) -> np.ndarray | None:
        """The one plate for every frame, when there is one (it then goes to the device once)."""
        return self.plate.still if self.aligner is None else None

    def for_frame(self, frame: np.ndarray) -> np.ndarray:
        plate = self.plate.next()
        return plate if self.aligner is None else self.aligner(plate, frame)

    def alignment(self):
        """What --align found (an AlignmentReport), or None when it was off."""
        return self.aligner.report() if self.aligner is not None else None

    def close(self) -> list[str]:
        """Closes the plate; returns the closing warnings (frames alignment failed on), if any."""
        self.plate.close()
        return self.aligner.warnings() if self.aligner is not None else []
