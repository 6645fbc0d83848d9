"""Figures of `bgm ablate` under OUT/plots/: quality against speed, the patch-count sweep and the
hair crops of each study. matplotlib is imported lazily (Agg backend), so the rest of the CLI
never pays for it."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgmcli.ablate.report import (
    COLUMNS,
    PATCH_COUNT_PLOT,
    PATCH_COUNT_STUDY,
    QUALITY_VS_FPS_PLOT,
    crops_filename,
    finite,
)
from bgmcli.atomic import atomic_write

DPI = 100
MAX_BYTES = 300_000  # a report.md with a few plots should stay light in a repository
MARKERS = "osD^vP*Xhp<>"
PANEL_IN = 2.0  # inches per crop panel


def write_plots(out: Path, studies: Sequence[dict], rows: Sequence[dict]) -> list[str]:
    """Write the figures there is data for; returns their paths relative to OUT
    (e.g. "plots/quality_vs_fps.png"), in the order written."""
    out = Path(out)
    plt = _pyplot()
    jobs: list[tuple[str, Callable[[], Any]]] = [
        (QUALITY_VS_FPS_PLOT, functools.partial(_quality_vs_fps, plt, studies, rows)),
        (PATCH_COUNT_PLOT, functools.partial(_patch_count, plt, rows)),
    ]
    jobs += [
        (crops_filename(study["name"]), functools.partial(_crops, plt, out, study, rows))
        for study in studies
    ]
    written = []
    for name, build in jobs:
        fig = build()
        if fig is None:
            continue
        try:
            _save(fig, out / "plots" / name)
        finally:
            plt.close(fig)
        written.append(f"plots/{name}")
    return written


def _pyplot():
    import matplotlib  # matplotlib is slow to import: only when plots are drawn

    matplotlib.use("Agg")  # headless: no display on a training box, and no GUI event loop
    import matplotlib.pyplot as plt  # see above

    return plt


def _save(fig, path: Path) -> None:
    """Atomic PNG; re-rendered at a lower dpi while it is over MAX_BYTES (photographic crops)."""
    dpi = DPI
    for _ in range(4):
        atomic_write(path, lambda tmp, dpi=dpi: fig.savefig(tmp, format="png", dpi=dpi))
        if path.stat().st_size <= MAX_BYTES:
            return
        dpi = int(dpi * 0.7)


def _colors(plt) -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _in_order(values) -> list:
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------- quality vs fps


def speed_key(rows: Sequence[dict]) -> str:
    """The FPS the plots show: at HD, where the paper measured it, when every row has it (the
    `--fps-resolutions` runs); else on the evaluation frames."""
    has_hd = rows and all(finite(row.get("fps_hd")) is not None for row in rows)
    return "fps_hd" if has_hd else "fps"


SPEED_LABELS = {"fps_hd": "FPS at 1920x1080", "fps": "FPS on the evaluation frames"}


def _quality_vs_fps(plt, studies: Sequence[dict], rows: Sequence[dict]):
    """One subplot per eval set: MAD against FPS of every (study, variant), marker per study."""
    rows = [row for row in rows if _mad(row) is not None]
    key = speed_key(rows)
    points = [dict(row, speed=finite(row.get(key))) for row in rows]
    points = [row for row in points if row["speed"] is not None]
    if not points:
        return None
    eval_sets = _in_order(row["eval_set"] for row in points)
    names = _in_order([study["name"] for study in studies] + [row["study"] for row in points])
    colors = _colors(plt)
    ncols = min(len(eval_sets), 2)
    nrows = math.ceil(len(eval_sets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.4 * ncols, 4.8 * nrows), squeeze=False)
    for ax, eval_set in zip(axes.flat, eval_sets, strict=False):
        for i, name in enumerate(names):
            mine = [row for row in points if row["eval_set"] == eval_set and row["study"] == name]
            if mine:
                style = {"marker": MARKERS[i % len(MARKERS)], "color": colors[i % len(colors)]}
                _scatter_study(ax, name, mine, style)
        _annotate(ax, [row for row in points if row["eval_set"] == eval_set])
        _style_speed_axes(ax, eval_set, [row["speed"] for row in points], SPEED_LABELS[key])
    for ax in axes.flat[len(eval_sets) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _mad(row: dict) -> float | None:
    value = finite(row.get("mad"))
    return None if value is None else value * COLUMNS["mad"].scale


def _scatter_study(ax, name: str, rows: list[dict], style: dict) -> None:
    ax.scatter([row["speed"] for row in rows], [_mad(row) for row in rows], label=name, s=36,
               **style)  # fmt: skip


def _annotate(ax, rows: list[dict]) -> None:
    """One label per point; a variant shared by several studies (typically the common baseline)
    is one evaluation drawn several times, so its labels are stacked instead of overprinted."""
    labels: dict[tuple[float, float], list[str]] = {}
    for row in rows:
        point = (row["speed"], _mad(row))
        labels.setdefault(point, []).append(f"{row['study']}/{row['variant']}")
    for point, names in labels.items():
        ax.annotate("\n".join(_in_order(names)), point, xytext=(4, 3),
                    textcoords="offset points", fontsize=7)  # fmt: skip


def _style_speed_axes(ax, eval_set: str, all_fps: list[float], label: str) -> None:
    # A log axis once speeds span an order of magnitude, or the slow variants bunch up.
    if min(all_fps) > 0 and max(all_fps) / min(all_fps) > 10:
        ax.set_xscale("log")
    ax.set_title(eval_set)
    ax.set_xlabel(f"{label} (higher is better)")
    ax.set_ylabel(f"{COLUMNS['mad'].header} (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


# ---------------------------------------------------------------- patch count


def _patch_count(plt, rows: Sequence[dict]):
    """MAD (left axis, solid) and FPS (right axis, dashed) against k, one colour per eval set.
    Rows without refinement (k None) have no place on the k axis and are left out."""
    mine = [row for row in rows if row.get("study") == PATCH_COUNT_STUDY and row.get("k")]
    if not mine:
        return None
    key = speed_key(mine)
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    twin = ax.twinx()
    colors = _colors(plt)
    for i, eval_set in enumerate(_in_order(row["eval_set"] for row in mine)):
        points = sorted((row for row in mine if row["eval_set"] == eval_set), key=lambda r: r["k"])
        color = colors[i % len(colors)]
        _line(ax, points, _mad, "o-", color, f"{eval_set} MAD")
        _line(twin, points, lambda row: finite(row.get(key)), "s--", color, f"{eval_set} FPS")
    ax.set_xlabel("k (refined patches, nominal at HD)")
    ax.set_ylabel(f"{COLUMNS['mad'].header} (solid)")
    twin.set_ylabel(f"{SPEED_LABELS[key]} (dashed)")
    ax.set_title("patch-count: quality and speed against k")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    twin_handles, twin_labels = twin.get_legend_handles_labels()
    ax.legend(handles + twin_handles, labels + twin_labels, fontsize=8)
    fig.tight_layout()
    return fig


def _line(ax, rows: list[dict], value, fmt: str, color: str, label: str) -> None:
    points = [(row["k"], value(row)) for row in rows]
    points = [(k, v) for k, v in points if v is not None]
    if points:
        ax.plot(*zip(*points, strict=True), fmt, color=color, label=label)


# ---------------------------------------------------------------- crops


def _crops(plt, out: Path, study: dict, rows: Sequence[dict]):
    """Grid of OUT/<study>/crops/<eval_set>/{src,truth,<variant>}.png: a row per eval set, a
    column per image kind; missing or unreadable files leave a blank panel, and kinds or eval
    sets with no file at all are dropped."""
    base = out / study["name"] / "crops"
    if not base.is_dir():
        return None
    mine = [row for row in rows if row.get("study") == study["name"]]
    eval_sets = _in_order([row["eval_set"] for row in mine]
                          + sorted(p.name for p in base.iterdir() if p.is_dir()))  # fmt: skip
    kinds = _in_order(["src", "truth", *study.get("variants", []), *(r["variant"] for r in mine)])
    images = {(e, k): _load(base / e / f"{k}.png") for e in eval_sets for k in kinds}
    eval_sets = [e for e in eval_sets if any(images[e, k] is not None for k in kinds)]
    kinds = [k for k in kinds if any(images[e, k] is not None for e in eval_sets)]
    if not eval_sets:
        return None
    fig, axes = plt.subplots(
        len(eval_sets), len(kinds), squeeze=False,
        figsize=(PANEL_IN * len(kinds), PANEL_IN * len(eval_sets) + 0.5),
    )  # fmt: skip
    for r, eval_set in enumerate(eval_sets):
        for c, kind in enumerate(kinds):
            title = f"{kind} (ref)" if kind == study.get("reference") else kind
            _panel(axes[r][c], images[eval_set, kind], title)
        axes[r][0].set_ylabel(eval_set, fontsize=9)
    fig.suptitle(f"{study['name']}: crops (alpha, black = background)", fontsize=10)
    fig.tight_layout()
    return fig


def _load(path: Path):
    """Image as floats in [0, 1], or None when missing or unreadable (a crashed variant)."""
    import matplotlib.image  # matplotlib: only when plots are drawn

    if not path.is_file():
        return None
    try:
        image = matplotlib.image.imread(path)
    except (OSError, ValueError, SyntaxError):
        return None
    if np.issubdtype(image.dtype, np.integer):  # PNGs come back as floats; others may not
        image = image / np.iinfo(image.dtype).max
    return image


def _panel(ax, image, title: str) -> None:
    # Ticks and frame off but the axis kept, so the row's ylabel (eval set) still shows.
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if image is None:
        ax.text(0.5, 0.5, "missing", ha="center", va="center", color="grey", fontsize=8,
                transform=ax.transAxes)  # fmt: skip
    else:
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_title(title, fontsize=8)
