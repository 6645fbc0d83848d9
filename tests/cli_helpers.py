"""Running `bgm` in-process (through the wrapper that turns errors into one line + exit 2)."""

from __future__ import annotations

import pytest

from bgmcli.cli import app


def run_bgm(capsys, *args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `bgm ARGS` run in this process, through the app's own
    error handling."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        app(args=[str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bgm: error:"), err
    for needle in needles:
        assert needle in lines[0], lines[0]
