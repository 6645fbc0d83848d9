"""`bgm matte`: options -> MatteConfig -> bgmcli.engine.matte.run_matte, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console, err_console
from bgmcli.cli.options import (
    Backbone,
    BackboneScale,
    Batch,
    Checkpoint,
    Device,
    K,
    Precision,
    Quiet,
    Refine,
    Threshold,
    flag,
)
from bgmcli.cli.render import MatteProgress
from bgmcli.engine.formats import FORMATS


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
    checkpoint: Checkpoint = None,
    backbone: Backbone = None,
    backbone_scale: BackboneScale = None,
    refine: Refine = "error",
    k: K = None,
    threshold: Threshold = 0.1,
    device: Device = "auto",
    precision: Precision = "fp32",
    batch: Batch = 1,
    overwrite: Annotated[bool, flag("overwrite", "Replace existing outputs.")] = False,
    quiet: Quiet = False,
) -> None:
    """Matte a video or images against a clean background plate: alpha, foreground, composite."""
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
    from bgmcli.engine.matte import MatteInterrupted, run_matte
    from bgmcli.engine.matte_config import MatteConfig, parse_output_types, parse_time

    config = MatteConfig(
        input=input, background=bg, outdir=output_dir,
        output_types=parse_output_types(output_types), output_format=output_format,
        target=target, align=align,
        start=parse_time(start, "--start"), duration=parse_time(duration, "--duration"),
        checkpoint=checkpoint, backbone=backbone,
        backbone_scale=backbone_scale, refine=refine, k=k, threshold=threshold,
        device=device, precision=precision, batch=batch, overwrite=overwrite,
    )  # fmt: skip
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
