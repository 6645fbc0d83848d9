"""Ctrl-C and SIGTERM during a live run's loop: a request to stop between frames, not an
exception. A KeyboardInterrupt can be raised between any two bytecodes, inside a queue's or a
lock's `with` too, and one left held there would hang the finish that keeps the recordings."""

from __future__ import annotations

import signal
import threading

SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class StopSignals:
    """Within `with`, SIGINT and SIGTERM set `requested` (the signal's name) instead of raising.
    The first one restores the previous handlers, so that a second one interrupts at once (a
    flush that hangs can still be left). A signal ignored when the run began (a background job)
    stays ignored; outside the main thread, where Python takes no signals, nothing changes."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.requested = enabled, None
        self._previous: dict = {}

    def __enter__(self) -> StopSignals:
        if self.enabled and threading.current_thread() is threading.main_thread():
            for signum in SIGNAL_NAMES:
                handler = signal.getsignal(signum)
                if handler is not None and handler != signal.SIG_IGN:  # None: set outside Python
                    self._previous[signum] = signal.signal(signum, self._request)
        return self

    def __exit__(self, *exc_info) -> None:
        self._restore()

    def _request(self, signum, frame) -> None:
        self.requested = SIGNAL_NAMES[signum]
        self._restore()

    def _restore(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
