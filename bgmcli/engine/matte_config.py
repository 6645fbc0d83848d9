"""One `bgm matte` run: its options as a frozen config, the defaults that depend on the frame
size, and the Reporter through which the engine tells its caller what happens (it never prints).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from bgmcli.engine.formats import FORMATS as OUTPUT_FORMATS
from bgmcli.errors import BgmError
from bgmcli.model.settings import InferenceSettings

OUTPUT_TYPES = ("com", "pha", "fgr", "err", "ref")
ALIGN_MODES = ("auto", "on", "off")  # what --align takes (bgmcli.engine.align)
# --temporal's default: on only if the filter meets the targets (docs/temporal.md)
TEMPORAL_DEFAULT = False


@dataclass(frozen=True, kw_only=True)
class MatteConfig:
    """Everything one run needs. None means "decide from the input" (see the defaults below)."""

    input: Path | str  # a Path is a file; text may also be a device, a URL or "-" (source.py)
    background: Path | None  # None: from the input (capture_s, plate_time or plate_auto)
    outdir: Path | None = None  # None: next to the input
    output_types: tuple[str, ...] = ("com", "pha")
    output_format: str | None = None  # None: mp4 for a video input, png for images
    target: str | None = None  # None: green, or transparent where the format has alpha
    align: str = "auto"  # auto, on or off (bgmcli.engine.align)
    temporal: bool | None = None  # the temporal filter; None: TEMPORAL_DEFAULT (not an error on
    # a single image, where True is)
    start: float | None = None  # seconds
    duration: float | None = None  # seconds
    checkpoint: Path | None = None  # None: the bundled model
    backbone: str | None = None
    backbone_scale: float | None = None
    refine: str = "error"
    k: int | None = None
    threshold: float = 0.1
    device: str = "auto"
    precision: str = "fp32"
    batch: int = 1
    overwrite: bool = False
    # Live runs (live_run.py). live None: devices and network streams are live, files and "-" not.
    live: bool | None = None
    capture_s: float | None = None  # --bg capture[:SECONDS]
    plate_time: float | None = None  # --bg frame:TIME, seconds into the input (-1: the last)
    plate_auto: bool = False  # --bg auto: built from the take (plate_auto.py)
    plate_mattes: bool = True  # --bg auto: a last round masked by the model's mattes
    capture_countdown: int = 3  # seconds to step out of frame before the capture
    input_size: tuple[int, int] | None = None  # devices: --input-size
    input_fps: float | None = None  # devices: --input-fps
    timeout: float = 10.0  # seconds a device or URL may take to answer or to send more
    streams: tuple[str, ...] = ()  # -o URL
    preview: bool = False
    virtual_camera: str | None = None  # a device, "auto" (the first v4l2loopback), None: off
    latency_target: float | str = "auto"  # ms, or a preset of keep_up.PRESETS
    threads: int | None = None  # the model's CPU threads in a live run; None: chosen

    def __post_init__(self) -> None:
        for kind in self.output_types:
            if kind not in OUTPUT_TYPES:
                raise BgmError(f"unknown output type {kind!r}; known: {', '.join(OUTPUT_TYPES)}")
        if not self.output_types:
            raise BgmError(f"no output types given; choose from {', '.join(OUTPUT_TYPES)}")
        if self.output_format is not None and self.output_format not in OUTPUT_FORMATS:
            raise BgmError(
                f"unknown output format {self.output_format!r}; known: {', '.join(OUTPUT_FORMATS)}"
            )
        if self.align not in ALIGN_MODES:
            raise BgmError(f"--align must be one of {', '.join(ALIGN_MODES)}, got {self.align!r}")
        self.settings  # noqa: B018 - built now: a bad --refine, --k or --backbone-scale, one line
        if self.batch < 1:
            raise BgmError(f"--batch must be at least 1, got {self.batch}")
        if self.start is not None and self.start < 0:
            raise BgmError(f"--start must not be negative, got {self.start}")
        if self.duration is not None and self.duration <= 0:
            raise BgmError(f"--duration must be positive, got {self.duration}")
        if self.threads is not None and self.threads < 1:
            raise BgmError(f"--threads must be at least 1, got {self.threads}")
        if self.timeout <= 0:
            raise BgmError(f"--timeout must be positive, got {self.timeout}")
        if self.background is None and not self.plate_from_input():
            raise BgmError("no background: give --bg FILE, capture[:SECONDS], frame:TIME or auto")
        self._check_plate_from_footage()

    def plate_from_input(self) -> bool:
        """Whether the plate is taken from the input itself (captured, one frame, or built)."""
        return bool(self.capture_s) or self.plate_time is not None or self.plate_auto

    def _check_plate_from_footage(self) -> None:
        """frame:TIME and auto read the input a second time: only a file can be."""
        if self.plate_time is None and not self.plate_auto:
            return
        form = "auto" if self.plate_auto else "frame:TIME"
        from bgmcli.engine.source import parse_input

        kind = parse_input(self.input).kind
        if kind != "file" or self.live:
            what = {"stdin": "standard input", "file": "a live run (--live)"}.get(kind, f"a {kind}")
            raise BgmError(
                f"--bg {form} reads the input twice and {what} can be read only once: use --bg "
                f"capture[:SECONDS] (the plate taken from it after a countdown), or record it first"
            )

    def is_live(self) -> bool:
        """Frames are matted as they come and stale ones dropped (devices and streams)."""
        from bgmcli.engine.source import parse_input

        return parse_input(self.input).live if self.live is None else self.live

    def runs_live(self) -> bool:
        """Whether the run goes through the live loop: a live input, a live output, or a plate
        captured from the input."""
        return bool(self.is_live() or self.streams or self.preview or self.virtual_camera
                    or self.capture_s)  # fmt: skip

    def input_options(self):
        from bgmcli.engine.source import InputOptions

        return InputOptions(size=self.input_size, fps=self.input_fps, timeout=self.timeout)

    def temporal_settings(self, live: bool = False):
        """The temporal filter's settings (looking back only for a live run), or None: off."""
        if not (TEMPORAL_DEFAULT if self.temporal is None else self.temporal):
            return None
        from bgmcli.model.temporal import TemporalSettings

        return TemporalSettings().live() if live else TemporalSettings()

    @cached_property
    def settings(self) -> InferenceSettings:
        """The model's call-time settings as given (None: decided for each frame's size), built
        once and passed whole to the model."""
        return InferenceSettings(backbone_scale=self.backbone_scale, mode=self.refine, k=self.k,
                                 threshold=self.threshold)  # fmt: skip


def parse_output_types(text: str) -> tuple[str, ...]:
    """'com,pha' -> ('com', 'pha'), without duplicates, in the order given."""
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    return tuple(dict.fromkeys(kinds))


def parse_time(text: str | None, option: str) -> float | None:
    """Seconds from '12.5', '1:02.5' or '1:00:02.5'."""
    if text is None:
        return None
    if not re.fullmatch(r"(\d+:){0,2}\d+(\.\d*)?", text.strip()):
        raise BgmError(f"{option} {text!r} is not a time; use seconds (12.5) or [HH:]MM:SS(.ss)")
    seconds = 0.0
    for part in text.strip().split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


class Reporter(Protocol):
    """How the engine reports: the CLI renders these with rich; tests record them."""

    def start(self, total: int | None) -> None: ...

    def advance(self, frames: int) -> None: ...

    def warn(self, message: str) -> None: ...

    # Optional: `info(message)`, the steps of a live run (the plate capture's countdown).


class SilentReporter:
    """A Reporter that drops everything (library use without a UI)."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, frames: int) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass
