"""The Source seam: what every kind of input gives the engine, and INPUT text -> the right kind
(a file or folder, a capture device, a network stream, or `-` for standard input).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bgmcli.engine.sources import Frame, SourceInfo
from bgmcli.errors import BgmError

STREAM_SCHEMES = ("udp", "srt", "rtsp", "rtmp", "http", "https", "tcp")
DEVICE_PREFIXES = ("avfoundation:", "dshow:", "v4l2:")
URL = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*)://")


class Source(Protocol):
    """Frames in. `info` is known on opening (size, rate); `frames()` yields uint8 RGB frames in
    order and raises BgmError on a fault; `close()` releases the file, device or socket."""

    info: SourceInfo

    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class InputOptions:
    """How a non-file input is opened: `--input-size`, `--input-fps`, `--timeout` (seconds to
    wait for a device or URL to answer, and for each later read)."""

    size: tuple[int, int] | None = None
    fps: float | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class InputSpec:
    """What an INPUT string names: `kind` is file, device, stream or stdin."""

    kind: str
    target: str

    @property
    def live(self) -> bool:
        """Whether it is live by default: devices and network streams are; files and `-` not."""
        return self.kind in ("device", "stream")


def parse_input(text: str | Path) -> InputSpec:
    """INPUT -> its kind. Path objects are files (a URL does not survive Path())."""
    if isinstance(text, Path):
        return InputSpec("file", str(text))
    if text == "-":
        return InputSpec("stdin", text)
    match = URL.match(text)
    if match:
        scheme = match.group(1).lower()
        if scheme not in STREAM_SCHEMES:
            raise BgmError(
                f"unsupported input URL scheme {scheme!r} in {text}; "
                f"known: {', '.join(STREAM_SCHEMES)}"
            )
        return InputSpec("stream", text)
    if text.startswith("/dev/video") or text.lower().startswith(DEVICE_PREFIXES):
        return InputSpec("device", text)
    return InputSpec("file", text)


def open_input(
    text: str | Path,
    *,
    options: InputOptions | None = None,
    start: float | None = None,
    duration: float | None = None,
) -> Source:
    """The Source for INPUT. `start` applies to files; `duration` to every kind (the first
    `duration` seconds of the stream's own time)."""
    spec, options = parse_input(text), options or InputOptions()
    if spec.kind != "file" and start is not None:
        raise BgmError(f"--start applies to files, not to {spec.kind} input {spec.target}")
    if spec.kind != "device" and (options.size or options.fps):
        raise BgmError("--input-size and --input-fps apply to capture devices only")
    if spec.kind == "device":
        from bgmcli.engine.device_source import DeviceSource

        return DeviceSource(spec.target, options, duration=duration)
    if spec.kind == "stream":
        from bgmcli.engine.stream_source import StreamSource

        return StreamSource(spec.target, timeout=options.timeout, duration=duration)
    if spec.kind == "stdin":
        from bgmcli.engine.stdin_source import StdinSource

        return StdinSource(timeout=options.timeout, duration=duration)
    from bgmcli.engine.sources import open_source

    return open_source(Path(spec.target), start=start, duration=duration)
