"""Live runs as a user starts them, on an MPEG-TS stream sent over UDP on 127.0.0.1 at the real
frame rate (no camera here): normal ends (--duration, Ctrl-C, end of stream) exit 0 with
recordings that decode to the end; a stream that stops is one line, exit 2, recordings kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.engine.live_media import UdpFeeder
from tests.engine.media import decode, final_names, plate

ROOT = Path(__file__).resolve().parents[2]


def live(capsys, media, url, out, *args):
    return run_bgm(capsys, "matte", url, "--bg", media.plate, "-o", out, "--checkpoint",
                   media.checkpoint, "--timeout", "3", "--threads", "1", *args)  # fmt: skip


def summary_counts(text: str) -> dict:
    found = re.search(r"(\d+) frames received, (\d+) matted, (\d+) dropped", text)
    assert found, text
    return dict(zip(("received", "matted", "dropped"), map(int, found.groups()), strict=True))


def assert_playable(folder: Path, frames: int) -> None:
    """Every recording decodes to its end, with the frames the summary says were matted."""
    videos = [p for p in folder.iterdir() if p.suffix == ".mp4"]
    assert videos and not [p for p in folder.iterdir() if p.name.endswith(".partial")]
    for path in videos:
        decoded, _, _ = decode(path)
        assert len(decoded) == frames, path


@pytest.mark.slow  # the model is timed, then a real-time stream
def test_duration_ends_a_live_run_with_complete_recordings_and_figures(capsys, media, tmp_path):
    with UdpFeeder(8) as feed:
        code, out, err = live(capsys, media, feed.url, tmp_path, "--duration", "1.5")
    assert code == 0, err
    name = f"udp_127.0.0.1_{feed.port}"
    assert final_names(tmp_path) == [f"{name}.com.mp4", f"{name}.pha.mp4"]
    counts = summary_counts(out)
    assert counts["received"] == counts["matted"] + counts["dropped"]
    # 1.5 s of a 30 fps source: about 45 frames arrive, whatever the model's speed
    assert 30 <= counts["received"] <= 50, out
    assert re.search(r"latency p50 \d+ ms, p90 \d+ ms; stopped by --duration", out)
    assert re.search(r"chosen: base scale [\d.]+, k \d+, 1 thread, model \d+ ms", out)
    assert_playable(tmp_path, counts["matted"])


@pytest.mark.slow  # a real-time stream
def test_a_slow_model_drops_stale_frames_instead_of_queueing(capsys, media, tmp_path):
    # Full refinement of every pixel at base scale 1/2 is far slower than 30 fps on a CPU.
    with UdpFeeder(8) as feed:
        code, out, err = live(capsys, media, feed.url, tmp_path, "--duration", "1.5",
                              "--refine", "full", "--latency-target", "quality")  # fmt: skip
    assert code == 0, err
    counts = summary_counts(out)
    assert counts["dropped"] > 0 and counts["matted"] < counts["received"]
    p90 = float(re.search(r"p90 (\d+) ms", out).group(1))
    assert p90 < 1000, out  # bounded: a queue would hold ever older frames


@pytest.mark.slow  # the stream runs for seconds, then --timeout passes
def test_a_stream_that_stops_is_one_line_and_keeps_the_recording(capsys, media, tmp_path):
    with UdpFeeder(4.5) as feed:  # the model loads within the first seconds; then it stops
        code, out, err = live(capsys, media, feed.url, tmp_path, "--timeout", "1.5")
    assert_one_line_error(code, err, "stopped after", "no data for 1.5 s", "frames recorded")
    assert_playable(tmp_path, int(re.search(r"(\d+) frames recorded", err).group(1)))


@pytest.mark.slow
def test_a_url_that_does_not_answer_is_one_line(capsys, media, tmp_path):
    with UdpFeeder(0) as feed:  # a free port: nothing is sent to it
        code, _, err = live(capsys, media, feed.url, tmp_path, "--timeout", "1")
    assert_one_line_error(code, err, "did not answer within 1 s (--timeout)")
    assert not tmp_path.exists() or final_names(tmp_path) == []


@pytest.mark.slow  # the countdown (3 s) and the capture (1 s) come first
def test_capture_takes_the_plate_from_an_empty_start(capsys, media, tmp_path):
    # the subject enters after 7 s: opening the stream, the countdown and the capture
    with UdpFeeder(10, empty_s=7) as feed:
        code, out, err = run_bgm(
            capsys, "matte", feed.url, "--bg", "capture:1", "-o", tmp_path, "--checkpoint",
            media.checkpoint, "--duration", "1", "--timeout", "3", "--output-types", "pha",
            "--threads", "1",
        )  # fmt: skip
    assert code == 0, err
    assert "background capture in 3 s" in err and "background plate saved" in err
    saved = tmp_path / f"udp_127.0.0.1_{feed.port}.plate.png"
    assert f"plate {saved}" in out
    from scipy.ndimage import uniform_filter

    from bgmcli.engine.images import read_image

    def smooth(image):  # the plate's grain does not survive MPEG-2: compare what does
        return uniform_filter(image.astype(float), size=(5, 5, 1))

    error = np.abs(smooth(read_image(saved)) - smooth(plate(120, 160))).max(-1)
    # the room (MPEG-2's 4:2:0 colour moves its fine stripes a little), without the subject:
    # the subject's disc would differ by 60 to 150 over a sixth of the frame
    assert (error > 50).mean() < 0.005 and error.mean() < 12


@pytest.mark.slow  # a fresh interpreter imports torch: ~6-10 s on this machine
def test_ctrl_c_ends_a_live_run_normally(media, tmp_path):
    # As when the tests run as a background job (`cmd &` ignores SIGINT, and children inherit
    # that): the child must still take Ctrl-C as it would from a terminal.
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with UdpFeeder(90) as feed:  # stopped on leaving: the interpreter may take long to start
            process = spawn_with_ctrl_c(
                [sys.executable, "-m", "bgmcli", "matte", feed.url, "--bg", str(media.plate),
                 "-o", str(tmp_path), "--checkpoint", str(media.checkpoint), "--timeout", "3",
                 "--threads", "1"],
                env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                _wait_for_recordings(tmp_path, process)
                time.sleep(1.0)
                process.send_signal(signal.SIGINT)
                out, err = process.communicate(timeout=60)
            finally:
                process.kill()  # a no-op once it has ended
    finally:
        signal.signal(signal.SIGINT, ignored)
    assert process.returncode == 0, err
    assert "stopped by Ctrl-C" in out
    assert_playable(tmp_path, summary_counts(out)["matted"])


def spawn_with_ctrl_c(args, **options) -> subprocess.Popen:
    """Popen whose child takes SIGINT at its default (a KeyboardInterrupt in Python), even when
    this process ignores it: a handled signal is reset to the default in a new program, an
    ignored one stays ignored."""
    with ctrl_c_taken():
        return subprocess.Popen(args, **options)


@contextmanager
def ctrl_c_taken():
    """SIGINT raises KeyboardInterrupt here meanwhile, as in a terminal's foreground job."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow  # the model loads and is timed first, in this process
def test_ctrl_c_while_the_stream_is_silent_ends_the_run_normally(capsys, media, tmp_path):
    # The reader is then blocked in a read that may last a minute: the stop must not wait for
    # it, and must come before the silence (--timeout 3) is taken for a stream that stopped.
    feed = UdpFeeder(90).__enter__()
    sender = threading.Thread(target=_silence_then_interrupt, args=(feed, tmp_path), daemon=True)
    try:
        with ctrl_c_taken():
            sender.start()
            code, out, err = live(capsys, media, feed.url, tmp_path)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late signal must not stop pytest
            sender.join(timeout=70)
    finally:
        feed.__exit__(None, None, None)
    assert code == 0, err
    assert "stopped by Ctrl-C" in out
    assert_playable(tmp_path, summary_counts(out)["matted"])


def _silence_then_interrupt(feed: UdpFeeder, folder: Path) -> None:
    """Once the run records: stop sending, wait a moment, then Ctrl-C this process."""
    began = time.monotonic()
    while not list(folder.glob("*.partial")) and time.monotonic() - began < 60:
        time.sleep(0.05)
    time.sleep(1.0)  # the loop is running
    feed.__exit__(None, None, None)
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)


def _wait_for_recordings(folder: Path, process, limit_s: float = 60) -> None:
    """Until the run has opened its recordings (the model has loaded)."""
    began = time.monotonic()
    while not list(folder.glob("*.partial")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() - began < limit_s
        time.sleep(0.2)


@pytest.mark.slow  # a fresh interpreter, as above
def test_standard_input_from_a_pipe_mattes_every_frame(media, tmp_path):
    ts = tmp_path / "clip.ts"
    subprocess.run(
        [sys.executable, "-c", "import av,sys; i=av.open(sys.argv[1]); o=av.open(sys.argv[2],'w');"
         "s=o.add_stream_from_template(i.streams.video[0]);"
         "[o.mux(p) for p in i.demux(i.streams.video[0]) if p.dts is not None and "
         "setattr(p,'stream',s) is None]; o.close()", str(media.short), str(ts)],
        check=True,
    )  # fmt: skip
    with ts.open("rb") as pipe:
        done = subprocess.run(
            [sys.executable, "-m", "bgmcli", "matte", "-", "--bg", str(media.plate), "-o",
             str(tmp_path / "out"), "--checkpoint", str(media.checkpoint), "--k", "100"],
            stdin=pipe, capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1"),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "8 frames (160x120)" in done.stdout  # not live: none dropped
    assert final_names(tmp_path / "out") == ["stdin.com.mp4", "stdin.pha.mp4"]


@pytest.mark.slow  # the model is timed, then a clip is matted
def test_capture_from_a_file_takes_its_first_frames_without_a_countdown(capsys, media, tmp_path):
    code, out, err = run_bgm(
        capsys, "matte", media.clip, "--bg", "capture:0.5", "-o", tmp_path, "--checkpoint",
        media.checkpoint, "--k", "100", "--output-types", "pha",
    )  # fmt: skip
    assert code == 0, err
    assert "background capture in" not in err
    # 0.5 s of 23.976 fps: 12 frames make the plate, the other 36 are matted, none dropped
    assert "36 frames (160x120)" in out and "48 frames received, 36 matted, 0 dropped" in out
    assert final_names(tmp_path) == ["clip.pha.mp4", "clip.plate.png"]
    assert_playable(tmp_path, 36)


def test_a_file_into_a_stream_takes_its_plate_from_the_footage(capsys, media, tmp_path):
    """--bg auto with a live output (here a UDP stream nobody listens to) and a file input: the
    plate is built before the loop starts, as for files."""
    code, out, err = run_bgm(
        capsys, "matte", media.short, "--bg", "auto", "-o", tmp_path, "-o",
        "udp://127.0.0.1:45999", "--checkpoint", media.checkpoint, "--k", "100",
        "--output-types", "pha", "--align", "off",
    )  # fmt: skip
    assert code == 0, err
    assert "background built from 8 frames" in out
    assert final_names(tmp_path) == ["short.pha.mp4", "short.plate-coverage.png", "short.plate.png"]
