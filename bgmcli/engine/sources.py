"""Frames in: a video decoded by PyAV (threaded decoding), one image, or a folder / glob of
images. Each source yields uint8 RGB (H, W, 3) frames with their timestamps, in order.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np

from bgmcli.engine.images import IMAGE_SUFFIXES, read_image
from bgmcli.errors import BgmError

IMAGE_RATE = Fraction(24)  # the frame rate given to image sequences written as video


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    path: Path
    name: str  # the stem that output files are named after
    kind: str  # "video", "image" or "images"
    width: int
    height: int
    rate: Fraction  # frames per second (the average for variable frame rate)
    time_base: Fraction  # unit of Frame.pts
    frames: int | None  # expected count, for progress; None when unknown
    has_audio: bool
    offset: float  # input seconds at output time 0 (--start), for copying audio in step
    frame_names: tuple[str, ...] = ()  # images: each frame's own name for PNG outputs


class Frame(NamedTuple):
    image: np.ndarray  # uint8 (H, W, 3) RGB
    pts: int  # in SourceInfo.time_base


def open_source(path: Path, *, start: float | None = None, duration: float | None = None):
    """A VideoSource or ImageSource for `path` (a video, an image, a folder or a glob)."""
    path = Path(path)
    if path.is_dir():
        return _images(_folder_images(path), path.name or "images", start, duration)
    if path.exists():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return _images([path], path.stem, start, duration, kind="image")
        return VideoSource(path, start=start, duration=duration)
    if any(ch in str(path) for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).is_file())
        if not matches:
            raise BgmError(f"no files match {path}")
        return _images(matches, path.parent.name or "images", start, duration)
    raise BgmError(f"input not found: {path}")


def _folder_images(folder: Path) -> list[Path]:
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError as exc:
        raise BgmError(f"cannot read folder {folder}: {exc.strerror or exc}") from None
    if not files:
        raise BgmError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def _images(paths, name, start, duration, kind="images") -> ImageSource:
    if start is not None or duration is not None:
        raise BgmError("--start and --duration apply to video inputs, not to images")
    return ImageSource(paths, name=name, kind=kind)


def frame_names(paths: list[Path]) -> tuple[str, ...]:
    """The names PNG outputs keep: the images' stems (a.jpg -> a), or their whole names where
    stems repeat (a.jpg, a.png); () where even those repeat (a glob over several folders)."""
    for names in ([p.stem for p in paths], [p.name for p in paths]):
        if len(set(names)) == len(names):
            return tuple(names)
    return ()


class ImageSource:
    """Still images as frames at IMAGE_RATE; all must have the size of the first."""

    def __init__(self, paths: list[Path], *, name: str, kind: str):
        self.paths = paths
        self._first = read_image(paths[0])
        height, width = self._first.shape[:2]
        self.info = SourceInfo(
            path=paths[0] if kind == "image" else paths[0].parent,
            name=name,
            kind=kind,
            width=width,
            height=height,
            rate=IMAGE_RATE,
            time_base=1 / IMAGE_RATE,
            frames=len(paths),
            has_audio=False,
            offset=0.0,
            frame_names=frame_names(paths),
        )

    def frames(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            image = self._first if index == 0 else read_image(path)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise BgmError(
                    f"{path} is {image.shape[1]}x{image.shape[0]}, but the images before it are "
                    f"{self.info.width}x{self.info.height}; all frames must have one size"
                )
            yield Frame(image, index)

    def close(self) -> None:
        self._first = None


def open_container(path: Path, what: str = "input"):
    """av.open with every failure turned into one line."""
    try:
        return av.open(str(path))
    except FileNotFoundError:
        raise BgmError(f"{what} not found: {path}") from None
    except PermissionError:
        raise BgmError(f"cannot read {what} {path}: permission denied") from None
    except IsADirectoryError:
        raise BgmError(f"{what} {path} is a folder, not a video") from None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise BgmError(
            f"{what} {path} is not a video or image that can be read "
            f"({getattr(exc, 'strerror', None) or type(exc).__name__})"
        ) from None


class VideoSource:
    """The first video stream of a file, from `start` for `duration` seconds (both optional).

    The first frame is decoded on opening: it proves the file decodes and tells the display
    rotation (phones store portrait video sideways), so errors come before any output exists.
    """

    def __init__(self, path: Path, *, start=None, duration=None, what: str = "input"):
        self.path, self.what = Path(path), what
        self.container = open_container(self.path, what)
        if not self.container.streams.video:
            self.container.close()
            raise BgmError(f"{what} {path} has no video stream")
        self.stream = stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: decoding keeps up with the model
        self.start = start or 0.0
        self.end = None if duration is None else self.start + duration
        self.rate = Fraction(
            stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(24)
        )
        self._frames = self._decode()
        try:
            self._first = next(self._frames)
        except StopIteration:
            self.close()
            at = f" at or after --start {self.start:g}s" if self.start else ""
            raise BgmError(f"{what} {path} has no video frames{at}") from None
        self.info = self._describe()

    def _describe(self) -> SourceInfo:
        height, width = self._first.image.shape[:2]
        return SourceInfo(
            path=self.path,
            name=self.path.stem,
            kind="video",
            width=width,
            height=height,
            rate=self.rate,
            time_base=Fraction(self.stream.time_base),
            frames=self._expected_frames(),
            has_audio=bool(self.container.streams.audio),
            offset=self.start,
        )

    def _stream_end(self) -> float | None:
        stream = self.stream
        if stream.duration is not None and stream.time_base is not None:
            return float(((stream.start_time or 0) + stream.duration) * stream.time_base)
        if self.container.duration is not None:
            return self.container.duration / av.time_base
        return None

    def _expected_frames(self) -> int | None:
        stream_end = self._stream_end()
        if self.start == 0 and self.end is None:
            return self.stream.frames or (round(stream_end * self.rate) if stream_end else None)
        end = self.end if stream_end is None else min(self.end or stream_end, stream_end)
        return None if end is None else max(1, round((end - self.start) * self.rate))

    def frames(self) -> Iterator[Frame]:
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("VideoSource.frames() can be iterated only once")
        yield first
        yield from self._frames

    def _decode(self) -> Iterator[Frame]:
        """Decoded frames in [start, end), pts shifted by start; errors are BgmErrors."""
        stream, tb = self.stream, Fraction(self.stream.time_base)
        offset = round(Fraction(self.start) / tb) if self.start else 0
        if self.start:
            self.container.seek(offset, stream=stream, backward=True)
        count, last_end, packets = 0, None, self.container.decode(stream)
        while True:
            try:
                frame = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                raise BgmError(self._bad(f"cannot decode frame {count}: {_reason(exc)}")) from None
            pts = frame.pts if frame.pts is not None else round(count / self.rate / tb)
            time = float(pts * tb)
            if time < self.start - 1e-6:
                continue
            if self.end is not None and time >= self.end - 1e-6:
                return
            if frame.is_corrupt:
                raise BgmError(self._bad(f"frame {count} is corrupt"))
            yield Frame(_rgb(frame), pts - offset)
            count += 1
            last_end = time + float((frame.duration or 0) * tb or 1 / self.rate)
        self._check_complete(count, last_end)

    def _check_complete(self, count: int, last_end: float | None) -> None:
        # A cut-off download still opens (its index is intact) but ends early: say so rather
        # than write a silently shorter output.
        stream_end = self._stream_end()
        if last_end is None or stream_end is None or self.end is not None and self.end < stream_end:
            return
        if last_end < stream_end - 2 / self.rate - 0.05:
            raise BgmError(
                self._bad(
                    f"the video stops at {last_end:.2f}s (frame {count}) but should last "
                    f"{stream_end:.2f}s: it is truncated or corrupt"
                )
            )

    def _bad(self, message: str) -> str:
        return f"{self.what} {self.path}: {message}"

    def close(self) -> None:
        self.container.close()


def _rgb(frame) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
