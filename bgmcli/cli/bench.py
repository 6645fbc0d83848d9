"""`bgm bench`: a sweep of configurations (bgmcli.bench.sweep) -> a table or JSON rows."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from bgmcli.cli.app import app, console, err_console
from bgmcli.cli.options import (
    Backbones,
    BackboneScales,
    Batches,
    Checkpoints,
    Devices,
    Json,
    Ks,
    Precisions,
    Refines,
    Resolutions,
    Threads,
    flag,
    flat,
)
from bgmcli.cli.render import StepProgress, bench_table


@app.command()
def bench(
    resolution: Resolutions = None,
    backbone: Backbones = None,
    refine: Refines = None,
    k: Ks = None,
    backbone_scale: BackboneScales = None,
    precision: Precisions = None,
    device: Devices = None,
    batch: Batches = None,
    threads: Threads = None,
    iters: Annotated[int, typer.Option(help="Timed iterations per configuration.")] = 10,
    warmup: Annotated[int, typer.Option(help="Untimed warm-up iterations.")] = 2,
    checkpoint: Checkpoints = None,
    compile_model: Annotated[
        bool, flag("compile", "torch.compile the model (slow to compile on CPU).")
    ] = False,
    temporal: Annotated[
        bool, flag("temporal", "Time the model with bgm matte's temporal filter after it.")
    ] = False,
    clip: Annotated[
        bool,
        flag(
            "clip",
            "Also matte a moving clip with true alpha at each resolution (8 frames, still "
            "camera): MAD and dtSSD (meaningful with a trained --checkpoint).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Measure model throughput on synthetic frames: FPS, latency, peak memory, base/refiner
    split. Several values per option (repeated or comma-separated) give a sweep."""
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
    from bgmcli.bench.sweep import plan_sweep, run_sweep

    configs = plan_sweep(
        resolution=flat(resolution), backbone=flat(backbone), refine=flat(refine), k=flat(k),
        backbone_scale=flat(backbone_scale), precision=flat(precision), device=flat(device),
        batch=flat(batch), threads=flat(threads), checkpoint=flat(checkpoint), iters=iters,
        warmup=warmup, compile=compile_model, temporal=temporal, clip=clip,
    )  # fmt: skip

    def step(index: int, total: int, cfg) -> None:
        label = f"{cfg.resolution} {cfg.backbone or 'checkpoint'} {cfg.precision} batch {cfg.batch}"
        progress.step(index, total, label)

    with StepProgress("bench", quiet=False, plain=as_json) as progress:
        rows = run_sweep(configs, step)
        progress.step(len(configs), len(configs), "done")
    for row in rows:
        if row["warning"]:
            err_console.print(f"bgm: warning: {row['resolution']} {row['backbone']} "
                              f"{row['precision']} batch {row['batch']}: {row['warning']}",
                              markup=False, soft_wrap=True)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        table = bench_table(rows)
        # Wider than the terminal: keep the table's shape (the terminal wraps) over squeezing it.
        natural = console.measure(table, options=console.options.update_width(1000)).maximum
        Console(highlight=False, width=max(console.width, natural)).print(table)
