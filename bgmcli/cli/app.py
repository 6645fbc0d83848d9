"""The `bgm` Typer app: every user error (BgmError, bad option) is printed as one line on stderr
with exit code 2; the consoles the commands render on; help shared by several commands."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer
from rich.console import Console

from bgmcli import __version__
from bgmcli.errors import BgmError, Interrupted, Terminated

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
console = Console(highlight=False)


class BgmTyper(typer.Typer):
    """Typer app that turns user errors into one line + exit 2 instead of a traceback or panel,
    and Ctrl-C or SIGTERM into one line + exit 130 (143)."""

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("prog_name", "bgm")
        _refuse_empty_values(kwargs.get("args", sys.argv[1:]))
        previous = _on_sigterm(_terminate)
        try:
            result = super().__call__(*args, standalone_mode=False, **kwargs)
        except Interrupted as exc:
            _stopped(str(exc), exc.terminated)
        except BgmError as exc:
            _fail(str(exc))
        except typer.Exit as exc:  # Typer's answer to a KeyboardInterrupt is Exit(130)
            if isinstance(exc.__cause__, KeyboardInterrupt):
                _stopped("", isinstance(exc.__cause__, Terminated))
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt) as exc:
            _stopped("", isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated))
        except typer.TyperException as exc:  # usage errors: bad option values, missing args
            message = exc.format_message()
            if not message:  # `bgm` alone: the help, already printed, is the whole answer
                sys.exit(2)
            _fail(message.replace("\n", " "))
        except OSError as exc:  # the environment's (a full disk, a folder gone): not a bug
            _fail(_os_error(exc))
        except MemoryError:
            _fail("out of memory: try a smaller size or batch")
        except RuntimeError as exc:
            if not _is_out_of_memory(exc):
                raise
            _fail(f"out of memory: {_first_line(exc)}; try a smaller size or batch")
        finally:
            _on_sigterm(previous)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str) -> None:
    err_console.print(f"bgm: error: {message}", markup=False)
    sys.exit(2)


def _stopped(message: str, terminated: bool) -> None:
    """Exit 130 (Ctrl-C) or 143 (SIGTERM), the shells' convention, with what was kept."""
    what = "terminated" if terminated else "interrupted"
    err_console.print(f"bgm: {what}" + (f": {message}" if message else ""), markup=False)
    sys.exit(143 if terminated else 130)


def _terminate(signum, frame) -> None:
    raise Terminated()


def _on_sigterm(handler):
    """Install `handler` for SIGTERM and return the one it replaces (None where signals cannot
    be handled: not the main thread)."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. the CLI called from a worker thread)
        return None


def _refuse_empty_values(args) -> None:
    """An empty value is never meant: Path("") is the current folder, "" no size at all."""
    args = list(args or [])
    for i, arg in enumerate(args):
        if arg == "":
            before = args[i - 1] if i and str(args[i - 1]).startswith("-") else "an argument"
            _fail(f"{before}: empty value")
        if str(arg).startswith("--") and str(arg).endswith("="):
            _fail(f"{str(arg)[:-1]}: empty value")


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _is_out_of_memory(exc: RuntimeError) -> bool:
    import torch

    text = str(exc)
    return isinstance(exc, torch.OutOfMemoryError) or "can't allocate memory" in text


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
