"""--virtual-camera without a v4l2loopback device: found by the driver's name, or one line
saying how to create one."""

import pytest

from bgmcli.engine import camera_sink
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError


def fake_sysfs(root, devices):
    for name, label in devices.items():
        (root / name).mkdir(parents=True)
        (root / name / "name").write_text(label + "\n")
    return root


def test_loopback_devices_are_told_from_real_cameras(tmp_path):
    sysfs = fake_sysfs(tmp_path, {"video0": "Integrated Camera", "video4": "Dummy video device"})
    assert camera_sink.loopback_devices(sysfs) == ["/dev/video4"]


def test_without_a_loopback_device_the_error_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setattr(camera_sink, "SYSFS", tmp_path)
    monkeypatch.setattr(camera_sink.platform, "system", lambda: "Linux")
    with pytest.raises(BgmError, match="no v4l2loopback device found; .*modprobe v4l2loopback"):
        camera_sink.open_camera_sink(None, info=None)


def test_a_device_that_is_no_loopback_is_one_line(tmp_path):
    info = SourceInfo(path=tmp_path, name="x", kind="video", width=160, height=120, rate=30,
                      time_base=1, frames=None, has_audio=False, offset=0.0)  # fmt: skip
    with pytest.raises(BgmError, match="cannot open virtual camera /nonexistent/video9"):
        camera_sink.LoopbackSink("/nonexistent/video9", info)
