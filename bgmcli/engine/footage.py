"""The one extra pass over the input that `--bg frame:TIME` and `--bg auto` make, through the
Source seam: the frame at a time, or a bounded sample of frames spread evenly over the take
(kept in memory during the pass; the take's length need not be known in advance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bgmcli.engine.plate_forms import LAST_FRAME
from bgmcli.engine.source import open_input
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError

MAX_SAMPLES = 48  # the estimate barely changes with more; memory and time grow with them
MAX_SAMPLE_BYTES = 768 * 2**20  # 4K frames: fewer samples, so that the pass stays bounded
LAST_FRAME_MARGIN_S = 2.0  # frame:-1 decodes from this far before the end (the index may err)


@dataclass(frozen=True)
class Sample:
    images: list[np.ndarray]  # uint8 (H, W, 3), in order
    times: list[float]  # each one's seconds from the start of the pass
    read: int  # frames decoded in the pass


def sample_frames(text, *, start=None, duration=None, limit: int = MAX_SAMPLES) -> Sample:
    """Every step-th frame of INPUT (from --start for --duration); when more than `limit` are
    kept, every other one is dropped and the step doubled, so that 1/2 to 1 x `limit` frames
    spread evenly over the take stay in memory."""
    source = open_input(text, start=start, duration=duration)
    try:
        info = source.info
        limit = max(2, min(limit, MAX_SAMPLE_BYTES // (info.width * info.height * 3)))
        step = max(1, -(-(info.frames or 0) // limit))  # ceil: the count may be known
        images, times, read = [], [], 0
        for index, frame in enumerate(source.frames()):
            read += 1
            if index % step:
                continue
            images.append(frame.image)
            times.append(float(frame.pts * info.time_base))
            if len(images) > limit:
                images, times, step = images[::2], times[::2], step * 2
        return Sample(images, times, read)
    finally:
        source.close()


def frame_at(text, time: float) -> np.ndarray:
    """The frame of INPUT shown at `time` seconds (LAST_FRAME: the last one); a time past the
    end is a one-line error."""
    source = open_input(text)
    try:
        info = source.info
        if info.kind == "image":
            raise BgmError(f"--bg frame:TIME takes a frame of a video or image sequence; "
                           f"{info.path} is one image")  # fmt: skip
        length = _length(info)
        if time != LAST_FRAME and length is not None and time >= length:
            raise _past_end(time, info, length)
        if info.kind == "video" and (time > 0 or length is not None and time == LAST_FRAME):
            source.close()
            at = max(0.0, length - LAST_FRAME_MARGIN_S) if time == LAST_FRAME else time
            source = _open_at(text, at, info, length)
        return _pick(source, time, info, length)
    finally:
        source.close()


def _pick(source, time: float, info: SourceInfo, length: float | None) -> np.ndarray:
    """The first frame at or after `time` of an opened source (images: by index at the
    sequence's rate), or its last frame."""
    wanted = None if time == LAST_FRAME else round(time * info.rate)
    last = None
    for index, frame in enumerate(source.frames()):
        if info.kind != "video" and index == wanted:
            return frame.image
        if info.kind == "video" and wanted is not None:
            return frame.image  # opened at `time`: its first frame
        last = frame.image
    if last is None or wanted is not None:
        raise _past_end(time, info, length)
    return last


def _open_at(text, time: float, info: SourceInfo, length: float | None):
    try:
        return open_input(text, start=time)
    except BgmError as exc:
        if "no video frames" in str(exc):  # the index promised more than the file holds
            raise _past_end(time, info, length) from None
        raise


def _length(info: SourceInfo) -> float | None:
    return None if not info.frames else float(info.frames / info.rate)


def _past_end(time: float, info: SourceInfo, length: float | None) -> BgmError:
    lasts = f" (it lasts {length:.2f} s)" if length is not None else ""
    return BgmError(f"--bg frame:{time:g} is past the end of {info.path}{lasts}; "
                    f"give a time within it, or frame:-1 for the last frame")  # fmt: skip
