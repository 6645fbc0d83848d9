"""`bgm bench` under faults: sizes beyond memory are refused before any allocation, empty and
non-finite values in one line."""

from __future__ import annotations

import pytest

from bgmcli.model.checkpoint import save_checkpoint
from tests.checkpoint_fixtures import lively_model
from tests.cli.faults import refused
from tests.cli_helpers import run_bgm


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["-r", "99999x99999"], "GiB"),
        (["--batch", "4096"], "GiB"),
        (["-r", "640x480", "--batch", "100000000"], "GiB"),
        (["-r", ""], "empty value"),
        (["--k", ""], "empty value"),
        (["--backbone-scale", "nan"], "scale"),
        (["--backbone-scale", "1/0"], "not a number"),
        (["--batch", "0"], "--batch must be at least 1"),
        (["--threads", "-1"], "--threads must be at least 1"),
        (["--iters", "0"], "--iters must be at least 1"),
        (["--checkpoint", "missing.pt"], "checkpoint not found"),
    ],
)
def test_bad_sizes_and_values_are_one_line_before_any_work(options, needle, capsys):
    assert needle in refused(capsys, "bench", *options)


def test_a_nan_checkpoint_is_refused(tmp_path, capsys):
    model = lively_model(backbone="mobilenetv2")
    model.backbone.features[0][0].weight.data.fill_(float("nan"))
    path = tmp_path / "nan.pt"
    save_checkpoint(path, model)
    code, _, err = run_bgm(capsys, "bench", "-r", "64x48", "--iters", "1", "--checkpoint", path)
    errors = [line for line in err.splitlines() if not line.startswith("bench ")]  # progress
    assert code == 2 and len(errors) == 1 and "NaN or infinite" in errors[0], err
