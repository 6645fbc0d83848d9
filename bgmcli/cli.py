"""The `bgm` command line: thin Typer commands that parse options, call the library, render.

Every user error (BgmError, bad option) is printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bgmcli import __version__
from bgmcli.errors import BgmError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
console = Console(highlight=False)


class BgmTyper(typer.Typer):
    """Typer app that turns user errors into one line + exit 2 instead of a traceback or panel."""

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("prog_name", "bgm")
        try:
            result = super().__call__(*args, standalone_mode=False, **kwargs)
        except BgmError as exc:
            _fail(str(exc))
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            err_console.print("bgm: interrupted")
            sys.exit(130)
        except typer.TyperException as exc:  # usage errors: bad option values, missing args
            _fail(exc.format_message().replace("\n", " "))
        except KeyboardInterrupt:
            err_console.print("bgm: interrupted")
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str) -> None:
    err_console.print(f"bgm: error: {message}", markup=False)
    sys.exit(2)


# The names live in the registries (bgmcli.model.backbones, bgmcli.model.selection), which
# import torch: help stays fast by giving examples; an unknown name is an error listing them all.
BACKBONE_HELP = "A registered backbone, e.g. resnet50 or mobilenetv2 (an unknown one lists all)."
REFINE_HELP = "Refine mode, e.g. error (the paper's), full or none (an unknown one lists all)."

app = BgmTyper(
    name="bgm",
    help="High-resolution background matting of video (BackgroundMattingV2) and its ablations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"bgm {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """High-resolution background matting of video (BackgroundMattingV2) and its ablations."""


@app.command()
def matte(
    input: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A video, an image, or a folder or glob of images.",
            show_default=False,
        ),
    ],
    bg: Annotated[
        Path,
        typer.Option(
            "--bg",
            show_default=False,
            help="The clean background plate: the same shot with the subject out of frame "
            "(an image, or a video played in step with the input).",
        ),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Where outputs go. (default: next to INPUT)"),
    ] = None,
    output_types: Annotated[
        str, typer.Option(metavar="TYPES", help="Any of com,pha,fgr,err,ref.")
    ] = "com,pha",
    output_format: Annotated[
        str | None,
        typer.Option(
            metavar="FORMAT",
            help="mp4 (H.264; alpha as grey), mov (ProRes 4444 with alpha), webm (VP9 with "
            "alpha), png (sequences; RGBA com/fgr). (default: mp4 for videos, png for images)",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="TARGET",
            help="What com is composited over: green, #RRGGBB, an image or a video. "
            "(default: green; transparent in mov, webm and png)",
        ),
    ] = None,
    align: Annotated[
        bool, typer.Option("--align", help="Register the background to each frame (hand-held).")
    ] = False,
    start: Annotated[
        str | None, typer.Option(metavar="TIME", help="Start here: seconds or [HH:]MM:SS.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(metavar="TIME", help="Process this long: seconds or MM:SS.")
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Ours or an official BackgroundMattingV2 .pth. (default: bundled)"),
    ] = None,
    backbone: Annotated[
        str | None, typer.Option(help="For official files: " + BACKBONE_HELP)
    ] = None,
    backbone_scale: Annotated[
        str | None,
        typer.Option(
            metavar="S",
            help="Base network input scale, e.g. 1/4 or 0.25. (default: 480 / the longer side, "
            "at most 1/2: 1/4 at HD, 1/8 at 4K)",
        ),
    ] = None,
    refine: Annotated[str, typer.Option(help=REFINE_HELP)] = "error",
    k: Annotated[
        int | None,
        typer.Option(
            "--k", help="Refined 4x4 patches. (default: by area, 5000 at HD and 20000 at 4K)"
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Error threshold for --refine threshold.")] = 0.1,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option(help="fp32, fp16 (CUDA) or bf16.")] = "fp32",
    batch: Annotated[int, typer.Option(help="Frames per model call.")] = 1,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing outputs.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
) -> None:
    """Matte a video or images against a clean background plate: alpha, foreground, composite."""
    from bgmcli.engine.matte import MatteInterrupted, run_matte
    from bgmcli.engine.matte_config import MatteConfig, parse_output_types, parse_time
    from bgmcli.model.settings import parse_scale

    config = MatteConfig(
        input=input, background=bg, outdir=output_dir,
        output_types=parse_output_types(output_types), output_format=output_format,
        target=target, align=align,
        start=parse_time(start, "--start"), duration=parse_time(duration, "--duration"),
        checkpoint=checkpoint, backbone=backbone,
        backbone_scale=parse_scale(backbone_scale), refine=refine, k=k, threshold=threshold,
        device=device, precision=precision, batch=batch, overwrite=overwrite,
    )  # fmt: skip
    with _MatteProgress(quiet) as progress:
        try:
            result = run_matte(config, progress)
        except MatteInterrupted as exc:
            progress.stop()
            err_console.print(f"bgm: {exc}", markup=False)
            raise typer.Exit(130) from None
    if not quiet:
        names = ", ".join(str(path) for path in result.outputs)
        console.print(
            f"{result.frames} frames ({result.width}x{result.height}) in {result.run_s:.1f} s: "
            f"{result.fps:.2f} fps end-to-end, model {result.model_fps:.2f} fps -> {names}",
            markup=False,
            soft_wrap=True,
        )


class _MatteProgress:
    """Renders the engine's reports: a rich bar (frames, fps, ETA) and one-line warnings."""

    def __init__(self, quiet: bool):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.task = None
        self.bar = Progress(
            TextColumn("matting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[fps]}"), TimeRemainingColumn(),
            console=err_console, disable=quiet or not err_console.is_terminal, transient=True,
        )  # fmt: skip

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self.bar.stop()

    def start(self, total: int | None) -> None:
        self.bar.start()  # only now: errors before the first frame print no empty bar
        self.task = self.bar.add_task("matte", total=total, fps="")

    def advance(self, frames: int) -> None:
        self.bar.advance(self.task, frames)
        speed = self.bar.tasks[self.task].speed
        self.bar.update(self.task, fps=f"{speed:.2f} fps" if speed else "")

    def warn(self, message: str) -> None:
        err_console.print(f"bgm: warning: {message}", markup=False)


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="The run's folder: checkpoints, logs, model.")],
    preset: Annotated[str, typer.Option(help="smoke, quick, default or paper.")] = "default",
    config_file: Annotated[
        Path | None, typer.Option("--config", metavar="FILE.yaml", help="Overrides the preset.")
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Steps of each stage that runs.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue DIR/last.pt.")] = False,
    stage: Annotated[str | None, typer.Option(help="base, refine or both.")] = None,
    data: Annotated[
        str | None, typer.Option(help="Training data kind, e.g. synthetic or folders.")
    ] = None,
    data_root: Annotated[
        Path | None, typer.Option(help="The dataset folder (--data folders).")
    ] = None,
    backgrounds: Annotated[Path | None, typer.Option(help="A folder of background images.")] = None,
    backbone: Annotated[str | None, typer.Option(help=BACKBONE_HELP)] = None,
    init: Annotated[
        Path | None, typer.Option(help="Start from these weights (e.g. a base-stage model.pt).")
    ] = None,
    backbone_weights: Annotated[
        Path | None,
        typer.Option(
            help="Pretrained encoder weights on disk: a torchvision state dict (.pth) or a "
            "TFLite MobileNetV2 / DeepLabV3 file (.tflite; the ASPP too where it has one)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of data order and sampling.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    workers: Annotated[int, typer.Option(help="Data-loading processes.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
) -> None:
    """Train the model, base then refiner, on synthetic or real data (torchrun for several GPUs)."""
    from bgmcli.train.config import build_train_config, replace_stage
    from bgmcli.train.loop import train as run_training

    overrides = {
        "stage": stage, "data": data, "seed": seed, "model": {"backbone": backbone},
        "data_root": str(data_root) if data_root else None,
        "backgrounds": str(backgrounds) if backgrounds else None,
        "init": str(init) if init else None,
        "backbone_weights": str(backbone_weights) if backbone_weights else None,
    }  # fmt: skip
    config = replace_stage(build_train_config(preset, config_file, overrides), steps=steps)
    if workers < 0:
        raise BgmError(f"--workers must be 0 or more, got {workers}")
    with _TrainProgress(quiet) as progress:
        result = run_training(
            config, out, device=device, workers=workers, resume=resume, progress=progress,
            meta={"preset": preset},
        )  # fmt: skip
    if result.model_path is not None and not quiet:
        console.print(_train_summary(result), markup=False, soft_wrap=True)


def _train_summary(result) -> str:
    """Validation MAD over the run, and val loss over the last stage (stages' losses differ)."""
    rows = result.history
    if not rows:
        return f"{result.steps} steps, nothing left to train -> {result.model_path}"
    stage = [r for r in rows if r["stage"] == rows[-1]["stage"]]
    return (
        f"{result.steps} steps; val MAD {rows[0]['mad']:.4f} -> {rows[-1]['mad']:.4f}, "
        f"{rows[-1]['stage']} val loss {stage[0]['val_loss']:.4f} -> {stage[-1]['val_loss']:.4f}"
        f" -> {result.model_path}"
    )


class _TrainProgress:
    """Renders training reports: one live line (stage, step, loss, samples/s, ETA) + val lines."""

    def __init__(self, quiet: bool):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.quiet, self.task = quiet, None
        self.bar = Progress(
            TextColumn("{task.fields[stage]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), console=err_console,
            disable=quiet or not err_console.is_terminal, transient=True,
        )  # fmt: skip

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.stop()

    def __call__(self, event) -> None:
        if self.task is None:
            self.task = self.bar.add_task("train", total=event.total, stage="", info="")
        if event.kind == "val":
            m = event.metrics
            if not self.quiet:
                self.bar.console.print(
                    f"{event.stage} step {event.step}: val loss {m['val_loss']:.4f}, "
                    f"MAD {m['mad']:.4f}, Grad {m['grad']:.3f}, fgr L1 {m['fgr_l1']:.4f}"
                    + _upsampled_comparison(m),
                    markup=False,
                )
            return
        eta = f"ETA {event.eta_s:.0f} s" if event.eta_s is not None else ""
        info = f"loss {event.loss:.4f}  {event.samples_per_s:.1f} samples/s  {eta}"
        self.bar.update(self.task, completed=event.step, stage=event.stage, info=info)


def _upsampled_comparison(m: dict) -> str:
    """Stage refine: the same metrics for the coarse alpha upsampled without the refiner."""
    if "mad_upsampled" not in m:
        return ""
    return (
        f" (upsampled coarse: MAD {m['mad_upsampled']:.4f}, Grad {m['grad_upsampled']:.3f}; "
        f"inside refined patches L1 {m['patch_l1']:.4f} vs {m['patch_l1_upsampled']:.4f})"
    )


@app.command()
def ablate(
    study: Annotated[
        str | None, typer.Option(help="A study name, all, or a study YAML file (see --list).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the studies and exit.")] = False,
    preset: Annotated[str, typer.Option(help="Training preset of models not given.")] = "quick",
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(metavar="VARIANT=PATH", help="Weights of a variant (repeatable)."),
    ] = None,
    eval_data: Annotated[
        list[str] | None,
        typer.Option(help="synthetic, or a folder: alphamatting, src/bgr/pha or dataset layout."),
    ] = None,
    resolution: Annotated[str, typer.Option(help="hd, 4k or WxH of the synthetic set.")] = "hd",
    frames: Annotated[
        int | None, typer.Option(help="Frames per set (default: 16 synthetic, all real).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    out: Annotated[Path, typer.Option(help="Results, report, plots, cached models.")] = Path(
        "ablation"
    ),
    json_: Annotated[bool, typer.Option("--json", help="Print the result rows as JSON.")] = False,
    rerun: Annotated[bool, typer.Option("--rerun", help="Recompute finished variants.")] = False,
    iters: Annotated[int, typer.Option(help="Timed runs per FPS figure.")] = 3,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Run the ablation studies of the paper: tables, results.json/csv, report.md and plots."""
    from bgmcli.ablate import workflow

    if list_:
        for line in workflow.list_studies():
            console.print(line, markup=False, soft_wrap=True)
        return
    if study is None:
        raise BgmError("--study is required (a study name, all, or a YAML file; see --list)")
    from bgmcli.ablate.studies import load_studies

    studies = load_studies(study)
    options = workflow.build_options(
        out=out, preset=preset, checkpoints=checkpoint, eval_data=eval_data,
        resolution=resolution, frames=frames, device=device, rerun=rerun, iters=iters,
    )  # fmt: skip

    def log(line: str) -> None:
        if not quiet:
            err_console.print(line, markup=False)

    with _TrainProgress(quiet) as progress:
        result = workflow.run_ablate(studies, options, log, progress)
    if json_:
        import json

        console.print_json(json.dumps(result["rows"]))
        return
    from bgmcli.ablate.report import study_tables

    for summary in result["summaries"]:
        for table in study_tables(summary, result["rows"]):
            console.print(table)
    console.print(f"results, report and plots in {options.out}", markup=False)


@app.command()
def bench(
    resolution: Annotated[
        list[str] | None,
        typer.Option("--resolution", "-r", metavar="RES,...", help="hd, 4k or WxH. (default: hd)"),
    ] = None,
    backbone: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME,...",
            help=BACKBONE_HELP + " (default: mobilenetv2, or the checkpoint's)",
        ),
    ] = None,
    refine: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MODE,...",
            help=REFINE_HELP + " (default: error)",
        ),
    ] = None,
    k: Annotated[
        list[str] | None,
        typer.Option(
            "--k",
            metavar="N,...",
            help="Refined 4x4 patches. (default: 5000 at HD, 20000 at 4K, "
            "scaled with the area otherwise)",
        ),
    ] = None,
    backbone_scale: Annotated[
        list[str] | None,
        typer.Option(
            metavar="S,...",
            help="Base network input scale, e.g. 0.25 or 1/4. (default: 480 / the longer side, "
            "at most 1/2: 1/4 at HD, 1/8 at 4K)",
        ),
    ] = None,
    precision: Annotated[
        list[str] | None,
        typer.Option(metavar="P,...", help="fp32, fp16 (CUDA only), bf16. (default: fp32)"),
    ] = None,
    device: Annotated[
        list[str] | None, typer.Option(metavar="DEV,...", help="auto, cpu, cuda. (default: auto)")
    ] = None,
    batch: Annotated[
        list[str] | None, typer.Option(metavar="N,...", help="Frames per call. (default: 1)")
    ] = None,
    threads: Annotated[
        list[str] | None, typer.Option(metavar="N,...", help="CPU threads (torch.set_num_threads).")
    ] = None,
    iters: Annotated[int, typer.Option(help="Timed iterations per configuration.")] = 10,
    warmup: Annotated[int, typer.Option(help="Untimed warm-up iterations.")] = 2,
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATH,...",
            help="Checkpoint(s); without one, random weights with calibrated BatchNorm.",
        ),
    ] = None,
    compile_model: Annotated[
        bool, typer.Option("--compile", help="torch.compile the model (slow to compile on CPU).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Measure model throughput on synthetic frames: FPS, latency, peak memory, base/refiner
    split. Several values per option (repeated or comma-separated) give a sweep."""
    from bgmcli.bench import plan_sweep, run_sweep

    configs = plan_sweep(
        resolution=resolution or ["hd"], backbone=backbone or [], refine=refine or ["error"],
        k=k or [], backbone_scale=backbone_scale or [], precision=precision or ["fp32"],
        device=device or ["auto"], batch=batch or [1], threads=threads or [],
        checkpoint=checkpoint or [], iters=iters, warmup=warmup, compile=compile_model,
    )  # fmt: skip

    def progress(index: int, total: int, cfg) -> None:
        err_console.print(
            f"bench {index + 1}/{total}: {cfg.resolution} {cfg.backbone or 'checkpoint'} "
            f"{cfg.precision} batch {cfg.batch}",
            style="dim",
        )

    rows = run_sweep(configs, progress)
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2))
    else:
        table = _bench_table(rows)
        # Wider than the terminal: keep the table's shape (the terminal wraps) over squeezing it.
        natural = console.measure(table, options=console.options.update_width(1000)).maximum
        Console(highlight=False, width=max(console.width, natural)).print(table)


BENCH_CONFIG_COLUMNS = {
    "resolution": "resolution", "backbone": "backbone", "backbone_scale": "scale", "k": "k",
    "refine": "refine", "precision": "precision", "device": "device", "batch": "batch",
    "threads": "threads", "compile": "compile", "checkpoint": "checkpoint",
}  # fmt: skip


def _bench_table(rows: list[dict]):
    """Configuration columns for what varies (the rest in the caption), then the measurements."""
    from rich import box
    from rich.table import Table

    varying = [
        key for key in BENCH_CONFIG_COLUMNS
        if key in ("resolution", "backbone") or len({str(r[key]) for r in rows}) > 1
    ]  # fmt: skip
    constant = [f"{BENCH_CONFIG_COLUMNS[key]} {rows[0][key]}" for key in BENCH_CONFIG_COLUMNS
                if key not in varying and rows[0][key] not in (None, False)]  # fmt: skip
    caption = (
        ", ".join([*constant, f"ms over {rows[0]['iters']} timed iterations"])
        + "; peak MB: RSS increase on CPU, max allocated on CUDA"
    )
    table = Table(caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for key in varying:
        table.add_column(BENCH_CONFIG_COLUMNS[key], no_wrap=True)
    for header in ("FPS", "p50", "p90", "peak MB", "base", "refine", "refined %"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            *(str(row[key]) for key in varying),
            f"{row['fps']:.2f}", f"{row['latency_p50_ms']:.1f}", f"{row['latency_p90_ms']:.1f}",
            _maybe(row["peak_mem_mb"], "{:.0f}"), _maybe(row["base_ms"], "{:.1f}"),
            _maybe(row["refine_ms"], "{:.1f}"), f"{100 * row['refined_fraction']:.2f}",
        )  # fmt: skip
    return table


def _maybe(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="Our checkpoint or an official .pth.")],
    format: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="torchscript or onnx.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    resolution: Annotated[
        str,
        typer.Option(
            "--resolution",
            "-r",
            help="WxH, hd or 4k: the one input size the exported model accepts (traced there).",
        ),
    ] = "1920x1080",
    batch_size: Annotated[int, typer.Option(help="The one batch size it accepts.")] = 1,
    backbone_scale: Annotated[
        float | None,
        typer.Option(
            help="Base network input scale. (default: 480 / the longer side of --resolution, "
            "at most 1/2: 0.25 at HD, 0.125 at 4K)"
        ),
    ] = None,
    refine: Annotated[str, typer.Option(help=REFINE_HELP)] = "error",
    k: Annotated[
        int | None,
        typer.Option("--k", help="Refined 4x4 patches (sparse modes). (default: 5000 per HD area)"),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Error threshold (mode threshold).")] = 0.1,
    opset: Annotated[int, typer.Option(help="ONNX opset, 13 to 20.")] = 17,
    verify: Annotated[
        bool, typer.Option(help="Run the exported file once and compare it with eager.")
    ] = True,
) -> None:
    """Export a checkpoint to TorchScript or ONNX, with its refine settings baked in.

    Tracing fixes the input shape: the file accepts src and bgr of shape exactly
    (batch size, 3, H, W) for --resolution WxH (default 1920x1080); export again for others.
    """
    from bgmcli.loading import load_model
    from bgmcli.model.export import TOLERANCE, export_model
    from bgmcli.model.settings import parse_resolution

    size = parse_resolution(resolution)
    # settings left None are decided for --resolution (bgmcli.model.settings), as `bgm matte`
    # decides them for a frame of that size
    model = load_model(checkpoint, backbone_scale=backbone_scale, refine=refine, k=k,
                       threshold=threshold)  # fmt: skip
    result = export_model(
        model, output, format=format, resolution=size, batch_size=batch_size, opset=opset,
        verify=verify,
    )  # fmt: skip
    megabytes = result.path.stat().st_size / 1e6
    lines = [
        f"wrote {result.path} ({result.format}, {megabytes:.1f} MB)",
        f"valid only for src and bgr of shape {tuple(result.input_shape)} "
        f"({size[0]}x{size[1]}, batch {batch_size}): export again for another size",
        *(f"note: {note}" for note in result.notes),
    ]
    if result.max_abs_diff is not None:
        lines.append(f"max |exported - eager| on a random input: {result.max_abs_diff:.2e}")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    if result.max_abs_diff is not None and result.max_abs_diff > TOLERANCE:
        err_console.print(f"bgm: warning: the exported model differs from eager by > {TOLERANCE}")


@app.command()
def info(
    checkpoint: Annotated[Path, typer.Argument(help="Our checkpoint or an official .pth.")],
    backbone: Annotated[
        str | None, typer.Option(help="Assume this backbone instead of the stored or inferred.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Show a checkpoint's architecture, parameter count, config and origin."""
    from bgmcli.model.checkpoint_info import describe_checkpoint

    summary = describe_checkpoint(checkpoint, backbone=backbone)
    if as_json:
        import json

        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        console.print(_info_table(summary))


def _info_table(summary: dict):
    """Two columns, in sections: file, architecture, parameters, config, start weights, meta."""
    from rich import box
    from rich.table import Table

    table = Table(title=summary["path"], box=box.SIMPLE_HEAD, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("format", summary["format"])
    table.add_row("file size", f"{summary['file_size'] / 1e6:.1f} MB")
    table.add_row("weights dtype", summary["weights_dtype"])
    table.add_section()
    for key, value in summary["architecture"].items():
        table.add_row(key.replace("_", " "), str(value))
    table.add_section()
    for part, count in summary["parameters"].items():
        table.add_row(f"parameters {part}", f"{count:,}")
    table.add_section()
    for key, value in _flatten(summary["config"]).items():
        table.add_row(f"config {key}", str(value))
    table.add_row("config source", summary["config_source"])
    table.add_section()
    start = summary.get("start_weights") or {}
    for key in ("file", "kind", "loaded", "sha256"):
        if key in start:
            table.add_row(f"start weights {key}", str(start[key]))
    if start:
        table.add_section()
    meta = {k: v for k, v in summary["meta"].items() if k != "start_weights"}
    for key, value in _flatten(meta).items():
        table.add_row(f"meta {key}", str(value))
    return table


def _flatten(data: dict, prefix: str = "") -> dict:
    """{'refine': {'k': 5}} -> {'refine.k': 5}, for one row per setting."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


if __name__ == "__main__":  # pragma: no cover
    app()
