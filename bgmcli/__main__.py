"""`python -m bgmcli` runs the same CLI as the `bgm` console script."""

from bgmcli.cli import app

app(prog_name="bgm")
