"""`bgm matte`: options -> MatteConfig -> bgmcli.engine.matte.run_matte, with a progress bar."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import BACKBONE_HELP, REFINE_HELP, app, console, err_console
from bgmcli.cli.render import MatteProgress
from bgmcli.engine.sinks import FORMATS


@app.command()
def matte(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUT",
            help="A video, an image, or a folder or glob of images; several, or a folder or glob "
            "of videos, make a batch: one shot per video.",
            show_default=False,
        ),
    ] = None,
    bg: Annotated[
        Path | None,
        typer.Option(
            "--bg",
            show_default=False,
            help="The clean background plate: the same shot with the subject out of frame "
            "(an image, or a video played in step with the input); a folder: each shot's plate "
            "by name (NAME.*, NAME_plate.* or NAME_bg.*).",
        ),
    ] = None,
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
            help=", ".join(f"{name} ({fmt.summary})" for name, fmt in FORMATS.items())
            + ". (default: mp4 for videos, png for images)",
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
        bool,
        typer.Option("--overwrite", help="Replace existing outputs (a batch: redo done shots)."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
    manifest: Annotated[
        Path | None,
        typer.Option(help="A CSV or YAML list of shots: input, plate, target, options per row."),
    ] = None,
    jobs: Annotated[
        int, typer.Option(help="Shots at once on this machine (processes sharing the cores).")
    ] = 1,
    threads: Annotated[
        int | None,
        typer.Option(help="Torch threads per shot. (default: the cores / --jobs; Ray: 4 CPUs)"),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(metavar="I/N", help="Only part I of N of the shots (for job arrays)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(metavar="ray[=ADDRESS]", help="Run each shot as a Ray task."),
    ] = None,
) -> None:
    """Matte videos or images against clean background plates: alpha, foreground, composite."""
    from bgmcli.batch.plan import parse_shard, plan_shots, report_path, select_shard
    from bgmcli.batch.ray_backend import parse_cluster
    from bgmcli.batch.runner import BatchOptions
    from bgmcli.engine.matte_config import parse_output_types, parse_time
    from bgmcli.model.settings import parse_scale

    options = dict(
        outdir=output_dir, output_types=parse_output_types(output_types),
        output_format=output_format, target=target, align=align,
        start=parse_time(start, "--start"), duration=parse_time(duration, "--duration"),
        checkpoint=checkpoint, backbone=backbone,
        backbone_scale=parse_scale(backbone_scale), refine=refine, k=k, threshold=threshold,
        device=device, precision=precision, batch=batch, overwrite=overwrite,
    )  # fmt: skip
    parts = parse_shard(shard)
    batch_options = BatchOptions(jobs=jobs, threads=threads, cluster=parse_cluster(cluster),
                                 shard=parts)  # fmt: skip
    plan = plan_shots(inputs or [], bg, manifest, options)
    if plan.is_batch or manifest or jobs != 1 or parts or cluster is not None:
        from bgmcli.cli.matte_batch import run_and_report

        where = report_path(plan.shots, output_dir, manifest, parts)
        plan.shots = select_shard(plan.shots, parts)
        run_and_report(plan, replace(batch_options, report_path=where), quiet)
    else:
        _matte_one(plan.shots[0].config, threads, quiet)


def _matte_one(config, threads: int | None, quiet: bool) -> None:
    """One shot, as `bgm matte` always ran: a progress bar and a summary line, errors exit 2."""
    from bgmcli.engine.matte import MatteInterrupted, run_matte

    if threads:
        import torch

        torch.set_num_threads(threads)
    with MatteProgress(quiet) as progress:
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
