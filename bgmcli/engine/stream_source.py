"""Network streams as a Source (udp, srt, rtsp, rtmp, http(s), tcp URLs, read by PyAV), and the
reading they share with devices and standard input: no known end, a timeout for an input that
does not answer or stops sending, and damaged packets (lost UDP datagrams) skipped.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import av

from bgmcli.engine.sources import Frame, SourceInfo, _rgb
from bgmcli.errors import BgmError

# Start quickly and hold nothing back: a live input is probed for at most 1 s.
PROBE_S = 1.0
# FFmpeg's UDP reader thread consults the read timeout too and stops for good once it has run
# out, even while data arrives, if our reading thread was late (a busy CPU): so reads get a long
# grace, and a stream that stops is detected by its consumer (live_loop.py) after --timeout.
READ_GRACE_S = 60.0
LOW_DELAY = {
    "fflags": "nobuffer",
    "probesize": "500000",
    "analyzeduration": str(int(PROBE_S * 1e6)),
}
# UDP: a large socket buffer, and a full one drops datagrams instead of ending the read.
UDP_OPTIONS = {"fifo_size": "100000", "overrun_nonfatal": "1", "buffer_size": "4194304"}


def open_live_container(target, *, label: str, timeout: float, fmt=None, options=None):
    """av.open for a URL, a device or a pipe, every failure one line naming `label`. Opening
    may take the probing time on top of `timeout` (the input answered, but is being probed)."""
    try:
        return av.open(
            target, format=fmt, options=options or {},
            timeout=(timeout + PROBE_S, max(READ_GRACE_S, timeout)),
        )  # fmt: skip
    except av.error.ExitError:
        raise BgmError(f"{label} did not answer within {timeout:g} s (--timeout)") from None
    except av.error.ProtocolNotFoundError:
        scheme = str(target).split(":", 1)[0]
        raise BgmError(f"this PyAV/FFmpeg build cannot read {scheme}:// ({label})") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise BgmError(f"cannot open {label}: {_why(exc)}") from None


def _why(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT:
        return "it does not exist"
    if code == errno.EBUSY:
        return "it is busy (another program is using it)"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class ContainerSource:
    """The first video stream of an opened container with no known end. The first frame is
    decoded on opening, so that size and rate are known before any output exists."""

    def __init__(self, container, *, name: str, label: str, timeout: float, duration=None):
        self.container, self.label, self.timeout = container, label, timeout
        self.duration, self.damaged = duration, 0
        self.stall_s = timeout  # live_loop: no frame for this long is a fault
        if not container.streams.video:
            container.close()
            raise BgmError(f"{label} has no video stream")
        self.stream = stream = container.streams.video[0]
        stream.thread_type = "SLICE"  # frame threads would hold several frames back
        self.rate = Fraction(stream.average_rate or stream.guessed_rate or Fraction(30))
        self._frames = self._decode()
        try:
            self._first = next(self._frames)
        except StopIteration:
            self.close()
            raise BgmError(f"{label} ended before its first video frame") from None
        except BaseException:
            self.close()
            raise
        height, width = self._first.image.shape[:2]
        self.info = SourceInfo(
            path=Path.cwd() / name, name=name, kind="video", width=width, height=height,
            rate=self.rate, time_base=Fraction(stream.time_base), frames=None,
            has_audio=False, offset=0.0,
        )  # fmt: skip

    def frames(self) -> Iterator[Frame]:
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("frames() can be iterated only once")
        yield first
        yield from self._frames

    def _decode(self) -> Iterator[Frame]:
        """Frames with pts from 0 at the first frame, until the end or `duration` seconds."""
        tb, count, first = Fraction(self.stream.time_base), 0, None
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.ExitError:
                raise BgmError(self._stopped(count, "no data")) from None
            except (av.error.FFmpegError, OSError) as exc:
                raise BgmError(self._stopped(count, _why(exc))) from None
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:  # a lost datagram: the decoder recovers later
                self.damaged += 1
                continue
            for frame in decoded:
                pts = frame.pts if frame.pts is not None else round(count / self.rate / tb)
                first = pts if first is None else first
                if self.duration is not None and (pts - first) * tb >= self.duration:
                    return
                yield Frame(_rgb(frame), pts - first)
                count += 1

    def stalled(self, count: int, seconds: float) -> BgmError:
        """The fault of a stream that sent nothing for `seconds` (seen by its consumer)."""
        return BgmError(self._stopped(count, f"no data for {seconds:g} s"))

    def _stopped(self, count: int, why: str) -> str:
        return f"{self.label} stopped after {count} frame{'s' * (count != 1)}: {why}"

    def close(self) -> None:
        self.container.close()


def stream_name(url: str) -> str:
    """Output names for a URL: udp://127.0.0.1:5000 -> udp_127.0.0.1_5000."""
    parts = urlsplit(url)
    text = f"{parts.scheme}_{parts.hostname or ''}_{parts.port or ''}{parts.path}"
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_") or "stream"


class StreamSource(ContainerSource):
    """A network stream: `timeout` seconds to answer and between reads."""

    def __init__(self, url: str, *, timeout: float = 10.0, duration=None):
        options = dict(LOW_DELAY, **(UDP_OPTIONS if url.lower().startswith("udp:") else {}))
        label = f"stream {url}"
        container = open_live_container(url, label=label, timeout=timeout, options=options)
        super().__init__(
            container, name=stream_name(url), label=label, timeout=timeout, duration=duration
        )
