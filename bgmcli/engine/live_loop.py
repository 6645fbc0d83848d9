"""The loop of a live run, on the model's thread: the newest frame -> the model -> every output,
and the preview window (shown, and its keys read) between frames."""

from __future__ import annotations

import time

import numpy as np

from bgmcli.engine.pipeline import _stack
from bgmcli.engine.sink import Picture

WINDOW_POLL_S = 0.03  # how often the window's keys are read while no frame arrives
STOP_POLL_S = 0.25  # how soon a stop request is seen while no frame arrives
TICKS_PER_S = 90_000  # live pts: arrival times in LIVE_TIME_BASE
VIEW_PICTURES = {"composite": Picture("com", 3), "alpha": Picture("pha", 1)}


class LiveLoop:
    def __init__(self, feed, matter, background, target, outputs, latency, recapture, stage):
        self.feed, self.matter, self.background, self.target = feed, matter, background, target
        self.outputs, self.latency, self.recapture = outputs, latency, recapture
        self.stage = stage  # the temporal stage, looking back only: one frame in, one out
        self.window = outputs.window
        self.matted, self._fps, self._last_pts, self._shown_at = 0, None, -1, None

    def run(self, *, duration: float | None, report, stop=None) -> str:
        """Mattes until the input ends, `duration` wall seconds pass, `q`, or `stop` (a
        live_stop.StopSignals) is requested; returns which."""
        self.feed.reset_counts()  # frames that came while the model loaded are not counted
        began = last = time.monotonic()
        stall_s = getattr(self.feed.source, "stall_s", None)  # files do not stall
        poll = WINDOW_POLL_S if self.window is not None else min(STOP_POLL_S, stall_s or 1.0)
        while True:
            arrival = self.feed.next(timeout=poll)
            now = time.monotonic()
            if stop is not None and stop.requested:
                self.feed.discard(arrival)
                return stop.requested
            if duration is not None and now - began >= duration:
                self.feed.discard(arrival)
                return "--duration"
            if arrival is None and self.feed.ended:
                return "end of input"
            if arrival is not None:
                self._matte(arrival, began)
                report.advance(1)
                last = now
            elif stall_s is not None and now - last >= stall_s:
                raise self.feed.source.stalled(self.feed.received, stall_s)
            if self.window is not None and self._window_quits():
                return "q"

    def _matte(self, arrival, began: float) -> None:
        if self.feed.drop:  # live: arrival time, so that recordings play at the pace they came
            pts = max(self._last_pts + 1, round((arrival.time - began) * TICKS_PER_S))
        else:
            pts = arrival.pts
        self._last_pts = pts
        bgr = None if self.background.static is not None else self.background.for_frame(
            arrival.image
        )  # fmt: skip
        tgt = self.target.plate.next() if self.target.per_frame else None
        batch = _stack([(arrival.image, bgr, tgt, pts)], self.matter.device)
        (matted,) = self.stage(self.matter(batch))
        self.latency.captured(pts, arrival.time)
        self.outputs.put(matted)
        if self.window is not None:
            self._show(matted, arrival)
            self.latency.written([pts])
        self.matted += 1

    def _show(self, matted, arrival) -> None:
        now = time.monotonic()
        if self._shown_at is not None and now > self._shown_at:
            rate = 1 / (now - self._shown_at)  # smoothed, so that the figure can be read
            self._fps = rate if self._fps is None else 0.9 * self._fps + 0.1 * rate
        self._shown_at = now
        view = self.window.view_name
        if view == "input":
            image = arrival.image
        else:
            planes = matted.pictures(VIEW_PICTURES[view])[0]
            image = np.repeat(planes, 3, 0) if planes.shape[0] == 1 else planes
            image = image.transpose(1, 2, 0)
        fps = f"{self._fps:.1f} fps" if self._fps else "-- fps"
        self.window.show(image, f"{fps}  latency {1000 * (now - arrival.time):.0f} ms")

    def _window_quits(self) -> bool:
        for action in self.window.actions():
            if action == "quit":
                return True
            if action == "plate":
                self.recapture()
                self.stage.reset()
        return False
