"""The paper beside each finding: a study's `paper:` section (the claim in one line, and the
orderings that test it) and the verdict on each evaluation set: agrees, disagrees or within
noise, with the measured figures behind it. Plain data; report.py renders it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgmcli.ablate.seeds import separated, spread
from bgmcli.errors import BgmError

RELATIONS = ("beats", "not_worse_than")  # strictly better / better or equal
AGREES, DISAGREES, NOISE = "agrees", "disagrees", "within noise"


def higher_is_better(key: str) -> bool:
    """FPS (`fps`, `fps_hd`, `fps_4k`, ...) is better higher; every error is better lower."""
    return key == "fps" or key.startswith("fps_")


@dataclass(frozen=True)
class Check:
    """`variant` beats (or is not worse than) `other` on each of `metrics`."""

    variant: str
    relation: str
    other: str
    metrics: tuple[str, ...]

    def text(self) -> str:
        verb = "beats" if self.relation == "beats" else "is not worse than"
        return f"{self.variant} {verb} {self.other} on {', '.join(self.metrics)}"


@dataclass(frozen=True)
class Claim:
    text: str  # the paper's claim, in one line, from the paper itself
    source: str  # where in the paper
    checks: tuple[Check, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "claim": self.text,
            "source": self.source,
            "checks": [
                {"variant": c.variant, c.relation: c.other, "metrics": list(c.metrics)}
                for c in self.checks
            ],
        }


def parse_claim(data: Any, variants: list[str], where: str) -> Claim:
    """`paper: {claim, source, checks: [{variant: A, beats: B, metrics: [mad, grad]}]}`."""
    if not isinstance(data, dict) or not isinstance(data.get("claim"), str):
        raise BgmError(f"{where}: paper must be a mapping with a one-line claim")
    unknown = set(data) - {"claim", "source", "checks"}
    if unknown:
        raise BgmError(f"{where}: unknown paper field {sorted(unknown)[0]!r}")
    checks = tuple(_check(c, variants, where) for c in data.get("checks") or [])
    return Claim(data["claim"].strip(), str(data.get("source", "")).strip(), checks)


def _check(data: Any, variants: list[str], where: str) -> Check:
    relation = [r for r in RELATIONS if isinstance(data, dict) and r in data]
    if not isinstance(data, dict) or len(relation) != 1 or "variant" not in data:
        raise BgmError(f"{where}: each paper check needs variant, one of "
                       f"{' / '.join(RELATIONS)}, and metrics: [...]")  # fmt: skip
    metrics = data.get("metrics")  # not `on`: YAML reads a bare on as true
    if not isinstance(metrics, list) or not metrics:
        raise BgmError(f"{where}: paper check of {data['variant']!r} needs metrics: [...]")
    for name in (data["variant"], data[relation[0]]):
        if name not in variants:
            raise BgmError(f"{where}: paper check names {name!r}, not one of {variants}")
    return Check(str(data["variant"]), relation[0], str(data[relation[0]]),
                 tuple(str(m) for m in metrics))  # fmt: skip


def outcome(check: Check, metric: str, a: dict, b: dict) -> str | None:
    """agrees / disagrees / within noise for one metric; None when not measured. A difference
    counts only when it is larger than the seeds' spread (`seeds.separated`)."""
    ra, rb = spread(a, metric), spread(b, metric)
    if ra is None or rb is None:
        return None
    va, vb = a[metric], b[metric]
    better = va > vb if higher_is_better(metric) else va < vb
    apart = separated(a, b, metric)
    if check.relation == "not_worse_than":
        if va == vb or better:
            return AGREES
        return DISAGREES if apart else NOISE
    if not apart:
        return NOISE
    return AGREES if better else DISAGREES


def verdicts(claim: Claim, rows: list[dict]) -> list[dict]:
    """Per evaluation set (order of first appearance): the verdict and each check's figures.
    Any check that disagrees beyond the spread -> disagrees; else any within the spread ->
    within noise; else agrees. `rows`: one study's aggregated rows."""
    out = []
    for eval_set in dict.fromkeys(row["eval_set"] for row in rows):
        by_variant = {row["variant"]: row for row in rows if row["eval_set"] == eval_set}
        findings = []
        for check in claim.checks:
            a, b = by_variant.get(check.variant), by_variant.get(check.other)
            if a is None or b is None:
                continue
            for metric in check.metrics:
                result = outcome(check, metric, a, b)
                if result is not None:
                    findings.append(_finding(check, metric, a, b, result))
        out.append({"eval_set": eval_set, "verdict": _overall(findings), "findings": findings})
    return out


def _overall(findings: list[dict]) -> str | None:
    results = {f["outcome"] for f in findings}
    if not results:
        return None
    if DISAGREES in results:
        return DISAGREES
    return NOISE if NOISE in results else AGREES


def _finding(check: Check, metric: str, a: dict, b: dict, result: str) -> dict:
    return {
        "variant": check.variant,
        "other": check.other,
        "relation": check.relation,
        "metric": metric,
        "value": a[metric],
        "other_value": b[metric],
        "range": list(spread(a, metric)),
        "other_range": list(spread(b, metric)),
        "seeds": a.get("seeds", 1),
        "outcome": result,
    }
