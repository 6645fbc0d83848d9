"""`bgm train`: preset + --config + options -> TrainConfig -> bgmcli.train.loop.train."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console
from bgmcli.cli.options import Backbone, Device, Quiet, flag
from bgmcli.cli.render import TrainProgress
from bgmcli.errors import BgmError


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="The run's folder: checkpoints, logs, model.")],
    preset: Annotated[str, typer.Option(help="smoke, quick, default or paper.")] = "default",
    config_file: Annotated[
        Path | None, typer.Option("--config", metavar="FILE.yaml", help="Overrides the preset.")
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Steps of each stage that runs.")] = None,
    resume: Annotated[bool, flag("resume", "Continue DIR/last.pt.")] = False,
    stage: Annotated[str | None, typer.Option(help="base, refine or both.")] = None,
    data: Annotated[
        str | None, typer.Option(help="Training data kind, e.g. synthetic or folders.")
    ] = None,
    data_root: Annotated[
        Path | None, typer.Option(help="The dataset folder (--data folders).")
    ] = None,
    backgrounds: Annotated[Path | None, typer.Option(help="A folder of background images.")] = None,
    backbone: Backbone = None,
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
    device: Device = "auto",
    workers: Annotated[int, typer.Option(help="Data-loading processes.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Train the model, base then refiner, on synthetic or real data (torchrun for several GPUs)."""
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
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
    with TrainProgress(quiet) as progress:
        result = run_training(
            config, out, device=device, workers=workers, resume=resume, progress=progress,
            meta={"preset": preset},
        )  # fmt: skip
    if result.model_path is not None and not quiet:
        console.print(result.summary(), markup=False, soft_wrap=True)
