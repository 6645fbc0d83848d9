"""Shots per hour of `bgm matte` on a batch, with 1 and 2 (or more) --jobs, run alternately so
that both settings see the same machine load; each run is a fresh `python -m bgmcli` process, as
a user runs it, with the bundled model.

    python benchmarks/batch_throughput.py [--clips 8] [--frames 12] [--jobs 1,2] [--rounds 2]

The clips are cut from examples/demo.mp4 (640x360, 24 fps): clip i starts at frame 5 i (wrapping),
re-encoded; all use examples/demo_plate.jpg. The load average and the CPU seconds used (all
processes of the run) are printed beside each run: on a machine shared with other work, more
processes also win a larger share of the CPU, which the CPU seconds show.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
DEMO, PLATE = ROOT / "examples" / "demo.mp4", ROOT / "examples" / "demo_plate.jpg"


def cut_clips(folder: Path, count: int, frames: int) -> None:
    with av.open(str(DEMO)) as container:
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for clip in range(count):
        with av.open(str(folder / f"shot{clip:03d}.mp4"), "w") as out:
            stream = out.add_stream("libx264", rate=24)
            stream.height, stream.width = pictures[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            for index in range(frames):
                image = pictures[(clip * 5 + index) % len(pictures)]
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(stream.encode(None))


def run(shots: Path, out: Path, jobs: int) -> dict:
    load, cpu = os.getloadavg()[0], _children_cpu()
    began = time.perf_counter()
    command = [sys.executable, "-m", "bgmcli", "matte", str(shots), "--bg", str(PLATE),
               "-o", str(out), "--jobs", str(jobs), "-q"]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, cpu = time.perf_counter() - began, _children_cpu() - cpu
    summary = json.loads((out / "batch.json").read_text())["summary"]
    assert summary["done"] == summary["shots"], summary
    rate = round(summary["shots"] * 3600 / wall)
    return {"jobs": jobs, "wall_s": round(wall, 1), "shots": summary["shots"],
            "shots_per_hour": rate, "cpu_s": round(cpu, 1),
            "load_before": round(load, 2)}  # fmt: skip


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (the spawned workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        shots = Path(tmp) / "shots"
        shots.mkdir()
        cut_clips(shots, args.clips, args.frames)
        results = []
        for round_ in range(args.rounds):
            for jobs in settings if round_ % 2 == 0 else settings[::-1]:  # ABBA: drift cancels
                result = run(shots, Path(tmp) / f"out{round_}_{jobs}", jobs)
                results.append(result)
                print(json.dumps(result), flush=True)
    for jobs in settings:
        mine = [r for r in results if r["jobs"] == jobs]
        total = sum(r["wall_s"] for r in mine)
        rate = sum(r["shots"] for r in mine) * 3600 / total
        print(f"--jobs {jobs}: {rate:.0f} shots/hour over {len(mine)} runs ({total:.0f} s)")


if __name__ == "__main__":
    main()
