"""Reading a source as it comes: a thread decodes every frame (a socket left unread loses data)
and keeps only the newest one for the model, so that a slower model drops stale frames instead
of queueing them; and the latency of each frame from its arrival to its output.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Arrival:
    image: np.ndarray  # uint8 (H, W, 3) RGB
    pts: int  # the source's timestamp
    time: float  # its capture time on time.monotonic()'s clock, as far as it can be told


class LiveFeed:
    """The frames of `source`, decoded on a thread. `drop`: next() returns the newest frame and
    counts the ones it replaced as dropped; otherwise every frame, in order (the reader waits)."""

    def __init__(self, source, *, drop: bool):
        self.source, self.drop = source, drop
        self.received = self.dropped = 0
        self._pending: Arrival | None = None
        self._ended, self._error, self._stop = False, None, False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="bgm-live-read", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        # Not at lower priority, unlike the file pipeline's reader: it must never fall behind.
        time_base, offset = float(self.source.info.time_base), None
        try:
            for frame in self.source.frames():
                # Capture time: the source's own clock (pts) placed on ours by the frame that
                # came soonest after it, so that a backlog (frames queued in a socket buffer)
                # counts in the latency instead of looking fresh when it is decoded.
                media_s, now = frame.pts * time_base, time.monotonic()
                offset = now - media_s if offset is None else min(offset, now - media_s)
                arrival = Arrival(frame.image, frame.pts, offset + media_s)
                with self._cond:
                    while not self.drop and self._pending is not None and not self._stop:
                        self._cond.wait(0.1)
                    if self._stop:
                        return
                    self.dropped += self._pending is not None
                    self._pending = arrival
                    self.received += 1
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: B036 - raised on the consumer's side
            self._error = exc
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def next(self, timeout: float | None = None) -> Arrival | None:
        """The next (newest) frame; None at the end of the input or after `timeout` seconds
        (then `ended` tells which). Raises the reader's error once its frames are taken."""
        with self._cond:
            self._cond.wait_for(lambda: self._pending is not None or self._ended, timeout)
            arrival, self._pending = self._pending, None
            self._cond.notify_all()
            if arrival is None and self._error is not None:
                error, self._error = self._error, None
                raise error
            return arrival

    def take(self) -> Arrival | None:
        """The next frame, None at the end; a stream silent for its `stall_s` is a fault."""
        stall_s = getattr(self.source, "stall_s", None)
        arrival = self.next(timeout=stall_s)
        if arrival is None and not self.ended:
            raise self.source.stalled(self.received, stall_s)
        return arrival

    def discard(self, arrival: Arrival | None) -> None:
        """A frame taken but not matted (the run ended) counts as dropped."""
        if arrival is not None:
            with self._cond:
                self.dropped += 1

    def reset_counts(self) -> None:
        """Live: counts from now on (frames that came while the model loaded are stale)."""
        if not self.drop:
            return
        with self._cond:
            self.received, self.dropped, self._pending = 0, 0, None

    @property
    def ended(self) -> bool:
        return self._ended and self._pending is None

    def stop(self) -> None:
        """Stops reading; a frame still waiting counts as dropped. The reader may be blocked
        on the input for up to its timeout: it is waited for once, then left to finish on its
        own (a daemon)."""
        with self._cond:
            stopped, self._stop = self._stop, True
            self.dropped += self._pending is not None
            self._pending = None
            self._cond.notify_all()
        if not stopped:
            self._thread.join(timeout=2)

    @property
    def reading(self) -> bool:
        return self._thread.is_alive()


class LatencyLog:
    """Capture-to-output latency: a frame's output time is when its last sink has it."""

    def __init__(self):
        self._captured: dict[int, float] = {}
        self._done: dict[int, float] = {}
        self._lock = threading.Lock()

    def captured(self, pts: int, at: float) -> None:
        self._captured[pts] = at

    def written(self, pts: list[int]) -> None:
        now = time.monotonic()
        with self._lock:
            for stamp in pts:
                self._done[stamp] = now

    def seconds(self) -> np.ndarray:
        with self._lock:
            return np.array(
                [self._done[p] - t for p, t in self._captured.items() if p in self._done]
            )

    def percentiles(self) -> tuple[float | None, float | None]:
        """p50 and p90 in milliseconds (None before any frame was output)."""
        seconds = self.seconds()
        if not seconds.size:
            return None, None
        p50, p90 = np.percentile(seconds * 1000, [50, 90])
        return float(p50), float(p90)
