"""`bgm info`: what a checkpoint holds (bgmcli.model.checkpoint_info), as a table or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console
from bgmcli.cli.options import CHECKPOINT_HELP, Backbone, Json
from bgmcli.cli.render import info_table


@app.command()
def info(
    checkpoint: Annotated[Path, typer.Argument(help=CHECKPOINT_HELP, show_default=False)],
    backbone: Backbone = None,
    as_json: Json = False,
) -> None:
    """Show a checkpoint's architecture, parameter count, config and origin."""
    from bgmcli.model.checkpoint_info import describe_checkpoint

    summary = describe_checkpoint(checkpoint, backbone=backbone)
    if as_json:
        import json

        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        console.print(info_table(summary))
