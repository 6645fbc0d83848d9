"""The forms `--bg` takes, in one parser for the command line and batch manifests: a file (an
image or a video) or a folder of plates; `capture[:SECONDS]` (live: after a countdown);
`frame:TIME` (one frame of the input); `auto` (built from the whole take: plate_auto.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bgmcli.engine.matte_config import parse_time
from bgmcli.engine.plate_capture import parse_capture
from bgmcli.errors import BgmError

LAST_FRAME = -1.0  # frame:-1: the input's last frame
FRAME = re.compile(r"frame:(.*)", re.IGNORECASE)
FORMS_HELP = "a file or folder, capture[:SECONDS], frame:TIME (-1: the last frame) or auto"


@dataclass(frozen=True)
class PlateForm:
    """What --bg names: `path` (a file or folder), or where in the input the plate comes from."""

    path: Path | None = None
    capture_s: float | None = None
    time: float | None = None  # frame:TIME, seconds into the input; LAST_FRAME for the last
    auto: bool = False

    def fields(self) -> dict:
        """The MatteConfig fields this form sets; all of them, so that a manifest row's plate
        replaces a form given on the command line."""
        return {"capture_s": self.capture_s, "plate_time": self.time, "plate_auto": self.auto}


def parse_bg(text: str, folder: Path | None = None) -> PlateForm:
    """'room.png' / 'plates/' -> a path (relative to `folder` when given: a manifest's);
    'capture:3', 'frame:12.5', 'frame:-1', 'auto' -> where the plate comes from. A file that
    exists under one of these names is that file."""
    text = str(text).strip()
    if not text:
        raise BgmError(f"--bg is empty; give {FORMS_HELP}")
    path = Path(text).expanduser()
    path = path if folder is None or path.is_absolute() else folder / path
    if path.exists():
        return PlateForm(path=path)
    if text.lower() == "auto":
        return PlateForm(auto=True)
    capture_s = parse_capture(text)
    if capture_s is not None:
        return PlateForm(capture_s=capture_s)
    match = FRAME.fullmatch(text)
    if match:
        return PlateForm(time=_frame_time(match.group(1).strip(), text))
    return PlateForm(path=path)


def _frame_time(value: str, text: str) -> float:
    if value == "-1":
        return LAST_FRAME
    if value.startswith("-"):
        raise BgmError(f"--bg {text}: give a time from the start (12.5, 1:02) or -1 for the last "
                       f"frame")  # fmt: skip
    if not value:
        raise BgmError(f"--bg {text}: give the frame's time, e.g. frame:0 or frame:12.5")
    return parse_time(value, f"--bg {text}:")


def plate_label(config) -> str:
    """How a run's plate is named in a batch's table and report: its file, or its form."""
    if config.plate_auto:
        return "auto"
    if config.plate_time is not None:
        return "frame:-1" if config.plate_time == LAST_FRAME else f"frame:{config.plate_time:g}"
    if config.capture_s:
        return f"capture:{config.capture_s:g}"
    return str(config.background)


def describe_time(time: float) -> str:
    """How a frame:TIME is named in messages."""
    return "the last frame" if time == LAST_FRAME else f"the frame at {time:g} s"
