"""The paper beside our findings, rendered: an overview table (study, the paper's claim, our
verdict on each evaluation set) and, in each study's section, the claim with its source and per
set the verdict and the measured figures behind it (paper.py decides; this module writes)."""

from __future__ import annotations

from collections.abc import Sequence

from bgmcli.ablate.paper import AGREES, DISAGREES, Check, Claim, verdicts
from bgmcli.ablate.report import column_of, relative_change


def claim_of(study: dict) -> Claim | None:
    data = study.get("paper")
    if not data:
        return None
    checks = []
    for c in data["checks"]:
        relation = "beats" if "beats" in c else "not_worse_than"
        checks.append(Check(c["variant"], relation, c[relation], tuple(c["metrics"])))
    return Claim(data["claim"], data.get("source", ""), tuple(checks))


def study_verdicts(study: dict, rows: Sequence[dict]) -> list[dict]:
    claim = claim_of(study)
    if claim is None:
        return []
    return verdicts(claim, [row for row in rows if row.get("study") == study["name"]])


def finding_text(finding: dict) -> str:
    """'refined vs coarse-only, MAD ×1e3 12.31 vs 13.00 (−5.3%)', ranges where seeds or runs
    give them, and the outcome where it is not agreement."""
    key = finding["metric"]
    column = column_of(key)

    def shown(value: float) -> str:
        return column.fmt.format(value * column.scale)

    a, b = finding["value"], finding["other_value"]
    text = f"{finding['variant']} vs {finding['other']}, {column.header} {shown(a)} vs {shown(b)}"
    change = relative_change(a, finding["other_value"])
    text += f" {change}" if change else ""
    (a_lo, a_hi), (b_lo, b_hi) = finding["range"], finding["other_range"]
    if (a_lo, a_hi) != (a, a) or (b_lo, b_hi) != (b, b):
        text += f", ranges [{shown(a_lo)}–{shown(a_hi)}] vs [{shown(b_lo)}–{shown(b_hi)}]"
    if finding["outcome"] != AGREES:
        text += f": {finding['outcome']}"
    return text


def overview_markdown(studies: Sequence[dict], rows: Sequence[dict]) -> list[str]:
    """| study | the paper | verdict per evaluation set |, for the studies with a claim."""
    table = [(study, study_verdicts(study, rows)) for study in studies if claim_of(study)]
    table = [(study, found) for study, found in table if found]
    if not table:
        return []
    sets = list(dict.fromkeys(v["eval_set"] for _, found in table for v in found))
    lines = ["## The paper beside ours", "",
             "| study | the paper's claim | " + " | ".join(sets) + " |",
             "|:---|:---|" + "|".join(":---" for _ in sets) + "|"]  # fmt: skip
    for study, found in table:
        by_set = {v["eval_set"]: v["verdict"] or "—" for v in found}
        cells = [by_set.get(name, "—") for name in sets]
        lines.append(f"| {study['name']} | {study['paper']['claim']} | " + " | ".join(cells) + " |")
    lines += ["", "Agrees: every ordering the claim implies holds by more than the spread; "
              "disagrees: one is reversed by more than the spread; within noise: one differs "
              "by less than the spread (seeds' [min, max] ranges overlap). Each study's section "
              "gives the figures.", ""]  # fmt: skip
    return lines


def study_paper_markdown(study: dict, rows: Sequence[dict]) -> list[str]:
    """The claim and, per evaluation set, our verdict with its figures."""
    claim = claim_of(study)
    if claim is None:
        return []
    source = f" ({claim.source})" if claim.source else ""
    lines = [f"**The paper**{source}: {claim.text}", ""]
    for verdict in study_verdicts(study, rows):
        word = verdict["verdict"] or "not measured"
        lines.append(f"- **{verdict['eval_set']}: {word}.** " + "; ".join(
            finding_text(f) for f in _ordered(verdict["findings"])) + ".")  # fmt: skip
    return lines + [""]


def verdict_lines(study: dict, rows: Sequence[dict]) -> list[str]:
    """Plain lines for the terminal: `paper: <claim>` and `<set>: <verdict>` with figures of
    what disagrees or is within noise."""
    claim = claim_of(study)
    if claim is None:
        return []
    lines = [f"paper: {claim.text}"]
    for verdict in study_verdicts(study, rows):
        odd = [finding_text(f) for f in verdict["findings"] if f["outcome"] != AGREES]
        lines.append(f"  {verdict['eval_set']}: {verdict['verdict'] or 'not measured'}"
                     + (" — " + "; ".join(odd) if odd else ""))  # fmt: skip
    return lines


def _ordered(findings: list[dict]) -> list[dict]:
    """Disagreements first: the figures that say why."""
    return sorted(findings, key=lambda f: f["outcome"] != DISAGREES)
