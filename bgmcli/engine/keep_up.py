"""Keeping up with a live source: the model's threads, and the base network's scale and k
chosen from a short ladder (best quality first) by timing the model on the first frame, so that
a frame takes at most the latency target (by default the source's frame interval).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

import torch

from bgmcli.errors import BgmError
from bgmcli.model.frame_size import BASE_LONG_SIDE, base_scale, default_k
from bgmcli.model.settings import InferenceSettings

PRESETS = ("auto", "quality")  # auto: one frame interval; quality: the frame-size rule, no choice
MIN_BASE_SIDE = BASE_LONG_SIDE / 6  # below ~80 px the base network sees too little
TIMED_CALLS = 2


@dataclass(frozen=True)
class LiveChoice:
    """What a live run uses, and why: `chosen` False means given or the size rule."""

    backbone_scale: float
    k: int
    threads: int
    model_ms: float | None  # the model's measured time per frame at these settings
    target_ms: float | None
    chosen: bool

    @property
    def keeps_up(self) -> bool:
        return self.model_ms is None or self.target_ms is None or self.model_ms <= self.target_ms

    def describe(self) -> str:
        how = "chosen" if self.chosen else "as set"
        timing = "" if self.model_ms is None else f", model {self.model_ms:.0f} ms a frame"
        target = "" if self.target_ms is None else f" for a {self.target_ms:.0f} ms target"
        return (
            f"{how}: base scale {self.backbone_scale:.3g}, k {self.k}, {self.threads} "
            f"thread{'s' * (self.threads != 1)}{timing}{target}"
        )


def parse_latency_target(text: str | None) -> float | str:
    """--latency-target: milliseconds, or a preset (auto, quality)."""
    text = (text or "auto").strip().lower()
    if text in PRESETS:
        return text
    try:
        value = float(text.removesuffix("ms"))
    except ValueError:
        value = -1.0
    if value <= 0:
        raise BgmError(f"--latency-target {text!r}: give milliseconds (e.g. 100) or auto, quality")
    return value


def model_threads(device: torch.device) -> int:
    """All cores up to two; above that one is left to decoding and encoding."""
    if device.type != "cpu":
        return torch.get_num_threads()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores <= 2 else cores - 1


def ladder(width: int, height: int, scale=None, k=None) -> list[tuple[float, int]]:
    """(base scale, k) from the best to the fastest; a value the user gave stays fixed."""
    rule_scale, rule_k = base_scale(width, height), default_k(width, height)
    scales = [scale] if scale else [
        s for s in (rule_scale, rule_scale / 2, rule_scale / 4)
        if s == rule_scale or s * max(width, height) >= MIN_BASE_SIDE
    ]  # fmt: skip
    ks = [k] if k else [rule_k, max(1, rule_k // 4), 1]
    return [(s, n) for s in scales for n in ks]


def choose(
    model, src, bgr, *, target, rate: float, device, scale=None, k=None, threads=None
) -> LiveChoice:
    """Times the ladder on one frame (src, bgr on `device`) and takes the first rung within the
    target; if none is, the fastest (frames are then dropped, and the summary says so).
    `threads` given (or OMP_NUM_THREADS set) fixes the model's threads; else they are timed."""
    width, height = src.shape[-1], src.shape[-2]
    rungs = ladder(width, height, scale, k)
    if threads is None and "OMP_NUM_THREADS" in os.environ:
        threads = torch.get_num_threads()
    if threads is None:
        threads = _fastest_threads(model, src, bgr, rungs[0], device)
    torch.set_num_threads(threads)
    if target == "quality" or len(rungs) == 1:
        chosen_scale, chosen_k = rungs[0]
        ms = _time(model, src, bgr, InferenceSettings(backbone_scale=chosen_scale, k=chosen_k),
                   device)  # fmt: skip
        return LiveChoice(chosen_scale, chosen_k, threads, ms, None, chosen=False)
    target_ms = 1000 / rate if target == "auto" else float(target)
    timed = []
    for rung_scale, rung_k in rungs:
        settings = InferenceSettings(backbone_scale=rung_scale, k=rung_k)
        ms = _time(model, src, bgr, settings, device)
        timed.append((ms, rung_scale, rung_k))
        if ms <= target_ms:
            break
    fits = [t for t in timed if t[0] <= target_ms]
    ms, chosen_scale, chosen_k = fits[0] if fits else min(timed)
    return LiveChoice(chosen_scale, chosen_k, threads, ms, target_ms, chosen=True)


def _fastest_threads(model, src, bgr, rung, device) -> int:
    """All cores, or one where that is faster (a CPU shared with other work), and set it."""
    threads = model_threads(device)
    if device.type != "cpu" or threads == 1:
        return threads
    settings = InferenceSettings(backbone_scale=rung[0], k=rung[1])
    timed = []
    for count in (threads, 1):
        torch.set_num_threads(count)
        timed.append((_time(model, src, bgr, settings, device), count))
    threads = min(timed)[1]
    torch.set_num_threads(threads)
    return threads


def _time(model, src, bgr, settings: InferenceSettings, device) -> float:
    """The median of a few calls after a warm-up, in ms."""
    times = []
    with torch.inference_mode():
        for call in range(TIMED_CALLS + 1):
            began = time.perf_counter()
            model(src, bgr, settings)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if call:
                times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)
