"""The `bgm` Typer app: every user error (BgmError, bad option) is printed as one line on stderr
with exit code 2; the consoles the commands render on; help shared by several commands."""

from __future__ import annotations

import sys
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
            message = exc.format_message()
            if not message:  # `bgm` alone: the help, already printed, is the whole answer
                sys.exit(2)
            _fail(message.replace("\n", " "))
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
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Show the version."
        ),
    ] = False,
) -> None:
    """High-resolution background matting of video (BackgroundMattingV2) and its ablations."""
