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

from bgmcli.ablate import plots, report_markdown, results_files
from bgmcli.ablate.checkpoints import cache_dir, variant_train_config
from bgmcli.ablate.models import INFERENCE_MODEL, bundled_digest, given_checkpoint, seeds_of
from bgmcli.ablate.runner import AblateOptions, Runner, parse_checkpoint_options
from bgmcli.ablate.seeds import aggregate
from bgmcli.ablate.speed import parse_fps_resolutions
from bgmcli.ablate.studies import Study, load_studies
from bgmcli.atomic import check_writable, output_lock
from bgmcli.devices import resolve_device
from bgmcli.errors import BgmError, Interrupted, Terminated
from bgmcli.model.frame_size import parse_resolution
from bgmcli.train.config import build_train_config, load_preset


def list_studies() -> list[str]:
    return [f"{s.name}: {s.description}" for s in load_studies("all")]


# Models per architecture variant when --seeds is not given: a spread needs two at least; the
# paper preset's runs are too long for more than one.
DEFAULT_SEEDS = {"quick": 2}


def build_options(
    *, out, preset, checkpoints, eval_data, resolution, frames, device, rerun, iters,
    seeds=None, fps_resolutions=None, fps_iters=3,
) -> AblateOptions:  # fmt: skip

    load_preset(preset)  # an unknown preset fails now, not after an hour of other variants
    if frames is not None and frames < 1:
        raise BgmError(f"--frames must be at least 1, got {frames}")
    for name, value in (("--iters", iters), ("--fps-iters", fps_iters), ("--seeds", seeds)):
        if value is not None and value < 1:
            raise BgmError(f"{name} must be at least 1, got {value}")
    width, height = parse_resolution(resolution)
    check_writable(out)
    return AblateOptions(
        out=Path(out), preset=preset, checkpoints=parse_checkpoint_options(checkpoints or []),
        eval_data=list(eval_data or ["synthetic"]), width=width, height=height, frames=frames,
        device=resolve_device(device), rerun=rerun, iters=iters,
        seeds=seeds or DEFAULT_SEEDS.get(preset, 1),
        fps_resolutions=parse_fps_resolutions(fps_resolutions), fps_iters=fps_iters,
    )  # fmt: skip


def run_ablate(
    studies: list[Study], options: AblateOptions, log, train_progress=None, step=None
) -> dict:
    """Runs the studies and writes OUT/results.json, results.csv, report.md and plots/, one
    process at a time per OUT (a second would mix its files with the first's);
    `step(done, total, label)` before each run (a variant's evaluation, a study's FPS)."""
    try:
        with output_lock(options.out):
            return _run_ablate(studies, options, log, train_progress, step)
    except (KeyboardInterrupt, Interrupted) as exc:  # Ctrl-C, or SIGTERM through the CLI
        terminated = isinstance(exc, Terminated) or getattr(exc, "terminated", False)
        raise Interrupted(
            f"finished variants are kept in {options.out}: run the same command again to go on "
            "(they are read back, and a model in training resumes from its last checkpoint)",
            terminated=terminated,
        ) from None


def _run_ablate(studies: list[Study], options: AblateOptions, log, train_progress, step) -> dict:
    runner = Runner(options, log, train_progress, step)
    for data in runner.eval_sets():  # a bad --eval-data folder fails before any training
        if len(data) == 0:
            raise BgmError(f"evaluation set {data.name} has no frames")
    started = time.perf_counter()
    rows = aggregate(runner.run(studies))  # seeds: mean, min and max per variant and set
    wall = time.perf_counter() - started
    summaries = [s.summary() for s in studies]
    results_files.write_results(options.out, rows)
    written = plots.write_plots(options.out, summaries, rows)
    header = report_header(studies, options, runner, wall)
    report_markdown.write_report(options.out, summaries, rows, header, written)
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
        f"- Inference studies ({_names(studies, False)}): one model, "
        f"{_inference_model(options)}; only the settings change, as in the paper",
        f"- Architecture studies ({_names(studies, True)}): each variant trained with preset "
        f"`{options.preset}`, the same steps and the same start per seed, seeds "
        f"0-{options.seeds - 1}, unless given with --checkpoint; {_start(options)}. Tables "
        "give the mean over seeds and [min-max]; a difference is a finding only where the "
        "two variants' ranges do not overlap",
    ]
    training, train_s = _training_lines(studies, options)
    lines += [f"  - {line}" for line in training]
    lines.append(
        f"- Compute over all invocations: training {train_s / 60:.1f} min (each model's last "
        f"session, from its log), evaluation {runner.spent['eval'] / 60:.1f} min, FPS at the "
        f"paper's sizes {runner.spent['fps'] / 60:.1f} min"
    )
    if runner.timings:
        spent = ", ".join(f"{k} {v:.0f} s" for k, v in runner.timings.items())
        lines.append(f"- Evaluation time per variant (this invocation): {spent}")
    lines.append(
        "- FPS eval: model alone (batch 1, fp32, median of the timed runs after one warm-up) on "
        "the set's first frame, on the same device in the same run."
    )
    lines += _fps_lines(runner)
    return "\n".join(lines) + "\n"


def _names(studies: list[Study], trains: bool) -> str:
    return ", ".join(s.name for s in studies if s.trains == trains) or "none run"


def _inference_model(options: AblateOptions) -> str:
    given = options.checkpoints.get(INFERENCE_MODEL)
    if given:
        return f"`{given}` (--checkpoint)"
    return f"the bundled model (`bgmcli/weights/default.pt`, sha256 {bundled_digest()}...)"


def _start(options: AblateOptions) -> str:
    config = build_train_config(options.preset)
    if config.backbone_weights or config.init:
        return f"started from {config.backbone_weights or config.init}"
    return "every variant from scratch (no pretrained encoder weights: none ship for ResNets here)"


def _fps_lines(runner: Runner) -> list[str]:
    """How FPS at HD / 4K was measured, per study (from its fps.json)."""
    lines, studies = [], {}
    for study, info in runner.fps_info.items():  # one line per way of measuring
        studies.setdefault(json.dumps(info, sort_keys=True), []).append(study)
    for text, names in studies.items():
        info = json.loads(text)
        sizes = ", ".join(info["resolutions"])
        lines.append(
            f"- FPS {sizes} ({', '.join(names)}): synthetic frames, the paper's settings at each "
            "size (base scale 1/4 at HD, 1/8 at 4K; k given at HD, x4 at 4K), batch 1, fp32, on "
            f"{info['device']} with {info['threads']} torch threads, variants alternated in one "
            f"process, median of {info['iters']} runs each after one warm-up"
        )
    return lines


def _training_lines(studies: list[Study], options: AblateOptions) -> tuple[list[str], float]:
    """A line per trained model, and the seconds their logs' last sessions took."""
    lines, seen, seconds = [], set(), 0.0
    for study in studies:
        for variant in study.variants:
            if given_checkpoint(options.checkpoints, study, variant) or not study.trains:
                continue
            for seed in seeds_of(options.checkpoints, study, variant, options.seeds):
                config = variant_train_config(options.preset, variant.architecture(), seed)
                run_dir = cache_dir(options.out, config)
                if run_dir in seen:
                    continue
                seen.add(run_dir)
                text, spent = _training_summary(run_dir)
                lines.append(f"`{run_dir.name}`: {text}")
                seconds += spent
    return lines, seconds


def _training_summary(run_dir: Path) -> tuple[str, float]:
    try:
        rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]
    except (OSError, ValueError):
        return "no training log", 0.0
    if not rows:
        return "no validation rows", 0.0
    last = rows[-1]
    text = (f"{last['step']} steps, {last['elapsed_s'] / 60:.1f} min of training (last session), "
            f"held-out synthetic val MAD {rows[0]['mad']:.4f} -> {last['mad']:.4f}")  # fmt: skip
    return text, float(last["elapsed_s"])


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
