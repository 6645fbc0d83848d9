"""Audio: the input's first audio stream copied packet by packet (not re-encoded) into the com
output, trimmed to --start/--duration and muxed in step with the video as it is written.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


class AudioCopy:
    """Packets of the input's audio in [start, end) seconds, shifted to start at 0."""

    def __init__(self, path: Path, *, start: float = 0.0, end: float | None = None):
        self.container = av.open(str(path))
        self.stream = self.container.streams.audio[0]
        self.codec = self.stream.codec_context.name
        self.time_base = Fraction(self.stream.time_base)
        self.start, self.end = start, end
        self.offset = round(Fraction(start) / self.time_base) if start else 0
        if start:
            self.container.seek(self.offset, stream=self.stream, backward=True)
        self._packets = self.container.demux(self.stream)
        self._pending = None
        self.out = None

    def attach(self, container) -> bool:
        """Adds the audio stream to an output container; False if its format cannot hold it."""
        try:
            self.out = container.add_stream_from_template(self.stream)
        except ValueError:  # e.g. AAC into WebM, which takes only Opus and Vorbis
            return False
        return True

    def mux_until(self, container, seconds: float | None) -> None:
        """Muxes the packets that start before `seconds` of output time (None: all the rest)."""
        while True:
            packet = self._pending or self._next()
            self._pending = None
            if packet is None:
                return
            if seconds is not None and float(packet.pts * self.time_base) - self.start > seconds:
                self._pending = packet
                return
            packet.pts -= self.offset
            packet.dts = None if packet.dts is None else packet.dts - self.offset
            packet.stream = self.out
            container.mux(packet)

    def _next(self):
        for packet in self._packets:
            if packet.pts is None or packet.size == 0:
                continue  # the demuxer's final flush packet
            time = float(packet.pts * self.time_base)
            if time < self.start - 1e-6:
                continue
            if self.end is not None and time >= self.end - 1e-6:
                return None
            return packet
        return None

    def close(self) -> None:
        self.container.close()
