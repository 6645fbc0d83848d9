"""Ours vs the reference implementation (backgroundmattingv2==1.0) on this machine, fp32: the same
calibrated random weights in both, alternating timed runs in one process, each one's peak memory
in a fresh subprocess, the alpha difference, and issue 7's goals. Usage:
    python benchmarks/compare_reference.py --case 4k-mobilenet --iters 10
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bgmcli import load_model
from bgmcli.bench.frames import CPU, synthetic_pair
from bgmcli.bench.measure import PeakMemory, percentile, status_kb
from bgmcli.model.frame_size import parse_resolution

sys.path.insert(0, str(Path(__file__).parent))
from reference_bench import build_reference, reference_model, save_official  # noqa: E402

CASES = {  # the paper's settings for each resolution; goals from issue 7
    "4k-mobilenet": {"resolution": "4k", "backbone": "mobilenetv2", "scale": 1 / 8, "k": 20_000,
                     "speedup_goal": 1.5, "memory_goal": 0.6},
    "hd-resnet50": {"resolution": "hd", "backbone": "resnet50", "scale": 1 / 4, "k": 5_000,
                    "speedup_goal": 1.2, "memory_goal": None},
}  # fmt: skip
ALPHA_MEAN_GOAL, ALPHA_MAX_GOAL = 1e-5, 1e-3


def load_reference(case: dict, weights: Path):
    """The reference model with the saved weights (calibration included; none run here, so
    that nothing it allocated stays in the process's resident set)."""
    width, height = parse_resolution(case["resolution"])
    model = reference_model(case["backbone"], case["scale"], case["k"], width, height)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def load_ours(case: dict, weights: Path):
    return load_model(weights, k=case["k"], backbone_scale=case["scale"], device="cpu")


def frames(case: dict):
    return synthetic_pair(*parse_resolution(case["resolution"]), 1, CPU, torch.float32)


def alternate(models: dict, src, bgr, iters: int, warmup: int) -> tuple[dict, float]:
    """Latencies (ms) per model, runs alternating A B B A ... so that drift in the machine's load
    hits both alike; also the process's CPU seconds per wall second over the timed runs."""
    for _ in range(warmup):
        for model in models.values():
            model(src, bgr)
    times: dict[str, list[float]] = {name: [] for name in models}
    order = list(models)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(iters):
        for name in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            models[name](src, bgr)
            times[name].append((time.perf_counter() - start) * 1e3)
    return times, (time.process_time() - cpu) / (time.perf_counter() - wall)


def alpha_difference(ours, reference) -> dict:
    diff = (ours.pha - reference[0]).abs()
    return {
        "alpha_mean_abs": diff.mean().item(),
        "alpha_max_abs": diff.max().item(),
        "fgr_max_abs": (ours.fgr - reference[1]).abs().max().item(),
        "selection_mismatch": (ours.ref_sm != reference[5]).float().mean().item(),
    }


def memory_probe(name: str, case: dict, weights: Path) -> dict:
    """Run in a fresh process: peak RSS over two inferences, above the model + inputs, and the
    process's absolute peak (torch runtime, weights and frames included)."""
    model = (load_ours if name == "ours" else load_reference)(case, weights)
    src, bgr = frames(case)
    gc.collect()
    memory = PeakMemory(CPU)
    with torch.inference_mode():
        for _ in range(2):
            model(src, bgr)
    increase = memory.peak_mb()
    return {"peak_increase_mb": increase, "peak_rss_mb": (status_kb("VmHWM") or 0) / 1024}


def measure_memory(name: str, case_name: str, weights: Path) -> dict:
    command = [sys.executable, __file__, "--case", case_name, "--memory-probe", name,
               "--weights", str(weights), "--threads", str(torch.get_num_threads())]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def compare(case_name: str, iters: int, warmup: int, with_memory: bool) -> dict:
    case = CASES[case_name]
    result: dict = {"case": case_name, **case, "iters": iters, "threads": torch.get_num_threads(),
                    "load_before": os.getloadavg()}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        width, height = parse_resolution(case["resolution"])
        reference = build_reference(case["backbone"], case["scale"], case["k"], width, height)
        weights = save_official(reference, Path(tmp) / f"pytorch_{case['backbone']}.pth")
        models = {"reference": reference.eval(), "ours": load_ours(case, weights)}
        src, bgr = frames(case)
        with torch.inference_mode():
            result |= alpha_difference(models["ours"](src, bgr), models["reference"](src, bgr))
            times, result["cpu_per_wall"] = alternate(models, src, bgr, iters, warmup)
        for name, values in times.items():
            result[f"{name}_p50_ms"] = percentile(values, 50)
            result[f"{name}_p90_ms"] = percentile(values, 90)
        result["speedup"] = result["reference_p50_ms"] / result["ours_p50_ms"]
        del models, reference, src, bgr
        gc.collect()
        if with_memory:
            for name in ("reference", "ours"):
                result[f"{name}_memory"] = measure_memory(name, case_name, weights)
    result["load_after"] = os.getloadavg()
    return result


def goals(result: dict) -> list[tuple[str, bool]]:
    checks = [
        (f"speed {result['speedup']:.2f}x the reference (goal >= {result['speedup_goal']}x)",
         result["speedup"] >= result["speedup_goal"]),
        (f"mean |alpha diff| {result['alpha_mean_abs']:.1e} (goal < {ALPHA_MEAN_GOAL:.0e})",
         result["alpha_mean_abs"] < ALPHA_MEAN_GOAL),
        (f"max |alpha diff| {result['alpha_max_abs']:.1e} (goal < {ALPHA_MAX_GOAL:.0e})",
         result["alpha_max_abs"] < ALPHA_MAX_GOAL),
    ]  # fmt: skip
    if result["memory_goal"] and "ours_memory" in result:
        ratio = result["ours_memory"]["peak_increase_mb"] / max(
            result["reference_memory"]["peak_increase_mb"], 1e-9
        )
        goal = result["memory_goal"]
        checks.append((f"peak memory {ratio:.0%} of the reference's (goal <= {goal:.0%})",
                       ratio <= goal))  # fmt: skip
    return checks


def report(result: dict) -> str:
    lines = [
        f"case {result['case']}: {result['resolution']} {result['backbone']}, scale "
        f"{result['scale']}, k {result['k']}, fp32, {result['threads']} threads, "
        f"{result['iters']} alternating iterations",
        f"  reference: p50 {result['reference_p50_ms']:.0f} ms, p90 "
        f"{result['reference_p90_ms']:.0f} ms",
        f"  ours:      p50 {result['ours_p50_ms']:.0f} ms, p90 {result['ours_p90_ms']:.0f} ms",
    ]
    for name in ("reference", "ours"):
        if f"{name}_memory" in result:
            mem = result[f"{name}_memory"]
            lines.append(f"  {name} memory: peak +{mem['peak_increase_mb']:.0f} MB over model "
                         f"and inputs, process peak RSS {mem['peak_rss_mb']:.0f} MB")  # fmt: skip
    lines.append(f"  fgr max |diff| {result['fgr_max_abs']:.1e}, refined locations differing: "
                 f"{result['selection_mismatch']:.2%}")  # fmt: skip
    load = f"{result['load_before'][0]:.2f} -> {result['load_after'][0]:.2f}"
    lines.append(f"  machine: load average {load} on {os.cpu_count()} CPUs; this process "
                 f"used {result['cpu_per_wall']:.2f} CPU-s per wall-s while timed")  # fmt: skip
    lines += [f"  [{'PASS' if ok else 'FAIL'}] {text}" for text, ok in goals(result)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads for both")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--memory-probe", choices=("ours", "reference"), help=argparse.SUPPRESS)
    parser.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = args.case or sorted(CASES)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, CASES[cases[0]], args.weights)))
        return
    results = []
    for name in cases:
        result = compare(name, args.iters, args.warmup, not args.no_memory)
        results.append(result)
        if not args.json:
            print(report(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
