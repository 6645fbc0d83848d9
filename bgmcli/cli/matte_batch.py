"""`bgm matte` on many shots: notes on what folders picked, a progress bar over the shots, then a
table (shot, frames, fps, status, warnings or error) and where batch.json went; exit 0 / 1."""

from __future__ import annotations

import typer

from bgmcli.cli.app import console, err_console

STATUS_STYLES = {"done": "green", "skipped": "cyan", "failed": "bold red", "not run": "yellow"}


class BatchProgress:
    """Renders a batch's reports: shots done of N and, for a shot run in this process, its
    frames. Warnings are not printed as they come: each shot's go in its table row."""

    def __init__(self, quiet: bool):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=err_console, disable=quiet or not err_console.is_terminal, transient=True,
        )  # fmt: skip
        self.shots = self.frames = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.stop()

    def start(self, todo: int) -> None:
        self.bar.start()
        self.shots = self.bar.add_task("shots", total=todo)

    def shot(self, shot):
        if self.frames is not None:
            self.bar.remove_task(self.frames)
        self.frames = self.bar.add_task(f"  {shot.name}", total=None)
        return _ShotFrames(self.bar, self.frames)

    def finished(self, row) -> None:
        self.bar.advance(self.shots)


class _ShotFrames:
    """The Reporter of one shot run in this process."""

    def __init__(self, bar, task):
        self.bar, self.task = bar, task

    def start(self, total: int | None) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, frames: int) -> None:
        self.bar.advance(self.task, frames)

    def warn(self, message: str) -> None:
        pass


def run_and_report(plan, options, quiet: bool) -> None:
    """Runs the batch and prints its table; exit 1 when a shot failed."""
    from bgmcli.batch.runner import run_batch

    if not quiet:
        for note in plan.notes:
            err_console.print(f"bgm: note: {note}", markup=False)
    with BatchProgress(quiet) as progress:
        rows = run_batch(plan.shots, options, progress)
    if not quiet:
        console.print(batch_table(rows, options.report_path))
    if any(row["status"] == "failed" for row in rows):
        raise typer.Exit(1)


def batch_table(rows: list[dict], report_path):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed")}
    caption = ", ".join(f"{n} {s}" for s, n in counts.items())
    table = Table(
        caption=caption + (f"; rows in {report_path}" if report_path else ""),
        box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    for header, justify in (("shot", "left"), ("frames", "right"), ("fps", "right"),
                            ("status", "left"), ("warnings / error", "left")):  # fmt: skip
        table.add_column(header, justify=justify, overflow="fold")
    for row in rows:
        notes = ([row["error"]] if row["error"] else []) + row["warnings"]
        table.add_row(
            Text(row["shot"]), "" if row["frames"] is None else str(row["frames"]),
            "" if row["fps"] is None else f"{row['fps']:.2f}",
            Text(row["status"], style=STATUS_STYLES.get(row["status"], "")), Text("; ".join(notes)),
        )  # fmt: skip
    return table
