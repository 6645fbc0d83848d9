"""`bgm matte`: options -> MatteConfig -> bgmcli.engine.matte.run_matte, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import BACKBONE_HELP, REFINE_HELP, app, console, err_console
from bgmcli.cli.render import MatteProgress
from bgmcli.engine.sinks import FORMATS


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
        str,
        typer.Option(
            metavar="MODE",
            help="Register the background plate to the frames (hand-held): auto (when it is more "
            "than 0.3 px off; measured again when the camera moves), on or off.",
        ),
    ] = "auto",
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
        if result.alignment is not None:
            console.print(alignment_summary(result.alignment), markup=False, soft_wrap=True)


def alignment_summary(report) -> str:
    """One line: how far the plate was off (shift, rotation, scale) and what was done."""
    if report.first is None:
        return (f"background: could not be aligned on any of {report.frames} frames "
                f"({report.why}); used as it is")  # fmt: skip
    furthest = report.furthest
    found = "off by" + (" up to" if report.estimates > 1 else "")
    if report.aligned == 0:
        done = f"used as it is (--align auto warps beyond {report.threshold_px:g} px)"
    elif report.aligned == report.frames:
        done = "aligned"
    else:
        done = f"aligned on {report.aligned} of {report.frames} frames"
    dx, dy = furthest.shift
    return (
        f"background {found} {furthest.offset_px:.2f} px (shift {dx:+.2f}, {dy:+.2f} px, "
        f"rotation {furthest.rotation_deg:+.2f}°, scale {furthest.scale:.4f}): {done}; "
        f"{report.estimates} estimate{'s' * (report.estimates != 1)}"
    )
