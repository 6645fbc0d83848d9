"""FPS where the paper measured it: each variant of a study at HD and 4K (or other sizes) on the
bench harness's synthetic frames, with the paper's settings for that size (`resolve`: base scale
1/4 at HD and 1/8 at 4K, k given at HD scaled with the area), batch 1, fp32, the variants timed
in turn in one process (A, B, C, A, B, C, ...); the median of each, and its min and max."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from bgmcli.ablate.studies import Variant
from bgmcli.bench.contention import CpuWatch, cpu_threads, distrust
from bgmcli.bench.frames import MIN_SIDE, synthetic_pair
from bgmcli.bench.measure import measure_alternated, percentile
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import parse_resolution
from bgmcli.model.settings import resolve

DEFAULT_RESOLUTIONS = ("hd", "4k")


def fps_key(resolution: str) -> str:
    """The row key of the FPS at a resolution: fps_hd, fps_4k, fps_1280x720."""
    return "fps_" + resolution.strip().lower()


def warning_key(fps_key: str) -> str:
    """The row key saying why an FPS figure cannot be trusted (None: it can): warning_fps_hd."""
    return f"warning_{fps_key}"


def parse_fps_resolutions(values: Sequence[str] | None) -> list[str]:
    """`hd,4k` (repeatable, comma-separated) -> names, each checked; `none` -> no FPS runs."""
    names = [p.strip().lower() for v in values or () for p in str(v).split(",") if p.strip()]
    if names == ["none"]:
        return []
    for name in names or DEFAULT_RESOLUTIONS:
        parse_resolution(name, MIN_SIDE)
    if len(set(names)) != len(names):
        raise BgmError(f"--fps-resolutions lists a size twice: {', '.join(names)}")
    return names or list(DEFAULT_RESOLUTIONS)


def settings_at(variant: Variant, width: int, height: int):
    """The variant's refine mode and k (given at HD) with the paper's settings for the size."""
    return resolve(width, height, mode=variant.refine, k_hd=variant.k,
                   threshold=variant.threshold)  # fmt: skip


def alternated_fps(
    models: dict[str, tuple[torch.nn.Module, Variant]],
    resolutions: Sequence[str],
    device: torch.device,
    iters: int,
) -> dict[str, dict[str, float]]:
    """{variant: {fps_hd: median, fps_hd_min: ..., fps_hd_max: ..., ...}} for `models`
    (name -> (model, variant)), the variants alternated at each resolution."""
    out: dict[str, dict[str, float]] = {name: {} for name in models}
    for resolution in resolutions:
        width, height = parse_resolution(resolution, MIN_SIDE)
        src, bgr = synthetic_pair(width, height, 1, device, torch.float32)
        calls = {
            name: _call(model, src, bgr, settings_at(variant, width, height))
            for name, (model, variant) in models.items()
        }
        with torch.inference_mode(), CpuWatch() as watch:
            latencies = measure_alternated(calls, device, iters=iters, warmup=1)
        key = fps_key(resolution)
        for name, values in latencies.items():
            out[name][key] = 1000.0 / percentile(values, 50)
            out[name][f"{key}_min"] = 1000.0 / max(values)
            out[name][f"{key}_max"] = 1000.0 / min(values)
            out[name][warning_key(key)] = distrust(watch.other_cpus, cpu_threads(device), values)
        del src, bgr, calls
    return out


def _call(model, src, bgr, settings):
    return lambda: model(src, bgr, settings)
