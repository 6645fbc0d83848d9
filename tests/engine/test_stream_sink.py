"""-o URL: the composite streamed as MPEG-TS over UDP (127.0.0.1), read back by a receiver."""

import pytest

from bgmcli.engine.stream_sink import muxer_for
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.engine.live_media import UdpFeeder, UdpReceiver


@pytest.mark.slow  # a real-time stream in and out (~6 s here)
def test_a_live_run_streams_the_composite(capsys, media, tmp_path):
    with UdpReceiver() as receiver, UdpFeeder(8) as feed:
        code, out, err = run_bgm(
            capsys, "matte", feed.url, "--bg", media.plate, "-o", receiver.url, "--checkpoint",
            media.checkpoint, "--duration", "1.5", "--threads", "1", "--timeout", "3",
        )  # fmt: skip
    assert code == 0, err
    matted = int(out.split(" matted")[0].rsplit(" ", 1)[-1])
    assert receiver.size == (160, 120)
    assert matted - 2 <= receiver.frames <= matted  # the first may go before the receiver syncs


def test_containers_by_scheme():
    assert muxer_for("udp://127.0.0.1:5000") == "mpegts"
    assert muxer_for("rtmp://live.example/app/key") == "flv"


@pytest.mark.slow
def test_an_unknown_output_scheme_fails_before_the_model_loads(capsys, media, tmp_path):
    with UdpFeeder(4) as feed:
        code, _, err = run_bgm(capsys, "matte", feed.url, "--bg", media.plate,
                               "-o", "ftp://example.com/out.ts")  # fmt: skip
    assert_one_line_error(code, err, "cannot stream to ftp://")


@pytest.mark.slow
def test_a_live_input_without_outputs_is_one_line(capsys, media):
    with UdpFeeder(4) as feed:
        code, _, err = run_bgm(capsys, "matte", feed.url, "--bg", media.plate)
    assert_one_line_error(code, err, "a live input needs an output")
