"""Live matting on this machine: a 30 fps 640x480 live source (MPEG-TS over UDP on 127.0.0.1,
sent at the real rate by a thread) matted by `bgm matte` with the bundled model, the composite
streamed out over UDP. Prints the frames received, matted and dropped, fps matted, drop rate,
latency (arrival to output) p50/p90 and the settings the run chose to keep up.

    python benchmarks/live_latency.py [--seconds 20] [--latency-target auto] [--device cpu]

The source is the demo clip (examples/demo.mp4, real photographs) scaled to the size asked and
looped; its frames are encoded once beforehand (MPEG-2), so that sending costs almost no CPU.
The load average is printed: other processes on the machine slow the model down.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from bgmcli.engine.matte import run_matte
from bgmcli.engine.matte_config import MatteConfig

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encoded_clip(width: int, height: int, rate: int) -> tuple[list, object]:
    """The demo clip's frames at width x height as MPEG-2 packets (all intra-coded or P, no
    B-frames, so that they can be resent in a loop with new timestamps)."""
    encoder = av.CodecContext.create("mpeg2video", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, rate), Fraction(rate)
    encoder.options = {"g": str(rate // 2), "bf": "0", "qscale": "4"}
    packets = []
    with av.open(str(ROOT / "examples" / "demo.mp4")) as clip:
        for index, frame in enumerate(clip.decode(video=0)):
            frame = frame.reformat(width, height, "yuv420p")
            frame.pts, frame.time_base = index, encoder.time_base
            packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    return packets, encoder


class Sender(threading.Thread):
    """Sends the packets in a loop at `rate` per second to `url` until stopped."""

    def __init__(self, url: str, packets, encoder, rate: int):
        super().__init__(daemon=True)
        self.url, self.packets, self.encoder, self.rate = url, packets, encoder, rate
        self.stop, self.sent = threading.Event(), 0

    def run(self) -> None:
        with av.open(self.url + "?pkt_size=1316", "w", format="mpegts") as out:
            stream = out.add_stream_from_template(self.encoder)
            began = time.monotonic()
            while not self.stop.is_set():
                packet = self.packets[self.sent % len(self.packets)]
                delay = began + self.sent / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                packet.pts = packet.dts = self.sent
                packet.time_base, packet.stream = Fraction(1, self.rate), stream
                out.mux(packet)
                self.sent += 1


def plate(width: int, height: int, folder: Path) -> Path:
    picture = Image.open(ROOT / "examples" / "demo_plate.jpg").convert("RGB")
    path = folder / "plate.png"
    picture.resize((width, height), Image.Resampling.BILINEAR).save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--latency-target", default="auto")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    packets, encoder = encoded_clip(width, height, args.rate)
    source = f"udp://127.0.0.1:{free_port()}"
    target = args.latency_target if args.latency_target in ("auto", "quality") else float(
        args.latency_target
    )  # fmt: skip
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        config = MatteConfig(
            input=source, background=plate(width, height, Path(tmp)), device=args.device,
            streams=(f"udp://127.0.0.1:{free_port()}",), duration=args.seconds,
            latency_target=target, threads=args.threads, timeout=10.0,
        )  # fmt: skip
        sender = Sender(source, packets, encoder, args.rate)
        sender.start()
        try:
            result = run_matte(config)
        finally:
            sender.stop.set()
    report(result, args, width, height)


def report(result, args, width: int, height: int) -> None:
    live = result.live
    print(f"source: {width}x{height} at {args.rate} fps for {args.seconds:g} s (UDP MPEG-TS), "
          f"device {args.device}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"settings: {live.choice.describe()}")
    print(f"frames: {live.received} received, {live.matted} matted, {live.dropped} dropped "
          f"({100 * live.dropped / max(1, live.received):.1f}%)")  # fmt: skip
    print(f"fps matted: {live.matted / args.seconds:.2f} (model alone: {result.model_fps:.2f})")
    p50, p90 = live.latency_p50_ms, live.latency_p90_ms
    print(f"latency, arrival to output: p50 {p50:.0f} ms, p90 {p90:.0f} ms")
    print(f"stopped by {live.stopped_by}; {np.round(result.wall_s, 1)} s in all")


if __name__ == "__main__":
    main()
