"""What `bgm ablate` concludes: seeds averaged with their spread, a difference counted only beyond
that spread, the paper's claim beside each study with a verdict and its figures, and FPS at the
paper's sizes measured with the variants alternated."""

from __future__ import annotations

import pytest
import torch

from bgmcli.ablate.paper import AGREES, DISAGREES, NOISE, parse_claim, verdicts
from bgmcli.ablate.paper_report import study_paper_markdown, verdict_lines
from bgmcli.ablate.report_markdown import markdown_report
from bgmcli.ablate.seeds import aggregate, separated
from bgmcli.ablate.speed import alternated_fps, parse_fps_resolutions, settings_at
from bgmcli.ablate.studies import Variant, load_studies
from bgmcli.bench.measure import measure_alternated
from bgmcli.errors import BgmError

pytestmark = pytest.mark.usefixtures("one_thread")


def _run(variant, seed, mad, grad=3.0, eval_set="synthetic-hd", study="aspp"):
    return {"study": study, "variant": variant, "eval_set": eval_set, "seed": seed, "mad": mad,
            "grad": grad, "fps": 10.0, "k": None}  # fmt: skip


def test_seeds_are_averaged_with_their_min_and_max():
    rows = aggregate([_run("aspp", 0, 0.010), _run("aspp", 1, 0.014), _run("no-aspp", None, 0.02)])
    aspp, single = rows
    assert aspp["seeds"] == 2 and aspp["seed_list"] == [0, 1]
    assert aspp["mad"] == pytest.approx(0.012)
    assert (aspp["mad_min"], aspp["mad_max"]) == (0.010, 0.014)
    assert single["seeds"] == 1 and "mad_min" not in single and "seed" not in single


def test_a_difference_counts_only_when_the_seed_ranges_do_not_overlap():
    a = aggregate([_run("a", 0, 0.010), _run("a", 1, 0.014)])[0]
    b = aggregate([_run("b", 0, 0.013), _run("b", 1, 0.020)])[0]
    c = aggregate([_run("c", 0, 0.015), _run("c", 1, 0.016)])[0]
    assert separated(a, b, "mad") is False  # 0.013 lies in [0.010, 0.014]
    assert separated(a, c, "mad") is True
    assert separated(a, {"mad": None}, "mad") is None


CLAIM = {
    "claim": "ASPP improves quality.",
    "source": "the ASPP ablation",
    "checks": [{"variant": "aspp", "beats": "no-aspp", "metrics": ["mad", "grad"]}],
}


def _verdict(runs):
    claim = parse_claim(CLAIM, ["aspp", "no-aspp"], "aspp.yaml")
    return verdicts(claim, aggregate(runs))[0]


def test_verdict_agrees_disagrees_or_within_noise_by_the_spread():
    apart = [_run("aspp", 0, 0.010, 2.0), _run("aspp", 1, 0.011, 2.1),
             _run("no-aspp", 0, 0.015, 3.0), _run("no-aspp", 1, 0.016, 3.1)]  # fmt: skip
    assert _verdict(apart)["verdict"] == AGREES
    reversed_ = [_run("aspp", 0, 0.015, 2.0), _run("aspp", 1, 0.016, 2.1),
                 _run("no-aspp", 0, 0.010, 3.0), _run("no-aspp", 1, 0.011, 3.1)]  # fmt: skip
    found = _verdict(reversed_)
    assert found["verdict"] == DISAGREES
    mad = next(f for f in found["findings"] if f["metric"] == "mad")
    assert mad["outcome"] == DISAGREES and mad["range"] == [0.015, 0.016]
    overlapping = [_run("aspp", 0, 0.010, 2.0), _run("aspp", 1, 0.016, 2.1),
                   _run("no-aspp", 0, 0.012, 3.0), _run("no-aspp", 1, 0.013, 3.1)]  # fmt: skip
    found = _verdict(overlapping)
    assert found["verdict"] == NOISE  # MAD ranges overlap, even though the mean is lower
    assert {f["metric"]: f["outcome"] for f in found["findings"]} == {"mad": NOISE, "grad": AGREES}


def test_not_worse_than_allows_ties_and_fps_is_better_higher():
    claim = parse_claim(
        {"claim": "More k lowers the error, costing speed.",
         "checks": [{"variant": "k10000", "not_worse_than": "k5000", "metrics": ["mad"]},
                    {"variant": "k5000", "beats": "k10000", "metrics": ["fps_hd"]}]},
        ["k5000", "k10000"], "patch-count.yaml",
    )  # fmt: skip
    rows = [
        {"study": "pc", "variant": "k5000", "eval_set": "s", "mad": 0.01, "fps_hd": 20.0},
        {"study": "pc", "variant": "k10000", "eval_set": "s", "mad": 0.01, "fps_hd": 15.0},
    ]
    assert verdicts(claim, rows)[0]["verdict"] == AGREES
    rows[1]["mad"] = 0.011
    assert verdicts(claim, rows)[0]["verdict"] == DISAGREES


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("ASPP helps", "one-line claim"),
        ({"claim": "x", "checks": [{"variant": "aspp", "metrics": ["mad"]}]}, "beats"),
        ({"claim": "x", "checks": [{"variant": "aspp", "beats": "no-aspp"}]}, "metrics"),
        ({"claim": "x", "checks": [{"variant": "a", "beats": "b", "metrics": ["mad"]}]}, "'a'"),
        ({"claim": "x", "table": 3}, "unknown paper field 'table'"),
    ],
)
def test_bad_paper_sections_name_the_problem(data, needle):
    with pytest.raises(BgmError, match=needle):
        parse_claim(data, ["aspp", "no-aspp"], "aspp.yaml")


def test_every_shipped_study_states_the_papers_claim_and_what_kind_it_is():
    studies = {s.name: s for s in load_studies("all")}
    # the temporal filter is this project's (issue 22), not the paper's: no claim to state
    assert studies.pop("temporal").paper is None
    for study in studies.values():
        assert study.paper is not None and study.paper.text and study.paper.checks
        assert "\n" not in study.paper.text  # one line
    assert [n for n, s in studies.items() if s.trains] == ["backbone", "aspp"]
    backbone = {m for c in studies["backbone"].paper.checks for m in c.metrics}
    assert {"fps_hd", "fps_4k", "mad"} <= backbone


def test_report_puts_the_paper_beside_each_study_with_the_figures_behind_a_disagreement():
    study = load_studies("aspp")[0].summary()
    runs = [_run("aspp", 0, 0.015, 2.0), _run("aspp", 1, 0.016, 2.1),
            _run("no-aspp", 0, 0.010, 2.0), _run("no-aspp", 1, 0.011, 2.2)]  # fmt: skip
    rows = aggregate(runs)
    section = "\n".join(study_paper_markdown(study, rows))
    assert "ASPP" in section and "synthetic-hd: disagrees" in section
    assert "aspp vs no-aspp, MAD ×1e3 15.50 vs 10.50 (+47.6%)" in section
    assert "[15.00–16.00] vs [10.00–11.00]" in section
    assert "Grad (/1e3) 2.05 vs 2.10 (\N{MINUS SIGN}2.4%)" in section and "within noise" in section
    md = markdown_report([study], rows, "# h")
    assert "## The paper beside ours" in md and "| aspp |" in md and "| disagrees |" in md
    assert "(\N{MINUS SIGN}32.3%, beyond spread)" in md and "within spread)" in md
    assert "15.50 [15.00–16.00]" in md
    assert verdict_lines(study, rows)[1].startswith("  synthetic-hd: disagrees — ")


def test_fps_runs_alternate_the_variants():
    order = []
    calls = {name: (lambda n=name: order.append(n)) for name in ("a", "b", "c")}
    latencies = measure_alternated(calls, torch.device("cpu"), iters=2, warmup=1)
    assert order == ["a", "b", "c"] * 3
    assert {name: len(values) for name, values in latencies.items()} == {"a": 2, "b": 2, "c": 2}


def test_fps_uses_the_papers_settings_at_hd_and_4k():
    hd = settings_at(Variant("k5000", k=5000), 1920, 1080)
    uhd = settings_at(Variant("k5000", k=5000), 3840, 2160)
    assert (hd.backbone_scale, hd.k) == (0.25, 5000)
    assert (uhd.backbone_scale, uhd.k) == (0.125, 20000)
    assert parse_fps_resolutions(None) == ["hd", "4k"]
    assert parse_fps_resolutions(["none"]) == []
    with pytest.raises(BgmError, match="twice"):
        parse_fps_resolutions(["hd,hd"])


def test_alternated_fps_gives_a_median_and_range_per_variant_and_size():
    from bgmcli.loading import load_model

    model = load_model(device="cpu")
    variants = {"error": Variant("error"), "none": Variant("none", refine="none")}
    fps = alternated_fps({n: (model, v) for n, v in variants.items()}, ["64x48"],
                         torch.device("cpu"), iters=2)  # fmt: skip
    for name in variants:
        row = fps[name]
        assert row["fps_64x48_min"] <= row["fps_64x48"] <= row["fps_64x48_max"]
