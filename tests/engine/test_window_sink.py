"""--preview: the window under a virtual X server (Debian's xvfb), its keys, and the one-line
error where there is no display."""

import os
import shutil
import subprocess
import threading
import time

import pytest

from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.engine.live_media import UdpFeeder

pygame = pytest.importorskip("pygame", reason="--preview needs pygame-ce (pip install pygame-ce)")


@pytest.fixture(scope="module")
def xvfb():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb)")
    server = subprocess.Popen(["Xvfb", ":87", "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                              stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(1.0)
    if server.poll() is not None:
        pytest.skip("Xvfb did not start")
    yield ":87"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def display(xvfb, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")


def press(key) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


@pytest.mark.slow
def test_keys_switch_the_view_recapture_and_quit(display):
    import numpy as np

    from bgmcli.engine.window_sink import WindowSink

    window = WindowSink(160, 120)
    try:
        window.show(np.zeros((120, 160, 3), np.uint8), "30.0 fps  latency 40 ms")
        assert window.view_name == "composite"
        press(pygame.K_a)
        press(pygame.K_b)
        assert window.actions() == ["plate"] and window.view_name == "alpha"
        press(pygame.K_a)
        press(pygame.K_q)
        assert window.actions() == ["quit"] and window.view_name == "input"
    finally:
        window.close()


@pytest.mark.slow  # a live run with a window
def test_q_in_the_window_ends_a_live_run_normally(display, capsys, media, tmp_path):
    def quit_soon():
        while not pygame.display.get_init():  # the window opens once the model has loaded
            time.sleep(0.05)
        time.sleep(1.0)
        press(pygame.K_q)

    threading.Thread(target=quit_soon, daemon=True).start()
    with UdpFeeder(30) as feed:
        code, out, err = run_bgm(
            capsys, "matte", feed.url, "--bg", media.plate, "--preview", "-o", tmp_path,
            "--checkpoint", media.checkpoint, "--threads", "1", "--timeout", "3",
        )  # fmt: skip
    assert code == 0, err
    assert "stopped by q" in out


@pytest.mark.slow
def test_preview_without_a_display_is_one_line(capsys, media, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with UdpFeeder(4) as feed:
        code, _, err = run_bgm(capsys, "matte", feed.url, "--bg", media.plate, "--preview")
    assert_one_line_error(code, err, "--preview needs a display")
    assert os.environ.get("DISPLAY") is None
