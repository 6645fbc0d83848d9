"""Capture devices as a Source: /dev/videoN through video4linux2 on Linux, and the device names
of FFmpeg's avfoundation (macOS: `avfoundation:0`, `avfoundation:FaceTime HD Camera`) and dshow
(Windows: `dshow:Integrated Camera`), at --input-size and --input-fps when given.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass

from bgmcli.engine.source import InputOptions
from bgmcli.engine.stream_source import ContainerSource, open_live_container
from bgmcli.errors import BgmError


@dataclass(frozen=True)
class DeviceOpening:
    """What av.open is given for a device: the file (or name), the FFmpeg format, options."""

    file: str
    format: str
    options: dict


def device_opening(spec: str, options: InputOptions, system: str | None = None) -> DeviceOpening:
    """How a device INPUT is opened on `system` (platform.system() by default)."""
    system = system or platform.system()
    kind, sep, name = spec.partition(":")
    if not sep or spec.startswith("/dev/"):
        kind, name = "v4l2", spec
    kind = kind.lower()
    wanted = {"Linux": "v4l2", "Darwin": "avfoundation", "Windows": "dshow"}.get(system)
    if kind != wanted:
        raise BgmError(
            f"device {spec}: {kind} devices are not available on {system}"
            + (f"; use {wanted} names here" if wanted else "")
        )
    settings = {}
    if options.size:
        settings["video_size"] = f"{options.size[0]}x{options.size[1]}"
    if options.fps:
        settings["framerate"] = f"{options.fps:g}"
    if kind == "dshow":
        name = name if name.startswith("video=") else f"video={name}"
        settings["rtbufsize"] = "64M"  # dshow's default buffer overflows at HD
    if kind == "avfoundation":
        settings.setdefault("framerate", "30")  # its default (29.97) is refused by many cameras
        settings["pixel_format"] = "uyvy422"
    return DeviceOpening(name, kind, settings)


def device_name(spec: str) -> str:
    """Output names for a device: /dev/video0 -> video0, dshow:My Cam -> My_Cam."""
    tail = spec.rsplit("/", 1)[-1].split(":", 1)[-1].removeprefix("video=")
    return re.sub(r"[^A-Za-z0-9.-]+", "_", tail).strip("_") or "camera"


class DeviceSource(ContainerSource):
    def __init__(self, spec: str, options: InputOptions, *, duration=None):
        opening = device_opening(spec, options)
        label = f"device {spec}"
        container = open_live_container(
            opening.file, label=label, timeout=options.timeout, fmt=opening.format,
            options=opening.options,
        )  # fmt: skip
        super().__init__(
            container, name=device_name(spec), label=label, timeout=options.timeout,
            duration=duration,
        )  # fmt: skip
