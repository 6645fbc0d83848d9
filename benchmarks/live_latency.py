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
import tempfile
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


def encode_clip(width: int, height: int, rate: int, path: Path) -> Path:
    """The demo clip's frames at width x height as an MPEG-2 transport stream (no B-frames, so
    that its packets can be resent in a loop with new timestamps)."""
    with av.open(str(ROOT / "examples" / "demo.mp4")) as clip, av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg2video", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(rate // 2), "bf": "0", "qscale": "4"}
        for index, frame in enumerate(clip.decode(video=0)):
            frame = frame.reformat(width, height, "yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


class Sender(threading.Thread):
    """Sends the clip's packets in a loop at `rate` per second to `url` until stopped."""

    def __init__(self, url: str, clip: Path, rate: int):
        super().__init__(daemon=True)
        self.url, self.clip, self.rate = url, clip, rate
        self.stop, self.sent = threading.Event(), 0

    def run(self) -> None:
        with (
            av.open(str(self.clip)) as inp,
            av.open(self.url + "?pkt_size=1316", "w", format="mpegts") as out,
        ):
            # the muxer takes a packet's data: each is sent as a fresh copy of its bytes
            packets = [(bytes(p), p.is_keyframe) for p in inp.demux(video=0) if p.dts is not None]
            stream = out.add_stream_from_template(inp.streams.video[0])
            began = time.monotonic()
            while not self.stop.is_set():
                data, keyframe = packets[self.sent % len(packets)]
                packet = av.Packet(data)
                packet.is_keyframe = keyframe
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
    source = f"udp://127.0.0.1:{free_port()}"
    target = args.latency_target if args.latency_target in ("auto", "quality") else float(
        args.latency_target
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        clip = encode_clip(width, height, args.rate, Path(tmp) / "clip.ts")
        config = MatteConfig(
            input=source, background=plate(width, height, Path(tmp)), device=args.device,
            streams=(f"udp://127.0.0.1:{free_port()}",), duration=args.seconds,
            latency_target=target, threads=args.threads, timeout=10.0,
        )  # fmt: skip
        sender = Sender(source, clip, args.rate)
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
