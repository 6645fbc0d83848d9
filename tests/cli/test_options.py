"""The options several commands share are one declaration: one parser, one error, one help."""

from __future__ import annotations

import pytest

from bgmcli.cli import COMMANDS
from tests.cli_helpers import assert_one_line_error, run_bgm

# Each command with what it needs before the option under test is parsed.
SCALE_USERS = [
    ["matte", "in.mp4", "--bg", "bg.png"],
    ["export", "model.pt", "--format", "onnx", "--output", "m.onnx"],
    ["bench"],
]


@pytest.mark.parametrize("command", SCALE_USERS, ids=lambda c: c[0])
def test_backbone_scale_has_one_parser_everywhere(capsys, command):
    code, _, err = run_bgm(capsys, *command, "--backbone-scale", "1/x")
    assert_one_line_error(code, err, "--backbone-scale '1/x' is not a number such as 1/4")


@pytest.mark.parametrize("command", SCALE_USERS, ids=lambda c: c[0])
def test_k_has_one_parser_everywhere(capsys, command):
    code, _, err = run_bgm(capsys, *command, "--k", "many")
    assert_one_line_error(code, err, "'--k': 'many' is not a whole number")


def test_bench_sweeps_take_the_single_options_values(capsys):
    from bgmcli.bench.sweep import plan_sweep
    from bgmcli.cli.options import flat

    assert flat([[0.25, 0.125], [0.5]]) == [0.25, 0.125, 0.5]
    assert flat(None) == []
    (config,) = plan_sweep(resolution=["640x360"], backbone_scale=[0.125], k=[7])
    assert (config.backbone_scale, config.k) == (0.125, 7)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_on_off_flags_as_flag_and_no_flag(capsys, command):
    code, out, _ = run_bgm(capsys, command, "--help")
    assert code == 0
    # Typer's own --help row is the only one that may show a type for a flag (--align becomes a
    # choice, auto|on|off, in its own change).
    typed = [line for line in out.splitlines() if "<bool>" in line]
    assert all("--help" in line or "--align" in line for line in typed), out
    if command in ("matte", "train", "ablate"):
        assert "--no-quiet" in out


def test_no_arguments_prints_the_help_and_no_empty_error(capsys):
    code, out, err = run_bgm(capsys)
    assert code == 2
    assert "Usage: bgm" in out and "matte" in out
    assert "error" not in err
