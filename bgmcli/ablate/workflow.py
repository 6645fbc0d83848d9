"""What `bgm ablate` does between parsing and printing: run the studies, then write the results
(json, csv), the report and the plots under OUT."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from bgmcli.ablate.checkpoints import cache_dir, variant_train_config
from bgmcli.ablate.runner import AblateOptions, Runner, parse_checkpoint_options
from bgmcli.ablate.studies import Study, load_studies
from bgmcli.devices import resolve_device
from bgmcli.errors import BgmError
from bgmcli.model.settings import parse_resolution


def list_studies() -> list[str]:
    return [f"{s.name}: {s.description}" for s in load_studies("all")]


def build_options(
    *, out, preset, checkpoints, eval_data, resolution, frames, device, rerun, iters
) -> AblateOptions:
    from bgmcli.train.config import load_preset

    load_preset(preset)  # an unknown preset fails now, not after an hour of other variants
    if frames is not None and frames < 1:
        raise BgmError(f"--frames must be at least 1, got {frames}")
    if iters < 1:
        raise BgmError(f"--iters must be at least 1, got {iters}")
    width, height = parse_resolution(resolution)
    _check_writable(Path(out))
    return AblateOptions(
        out=Path(out), preset=preset, checkpoints=parse_checkpoint_options(checkpoints or []),
        eval_data=list(eval_data or ["synthetic"]), width=width, height=height, frames=frames,
        device=resolve_device(device), rerun=rerun, iters=iters,
    )  # fmt: skip


def run_ablate(studies: list[Study], options: AblateOptions, log, train_progress=None) -> dict:
    """Runs the studies and writes OUT/results.json, results.csv, report.md and plots/."""
    from bgmcli.ablate import plots, report

    runner = Runner(options, log, train_progress)
    for data in runner.eval_sets():  # a bad --eval-data folder fails before any training
        if len(data) == 0:
            raise BgmError(f"evaluation set {data.name} has no frames")
    started = time.perf_counter()
    rows = runner.run(studies)
    wall = time.perf_counter() - started
    summaries = [s.summary() for s in studies]
    report.write_results(options.out, rows)
    written = plots.write_plots(options.out, summaries, rows)
    header = report_header(studies, options, runner, wall)
    report.write_report(options.out, summaries, rows, header, written)
    return {"rows": rows, "summaries": summaries, "wall_s": wall}


def report_header(studies: list[Study], options: AblateOptions, runner: Runner, wall: float) -> str:
    """Command, machine, wall time, and what each model's training took (from its log)."""
    lines = [
        "# Ablation studies of BackgroundMattingV2",
        "",
        f"- Command: `{shlex.join(['bgm', *sys.argv[1:]])}`",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {_machine(options.device)}",
        f"- Evaluation sets: {', '.join(d.name + f' ({d.description})' for d in runner.sets)}",
        f"- Wall time of this invocation: {wall / 60:.1f} min (variants finished in earlier "
        "invocations are read back, not recomputed)",
        f"- Models: preset `{options.preset}`, unless given with --checkpoint",
    ]
    for line in _training_lines(studies, options):
        lines.append(f"  - {line}")
    if runner.timings:
        spent = ", ".join(f"{k} {v:.0f} s" for k, v in runner.timings.items())
        lines.append(f"- Evaluation time per variant (this invocation): {spent}")
    lines.append(
        "- FPS: model alone (batch 1, fp32, median of the timed runs after one warm-up) on the "
        "set's first frame, on the same device in the same run."
    )
    return "\n".join(lines) + "\n"


def _training_lines(studies: list[Study], options: AblateOptions) -> list[str]:
    lines, seen = [], set()
    for study in studies:
        for variant in study.variants:
            if (
                variant.name in options.checkpoints
                or f"{study.name}/{variant.name}" in options.checkpoints
            ):
                continue
            config = variant_train_config(options.preset, variant.architecture())
            run_dir = cache_dir(options.out, config)
            if run_dir in seen:
                continue
            seen.add(run_dir)
            lines.append(f"`{run_dir.name}`: {_training_summary(run_dir)}")
    return lines


def _training_summary(run_dir: Path) -> str:
    try:
        rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    except (OSError, ValueError):
        return "no training log"
    if not rows:
        return "no validation rows"
    last = rows[-1]
    return (f"{last['step']} steps, {last['elapsed_s'] / 60:.1f} min of training (last session), "
            f"held-out synthetic val MAD {rows[0]['mad']:.4f} -> {last['mad']:.4f}")  # fmt: skip


def _machine(device: torch.device) -> str:
    if device.type == "cuda":
        what = torch.cuda.get_device_name(device)
    else:
        what = f"{_cpu_model()}, {os.cpu_count()} CPU cores, " \
               f"{torch.get_num_threads()} torch threads"  # fmt: skip
    return f"{what}; torch {torch.__version__}; Python {platform.python_version()}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise BgmError(f"--out {out}: cannot write there ({e.strerror or e})") from None
