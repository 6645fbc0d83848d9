"""Throughput benchmark: synthetic frames at a named resolution, warm-up, then timed iterations with
device synchronisation -> one row per configuration (FPS, latency, peak memory, base/refiner split).
Measures whatever `load_model` / `prepare_for_inference` return, so it follows the inference form.
"""

from __future__ import annotations

import copy
import gc
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from bgmcli.bench.clip_quality import clip_quality, temporal_step
from bgmcli.bench.contention import CpuWatch, cpu_threads, distrust
from bgmcli.bench.frames import MIN_SIDE, calibrated_random_model, synthetic_pair
from bgmcli.bench.measure import PeakMemory, measure, percentile, synchronize
from bgmcli.devices import check_memory, frame_bytes, resolve_device, resolve_dtype
from bgmcli.errors import BgmError
from bgmcli.loading import load_model, prepare_for_inference
from bgmcli.metrics import refined_fraction
from bgmcli.model.config import ModelConfig
from bgmcli.model.frame_size import parse_resolution
from bgmcli.model.settings import InferenceSettings, resolve
from bgmcli.model.temporal import TemporalSettings

DEFAULT_BACKBONE = "mobilenetv2"
COMPILE_CALLS = 3  # untimed calls before the warm-up with --compile

Progress = Callable[[int, int, "BenchConfig"], None]


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """One point of a sweep. `backbone` None means the checkpoint's own."""

    resolution: str  # the name as given: hd, 4k or WxH
    width: int
    height: int
    backbone: str | None
    backbone_scale: float
    k: int
    refine: str = "error"
    precision: str = "fp32"
    device: str = "auto"
    batch: int = 1
    threads: int | None = None
    iters: int = 10
    warmup: int = 2
    checkpoint: str | None = None
    compile: bool = False
    temporal: bool = False  # the temporal filter timed with the model (bgm matte --temporal)
    clip: bool = False  # MAD and dtSSD on a moving clip with true alpha (clip_quality.py)


def split_values(values: Iterable[object] | None) -> list[str]:
    """Option values as given (repeated and/or comma-separated) -> a flat list of strings."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def plan_sweep(
    *,
    resolution: Sequence[str] | None = None,
    backbone: Sequence[str] | None = None,
    refine: Sequence[str] | None = None,
    k: Sequence[int] | None = None,
    backbone_scale: Sequence[float] | None = None,
    precision: Sequence[str] | None = None,
    device: Sequence[str] | None = None,
    batch: Sequence[int] | None = None,
    threads: Sequence[int] | None = None,
    checkpoint: Sequence[str] | None = None,
    iters: int = 10,
    warmup: int = 2,
    compile: bool = False,
    temporal: bool = False,
    clip: bool = False,
) -> list[BenchConfig]:
    """The cartesian product of the option values (parsed: `bgmcli.cli.options`), validated
    before anything runs. An option not given (None or empty) has its default here: hd,
    mobilenetv2 (or the checkpoint's), error, fp32, auto, batch 1, torch's threads; `k` /
    `backbone_scale` then follow `bgm matte`'s rule for each resolution (`resolve`)."""
    if iters < 1:
        raise BgmError(f"--iters must be at least 1, got {iters}")
    if warmup < 0:
        raise BgmError(f"--warmup must be at least 0, got {warmup}")
    checkpoints = list(checkpoint or ()) or [None]
    axes = (
        [(name, *parse_resolution(name, MIN_SIDE)) for name in resolution or ["hd"]],
        list(backbone or ()) or [None if checkpoints != [None] else DEFAULT_BACKBONE],
        list(backbone_scale or ()) or [None],
        list(k or ()) or [None],
        list(refine or ()) or ["error"],
        list(precision or ()) or ["fp32"],
        list(device or ()) or ["auto"],
        list(batch or ()) or [1],
        list(threads or ()) or [None],
        checkpoints,
    )
    configs = []
    for (res, w, h), bb, scale, kk, mode, prec, dev, bs, th, ckpt in itertools.product(*axes):
        settings = resolve(w, h, backbone_scale=scale, k=kk)
        cfg = BenchConfig(
            resolution=res, width=w, height=h, backbone=bb,
            backbone_scale=settings.backbone_scale, k=settings.k, refine=mode,
            precision=prec, device=dev, batch=bs, threads=th, iters=iters, warmup=warmup,
            checkpoint=ckpt, compile=compile, temporal=temporal, clip=clip,
        )  # fmt: skip
        validate(cfg)
        configs.append(cfg)
    return configs


def settings(cfg: BenchConfig) -> InferenceSettings:
    """What the model runs with at this point of the sweep (decided by `plan_sweep`)."""
    return InferenceSettings(backbone_scale=cfg.backbone_scale, mode=cfg.refine, k=cfg.k)


def validate(cfg: BenchConfig) -> None:
    """Raise the BgmError a run would hit, before any run starts."""
    settings(cfg)
    ModelConfig(backbone=cfg.backbone or DEFAULT_BACKBONE)
    if cfg.threads is not None and cfg.threads < 1:
        raise BgmError(f"--threads must be at least 1, got {cfg.threads}")
    if cfg.batch < 1:
        raise BgmError(f"--batch must be at least 1, got {cfg.batch}")
    if cfg.checkpoint is not None and not Path(cfg.checkpoint).is_file():
        raise BgmError(f"checkpoint not found: {cfg.checkpoint}")
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.precision, device)
    check_memory(frame_bytes(cfg.batch, cfg.height, cfg.width, dtype), device,
                 f"{cfg.resolution} at batch {cfg.batch}")  # fmt: skip


def run_sweep(configs: Sequence[BenchConfig], progress: Progress | None = None) -> list[dict]:
    """One row per configuration, in order; `progress(i, n, cfg)` before each."""
    rows, cache = [], {}
    for index, cfg in enumerate(configs):
        if progress is not None:
            progress(index, len(configs), cfg)
        rows.append(run_config(cfg, cache))
    return rows


def run_config(cfg: BenchConfig, cache: dict | None = None) -> dict:
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.precision, device)
    with _num_threads(cfg.threads), _cudnn_benchmark(device):
        try:
            return _measure_config(cfg, device, dtype, cache)
        finally:
            _release(device, cfg.compile)


def _measure_config(cfg: BenchConfig, device: torch.device, dtype: torch.dtype, cache) -> dict:
    model = make_model(cfg, device, cache).to(dtype)
    src, bgr = synthetic_pair(cfg.width, cfg.height, cfg.batch, device, dtype)
    # CUDA graphs (reduce-overhead) on GPU: the compiled reference numbers use them.
    mode = "reduce-overhead" if device.type == "cuda" else None
    run = torch.compile(model, mode=mode) if cfg.compile else model
    # compilation, CUDA-graph warm-up and recording: three extra calls, their memory not counted
    untracked = COMPILE_CALLS if cfg.compile else 0
    temporal = TemporalSettings() if cfg.temporal else None
    step = (lambda: run(src, bgr)) if temporal is None else temporal_step(run, src, bgr, temporal)
    with torch.inference_mode(), CpuWatch() as watch:
        timing = measure(step, device, cfg.iters, cfg.warmup, untracked)
        fraction = refined_fraction(timing.last[5], cfg.height, cfg.width)  # ref_sm
        timing.last = None
        # A compiled model has no separately timed pieces; eager ones would mislead.
        split = (None, None) if cfg.compile else time_split(model, src, bgr, device, cfg.iters)
    warning = distrust(watch.other_cpus, cpu_threads(device), timing.latencies_ms)
    quality = {"clip_mad": None, "clip_dtssd": None}
    if cfg.clip:
        quality = clip_quality(run, cfg.width, cfg.height, device, dtype, temporal)
    return (
        _row(cfg, model, device, timing, split, fraction)
        | quality
        | {
            "other_cpus": watch.other_cpus,
            "warning": warning,
        }
    )


def _row(cfg, model, device, timing, split, fraction) -> dict:
    p50 = percentile(timing.latencies_ms, 50)
    return {
        "resolution": cfg.resolution,
        "width": cfg.width,
        "height": cfg.height,
        "backbone": model.config.backbone,
        "backbone_scale": cfg.backbone_scale,
        "refine": cfg.refine,
        "k": cfg.k,
        "precision": cfg.precision,
        "device": str(device),
        "batch": cfg.batch,
        "threads": torch.get_num_threads(),
        "compile": cfg.compile,
        "temporal": cfg.temporal,
        "iters": cfg.iters,
        "warmup": cfg.warmup,
        "checkpoint": cfg.checkpoint,
        "fps": cfg.batch * 1000.0 / p50,
        "latency_p50_ms": p50,
        "latency_p90_ms": percentile(timing.latencies_ms, 90),
        "peak_mem_mb": timing.peak_mem_mb,
        "base_ms": split[0],
        "refine_ms": split[1],
        "refined_fraction": fraction,
    }


def make_model(cfg: BenchConfig, device: torch.device, cache: dict | None = None):
    """The checkpoint via load_model, or random weights calibrated on a synthetic frame (see
    `calibrated_random_model`), prepared exactly as load_model prepares. `cache` keeps the last
    calibrated network, so a sweep over precision, batch or threads calibrates it once."""
    if cfg.checkpoint is not None:
        return load_model(
            cfg.checkpoint, backbone=cfg.backbone, backbone_scale=cfg.backbone_scale,
            refine=cfg.refine, k=cfg.k, device=device,
        )  # fmt: skip
    config = ModelConfig(backbone=cfg.backbone or DEFAULT_BACKBONE)
    cache = {} if cache is None else cache
    key = (str(device), config, settings(cfg), cfg.width, cfg.height)
    if key not in cache:
        cache.clear()  # one at a time: precision, batch and threads vary innermost
        # kept on the CPU: on CUDA, a spare copy would count in the next rows' peak memory
        cache[key] = calibrated_random_model(
            config, settings(cfg), cfg.width, cfg.height, device
        ).cpu()
    # a copy: preparing folds batch norm into the shared modules, and .to(dtype) casts in place
    return prepare_for_inference(copy.deepcopy(cache[key]), device)


def time_split(model, src, bgr, device, iters: int) -> tuple[float | None, float | None]:
    """Median ms of the base network (padding and downsampling included) and of everything
    after it (upsampling, refinement, outputs), timed in extra iterations through the model's
    own parts (`prepare`, `base`, `finish`); (None, None) for a model without them."""
    if not all(hasattr(model, part) for part in ("prepare", "base", "finish")):
        return None, None
    base_ms, refine_ms = [], []
    for _ in range(min(iters, 5)):
        start = _clock(device)
        x = model.prepare(src, bgr)
        base = model.base(x.src_sm, x.bgr_sm)
        middle = _clock(device)
        model.finish(x, base)
        base_ms.append((middle - start) * 1e3)
        refine_ms.append((_clock(device) - middle) * 1e3)
        del base, x
    return percentile(base_ms, 50), percentile(refine_ms, 50)


def _clock(device: torch.device) -> float:
    synchronize(device)
    return time.perf_counter()


@contextmanager
def _num_threads(threads: int | None):
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _cudnn_benchmark(device: torch.device):
    """cudnn picks the fastest kernels for the fixed shapes, as in the issue's GPU figures."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = before or device.type == "cuda"
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def _release(device: torch.device, compiled: bool) -> None:
    """Free this configuration's memory so the next row's peak is its own."""
    if compiled:
        torch._dynamo.reset()  # also keeps later configs under the recompile limit
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


__all__ = [
    "BenchConfig",
    "PeakMemory",
    "plan_sweep",
    "run_config",
    "run_sweep",
]
