"""The `bgm` command line: one module per command, each thin (parse options -> build a config ->
call the library -> render); `app` holds the Typer app and its one-line errors, `render` the
progress displays and tables."""

import importlib

from bgmcli.cli.app import app

COMMANDS = ("matte", "train", "ablate", "bench", "export", "info")  # the order of `bgm --help`
for _command in COMMANDS:  # importing a command's module registers it on `app`
    importlib.import_module(f"bgmcli.cli.{_command}")

__all__ = ["app"]
