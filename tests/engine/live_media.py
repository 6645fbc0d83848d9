"""Live inputs for the tests, without a camera: an MPEG-TS stream sent over UDP on 127.0.0.1 by
a thread at the real frame rate (the moving-subject clip of media.py, optionally with the
subject absent for the first seconds), and a receiver for streams the engine sends."""

from __future__ import annotations

import socket
import threading
import time
from fractions import Fraction

import av

from tests.engine.media import frame, plate


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UdpFeeder:
    """Sends `seconds` of video to udp://127.0.0.1:PORT at `rate` frames a second, paced by the
    clock (as a camera or an encoder would). `empty_s`: the subject enters only after that."""

    def __init__(self, seconds: float, *, width=160, height=120, rate=30, empty_s=0.0):
        self.port = free_udp_port()
        self.url = f"udp://127.0.0.1:{self.port}"
        self.seconds, self.rate, self.empty_s = seconds, rate, empty_s
        self.size, self.sent = (width, height), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        width, height = self.size
        bgr = plate(height, width)
        with av.open(self.url + "?pkt_size=1316", "w", format="mpegts") as container:
            stream = container.add_stream("mpeg2video", rate=self.rate)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"g": str(self.rate // 2), "bf": "0", "qscale": "3"}
            began = time.monotonic()
            for index in range(round(self.seconds * self.rate)):
                if self._stop.is_set():
                    break
                delay = began + index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                empty = index < self.empty_s * self.rate
                image = bgr if empty else frame(index, bgr)
                picture = av.VideoFrame.from_ndarray(image, format="rgb24")
                picture.pts, picture.time_base = index, Fraction(1, self.rate)
                container.mux(stream.encode(picture))
                self.sent += 1
            container.mux(stream.encode(None))


class UdpReceiver:
    """Reads an MPEG-TS stream sent to udp://127.0.0.1:PORT on a thread; counts the frames."""

    def __init__(self):
        self.port = free_udp_port()
        self.url = f"udp://127.0.0.1:{self.port}"
        self.frames, self.size = 0, None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._thread.join(timeout=15)

    def _run(self) -> None:
        try:
            with av.open(self.url, timeout=(10, 2)) as container:
                for picture in container.decode(video=0):
                    self.frames += 1
                    self.size = (picture.width, picture.height)
        except av.error.ExitError:  # no more data: the sender has finished
            pass
