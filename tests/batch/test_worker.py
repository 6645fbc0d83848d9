"""One shot's outcome as a row: a bad input is a failed row at once (the same on every try);
an unexpected error is raised where Ray should retry the task, a failed row elsewhere."""

from pathlib import Path

import pytest

from bgmcli.batch.plan import Shot
from bgmcli.batch.worker import matte_shot
from bgmcli.engine import matte as engine_matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.errors import BgmError

SHOT = Shot("a", MatteConfig(input=Path("a.mp4"), background=Path("a.png")))


def failing(exc):
    def run_matte(config, report):
        report.warn("plate resized")
        raise exc

    return run_matte


def test_a_bad_input_is_a_failed_row_on_one_line_even_under_ray(monkeypatch):
    monkeypatch.setattr(engine_matte, "run_matte", failing(BgmError("input a.mp4:\n damaged")))
    row = matte_shot(SHOT, raise_unexpected=True)
    assert (row["status"], row["error"], row["warnings"]) == (
        "failed", "input a.mp4: damaged", ["plate resized"],
    )  # fmt: skip


def test_an_unexpected_error_is_raised_for_a_retry_or_kept_as_a_row(monkeypatch):
    monkeypatch.setattr(engine_matte, "run_matte", failing(RuntimeError("CUDA error: launch")))
    with pytest.raises(RuntimeError):
        matte_shot(SHOT, raise_unexpected=True)
    row = matte_shot(SHOT)
    assert (row["status"], row["error"]) == ("failed", "RuntimeError: CUDA error: launch")
