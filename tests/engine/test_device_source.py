"""Capture devices, without a device: how each platform's device is opened (format, size,
rate), and the one-line errors of a device that is missing or busy."""

import errno

import pytest

from bgmcli.engine.device_source import device_name, device_opening
from bgmcli.engine.source import InputOptions, open_input
from bgmcli.errors import BgmError
from tests.cli_helpers import assert_one_line_error, run_bgm

SIZED = InputOptions(size=(1280, 720), fps=30)


def test_linux_opens_v4l2_at_the_size_and_rate_asked():
    opening = device_opening("/dev/video2", SIZED, "Linux")
    assert (opening.file, opening.format) == ("/dev/video2", "v4l2")
    assert opening.options == {"video_size": "1280x720", "framerate": "30"}


def test_without_size_and_rate_the_device_keeps_its_own():
    assert device_opening("/dev/video0", InputOptions(), "Linux").options == {}


def test_macos_opens_avfoundation_by_name_or_index():
    opening = device_opening("avfoundation:FaceTime HD Camera", SIZED, "Darwin")
    assert (opening.file, opening.format) == ("FaceTime HD Camera", "avfoundation")
    assert opening.options["video_size"] == "1280x720" and opening.options["framerate"] == "30"
    assert (
        device_opening("avfoundation:0", InputOptions(fps=15), "Darwin").options["framerate"]
        == "15"
    )


def test_windows_opens_dshow_video_devices():
    opening = device_opening("dshow:Integrated Camera", InputOptions(fps=25), "Windows")
    assert (opening.file, opening.format) == ("video=Integrated Camera", "dshow")
    assert opening.options["framerate"] == "25" and "rtbufsize" in opening.options


def test_another_platforms_device_is_one_line():
    with pytest.raises(BgmError, match="dshow devices are not available on Linux"):
        device_opening("dshow:Integrated Camera", InputOptions(), "Linux")


def test_device_names_make_output_names():
    assert device_name("/dev/video0") == "video0"
    assert device_name("dshow:Integrated Camera") == "Integrated_Camera"


def test_a_missing_device_is_one_line(capsys, media, tmp_path):
    code, _, err = run_bgm(capsys, "matte", "/dev/video99", "--bg", media.plate, "-o", tmp_path)
    assert_one_line_error(code, err, "cannot open device /dev/video99: it does not exist")


def test_a_busy_device_is_one_line(monkeypatch):
    def busy(*args, **kwargs):
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr("av.open", busy)
    with pytest.raises(BgmError, match=r"^cannot open device /dev/video0: it is busy"):
        open_input("/dev/video0")
