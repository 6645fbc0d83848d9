"""Turn a gpu_sweep.sh output folder (ours_*.json, ref_*.json, steps.tsv, env.json) into
summary.md and rows.json: ours vs the reference per configuration, and issue 7's GPU goals.
Usage: python benchmarks/sweep_report.py OUTDIR"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# (resolution, backbone, precision, batch): fps goal, best of eager and compiled
GOALS = {
    ("hd", "resnet50", "fp16", 1): 550,
    ("4k", "mobilenetv2", "fp16", 1): 250,
    ("hd", "mobilenetv2", "fp16", 8): 800,
}


def load_rows(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.json")):
        if not path.name.startswith(("ours_", "ref_")):
            continue
        found = _read_json(path, [])  # empty or cut short: a step that failed or timed out
        impl = "ours" if path.name.startswith("ours_") else "reference"
        rows += [{**row, "impl": impl, "step": path.stem} for row in found]
    return rows


def key(row: dict) -> tuple:
    mode = "compiled" if row["compile"] else "eager"
    return (row["resolution"], row["backbone"], row["precision"], row["batch"], mode)


def comparison_table(rows: list[dict]) -> list[str]:
    by_key: dict[tuple, dict] = {}
    for row in rows:
        by_key.setdefault(key(row), {})[row["impl"]] = row
    lines = [
        "| resolution | backbone | precision | batch | mode | ours fps | reference fps | ratio "
        "| ours p50 ms | reference p50 ms | ours peak MB | reference peak MB |",
        "|" + "---|" * 12,
    ]
    for k in sorted(by_key):
        ours, ref = by_key[k].get("ours"), by_key[k].get("reference")
        ratio = f"{ours['fps'] / ref['fps']:.2f}x" if ours and ref else "—"
        cells = [*map(str, k), _get(ours, "fps", "{:.1f}"), _get(ref, "fps", "{:.1f}"), ratio]
        for field, fmt in (("latency_p50_ms", "{:.2f}"), ("peak_mem_mb", "{:.0f}")):
            cells += [_get(ours, field, fmt), _get(ref, field, fmt)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def goal_lines(rows: list[dict]) -> list[str]:
    lines = []
    for config, goal in GOALS.items():
        res, backbone, precision, batch = config
        name = f"{backbone} {res} {precision} batch {batch}"
        found = [r for r in rows if r["impl"] == "ours" and key(r)[:4] == config]
        if not found:
            lines.append(f"- [not measured] {name}, goal >= {goal} fps")
            continue
        best = max(found, key=lambda r: r["fps"])
        verdict = "PASS" if best["fps"] >= goal else "FAIL"
        mode = "compiled" if best["compile"] else "eager"
        lines.append(f"- [{verdict}] {name}: {best['fps']:.0f} fps ({mode}), goal >= {goal}")
    return lines


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return default


def _get(row: dict | None, field: str, fmt: str) -> str:
    return "—" if row is None or row.get(field) is None else fmt.format(row[field])


def main(folder: Path) -> None:
    rows = load_rows(folder)
    env = _read_json(folder / "env.json", {})
    steps = (folder / "steps.tsv").read_text() if (folder / "steps.tsv").exists() else ""
    lines = ["# GPU sweep (benchmarks/gpu_sweep.sh)", ""]
    lines += [f"- {name}: {value}" for name, value in env.items()]
    lines += ["", "## Goals (issue 7; ours, best of eager and compiled)", "", *goal_lines(rows)]
    lines += ["", "## Ours vs the reference", "", *comparison_table(rows)]
    lines += ["", "## Steps (name, exit code, seconds; 124: cut by the time budget)", ""]
    lines += ["```", steps.rstrip(), "```", ""]
    (folder / "summary.md").write_text("\n".join(lines))
    (folder / "rows.json").write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "gpu-sweep"))
