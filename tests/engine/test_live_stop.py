"""Ctrl-C in a live run's loop is a request to stop between frames: the first one is noted, a
second one interrupts at once, and a signal the run was started ignoring stays ignored."""

from __future__ import annotations

import os
import signal
import time

import pytest

from bgmcli.engine.live_stop import StopSignals


def interrupt_self(signum=signal.SIGINT) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.01)  # Python runs the handler between bytecodes of this (the main) thread


@pytest.fixture
def sigint_default():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_the_first_ctrl_c_asks_to_stop_and_a_second_interrupts(sigint_default):
    with StopSignals() as stop:
        interrupt_self()
        assert stop.requested == "Ctrl-C"
        with pytest.raises(KeyboardInterrupt):
            interrupt_self()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_asks_to_stop_too(sigint_default):
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with StopSignals() as stop:
            interrupt_self(signal.SIGTERM)
            assert stop.requested == "SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_handlers_are_restored_when_no_signal_came(sigint_default):
    with StopSignals() as stop:
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert stop.requested is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored():
    # a run started as a background job (`bgm matte ... &`) is not stopped by SIGINT
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with StopSignals() as stop:
            interrupt_self()
        assert stop.requested is None
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_file_run_keeps_ctrl_c_as_an_interruption(sigint_default):
    with pytest.raises(KeyboardInterrupt), StopSignals(enabled=False):
        interrupt_self()
