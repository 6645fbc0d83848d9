"""--bg's forms, read alike on the command line and in manifests: a file or folder, capture,
frame:TIME (-1: the last frame) and auto; a file that exists keeps its name."""

import pytest

from bgmcli.engine.matte_config import MatteConfig
from bgmcli.engine.plate_forms import LAST_FRAME, PlateForm, parse_bg, plate_label
from bgmcli.errors import BgmError


def test_each_form():
    assert parse_bg("auto") == PlateForm(auto=True)
    assert parse_bg("AUTO") == PlateForm(auto=True)
    assert parse_bg("capture:3") == PlateForm(capture_s=3.0)
    assert parse_bg("frame:0") == PlateForm(time=0.0)
    assert parse_bg("frame:12.5") == PlateForm(time=12.5)
    assert parse_bg("frame:1:02.5") == PlateForm(time=62.5)
    assert parse_bg("frame:-1") == PlateForm(time=LAST_FRAME)
    assert parse_bg("room.png").path.name == "room.png"


@pytest.mark.parametrize(
    "text, message",
    [
        ("frame:", r"give the frame's time"),
        ("frame:-2", r"a time from the start .* or -1 for the last frame"),
        ("frame:soon", r"'soon' is not a time"),
        ("capture:0", r"more than 0 seconds"),
        (" ", r"--bg is empty"),
    ],
)
def test_bad_forms_are_one_line(text, message):
    with pytest.raises(BgmError, match=message):
        parse_bg(text)


def test_a_file_named_like_a_form_is_that_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "auto").write_bytes(b"")
    assert parse_bg("auto").path.name == "auto"


def test_a_manifest_reads_paths_relative_to_itself(tmp_path):
    (tmp_path / "room.png").write_bytes(b"")
    assert parse_bg("room.png", tmp_path).path == tmp_path / "room.png"
    assert parse_bg("frame:-1", tmp_path).time == LAST_FRAME


def test_every_form_sets_all_plate_fields_so_that_a_row_replaces_the_command_line():
    assert PlateForm(auto=True).fields() == {"capture_s": None, "plate_time": None,
                                             "plate_auto": True}  # fmt: skip
    assert PlateForm(time=2.0).fields()["plate_time"] == 2.0


@pytest.mark.parametrize(
    "source, message",
    [
        ("/dev/video0", r"a device can be read only once"),
        ("udp://127.0.0.1:5000", r"a stream can be read only once"),
        ("-", r"standard input can be read only once"),
    ],
)
def test_frame_and_auto_need_a_file(source, message):
    for form in (PlateForm(auto=True), PlateForm(time=0.0)):
        with pytest.raises(BgmError, match=message + r": use --bg capture"):
            MatteConfig(input=source, background=None, outdir=None, **form.fields())


def test_a_file_run_live_cannot_be_read_twice_either(tmp_path):
    with pytest.raises(BgmError, match=r"a live run \(--live\) can be read only once"):
        MatteConfig(input=tmp_path / "a.mp4", background=None, live=True, plate_auto=True)


def test_labels_name_the_form():
    assert plate_label(MatteConfig(input="a.mp4", background=None, plate_auto=True)) == "auto"
    assert plate_label(MatteConfig(input="a.mp4", background=None, plate_time=-1.0)) == "frame:-1"
    assert plate_label(MatteConfig(input="a.mp4", background=None, plate_time=2.5)) == "frame:2.5"
