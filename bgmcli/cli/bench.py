"""`bgm bench`: a sweep of configurations (bgmcli.bench.sweep) -> a table or JSON rows."""

from __future__ import annotations

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
from bgmcli.cli.render import bench_table


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
    as_json: Json = False,
) -> None:
    """Measure model throughput on synthetic frames: FPS, latency, peak memory, base/refiner
    split. Several values per option (repeated or comma-separated) give a sweep."""
    from bgmcli.bench.sweep import plan_sweep, run_sweep

    configs = plan_sweep(
        resolution=flat(resolution), backbone=flat(backbone), refine=flat(refine), k=flat(k),
        backbone_scale=flat(backbone_scale), precision=flat(precision), device=flat(device),
        batch=flat(batch), threads=flat(threads), checkpoint=flat(checkpoint), iters=iters,
        warmup=warmup, compile=compile_model,
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
        table = bench_table(rows)
        # Wider than the terminal: keep the table's shape (the terminal wraps) over squeezing it.
        natural = console.measure(table, options=console.options.update_width(1000)).maximum
        Console(highlight=False, width=max(console.width, natural)).print(table)
