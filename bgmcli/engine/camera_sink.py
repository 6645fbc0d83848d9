"""The virtual camera as a Sink (`--virtual-camera [DEVICE]`): the composite written to a
v4l2loopback device through FFmpeg's video4linux2 output on Linux; on macOS and Windows through
pyvirtualcam (the OBS virtual camera), when it is installed."""

from __future__ import annotations

import platform
from pathlib import Path

import av
import numpy as np

from bgmcli.engine.sink import Picture
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError

SYSFS = Path("/sys/class/video4linux")
LOOPBACK_SETUP = "sudo modprobe v4l2loopback exclusive_caps=1 card_label='bgm'"


def loopback_devices(sysfs: Path = SYSFS) -> list[str]:
    """The v4l2loopback devices, by the driver's names for them."""
    found = []
    for entry in sorted(sysfs.glob("video*")) if sysfs.is_dir() else []:
        name = (entry / "name").read_text(errors="replace") if (entry / "name").exists() else ""
        driver = (entry / "device" / "driver").resolve().name if (entry / "device").exists() else ""
        if "loopback" in driver or "Dummy" in name or "bgm" in name:
            found.append(f"/dev/{entry.name}")
    return found


def open_camera_sink(device: str | None, info: SourceInfo):
    """A camera sink for this platform; `device` None: the first v4l2loopback device."""
    if platform.system() == "Linux":
        if device is None:
            devices = loopback_devices()
            if not devices:
                raise BgmError(f"no v4l2loopback device found; create one with: {LOOPBACK_SETUP}")
            device = devices[0]
        return LoopbackSink(device, info)
    return PyVirtualCamSink(device, info)


class LoopbackSink:
    """Raw yuv420p frames into a v4l2loopback device: what browsers, Zoom and OBS read."""

    output = Picture("com", 3)

    def __init__(self, device: str, info: SourceInfo):
        self.device = device
        self.container = None
        try:
            self.container = av.open(device, "w", format="v4l2")
            self.stream = self.container.add_stream("rawvideo", rate=info.rate)
            self.stream.width, self.stream.height = info.width, info.height
            self.stream.pix_fmt = "yuv420p"
            self.container.start_encoding()  # the device is set up now: its errors come now
        except (av.error.FFmpegError, OSError) as exc:
            if self.container is not None:
                self.container.close()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BgmError(
                f"cannot open virtual camera {device}: {reason} (is it a v4l2loopback device? "
                f"{LOOPBACK_SETUP})"
            ) from None

    def write(self, planes: np.ndarray, pts: list[int]) -> None:
        for image in planes:
            frame = av.VideoFrame.from_ndarray(image.transpose(1, 2, 0), format="gbrp")
            frame = frame.reformat(format="yuv420p")
            self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        self.container.close()

    abort = close


class PyVirtualCamSink:
    """macOS and Windows: the OBS virtual camera (OBS 26+ installed) through pyvirtualcam."""

    output = Picture("com", 3)

    def __init__(self, device: str | None, info: SourceInfo):
        try:
            import pyvirtualcam
        except ImportError:
            raise BgmError(
                "--virtual-camera on this system needs pyvirtualcam and OBS's virtual camera: "
                "pip install pyvirtualcam"
            ) from None
        try:
            self.camera = pyvirtualcam.Camera(
                info.width, info.height, float(info.rate), device=device
            )
        except RuntimeError as exc:
            raise BgmError(f"cannot open the virtual camera: {exc}") from None

    def write(self, planes: np.ndarray, pts: list[int]) -> None:
        for image in planes:
            self.camera.send(np.ascontiguousarray(image.transpose(1, 2, 0)))

    def close(self) -> None:
        self.camera.close()

    abort = close
