"""OUT/results.json and OUT/results.csv of `bgm ablate`: one row per study, variant and set."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bgmcli.ablate.report import REFINED
from bgmcli.atomic import atomic_write

# results.csv column order; keys a row has beyond these follow in order of first appearance.
ROW_KEYS = [
    "study", "variant", "reference", "eval_set", "k", "k_effective", "backbone", "aspp",
    "refine", "frames", "width", "height", "mad", "sad", "mse", "grad", "conn", "fgr_l1",
    "fgr_mse", "fps", "fps_hd", "fps_4k", REFINED, "seeds", "checkpoint",
]  # fmt: skip


def write_results(out: Path, rows: Sequence[dict]) -> None:
    """OUT/results.json (non-finite floats as null, strict JSON) and OUT/results.csv."""
    plain = [{key: _plain(value) for key, value in row.items()} for row in rows]
    text = json.dumps(plain, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    atomic_write(Path(out) / "results.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    atomic_write(Path(out) / "results.csv", lambda tmp: tmp.write_text(_csv_text(plain), "utf-8"))


def _plain(value: Any) -> Any:
    """JSON-safe scalar: numpy scalars unwrapped, NaN/inf -> None, paths -> str."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _csv_text(rows: Sequence[dict]) -> str:
    keys = list(ROW_KEYS)
    for row in rows:
        keys += [key for key in row if key not in keys]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()
