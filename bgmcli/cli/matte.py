"""`bgm matte`: options -> MatteConfig -> bgmcli.engine.matte.run_matte, with a progress bar."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from bgmcli.batch import MISSING_INPUT
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
    Temporal,
    Threshold,
    flag,
)
from bgmcli.cli.render import MatteProgress, live_summary
from bgmcli.engine.formats import FORMATS
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import parse_resolution


@app.command()
def matte(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUT",
            help="A video, an image, a folder or glob of images; a capture device (/dev/video0, "
            "avfoundation:NAME, dshow:NAME); a udp/srt/rtsp/rtmp/http(s) URL; - for stdin. "
            "Several, or a folder or glob of videos, make a batch: one shot per video.",
            show_default=False,
        ),
    ] = None,
    bg: Annotated[
        str | None,
        typer.Option(
            "--bg",
            show_default=False,
            help="The clean background plate: the same shot with the subject out of frame "
            "(an image, or a video played in step with the input); a folder: each shot's plate "
            "by name (NAME.*, NAME_plate.* or NAME_bg.*); capture[:SECONDS] to take it from a "
            "live input after a countdown (default 2 s), saved as NAME.plate.png; frame:TIME, one "
            "frame of the input (seconds into it; -1: the last frame); or auto, built from the "
            "take where the subject moves (NAME.plate.png, NAME.plate-coverage.png).",
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output-dir",
            "-o",
            metavar="DIR|URL",
            help="Where outputs go (default: next to INPUT; a live input records only here), "
            "or a udp/srt/tcp (MPEG-TS) or rtmp (FLV) URL to stream the composite to. Repeatable.",
        ),
    ] = None,  # fmt: skip
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
    temporal: Temporal = None,
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
    live: Annotated[
        bool | None,
        flag(
            "live",
            "Matte frames as they come, dropping stale ones. (default: on for devices and URLs, "
            "off for files and -)",
        ),
    ] = None,
    preview: Annotated[
        bool,
        flag(
            "preview",
            "A window: q quits, b recaptures the plate, a cycles composite / alpha / input.",
        ),
    ] = False,  # fmt: skip
    virtual_camera: Annotated[
        bool,
        flag(
            "virtual-camera",
            "Send the composite to a virtual camera (Linux: the first v4l2loopback device; "
            "macOS, Windows: OBS's, through pyvirtualcam).",
        ),
    ] = False,
    virtual_camera_device: Annotated[
        str | None,
        typer.Option(
            metavar="DEVICE", help="The virtual camera to use (implies --virtual-camera)."
        ),
    ] = None,
    latency_target: Annotated[
        str,
        typer.Option(
            metavar="MS",
            help="Live: the model's time a frame that base scale and k are chosen for; auto is "
            "the source's frame interval, quality keeps the frame-size rule.",
        ),
    ] = "auto",
    threads: Annotated[
        int | None,
        typer.Option(
            help="Torch threads per shot. (default: the cores / --jobs; live: chosen with base "
            "scale and k; Ray: 4 CPUs)"
        ),
    ] = None,
    input_size: Annotated[
        str | None, typer.Option(metavar="WxH", help="Capture devices: the size asked for.")
    ] = None,
    input_fps: Annotated[
        float | None, typer.Option(metavar="FPS", help="Capture devices: the rate asked for.")
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(metavar="S", help="Seconds a device or URL may take to answer or be silent."),
    ] = 10.0,
    manifest: Annotated[
        Path | None,
        typer.Option(help="A CSV or YAML list of shots: input, plate, target, options per row."),
    ] = None,
    jobs: Annotated[
        int, typer.Option(help="Shots at once on this machine (processes sharing the cores).")
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(metavar="I/N", help="Only part I of N of the shots (for job arrays)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(metavar="ray[=ADDRESS]", help="Run each shot as a Ray task."),
    ] = None,
) -> None:
    """Matte a video, images or a live source against a clean background plate: alpha,
    foreground, composite; into files, a stream, a window or a virtual camera."""
    if not inputs and manifest is None:  # before the library (and torch) is imported
        raise BgmError(MISSING_INPUT)
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
    from bgmcli.batch.plan import parse_shard, plan_shots, report_path, select_shard
    from bgmcli.batch.ray_backend import parse_cluster
    from bgmcli.batch.runner import BatchOptions
    from bgmcli.engine.keep_up import parse_latency_target
    from bgmcli.engine.matte_config import parse_output_types, parse_time
    from bgmcli.engine.plate_forms import PlateForm, parse_bg
    from bgmcli.engine.stream_sink import is_output_url

    dirs = [o for o in output or [] if not is_output_url(o)]
    if len(dirs) > 1:
        raise BgmError(f"-o names one folder for the recordings, got {', '.join(dirs)}")
    form = parse_bg(bg) if bg is not None else PlateForm()
    options = dict(
        outdir=Path(dirs[0]) if dirs else None,
        output_types=parse_output_types(output_types), output_format=output_format,
        target=target, align=align, temporal=temporal,
        start=parse_time(start, "--start"), duration=parse_time(duration, "--duration"),
        checkpoint=checkpoint, backbone=backbone,
        backbone_scale=backbone_scale, refine=refine, k=k, threshold=threshold,
        device=device, precision=precision, batch=batch, overwrite=overwrite,
        live=live, timeout=timeout, preview=preview, **form.fields(),
        input_size=parse_resolution(input_size) if input_size else None, input_fps=input_fps,
        streams=tuple(o for o in output or [] if is_output_url(o)),
        virtual_camera=virtual_camera_device or ("auto" if virtual_camera else None),
        latency_target=parse_latency_target(latency_target), threads=threads,
    )  # fmt: skip
    parts = parse_shard(shard)
    batch_options = BatchOptions(jobs=jobs, threads=threads, cluster=parse_cluster(cluster),
                                 shard=parts)  # fmt: skip
    plan = plan_shots(inputs or [], form.path, manifest, options)
    if plan.is_batch or manifest or jobs != 1 or parts or cluster is not None:
        from bgmcli.cli.matte_batch import run_and_report

        where = report_path(plan.shots, options["outdir"], manifest, parts)
        plan.shots = select_shard(plan.shots, parts)
        run_and_report(plan, replace(batch_options, report_path=where), quiet)
    else:
        _matte_one(plan.shots[0].config, threads, quiet)


def _matte_one(config, threads: int | None, quiet: bool) -> None:
    """One shot, as `bgm matte` always ran: a progress bar and a summary line, errors exit 2."""
    from bgmcli.engine.matte import MatteInterrupted, run_matte

    if threads and not config.runs_live():  # a live run sets its own, chosen or given
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
            f"{result.fps:.2f} fps end-to-end, model {result.model_fps:.2f} fps"
            + (f" -> {names}" if names else "")
            + (live_summary(result.live) if result.live is not None else "")
            + flicker_summary(result),
            markup=False,
            soft_wrap=True,
        )
        if result.alignment is not None:
            console.print(alignment_summary(result.alignment), markup=False, soft_wrap=True)
        if result.plate is not None:
            console.print(plate_summary(result.plate), markup=False, soft_wrap=True)


def plate_summary(plate) -> str:
    """One line: where the plate taken from the footage came from and, for auto, how much of
    the background was seen, from how many frames, and where it was written."""
    if plate.coverage is None:
        return f"background: --bg {plate.form}, one frame of the input ({plate.seconds:.1f} s)"
    cover = plate.coverage
    parts = [f"{cover.empty} empty" if cover.empty else "none empty"]
    if cover.warped:
        parts.append(f"{cover.warped} aligned")
    if cover.failed:
        parts.append(f"{cover.failed} left out: not registered")
    return (
        f"background built from {cover.frames} frames ({', '.join(parts)}): seen over "
        f"{100 * cover.seen_share:.1f}% of the frame -> {cover.plate_path}, coverage "
        f"{cover.coverage_path} ({plate.seconds:.1f} s)"
    )


def flicker_summary(result) -> str:
    """The flicker figure (no truth needed): mean alpha change a frame where the input holds
    still, x1e3; empty with fewer than two frames."""
    if result.flicker is None:
        return ""
    filtered = "; temporal filter on" if result.temporal else ""
    return (f"; flicker {result.flicker * 1e3:.2f}e-3 (mean alpha change a frame where the "
            f"input holds still{filtered})")  # fmt: skip


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
