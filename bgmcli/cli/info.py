"""`bgm info`: what a checkpoint holds (bgmcli.model.checkpoint_info), as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console
from bgmcli.cli.options import CHECKPOINT_HELP, Backbone, Json, flag
from bgmcli.cli.render import info_table


@app.command()
def info(
    checkpoint: Annotated[
        Path | None,
        typer.Argument(help=f"{CHECKPOINT_HELP} (default: the bundled model)", show_default=False),
    ] = None,
    backbone: Backbone = None,
    full: Annotated[bool, flag("full", "Also the config and all the training metadata.")] = False,
    as_json: Json = False,
) -> None:
    """Show a checkpoint's architecture, parameter count and origin (default: the bundled
    model's); --full adds its config and training metadata, --json prints everything."""
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
    from bgmcli.loading import bundled_model_path
    from bgmcli.model.checkpoint_info import describe_checkpoint

    path = checkpoint if checkpoint is not None else bundled_model_path()
    summary = describe_checkpoint(path, backbone=backbone)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        title = None if checkpoint is not None else f"the bundled model: {path}"
        console.print(info_table(summary, full=full, title=title))
        if checkpoint is None:
            card = path.parent / "README.md"
            console.print(f"how it was trained and measured: {card}", markup=False, soft_wrap=True)
