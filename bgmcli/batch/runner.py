"""A batch run: complete shots skipped, the rest run in this process, in N spawned processes
(cores split between them) or on Ray; `batch.json` rewritten as each shot ends."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from bgmcli.atomic import atomic_write
from bgmcli.batch.plan import Shot
from bgmcli.batch.resume import outputs_state
from bgmcli.batch.worker import Row, init_worker, matte_shot, one_line, shot_row
from bgmcli.errors import BgmError


class BatchReporter(Protocol):
    """How a batch reports (the CLI renders it; tests record it)."""

    def start(self, todo: int) -> None: ...  # shots that will run (not skipped)

    def shot(self, shot: Shot):  # a shot starts in this process: a Reporter for its frames, or None
        ...

    def finished(self, row: Row) -> None: ...


@dataclass(frozen=True, kw_only=True)
class BatchOptions:
    jobs: int = 1  # shots at once on this machine
    threads: int | None = None  # torch threads per shot (None: the cores split between jobs)
    cluster: str | None = None  # None, or a Ray address ("" for the default)
    report_path: Path | None = None  # batch.json
    shard: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise BgmError(f"--jobs must be at least 1, got {self.jobs}")
        if self.threads is not None and self.threads < 1:
            raise BgmError(f"--threads must be at least 1, got {self.threads}")

    def threads_per_shot(self) -> int | None:
        """Torch threads of a shot run here: given, or the cores split between the jobs
        (None: torch's default in this process, or what a Ray task was given)."""
        if self.threads is not None or self.cluster is not None or self.jobs == 1:
            return self.threads
        return max(1, cores() // self.jobs)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_batch(shots: list[Shot], options: BatchOptions, report: BatchReporter) -> list[Row]:
    """Every shot's row, in the order listed; one shot's failure is its row, not the batch's."""
    began = time.perf_counter()
    rows: list[Row | None] = [None] * len(shots)
    todo: list[tuple[int, Shot]] = []
    for index, shot in enumerate(shots):
        rows[index], shot = _skip_or_prepare(shot)
        if rows[index]["status"] == "pending":
            todo.append((index, shot))
    if options.cluster is None:  # a job per shot at most: the cores are split between those
        options = replace(options, jobs=max(1, min(options.jobs, len(todo))))
    save = _saver(rows, options, began)
    save()
    report.start(len(todo))

    def finished(index: int, row: Row) -> None:
        row["warnings"] = rows[index]["warnings"] + row["warnings"]
        rows[index] = row
        save()
        report.finished(row)

    try:
        _backend(options)(todo, options, report, finished)
    except BaseException:
        for index, row in enumerate(rows):
            if row["status"] == "pending":
                rows[index] = {**row, "status": "not run", "error": "the batch was interrupted"}
        save()
        raise
    return rows


def _skip_or_prepare(shot: Shot) -> tuple[Row, Shot]:
    """A skipped row for a complete shot; else a pending one (redone over partial leftovers)."""
    if shot.config.overwrite:
        return shot_row(shot, "pending"), shot
    state, frames = outputs_state(shot.config)
    if state == "complete":
        return shot_row(shot, "skipped", frames=frames, warnings=["outputs complete"]), shot
    if state == "some":
        redo = replace(shot, config=replace(shot.config, overwrite=True))
        return shot_row(shot, "pending", warnings=["some outputs were missing: redone"]), redo
    return shot_row(shot, "pending"), shot


def _saver(rows: list[Row], options: BatchOptions, began: float) -> Callable[[], None]:
    def save() -> None:
        if options.report_path is None:
            return
        counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed")}
        summary = {
            "shots": len(rows), **counts, "wall_s": round(time.perf_counter() - began, 3),
            "jobs": options.jobs, "threads": options.threads_per_shot(),
            "backend": "local" if options.cluster is None else "ray",
            "shard": None if options.shard is None else "{}/{}".format(*options.shard),
        }  # fmt: skip
        text = json.dumps({"summary": summary, "shots": rows}, indent=2) + "\n"
        try:
            atomic_write(options.report_path, lambda tmp: tmp.write_text(text))
        except OSError as exc:
            raise BgmError(f"cannot write {options.report_path}: {exc.strerror or exc}") from None

    return save


def _backend(options: BatchOptions):
    if options.cluster is not None:
        from bgmcli.batch.ray_backend import run_on_ray

        return run_on_ray
    return _in_process if options.jobs == 1 else _in_processes


def _in_process(todo, options: BatchOptions, report: BatchReporter, finished) -> None:
    for index, shot in todo:
        finished(index, matte_shot(shot, threads=options.threads, progress=report.shot(shot)))


def _in_processes(todo, options: BatchOptions, report: BatchReporter, finished) -> None:
    """Spawned processes (torch's thread pool is per process), each with its share of cores."""
    import multiprocessing

    threads = options.threads_per_shot()
    context = multiprocessing.get_context("spawn")  # fork would copy torch's threads and locks
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=init_worker,
                             initargs=(threads,)) as pool:  # fmt: skip
        futures = {pool.submit(matte_shot, shot): (index, shot) for index, shot in todo}
        try:
            for future in as_completed(futures):
                index, shot = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # the worker process died (killed, out of memory)
                    row = shot_row(shot, "failed", error=f"worker process lost: {one_line(exc)}")
                finished(index, row)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
