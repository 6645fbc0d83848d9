"""Whether a timing can be trusted: how many CPUs other processes kept busy while it ran (the
machine's busy time from /proc/stat, less this process's own CPU time), and how widely its
timed repeats spread. Benchmarks on a busy machine report low, unsteady figures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from bgmcli.bench.measure import percentile

PROC_STAT = Path("/proc/stat")
OTHER_CPUS = 0.25  # others' average busy CPUs from which they slow a run that wants them
SPREAD = 1.5  # p90 / p50 of the timed repeats above this: they disagree too much


def machine_busy_s() -> float | None:
    """CPU seconds all processes have been busy since boot; None without /proc/stat."""
    try:
        fields = PROC_STAT.read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """A context: afterwards `other_cpus` is the average number of CPUs that other processes
    kept busy during it (None where the machine's counters cannot be read)."""

    other_cpus: float | None = None

    def __enter__(self) -> CpuWatch:
        self._busy, self._own, self._wall = (
            machine_busy_s(),
            time.process_time(),
            time.perf_counter(),
        )
        return self

    def __exit__(self, *exc_info) -> None:
        busy, wall = machine_busy_s(), time.perf_counter() - self._wall
        if busy is None or self._busy is None or wall <= 0:
            return
        own = time.process_time() - self._own
        self.other_cpus = max(0.0, (busy - self._busy - own) / wall)


def cpu_threads(device: torch.device) -> int:
    """The CPUs a timed run on `device` wants: torch's threads on the CPU, one feeding a GPU."""
    return 1 if device.type == "cuda" else torch.get_num_threads()


def distrust(
    other_cpus: float | None, threads: int, latencies_ms: list[float], cpus: int | None = None
) -> str | None:
    """Why a timing with `threads` threads cannot be trusted, or None: other processes took
    CPUs it wanted (more than a quarter of one, beyond what its threads left free), or its
    repeats spread beyond p90 = 1.5 x p50."""
    cpus = cpus or os.cpu_count() or 1
    reasons = []
    if other_cpus is not None and other_cpus > OTHER_CPUS and other_cpus + threads > cpus:
        reasons.append(f"other processes kept {other_cpus:.1f} of {cpus} CPUs busy")
    if len(latencies_ms) >= 3:
        ratio = percentile(latencies_ms, 90) / percentile(latencies_ms, 50)
        if ratio > SPREAD:
            reasons.append(f"the timed runs spread widely (p90 = {ratio:.1f} x p50)")
    if not reasons:
        return None
    return "; ".join(reasons) + ": figures may be low; rerun on an idle machine"
