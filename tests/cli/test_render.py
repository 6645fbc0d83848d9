"""The progress displays of long commands: a bar with an ETA on a terminal, plain lines else."""

from __future__ import annotations

import io

from rich.console import Console

from bgmcli.cli import render


def test_steps_show_as_a_bar_with_eta_on_a_terminal(monkeypatch):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    monkeypatch.setattr(render, "err_console", terminal)
    with render.StepProgress("ablate", quiet=False) as progress:
        progress.step(0, 4, "patch-count/k1000")
        progress.step(1, 4, "patch-count/k5000")
        (task,) = progress.bar.tasks
        assert (task.total, task.completed) == (4, 1)
        line = Console(file=io.StringIO(), width=120, record=True)
        line.print(progress.bar.make_tasks_table(progress.bar.tasks))
        text = line.export_text()
    assert "ablate" in text and "1/4" in text and "patch-count/k5000" in text
    assert any(c.__class__.__name__ == "TimeRemainingColumn" for c in progress.bar.columns)


def test_json_or_no_terminal_gives_one_plain_line_per_step(monkeypatch):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    monkeypatch.setattr(render, "err_console", terminal)
    with render.StepProgress("bench", quiet=False, plain=True) as progress:
        progress.step(0, 2, "config 0")
        progress.step(1, 2, "config 1")
        progress.step(2, 2, "done")
    assert not progress.bar.tasks
    text = terminal.file.getvalue()
    assert "\x1b[2mbench 1/2: config 0" in text and "bench 2/2: config 1" in text  # dim
    assert text.count("\n") == 2


def test_quiet_prints_nothing(monkeypatch):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    monkeypatch.setattr(render, "err_console", terminal)
    with render.StepProgress("ablate", quiet=True) as progress:
        progress.step(0, 1, "x")
    assert terminal.file.getvalue() == ""
