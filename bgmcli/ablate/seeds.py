"""Seeds of the architecture studies: per-seed rows -> one row per study, variant and evaluation
set with the mean, the spread (min to max) and the seed count, and the rule that says whether a
difference between two variants is larger than that spread: their [min, max] ranges do not
overlap. A difference within the spread is noise, not a finding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# Measured per seed (and so averaged); the rest of a row describes the variant.
SEEDED = ("mad", "sad", "mse", "grad", "conn", "fgr_l1", "fgr_mse", "fps", "refined_fraction")


def aggregate(rows: Sequence[dict]) -> list[dict]:
    """One row per (study, variant, eval_set), in order of first appearance. A group of one row
    (an inference study, or a given checkpoint) is kept as it is with `seeds` 1; a group of
    several seeds gets the mean of each measured key, `<key>_min` / `<key>_max` and `seeds`."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["study"], row["variant"], row["eval_set"]), []).append(row)
    return [_combine(group) for group in groups.values()]


def _combine(group: list[dict]) -> dict:
    first = dict(group[0])
    first.pop("seed", None)
    if len(group) == 1:
        return first | {"seeds": 1}
    out = first | {"seeds": len(group), "seed_list": [row.get("seed") for row in group]}
    for key in (key for key in first if key.startswith("warning_")):  # any seed's warning
        out[key] = next((row[key] for row in group if row.get(key)), None)
    for key in SEEDED:
        values = [finite(row.get(key)) for row in group]
        values = [v for v in values if v is not None]
        if not values:
            out[key] = None
            continue
        out[key] = sum(values) / len(values)
        out[f"{key}_min"], out[f"{key}_max"] = min(values), max(values)
    return out


def spread(row: dict, key: str) -> tuple[float, float] | None:
    """(min, max) of a key over the row's seeds; (mean, mean) for a single run; None if absent."""
    value = finite(row.get(key))
    if value is None:
        return None
    low, high = finite(row.get(f"{key}_min")), finite(row.get(f"{key}_max"))
    return (value if low is None else low, value if high is None else high)


def has_spread(row: dict, key: str) -> bool:
    """Whether the row has a [min, max] for the key: over seeds, or, for FPS at a size
    (fps_hd, ...), over the timed runs."""
    if f"{key}_min" not in row:
        return False
    return row.get("seeds", 1) > 1 or (key.startswith("fps_") and not key.endswith("_min"))


def separated(a: dict, b: dict, key: str) -> bool | None:
    """Whether A and B differ by more than their seeds' spread: their [min, max] ranges do not
    overlap (for single runs: the values differ). None when either value is missing."""
    ra, rb = spread(a, key), spread(b, key)
    if ra is None or rb is None:
        return None
    return ra[1] < rb[0] or rb[1] < ra[0]


def finite(value: Any) -> float | None:
    """The value as a float, or None when it is missing, not a number or infinite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
