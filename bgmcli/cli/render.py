"""Rendering shared by the commands: progress displays for the engine's and the training loop's
reports, and the tables of `bgm bench` and `bgm info`."""

from __future__ import annotations

from rich import box
from rich.table import Table

from bgmcli.cli.app import err_console


class MatteProgress:
    """Renders the engine's reports: a rich bar (frames, fps, ETA) and one-line warnings."""

    def __init__(self, quiet: bool):
        # rich.progress only when a bar is made: `--help` imports every command module
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )  # fmt: skip

        self.task, self.quiet = None, quiet
        self.bar = Progress(
            TextColumn("matting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[fps]}"), TimeRemainingColumn(),
            console=err_console, disable=quiet or not err_console.is_terminal, transient=True,
        )  # fmt: skip

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self.bar.stop()

    def start(self, total: int | None) -> None:
        self.bar.start()  # only now: errors before the first frame print no empty bar
        self.task = self.bar.add_task("matte", total=total, fps="")

    def advance(self, frames: int) -> None:
        self.bar.advance(self.task, frames)
        speed = self.bar.tasks[self.task].speed
        self.bar.update(self.task, fps=f"{speed:.2f} fps" if speed else "")

    def warn(self, message: str) -> None:
        err_console.print(f"bgm: warning: {message}", markup=False)

    def info(self, message: str) -> None:
        if not self.quiet:
            err_console.print(f"bgm: {message}", markup=False)


def live_summary(stats) -> str:
    """The live part of `bgm matte`'s summary: frames, drops, latency, what was chosen."""
    text = f"; {stats.received} frames received, {stats.matted} matted, {stats.dropped} dropped"
    if stats.received:
        text += f" ({100 * stats.dropped / stats.received:.0f}%)"
    if stats.latency_p50_ms is not None:
        text += f"; latency p50 {stats.latency_p50_ms:.0f} ms, p90 {stats.latency_p90_ms:.0f} ms"
    text += f"; stopped by {stats.stopped_by}"
    if stats.choice is not None:
        text += f"; {stats.choice.describe()}"
        if not stats.choice.keeps_up:
            text += " (cannot keep up: frames are dropped)"
    if stats.plate:
        text += f"; plate {stats.plate}"
    return text


class TrainProgress:
    """Renders training reports: one live line (stage, step, loss, samples/s, ETA) + val lines;
    `plain` (e.g. --json) or no terminal: no live line."""

    def __init__(self, quiet: bool, plain: bool = False):
        from rich.progress import Progress  # only when a bar is made (as MatteProgress)

        self.quiet, self.task = quiet, None
        self.bar = Progress(
            *self.columns(), console=err_console,
            disable=quiet or plain or not err_console.is_terminal, transient=True,
        )  # fmt: skip

    def columns(self) -> tuple:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

        return (TextColumn("{task.fields[stage]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"))  # fmt: skip

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.stop()

    def __call__(self, event) -> None:
        if self.task is None:
            self.task = self.bar.add_task("train", total=event.total, stage="", info="")
        if event.kind == "val":
            m = event.metrics
            if not self.quiet:
                self.bar.console.print(
                    f"{event.stage} step {event.step}: val loss {m['val_loss']:.4f}, "
                    f"MAD {m['mad']:.4f}, Grad {m['grad']:.3f}, fgr L1 {m['fgr_l1']:.4f}"
                    + _upsampled_comparison(m),
                    markup=False,
                )
            return
        eta = f"ETA {event.eta_s:.0f} s" if event.eta_s is not None else ""
        info = f"loss {event.loss:.4f}  {event.samples_per_s:.1f} samples/s  {eta}"
        self.bar.update(self.task, completed=event.step, stage=event.stage, info=info)


class StepProgress(TrainProgress):
    """Work in steps (bench configurations, ablation runs): a rich bar (steps done, the current
    one, ETA) on a terminal, training inside a step on the same display; one plain line per step
    with `plain` (--json) or without a terminal."""

    def __init__(self, name: str, quiet: bool, plain: bool = False):
        super().__init__(quiet, plain)
        self.name, self.steps = name, None
        self.lines = not quiet and self.bar.disable

    def columns(self) -> tuple:
        from rich.progress import TimeRemainingColumn

        return (*super().columns(), TimeRemainingColumn())

    def step(self, done: int, total: int, label: str) -> None:
        if self.lines and done < total:
            err_console.print(f"{self.name} {done + 1}/{total}: {label}", style="dim",
                              markup=False, highlight=False)  # fmt: skip
        elif not self.bar.disable:
            if self.steps is None:
                self.steps = self.bar.add_task(self.name, total=total, stage=self.name, info="")
            self.bar.update(self.steps, completed=done, info=label)


def _upsampled_comparison(m: dict) -> str:
    """Stage refine: the same metrics for the coarse alpha upsampled without the refiner."""
    if "mad_upsampled" not in m:
        return ""
    return (
        f" (upsampled coarse: MAD {m['mad_upsampled']:.4f}, Grad {m['grad_upsampled']:.3f}; "
        f"inside refined patches L1 {m['patch_l1']:.4f} vs {m['patch_l1_upsampled']:.4f})"
    )


BENCH_CONFIG_COLUMNS = {
    "resolution": "resolution", "backbone": "backbone", "backbone_scale": "scale", "k": "k",
    "refine": "refine", "precision": "precision", "device": "device", "batch": "batch",
    "threads": "threads", "compile": "compile", "temporal": "temporal",
    "checkpoint": "checkpoint",
}  # fmt: skip


def bench_table(rows: list[dict]):
    """Configuration columns for what varies (the rest in the caption), then the measurements."""
    varying = [
        key for key in BENCH_CONFIG_COLUMNS
        if key in ("resolution", "backbone") or len({str(r.get(key)) for r in rows}) > 1
    ]  # fmt: skip
    constant = [f"{BENCH_CONFIG_COLUMNS[key]} {rows[0][key]}" for key in BENCH_CONFIG_COLUMNS
                if key not in varying and rows[0].get(key) not in (None, False)]  # fmt: skip
    caption = (
        ", ".join([*constant, f"ms over {rows[0]['iters']} timed iterations"])
        + "; peak MB: RSS increase on CPU, max allocated on CUDA; other CPUs: kept busy by other"
        " processes meanwhile"
    )
    if any(row.get("warning") for row in rows):
        caption += "; ! figures not to be trusted (see the warnings)"
    table = Table(caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for key in varying:
        table.add_column(BENCH_CONFIG_COLUMNS[key], no_wrap=True)
    quality = any(row.get("clip_mad") is not None for row in rows)
    headers = ("FPS", "p50", "p90", "peak MB", "base", "refine", "refined %", "other CPUs")
    for header in headers + (("clip MAD ×1e3", "clip dtSSD") if quality else ()):
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            *(str(row.get(key)) for key in varying),
            f"{row['fps']:.2f}" + (" !" if row.get("warning") else ""),
            f"{row['latency_p50_ms']:.1f}", f"{row['latency_p90_ms']:.1f}",
            _maybe(row["peak_mem_mb"], "{:.0f}"), _maybe(row["base_ms"], "{:.1f}"),
            _maybe(row["refine_ms"], "{:.1f}"), f"{100 * row['refined_fraction']:.2f}",
            _maybe(row.get("other_cpus"), "{:.1f}"),
            *((_maybe(row.get("clip_mad"), "{:.2f}", 1e3), _maybe(row.get("clip_dtssd"), "{:.2f}"))
              if quality else ()),
        )  # fmt: skip
    return table


def _maybe(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "—" if value is None else fmt.format(value * scale)


def info_table(summary: dict, full: bool = False, title: str | None = None):
    """Two columns, in sections: file, architecture, parameters, start weights and the meta's
    top-level facts; `full` adds the config and the nested training metadata."""
    table = Table(
        title=title or summary["path"], box=box.SIMPLE_HEAD, show_header=False, pad_edge=False
    )
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("format", summary["format"])
    table.add_row("file size", f"{summary['file_size'] / 1e6:.1f} MB")
    table.add_row("weights dtype", summary["weights_dtype"])
    table.add_section()
    for key, value in summary["architecture"].items():
        table.add_row(key.replace("_", " "), str(value))
    table.add_section()
    for part, count in summary["parameters"].items():
        table.add_row(f"parameters {part}", f"{count:,}")
    table.add_section()
    if full:
        for key, value in _flatten(summary["config"]).items():
            table.add_row(f"config {key}", str(value))
    table.add_row("config source", summary["config_source"])
    table.add_section()
    start = summary.get("start_weights") or {}
    for key in ("file", "kind", "loaded", "sha256"):
        if key in start and (full or key != "sha256"):
            table.add_row(f"start weights {key}", str(start[key]))
    if start:
        table.add_section()
    meta = _flatten({k: v for k, v in summary["meta"].items() if k != "start_weights"})
    shown = {k: v for k, v in meta.items() if full or "." not in k}
    for key, value in shown.items():
        table.add_row(f"meta {key}", str(value))
    if len(shown) < len(meta):
        table.caption = f"{len(meta) - len(shown)} more rows of training metadata: --full"
    return table


def _flatten(data: dict, prefix: str = "") -> dict:
    """{'refine': {'k': 5}} -> {'refine.k': 5}, for one row per setting."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
