"""One shot run where a batch puts it (this process, a spawned worker or a Ray task), its
outcome as a row: status, frames, fps, warnings, and a failure as one line."""

from __future__ import annotations

import os
import time
from typing import Any

from bgmcli.engine.plate_forms import plate_label
from bgmcli.errors import BgmError

Row = dict[str, Any]  # plain data: it crosses process and machine boundaries and goes to JSON


def init_worker(threads: int) -> None:
    """A worker process's torch threads (its share of the cores), set before torch loads."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


class _Warnings:
    """A Reporter that keeps the warnings (they go in the row) and passes the rest on."""

    def __init__(self, progress=None):
        self.progress, self.messages = progress, []

    def start(self, total: int | None) -> None:
        if self.progress is not None:
            self.progress.start(total)

    def advance(self, frames: int) -> None:
        if self.progress is not None:
            self.progress.advance(frames)

    def warn(self, message: str) -> None:
        self.messages.append(message)


def shot_row(shot, status: str, **fields) -> Row:
    config = shot.config
    row = {
        "shot": shot.name, "input": str(config.input), "plate": plate_label(config),
        "status": status, "frames": None, "fps": None, "seconds": None, "outputs": [],
        "flicker": None, "temporal": None, "warnings": [], "error": None,
    }  # fmt: skip
    row.update(fields)
    return row


def one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, BgmError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def matte_shot(shot, *, threads: int | None = None, progress=None, raise_unexpected=False) -> Row:
    """run_matte on one shot. A BgmError (a bad input: the same every time) is a failed row;
    other exceptions too, unless `raise_unexpected` (Ray then retries the task)."""
    from bgmcli.engine.matte import run_matte

    if threads:
        import torch

        torch.set_num_threads(threads)
    report, began = _Warnings(progress), time.perf_counter()
    try:
        result = run_matte(shot.config, report)
    except Exception as exc:
        if raise_unexpected and not isinstance(exc, BgmError):
            raise
        return shot_row(shot, "failed", error=one_line(exc), warnings=report.messages,
                        seconds=round(time.perf_counter() - began, 3))  # fmt: skip
    return shot_row(
        shot, "done", frames=result.frames, fps=round(result.fps, 3),
        seconds=round(result.wall_s, 3), outputs=[str(p) for p in result.outputs],
        flicker=result.flicker, temporal=result.temporal, warnings=report.messages,
        **_built_plate(result),
    )  # fmt: skip


def _built_plate(result) -> dict:
    """--bg auto: the plate built and the share of the frame its background was seen over."""
    coverage = result.plate.coverage if result.plate is not None else None
    if coverage is None:
        return {}
    return {"plate": str(coverage.plate_path), "plate_seen": round(coverage.seen_share, 4)}
