"""Timing and peak-memory measurement for benchmarks: synchronised wall-clock latencies, the
process's resident anonymous memory peak on CPU, torch's max allocated memory on CUDA."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class Timing:
    latencies_ms: list[float]
    peak_mem_mb: float | None
    last: Any  # the last timed call's output


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    fn: Callable[[], Any], device: torch.device, iters: int, warmup: int, untracked: int = 0
) -> Timing:
    """Call `fn` `untracked` times (e.g. compiling), then `warmup` times untimed, then `iters`
    times, each timed between two device synchronisations. Memory is tracked from the warm-up
    on (the first calls allocate the most), so one-off compilation is not counted."""
    for _ in range(untracked):
        fn()
    memory = PeakMemory(device)
    for _ in range(warmup):
        fn()
    latencies, out = [], None
    for _ in range(iters):
        out = None  # drop the previous output: its memory is not the next call's
        synchronize(device)
        start = time.perf_counter()
        out = fn()
        synchronize(device)
        latencies.append((time.perf_counter() - start) * 1e3)
    return Timing(latencies, memory.peak_mb(), out)


def measure_alternated(
    fns: dict[str, Callable[[], Any]], device: torch.device, iters: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Latencies (ms) of several calls timed in turn, A, B, C, A, B, C, ..., so that a drift of
    the machine (clock, other load) reaches each of them alike; each warmed up `warmup` times."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    latencies: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(iters):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            out = fn()
            synchronize(device)
            latencies[name].append((time.perf_counter() - start) * 1e3)
            del out
    return latencies


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default), for short lists too."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class PeakMemory:
    """Peak memory from construction to `peak_mb()`.

    CUDA: torch.cuda.max_memory_allocated (weights and inputs included), after a reset.
    CPU: the rise of the process's resident anonymous memory over its level at construction (so
    the model and inputs, already resident, are not counted; nor are code pages of libraries,
    whose residency drifts). The peak is the kernel's VmHWM, reset through /proc/self/clear_refs,
    less the file-backed pages at the end; or a 1 ms sampling thread where the reset is not
    allowed. None where /proc is absent (not Linux).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.baseline_kb: int | None = None
        self._sampler: _RssSampler | None = None
        if device.type == "cuda":
            synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            return
        release_free_heap()  # freed memory the allocator kept would be reused unseen
        self.baseline_kb = status_kb("RssAnon")
        if self.baseline_kb is not None and not reset_rss_peak():
            self._sampler = _RssSampler()

    def peak_mb(self) -> float | None:
        if self.device.type == "cuda":
            synchronize(self.device)
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        if self.baseline_kb is None:
            return None
        if self._sampler is not None:
            peak = self._sampler.stop()
        else:
            peak = (status_kb("VmHWM") or 0) - file_backed_kb()
        return max(0, peak - self.baseline_kb) / 1024


def file_backed_kb() -> int:
    return (status_kb("RssFile") or 0) + (status_kb("RssShmem") or 0)


def release_free_heap() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim), where available."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def status_kb(field: str) -> int | None:
    """A `kB` field of /proc/self/status (VmRSS, VmHWM, RssAnon, ...), or None off Linux."""
    try:
        text = PROC_STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def reset_rss_peak() -> bool:
    """Set VmHWM to the current RSS (Linux >= 4.0); False where not permitted."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class _RssSampler:
    """Polls RssAnon every millisecond on a daemon thread (torch ops release the GIL)."""

    def __init__(self):
        self.peak = status_kb("RssAnon") or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, status_kb("RssAnon") or 0)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, status_kb("RssAnon") or 0)
