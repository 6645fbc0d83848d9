"""report.md of `bgm ablate`: the caller's header, the paper overview, and per study its
description, paper verdicts, one table per evaluation set and its plots. The tables are the
same cells as the terminal's (report.py), rendered as GitHub markdown."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from bgmcli.ablate.paper_report import overview_markdown, study_paper_markdown
from bgmcli.ablate.report import (
    PATCH_COUNT_PLOT,
    PATCH_COUNT_STUDY,
    Cell,
    TableData,
    crops_filename,
    legend,
    study_table_data,
)
from bgmcli.atomic import atomic_write


def markdown_report(
    studies: Sequence[dict], rows: Sequence[dict], header: str, plots: Iterable[str] = ()
) -> str:
    """report.md: the caller's header, then an overview of the cross-study plots and a section
    per study (description, one table per eval set, its own plots)."""
    plots = list(plots)
    owned = {plot for study in studies for plot in _study_plots(study, plots)}
    parts = [header.strip(), "", *overview_markdown(studies, rows)]
    overview = [plot for plot in plots if plot not in owned]
    if overview:
        parts += ["## Overview", "", *(_image(plot) for plot in overview), ""]
    for study in studies:
        parts += _study_markdown(study, rows, _study_plots(study, plots))
    return "\n".join(parts).rstrip() + "\n"


def _study_markdown(study: dict, rows: Sequence[dict], plots: list[str]) -> list[str]:
    lines = [f"## {study['name']}", ""]
    if study.get("description"):
        lines += [study["description"], ""]
    lines += study_paper_markdown(study, rows)
    tables = study_table_data(study, rows)
    if not tables:
        lines += ["_No results._", ""]
    for data in tables:
        lines += [f"### {data.title}", "", *_markdown_table(data), ""]
        lines += [line for warning in data.warnings for line in (f"! {warning}", "")]
    if tables:
        lines += ["B" + legend(study, "in **bold**")[1:] + ".", ""]
    lines += [line for plot in plots for line in (_image(plot), "")]
    return lines


def _markdown_table(data: TableData) -> list[str]:
    align = ["---:" if numeric else ":---" for numeric in data.numeric]
    lines = [_md_row(data.headers), _md_row(align)]
    lines += [_md_row([_md_cell(cell) for cell in cells]) for cells in data.rows]
    return lines


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _md_cell(cell: Cell) -> str:
    text = (f"**{cell.value}**" if cell.best else cell.value) + (" !" if cell.warned else "")
    return f"{text} {cell.change}" if cell.change else text


def _study_plots(study: dict, plots: Sequence[str]) -> list[str]:
    """The plots that belong in a study's section: its crops, and patch_count for patch-count."""
    names = {crops_filename(study["name"])}
    if study["name"] == PATCH_COUNT_STUDY:
        names.add(PATCH_COUNT_PLOT)
    return [plot for plot in plots if Path(plot).name in names]


def _image(plot: str) -> str:
    return f"![{Path(plot).stem}]({plot})"


def write_report(
    out: Path, studies: Sequence[dict], rows: Sequence[dict], header: str, plots: Iterable[str]
) -> Path:
    """OUT/report.md, linking only the plots that exist under OUT (relative paths)."""
    out = Path(out)
    existing = [plot for plot in plots if (out / plot).is_file()]
    text = markdown_report(studies, rows, header, existing)
    path = out / "report.md"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
