"""`bgm ablate` outputs: results.json/csv, the rich and markdown tables, and the plots."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from bgmcli.ablate.plots import write_plots
from bgmcli.ablate.report import relative_change, study_tables
from bgmcli.ablate.report_markdown import markdown_report, write_report
from bgmcli.ablate.results_files import ROW_KEYS, write_results

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PATCH = {
    "name": "patch-count",
    "description": "How many patches the refiner gets.",
    "reference": "k5000",
    "columns": ["mad", "sad", "fgr_l1", "fps"],
    "variants": ["k1000", "k5000", "k10000"],
}
BACKBONE = {
    "name": "backbone",
    "description": "Encoder choice.",
    "reference": "resnet50",
    "columns": ["mad", "fps"],
    "variants": ["resnet50", "mobilenetv2"],
}


def _row(study, variant, eval_set, *, k=5000, mad=0.013, fps=20.0, fgr_l1=0.004, ref=False):
    return {
        "study": study, "variant": variant, "reference": ref, "eval_set": eval_set,
        "k": k, "k_effective": k, "backbone": "resnet50", "aspp": True, "refine": "sampling",
        "frames": 10, "width": 1920, "height": 1080, "mad": mad, "sad": 12.5, "mse": 0.002,
        "grad": 3.0, "conn": 11.0, "fgr_l1": fgr_l1, "fgr_mse": float("nan"), "fps": fps,
        "refined_fraction": 0.0625, "checkpoint": "/ckpt/model.pt",
    }  # fmt: skip


def _rows():
    rows = []
    for eval_set in ("synthetic-hd", "alphamatting-lowres"):
        rows += [
            # Listed out of display order on purpose: tables follow the study's variant order.
            _row("patch-count", "k10000", eval_set, k=10000, mad=0.01231, fps=12.0),
            _row("patch-count", "k5000", eval_set, k=5000, mad=0.0130, fps=20.0, ref=True),
            _row("patch-count", "k1000", eval_set, k=1000, mad=0.0152, fps=30.0,
                 fgr_l1=float("nan")),
            _row("backbone", "resnet50", eval_set, mad=0.0130, fps=20.0, ref=True),
            _row("backbone", "mobilenetv2", eval_set, mad=0.0160, fps=35.0),
        ]  # fmt: skip
    return rows


def _text(table) -> str:
    console = Console(record=True, width=200)
    console.print(table)
    return console.export_text()


def test_results_round_trip_nan_as_null(tmp_path):
    rows = _rows()
    write_results(tmp_path, rows)
    loaded = json.loads((tmp_path / "results.json").read_text())
    assert len(loaded) == len(rows)
    assert loaded[2]["fgr_l1"] is None and loaded[0]["fgr_mse"] is None
    assert loaded[0]["mad"] == pytest.approx(0.01231) and loaded[0]["k"] == 10000
    with open(tmp_path / "results.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ROW_KEYS
        csv_rows = list(reader)
    assert csv_rows[2]["fgr_l1"] == "" and float(csv_rows[0]["mad"]) == pytest.approx(0.01231)
    assert not list(tmp_path.glob("*.partial"))


def test_relative_change_text():
    assert relative_change(0.01231, 0.0130) == "(\N{MINUS SIGN}5.3%)"
    assert relative_change(30.0, 20.0) == "(+50.0%)"
    assert relative_change(1.0, 1.0) == "(±0.0%)"
    assert relative_change(float("nan"), 1.0) == relative_change(1.0, 0.0) == ""


def test_rich_table_best_and_change():
    tables = study_tables(PATCH, _rows())
    assert len(tables) == 2  # one per eval set
    text = _text(tables[0])
    assert "patch-count — synthetic-hd (10 frames, 1920x1080)" in text
    assert "12.31* (\N{MINUS SIGN}5.3%)" in text  # best MAD, 5.3% below the reference
    assert "30.00* (+50.0%)" in text  # best FPS is the highest
    assert "k5000 (ref)" in text and "refined %" in text and "6.2" in text
    lines = [line for line in text.splitlines() if line.lstrip().startswith("k")]
    assert [line.split()[0] for line in lines] == ["k1000", "k5000", "k10000"]
    mad_cells = list(tables[0].columns[2].cells)
    assert [cell.style for cell in mad_cells] == ["", "", "bold"]
    assert "—" in str(list(tables[0].columns[4].cells)[0])  # NaN fgr_l1


def _seeded_rows():
    """Two seeds per variant, FPS at HD and 4K: the widest cells a study table gets."""
    rows = []
    for variant, k in (("k1000", 1000), ("k5000", 5000), ("k10000", 10000)):
        row = _row("patch-count", variant, "synthetic-hd", k=k, mad=0.013 * 5000 / k,
                   ref=k == 5000)  # fmt: skip
        row.update(seeds=2, k_effective=k // 4, fps_hd=30.0 - k / 1000, fps_4k=8.0 - k / 4000)
        for key in ("mad", "sad", "fgr_l1", "fps", "fps_hd", "fps_4k"):
            row[f"{key}_min"], row[f"{key}_max"] = row[key] * 0.97, row[key] * 1.02
        rows.append(row)
    return rows


def test_tables_at_80_columns_show_every_variant_name_whole():
    tables = study_tables(PATCH, _seeded_rows(), width=80)
    assert len(tables) > 1  # the metrics did not fit beside the names in one table
    console = Console(record=True, width=80)
    for table in tables:
        console.print(table)
    text = console.export_text()
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    for table in tables:
        names = [str(cell) for cell in table.columns[0].cells]
        assert names == ["k1000", "k5000 (ref)", "k10000"]
    for piece in ("12.50 [12.12–12.75]", "(+400.0%, beyond spread)", "10000", "(eff 2500)"):
        assert piece in text  # each number and change whole, on one line
    headers = [column.header for table in tables for column in table.columns[2:]]
    assert headers.count("MAD ×1e3") == 1 and "FPS 4K" in headers and "refined %" in headers
    assert "(1/" in tables[0].title and tables[-1].caption and not tables[0].caption


def test_fps_timed_on_a_busy_machine_is_marked_and_explained():
    rows = _rows()
    rows[2]["warning_fps"] = "other processes kept 1.8 of 2 CPUs busy: figures may be low"
    (table, _) = study_tables(PATCH, rows)
    text = _text(table)
    assert "30.00* ! (+50.0%)" in text  # k1000's FPS
    assert "! FPS eval of k1000: other processes kept 1.8 of 2 CPUs busy" in table.caption
    md = markdown_report([PATCH], rows, "# Ablation", [])
    assert "! FPS eval of k1000: other processes kept 1.8 of 2 CPUs busy" in md


def test_markdown_tables_bold_best_and_plot_links(tmp_path):
    (tmp_path / "plots").mkdir()
    for name in ("quality_vs_fps.png", "patch_count.png"):
        (tmp_path / "plots" / name).write_bytes(PNG_SIGNATURE)
    plots = ["plots/quality_vs_fps.png", "plots/patch_count.png", "plots/crops_backbone.png"]
    path = write_report(tmp_path, [PATCH, BACKBONE], _rows(), "# Ablation\n\ncmd: bgm", plots)
    md = path.read_text()
    assert md.startswith("# Ablation\n\ncmd: bgm")
    assert "## patch-count\n\nHow many patches the refiner gets." in md
    assert "### patch-count — alphamatting-lowres (10 frames, 1920x1080)" in md
    assert "| k10000 | 10000 | **12.31** (\N{MINUS SIGN}5.3%) |" in md
    assert "| k5000 (ref) | 5000 | 13.00 |" in md
    overview, rest = md.split("\n## patch-count\n")
    patch_section = rest.split("\n## backbone\n")[0]
    assert "![quality_vs_fps](plots/quality_vs_fps.png)" in overview
    assert "![patch_count](plots/patch_count.png)" in patch_section
    assert "crops_backbone" not in md  # not on disk
    assert markdown_report([BACKBONE], [], "h").count("_No results._") == 1


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.mark.slow  # matplotlib draws every plot
def test_plots_written_with_crops_and_missing_skipped(tmp_path):
    ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (24, 1))
    crops = tmp_path / "patch-count" / "crops"
    _png(crops / "synthetic-hd" / "src.png", np.stack([ramp] * 3, axis=-1))
    _png(crops / "synthetic-hd" / "truth.png", ramp)
    _png(crops / "synthetic-hd" / "k1000.png", ramp)
    _png(crops / "synthetic-hd" / "k5000.png", ramp[::-1])  # k10000.png missing
    (crops / "alphamatting-lowres").mkdir()
    (crops / "alphamatting-lowres" / "k5000.png").write_bytes(b"not a png")  # unreadable
    (tmp_path / "backbone" / "crops").mkdir(parents=True)  # a study with no crop files

    rows = _rows()
    rows.append(_row("patch-count", "none", "synthetic-hd", k=None, mad=math.nan))
    written = write_plots(tmp_path, [PATCH, BACKBONE], rows)
    assert written == [
        "plots/quality_vs_fps.png", "plots/patch_count.png", "plots/crops_patch-count.png"
    ]  # fmt: skip
    for rel in written:
        data = (tmp_path / rel).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and 0 < len(data) < 300_000
    assert not list((tmp_path / "plots").glob("*.partial"))


def test_no_plots_without_data(tmp_path):
    assert write_plots(tmp_path, [BACKBONE], []) == []


def test_plots_show_fps_at_hd_when_every_row_has_it():
    from bgmcli.ablate.plots import speed_key

    hd = [{"fps": 3.0, "fps_hd": 1.2}, {"fps": 2.0, "fps_hd": 0.9}]
    assert speed_key(hd) == "fps_hd"
    assert speed_key([*hd, {"fps": 1.0}]) == "fps"  # one variant without the HD figure
    assert speed_key([{"fps": 1.0, "fps_hd": None}]) == "fps"
