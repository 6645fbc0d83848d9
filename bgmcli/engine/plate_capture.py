"""`--bg capture[:SECONDS]`: the plate taken from the live source itself. A countdown asks the
subject to step out of frame; the median of the frames over SECONDS is the plate (a passing
shadow or noise does not stay in it); it is saved as `<name>.plate.png` for the next run.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bgmcli.atomic import atomic_write
from bgmcli.engine.images import write_png
from bgmcli.errors import BgmError

DEFAULT_SECONDS = 2.0
COUNTDOWN_S = 3
MAX_FRAMES = 60  # the median of more frames costs memory and time and changes little
CAPTURE = re.compile(r"capture(?::(\d+(?:\.\d*)?))?", re.IGNORECASE)


def parse_capture(text: str) -> float | None:
    """'capture' -> 2.0, 'capture:3' -> 3.0; None when `text` is not a capture (a file)."""
    match = CAPTURE.fullmatch(text.strip())
    if match is None or Path(text).exists():
        return None
    seconds = float(match.group(1) or DEFAULT_SECONDS)
    if seconds <= 0:
        raise BgmError(f"--bg {text}: the capture must last more than 0 seconds")
    return seconds


def capture_plate(feed, *, seconds: float, rate: float, countdown: int, tell, show=None):
    """The median plate of the next round(seconds * rate) frames of `feed` after a countdown of
    `countdown` seconds. `tell(message)` reports each step; `show(image, caption)`, when given,
    shows the frames meanwhile (the preview window)."""
    frames = []
    for left in range(countdown, 0, -1):
        tell(f"background capture in {left} s: step out of the frame")
        _skip(feed, rate, show, f"step out of the frame: {left}")
    wanted = max(1, round(seconds * rate))
    tell(f"capturing the background over {seconds:g} s ({wanted} frames): keep out of the frame")
    while len(frames) < wanted:
        arrival = feed.take()
        if arrival is None:
            break
        frames.append(arrival.image)
        if show is not None:
            show(arrival.image, "capturing the background")
    if not frames:
        raise BgmError("the input ended before the background could be captured (--bg capture)")
    step = max(1, len(frames) // MAX_FRAMES)
    return np.median(np.stack(frames[::step]), axis=0).round().astype(np.uint8)


def _skip(feed, rate: float, show, caption: str) -> None:
    """One second's frames, shown but not used."""
    for _ in range(max(1, round(rate))):
        arrival = feed.take()
        if arrival is None:
            raise BgmError("the input ended during the countdown of --bg capture")
        if show is not None:
            show(arrival.image, caption)


def save_plate(plate: np.ndarray, path: Path) -> None:
    atomic_write(path, lambda tmp: write_png(tmp, plate))
