"""`bgm ablate`: studies -> bgmcli.ablate.workflow -> tables, or the rows as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console, err_console
from bgmcli.cli.options import Device, Json, Quiet, flag
from bgmcli.cli.render import StepProgress
from bgmcli.errors import BgmError


@app.command()
def ablate(
    study: Annotated[
        str | None,
        typer.Option(help="A study name, all, or a study YAML file; several: a,b (see --list)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", metavar="", help="List the studies and exit.")
    ] = False,
    preset: Annotated[str, typer.Option(help="Training preset of models not given.")] = "quick",
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[VARIANT=]PATH",
            help="PATH: the inference studies' model (default: the bundled one); "
            "VARIANT=PATH: an architecture variant's weights, instead of training (repeatable).",
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(help="Models per architecture variant (default: 2 with quick, else 1)."),
    ] = None,
    fps_resolutions: Annotated[
        str, typer.Option(help="FPS of each variant at these sizes (hd, 4k, WxH; none: skip).")
    ] = "hd,4k",
    fps_iters: Annotated[int, typer.Option(help="Timed runs per variant and FPS size.")] = 3,
    eval_data: Annotated[
        list[str] | None,
        typer.Option(
            help="synthetic; clip (moving clips with true alpha, still and hand-held: dtSSD, the "
            "temporal study); or a folder: alphamatting, src/bgr/pha or dataset layout."
        ),
    ] = None,
    resolution: Annotated[str, typer.Option(help="hd, 4k or WxH of the synthetic set.")] = "hd",
    frames: Annotated[
        int | None,
        typer.Option(help="Frames per set (default: 16 synthetic, 8 per clip, all real)."),
    ] = None,
    device: Device = "auto",
    out: Annotated[Path, typer.Option(help="Results, report, plots, cached models.")] = Path(
        "ablation"
    ),
    json_: Json = False,
    rerun: Annotated[bool, flag("rerun", "Recompute finished variants.")] = False,
    iters: Annotated[int, typer.Option(help="Timed runs per FPS figure on evaluation frames.")] = 3,
    quiet: Quiet = False,
) -> None:
    """Run the ablation studies of the paper: tables, results.json/csv, report.md and plots."""
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
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
        seeds=seeds, fps_resolutions=[fps_resolutions], fps_iters=fps_iters,
    )  # fmt: skip

    def log(line: str) -> None:
        if not quiet:
            err_console.print(line, markup=False)

    with StepProgress("ablate", quiet, plain=json_) as progress:
        result = workflow.run_ablate(studies, options, log, progress, progress.step)
    if json_:
        console.print_json(json.dumps(result["rows"]))
        return
    from bgmcli.ablate.paper_report import verdict_lines
    from bgmcli.ablate.report import study_tables

    for summary in result["summaries"]:
        for table in study_tables(summary, result["rows"], width=console.width):
            console.print(table)
        for line in verdict_lines(summary, result["rows"]):
            console.print(line, markup=False, soft_wrap=True)
    console.print(f"results, report and plots in {options.out}", markup=False)
