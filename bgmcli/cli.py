"""The `bgm` command line: thin Typer commands that parse options, call the library, render.

Every user error (BgmError, bad option) is printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bgmcli import __version__
from bgmcli.errors import BgmError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
console = Console(highlight=False)


class BgmTyper(typer.Typer):
    """Typer app that turns user errors into one line + exit 2 instead of a traceback or panel."""

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("prog_name", "bgm")
        try:
            result = super().__call__(*args, standalone_mode=False, **kwargs)
        except BgmError as exc:
            _fail(str(exc))
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            err_console.print("bgm: interrupted")
            sys.exit(130)
        except typer.TyperException as exc:  # usage errors: bad option values, missing args
            _fail(exc.format_message().replace("\n", " "))
        except KeyboardInterrupt:
            err_console.print("bgm: interrupted")
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str) -> None:
    err_console.print(f"bgm: error: {message}", markup=False)
    sys.exit(2)


app = BgmTyper(
    name="bgm",
    help="High-resolution background matting of video (BackgroundMattingV2) and its ablations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"bgm {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """High-resolution background matting of video (BackgroundMattingV2) and its ablations."""


def _not_yet(command: str, issue: str) -> None:
    raise BgmError(f"`bgm {command}` is not implemented in this version yet ({issue})")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def matte() -> None:
    """Matte a video or images against a clean background plate (not implemented yet)."""
    _not_yet("matte", "the video matting engine")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train() -> None:
    """Train the model, base then refiner, on synthetic or real data (not implemented yet)."""
    _not_yet("train", "training")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ablate() -> None:
    """Run the ablation studies of the paper (not implemented yet)."""
    _not_yet("ablate", "the ablation runner")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench() -> None:
    """Measure model throughput: FPS, latency, memory (not implemented yet)."""
    _not_yet("bench", "the benchmark harness")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def export() -> None:
    """Export a checkpoint to TorchScript or ONNX (not implemented yet)."""
    _not_yet("export", "export")


@app.command()
def info(
    checkpoint: Annotated[Path, typer.Argument(help="Our checkpoint or an official .pth.")],
) -> None:
    """Show a checkpoint's architecture, parameter count, config and origin."""
    from bgmcli.api import load_model

    model = load_model(checkpoint)
    console.print(
        f"{checkpoint}: {model.config.backbone}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )


if __name__ == "__main__":  # pragma: no cover
    app()
