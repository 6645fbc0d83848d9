"""`bgm bench`: a sweep of configurations (bgmcli.bench.sweep) -> a table or JSON rows."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from bgmcli.cli.app import BACKBONE_HELP, REFINE_HELP, app, console, err_console
from bgmcli.cli.render import bench_table


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
    from bgmcli.bench.sweep import plan_sweep, run_sweep

    configs = plan_sweep(
        resolution=resolution, backbone=backbone, refine=refine, k=k,
        backbone_scale=backbone_scale, precision=precision, device=device, batch=batch,
        threads=threads, checkpoint=checkpoint, iters=iters, warmup=warmup, compile=compile_model,
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
