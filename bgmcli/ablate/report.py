"""The tables of `bgm ablate`: built once as plain cells (text + best flag), rendered to rich here
and to GitHub markdown by report_markdown.py, so the terminal and report.md never disagree.
results.json/csv: results_files.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bgmcli.ablate.seeds import finite, has_spread, separated, spread

REFINED = "refined_fraction"
MINUS = "\N{MINUS SIGN}"

# Plot file names (under OUT/plots/), shared with plots.py so report.md can place each plot.
QUALITY_VS_FPS_PLOT = "quality_vs_fps.png"
PATCH_COUNT_PLOT = "patch_count.png"
PATCH_COUNT_STUDY = "patch-count"


def crops_filename(study: str) -> str:
    """crops_<study>.png, the study name made file-name safe."""
    return "crops_" + re.sub(r"[^A-Za-z0-9._-]+", "_", study) + ".png"


class Column(NamedTuple):
    header: str
    scale: float  # display value = raw value * scale
    fmt: str
    higher_is_better: bool | None  # None: informational, never marked best


# sad, grad and conn arrive already divided by 1000; the others are raw and shown x1e3.
COLUMNS: dict[str, Column] = {
    "mad": Column("MAD ×1e3", 1e3, "{:.2f}", False),
    "sad": Column("SAD (/1e3)", 1.0, "{:.2f}", False),
    "mse": Column("MSE ×1e3", 1e3, "{:.3f}", False),
    "grad": Column("Grad (/1e3)", 1.0, "{:.2f}", False),
    "conn": Column("Conn (/1e3)", 1.0, "{:.2f}", False),
    "fgr_l1": Column("fgr L1 ×1e3", 1e3, "{:.2f}", False),
    "fgr_mse": Column("fgr MSE ×1e3", 1e3, "{:.3f}", False),
    "dtssd": Column("dtSSD", 1.0, "{:.2f}", False),  # a clip's sum over the frame (metrics.py)
    "fps": Column("FPS eval", 1.0, "{:.2f}", True),
    REFINED: Column("refined %", 100.0, "{:.1f}", None),
}

# ---------------------------------------------------------------- neutral table model


@dataclass
class Cell:
    value: str  # the number (or text) itself
    change: str = ""  # relative change vs the reference, e.g. "(−8.2%)"
    best: bool = False
    warned: bool = False  # timed on a busy machine, or unsteady: TableData.warnings says why


@dataclass
class TableData:
    title: str
    headers: list[str]
    numeric: list[bool]  # right-justify these columns
    rows: list[list[Cell]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # why figures marked ! are not trusted


def study_table_data(study: dict, rows: Sequence[dict]) -> list[TableData]:
    """One table per eval set (in order of first appearance) of this study's rows."""
    mine = [row for row in rows if row.get("study") == study["name"]]
    eval_sets = list(dict.fromkeys(row["eval_set"] for row in mine))
    return [
        _table_data(study, [row for row in mine if row["eval_set"] == name]) for name in eval_sets
    ]


def table_keys(study: dict, rows: Sequence[dict]) -> list[str]:
    """The study's columns; `fps` stands for the FPS at each measured size (fps_hd, fps_4k, ...)
    and then on the evaluation frames; the refined fraction last."""
    measured = [k for k in dict.fromkeys(k for row in rows for k in row) if _is_fps_at(k)]
    keys = []
    for key in study.get("columns", []):
        keys += [*measured, key] if key == "fps" else [key]
    return [key for key in keys if key != REFINED] + [REFINED]


def _is_fps_at(key: str) -> bool:
    return key.startswith("fps_") and not key.endswith(("_min", "_max"))


def _table_data(study: dict, rows: list[dict]) -> TableData:
    rows = _ordered(rows, study.get("variants", []))
    keys = table_keys(study, rows)
    first = rows[0]
    title = (
        f"{study['name']} — {first['eval_set']} "
        f"({first.get('frames')} frames, {first.get('width')}x{first.get('height')})"
    )
    table = TableData(
        title=title,
        headers=["variant", "k"] + [column_of(key).header for key in keys],
        numeric=[False, True] + [True] * len(keys),
    )
    reference = _reference_row(study, rows)
    best = {key: _best_values(key, rows) for key in keys}
    for row in rows:
        is_ref = row is reference
        label = f"{row['variant']} (ref)" if is_ref else str(row["variant"])
        cells = [Cell(label), Cell(_k_text(row))]
        for key in keys:
            ref = None if is_ref else reference
            cells.append(_metric_cell(key, row, ref, best[key]))
        table.rows.append(cells)
    table.warnings = list(dict.fromkeys(
        f"{column_of(key).header} of {row['variant']}: {row[f'warning_{key}']}"
        for row in rows for key in keys if row.get(f"warning_{key}")
    ))  # fmt: skip
    return table


def column_of(key: str) -> Column:
    """Known metric, FPS at a size (fps_hd -> "FPS HD"), or a generic unscaled column so an
    unexpected key still renders."""
    if key in COLUMNS:
        return COLUMNS[key]
    if _is_fps_at(key):
        return Column(f"FPS {key[4:].upper() if key[4:] in ('hd', '4k') else key[4:]}", 1.0,
                      "{:.2f}", True)  # fmt: skip
    return Column(key, 1.0, "{:.4g}", None)


def _ordered(rows: list[dict], variants: Sequence[str]) -> list[dict]:
    """The study's variant order (its display order); unknown variants last, as they came."""
    rank = {name: i for i, name in enumerate(variants)}
    return sorted(rows, key=lambda row: rank.get(row["variant"], len(rank)))


def _reference_row(study: dict, rows: list[dict]) -> dict | None:
    for row in rows:
        if row["variant"] == study.get("reference"):
            return row
    return next((row for row in rows if row.get("reference")), None)


def _display(key: str, value: Any) -> str:
    value = finite(value)
    if value is None:
        return "—"
    column = column_of(key)
    return column.fmt.format(value * column.scale)


def _best_values(key: str, rows: list[dict]) -> set[str]:
    """Displayed strings of the best value; compared as displayed so visual ties are all marked.
    Empty when the column is informational, has fewer than two values or all of them tie, or
    (seeds) when the best one's range overlaps another's: no variant is best beyond noise."""
    higher = column_of(key).higher_is_better
    present = [row for row in rows if finite(row.get(key)) is not None]
    values = [finite(row.get(key)) for row in present]
    if higher is None or len(values) < 2:
        return set()
    shown = {_display(key, v) for v in values}
    if len(shown) < 2:
        return set()
    top = present[values.index(max(values) if higher else min(values))]
    if has_spread(top, key) and not all(separated(top, r, key) for r in present if r is not top):
        return set()
    return {_display(key, finite(top[key]))}


def _metric_cell(key: str, row: dict, reference: dict | None, best: set[str]) -> Cell:
    """The value (the mean over seeds, with [min–max], where there are several), its change
    against the reference, and whether that change is within the seeds' spread."""
    text = _display(key, row.get(key))
    marked = text in best
    if has_spread(row, key):
        low, high = spread(row, key)
        text += f" [{_display(key, low)}–{_display(key, high)}]"
    change = ""
    if column_of(key).higher_is_better is not None and reference is not None:
        change = relative_change(row.get(key), reference.get(key))  # not a % of a %
        seeded = has_spread(row, key) or has_spread(reference, key)
        if change and seeded:
            apart = separated(row, reference, key)
            change = change[:-1] + (", beyond spread)" if apart else ", within spread)")
    return Cell(text, change, marked, bool(row.get(f"warning_{key}")))


def relative_change(value: Any, reference: Any) -> str:
    """'(−8.2%)' / '(+3.0%)' vs the reference; '' when either is missing or the reference is 0."""
    value, reference = finite(value), finite(reference)
    if value is None or reference is None or reference == 0:
        return ""
    pct = round(100.0 * (value - reference) / abs(reference), 1)
    if pct == 0:
        return "(±0.0%)"
    return f"({pct:+.1f}%)".replace("-", MINUS)


def _k_text(row: dict) -> str:
    """Nominal k (at HD); the effective k too when the eval resolution scaled it."""
    k, k_eff = row.get("k"), row.get("k_effective")
    if k is None:
        return "—"
    if k_eff is not None and k_eff != k:
        return f"{k} (eff {k_eff})"
    return str(k)


def legend(study: dict, best: str) -> str:
    ref = study.get("reference")
    text = f"best per column {best}"
    text = f"{text}; (±x%): change relative to the reference {ref}" if ref else text
    return text + (
        "; [a–b]: min–max over the seeds (FPS at a size: over its timed runs); "
        "within spread: the two ranges overlap, so the difference is not a finding; "
        "beyond spread: they do not"
    )


# ---------------------------------------------------------------- rich


def study_tables(study: dict, rows: Sequence[dict], width: int | None = None) -> list[Table]:
    """Rich tables of one study, one per eval set; the best value of a column is bold with a '*'
    suffix so it still shows in plain (non-colour) output. With `width`, cells wrap before their
    parentheses and the metric columns that still do not fit beside the variant names go to
    further tables (titled 1/2, 2/2...): no name or number is ever cut."""
    tables = []
    for data in study_table_data(study, rows):
        widths = [_compact_width(data, index) for index in range(len(data.headers))]
        metrics = list(range(2, len(data.headers)))
        groups = _column_groups(widths, metrics, width) if width else [metrics]
        for number, group in enumerate(groups, 1):
            title = data.title if len(groups) == 1 else f"{data.title} ({number}/{len(groups)})"
            caption = None
            if number == len(groups):
                caption = "; ".join([legend(study, "marked *"), *_warning_notes(data)])
            columns = [0, 1, *group]
            tables.append(_rich_table(data, columns, title, caption, width and widths))
    return tables


def _warning_notes(data: TableData) -> list[str]:
    return [f"! {warning}" for warning in data.warnings]


def _column_groups(widths: list[int], metrics: list[int], width: int) -> list[list[int]]:
    """The metric columns in runs whose compact widths fit in `width` beside variant and k."""
    gap = 3  # between two columns: padding, the (blank) rule, padding
    edges = 2
    groups: list[list[int]] = [[]]
    used = edges + widths[0] + gap + widths[1]
    for index in metrics:
        if groups[-1] and used + gap + widths[index] > width:
            groups.append([])
            used = edges + widths[0] + gap + widths[1]
        groups[-1].append(index)
        used += gap + widths[index]
    return groups


def _compact_width(data: TableData, index: int) -> int:
    """A column's width with each cell wrapped before its parentheses ("(eff 250)", "(−8.2%)");
    variant names (the first column) whole."""
    parts = [data.headers[index]]
    for cells in data.rows:
        text = _cell_text(cells[index])
        parts += [text] if index == 0 else _parts(text)
    return max(cell_len(part) for part in parts)


def _rich_table(
    data: TableData, columns: list[int], title: str, caption: str | None, widths: list[int] | None
) -> Table:
    """The `columns` of `data`; with `widths`, each column that wide, its cells broken into lines
    between their parts (value, [min–max], change) and never inside one."""

    table = Table(
        title=title, caption=escape(caption) if caption else None, box=box.SIMPLE_HEAD,
        pad_edge=False,
    )  # fmt: skip
    for index in columns:
        justify = "right" if data.numeric[index] else "left"
        width = widths[index] if widths else None
        table.add_column(data.headers[index], justify=justify, no_wrap=index == 0, width=width)
    for cells in data.rows:
        table.add_row(*(_rich_cell(cells[i], widths[i] if widths else None) for i in columns))
    return table


def _cell_text(cell: Cell) -> str:
    text = cell.value + ("*" if cell.best else "") + (" !" if cell.warned else "")
    return f"{text} {cell.change}" if cell.change else text


def _rich_cell(cell: Cell, width: int | None = None):

    lines = [_cell_text(cell)]
    if width is not None:
        lines = []
        for part in _parts(_cell_text(cell)):
            joined = f"{lines[-1]} {part}" if lines else part
            if lines and cell_len(joined) <= width:
                lines[-1] = joined
            else:
                lines.append(part)
    return Text("\n".join(lines), style="bold" if cell.best else "")


def _parts(text: str) -> list[str]:
    """A cell's text split before each parenthesis: '1000 (eff 250)' -> ['1000', '(eff 250)']."""
    return re.split(r" (?=\()", text)
