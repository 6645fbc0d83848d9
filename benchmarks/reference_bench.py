"""The reference implementation (backgroundmattingv2==1.0) under the same harness as `bgm bench`:
the same calibrated random weights, synthetic frames, timing and rows (used by gpu_sweep.sh and
compare_reference.py). Usage: python benchmarks/reference_bench.py -r hd,4k --backbone ... --json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import torch

from bgmcli.bench.frames import CPU, calibration_size, synthetic_pair
from bgmcli.bench.measure import measure, percentile
from bgmcli.bench.sweep import (
    COMPILE_CALLS,
    refined_fraction,
    split_values,
)
from bgmcli.devices import resolve_device, resolve_dtype
from bgmcli.model.calibration import calibrate_random_weights
from bgmcli.model.frame_size import parse_resolution, sample_pixels
from bgmcli.model.settings import resolve


def build_reference(
    backbone: str, scale: float, k: int, width: int, height: int, device: torch.device = CPU
):
    """MattingRefine with seeded random weights calibrated in fp32 on `device` as `bgm bench`
    calibrates ours, on a frame like the benchmark's (shrunk to fit CALIBRATION_MAX)."""
    model = reference_model(backbone, scale, k, width, height).to(device)
    size = calibration_size(width, height)
    # topk fails when asked for more patches than a frame has: cap for each frame size
    model.refiner.sample_pixels = sample_pixels(k, *size)
    calibrate_random_weights(model, *synthetic_pair(*size, 1, device, torch.float32))
    model.refiner.sample_pixels = sample_pixels(k, width, height)
    return model.eval()


def reference_model(backbone: str, scale: float, k: int, width: int, height: int):
    """The uncalibrated reference network; `k` counts 4x4 patches, so refine_sample_pixels is
    16 k (capped at the frame's patch count)."""
    from BackgroundMattingV2.model import MattingRefine

    torch.manual_seed(0)
    model = MattingRefine(
        backbone, backbone_scale=scale, refine_mode="sampling",
        refine_sample_pixels=sample_pixels(k, width, height),
    )  # fmt: skip
    return model.requires_grad_(False)


def save_official(model: torch.nn.Module, path: Path) -> Path:
    """The weights as an official-style bare state dict (.pth), loadable by bgmcli.load_model."""
    torch.save(model.state_dict(), path)
    return path


def bench_reference(
    resolution: str, backbone: str, precision: str, device: str, batch: int, *,
    iters: int, warmup: int, compile: bool = False, k: int | None = None,
    scale: float | None = None,
) -> dict:  # fmt: skip
    """One row with the same keys and meaning as a `bgm bench` row (no base/refiner split)."""
    width, height = parse_resolution(resolution)
    settings = resolve(width, height, backbone_scale=scale, k=k)
    scale, k = settings.backbone_scale, settings.k
    dev = resolve_device(device)
    dtype = resolve_dtype(precision, dev)
    torch.backends.cudnn.benchmark = dev.type == "cuda"
    model = build_reference(backbone, scale, k, width, height, dev).to(dtype)
    src, bgr = synthetic_pair(width, height, batch, dev, dtype)
    run = torch.compile(model, mode="reduce-overhead" if dev.type == "cuda" else None)
    run = run if compile else model
    with torch.inference_mode():
        timing = measure(lambda: run(src, bgr), dev, iters, warmup, COMPILE_CALLS * compile)
        fraction = refined_fraction(timing.last[5], height, width)
    p50 = percentile(timing.latencies_ms, 50)
    return {
        "impl": "reference", "resolution": resolution, "width": width, "height": height,
        "backbone": backbone, "backbone_scale": scale, "refine": "error", "k": k,
        "precision": precision, "device": str(dev), "batch": batch,
        "threads": torch.get_num_threads(), "compile": compile, "iters": iters, "warmup": warmup,
        "checkpoint": None, "fps": batch * 1000.0 / p50, "latency_p50_ms": p50,
        "latency_p90_ms": percentile(timing.latencies_ms, 90), "peak_mem_mb": timing.peak_mem_mb,
        "base_ms": None, "refine_ms": None, "refined_fraction": fraction,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--resolution", action="append", default=[])
    parser.add_argument("--backbone", action="append", default=[])
    parser.add_argument("--precision", action="append", default=[])
    parser.add_argument("--batch", action="append", default=[])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = []
    for res, backbone, precision, batch in itertools.product(
        split_values(args.resolution) or ["hd"],
        split_values(args.backbone) or ["mobilenetv2"],
        split_values(args.precision) or ["fp32"],
        [int(b) for b in split_values(args.batch)] or [1],
    ):
        print(f"reference {res} {backbone} {precision} batch {batch}", file=sys.stderr)
        row = bench_reference(
            res, backbone, precision, args.device, batch,
            iters=args.iters, warmup=args.warmup, compile=args.compile,
        )  # fmt: skip
        rows.append(row)
        if args.compile:
            torch._dynamo.reset()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['resolution']} {row['backbone']} {row['precision']} b{row['batch']}: "
                  f"{row['fps']:.2f} fps, p50 {row['latency_p50_ms']:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
