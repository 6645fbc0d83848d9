"""INPUT text -> the kind of source: what a user types reaches the right reader."""

from pathlib import Path

import pytest

from bgmcli.engine.source import InputOptions, open_input, parse_input
from bgmcli.errors import BgmError


@pytest.mark.parametrize(
    ("text", "kind", "live"),
    [
        ("clip.mp4", "file", False),
        ("shots/*.png", "file", False),
        ("-", "stdin", False),
        ("/dev/video0", "device", True),
        ("avfoundation:FaceTime HD Camera", "device", True),
        ("dshow:Integrated Camera", "device", True),
        ("udp://127.0.0.1:5000", "stream", True),
        ("rtsp://camera.local/stream1", "stream", True),
        ("rtmp://live.example/app/key", "stream", True),
        ("https://example.com/live.m3u8", "stream", True),
        ("srt://127.0.0.1:9000?mode=caller", "stream", True),
    ],
)
def test_input_kinds(text, kind, live):
    spec = parse_input(text)
    assert (spec.kind, spec.live) == (kind, live)


def test_a_path_object_is_always_a_file():
    assert parse_input(Path("udp:/x")).kind == "file"


def test_an_unknown_url_scheme_is_one_line():
    with pytest.raises(BgmError, match="unsupported input URL scheme 'ftp'"):
        parse_input("ftp://example.com/clip.mp4")


def test_device_options_on_a_file_are_an_error(media):
    with pytest.raises(BgmError, match="--input-size and --input-fps apply to capture devices"):
        open_input(str(media.short), options=InputOptions(size=(640, 480)))


def test_start_on_a_live_input_is_an_error():
    with pytest.raises(BgmError, match="--start applies to files"):
        open_input("udp://127.0.0.1:9", start=2.0)
