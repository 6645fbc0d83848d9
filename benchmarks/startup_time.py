"""How long `bgm` takes to answer without doing any work: help screens and argument errors,
which should come back in under 0.5 s (torch and the rest are imported only when a command runs).

    python benchmarks/startup_time.py [--runs 10]

Each command runs `--runs` times as `python -m bgmcli ...` in a fresh process; the median and
the slowest wall times are printed with the median CPU time (user + system, which other
processes on a busy machine inflate less than the wall time) and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = (
    [],  # no arguments: the help
    ["--help"],
    ["matte", "--help"],
    ["bench", "--help"],
    ["matte"],  # missing INPUT and --bg: an argument error
    ["matte", "in.mp4", "--bg", "bg.png", "--k", "many"],  # a bad integer
)


def time_command(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bgmcli", *args], capture_output=True, check=False)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for args in COMMANDS:
        walls, cpus = time_command(args, runs)
        print(
            f"bgm {' '.join(args):<40} wall median {statistics.median(walls):.3f} s, "
            f"max {max(walls):.3f} s; CPU median {statistics.median(cpus):.3f} s"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
