"""`bgm ablate`: study files, evaluation sets, resumable runs through the CLI, and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import io

from bgmcli.ablate.composites import estimate_foreground
from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.studies import ORDER, load_studies, parse_study
from bgmcli.cli import app
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import scale_k
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.conftest import single_thread

SMOKE = ["--preset", "smoke", "--resolution", "128x96", "--frames", "1", "--iters", "1",
         "--fps-resolutions", "64x48", "--fps-iters", "1"]  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


def make_alphamatting_folder(root, count: int = 2, size=(40, 56)):
    """input/, alpha/, trimap/ as alphamatting.com ships them (RGB PNGs, trimap 0/128/255)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(count):
        alpha = np.clip((xx - w / 3 - 3 * i) / 8.0, 0, 1)
        trimap = np.where(alpha <= 0, 0, np.where(alpha >= 1, 255, 128))
        image = np.stack([alpha * 0.9, 0.2 + 0 * alpha, 1 - alpha], axis=-1)
        for folder, arr in (("input", image), ("alpha", alpha), ("trimap", trimap / 255)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            rgb = np.repeat(arr[..., None], 3, axis=-1) if arr.ndim == 2 else arr
            io.imsave(root / folder / f"GT{i:02d}.png", (rgb * 255).round().astype(np.uint8),
                      check_contrast=False)  # fmt: skip
    return root


# --- studies -----------------------------------------------------------------------------------


def test_the_five_studies_ship_in_the_plans_order():
    studies = load_studies("all")
    assert [s.name for s in studies] == list(ORDER)
    for study in studies:
        assert study.reference in [v.name for v in study.variants]
    by_name = {s.name: s for s in studies}
    assert [v.k for v in by_name["patch-count"].variants] == [1000, 5000, 10000]
    assert [v.refine for v in by_name["patch-selection"].variants] == ["error", "random", "uniform"]
    assert {v.backbone for v in by_name["backbone"].variants} == {
        "resnet50", "resnet101", "mobilenetv2"
    }  # fmt: skip
    assert [v.aspp for v in by_name["aspp"].variants] == [True, False]
    assert [v.refine for v in by_name["refinement"].variants] == ["error", "none"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"variants": [{"name": "a", "backbone": "vgg"}]}, "unknown backbone 'vgg'"),
        ({"variants": [{"name": "a", "kk": 3}]}, "unknown field 'kk'"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "unique"),
        ({"variants": [{"name": "a"}], "reference": "b"}, "reference 'b'"),
        ({"variants": [{"name": "a"}], "columns": ["speed"]}, "unknown column 'speed'"),
        ({"variants": []}, "non-empty list"),
    ],
)
def test_bad_study_files_name_the_problem(data, needle):
    with pytest.raises(BgmError, match=needle):
        parse_study(data, "my.yaml")


def test_k_is_given_at_hd_and_scales_with_area():
    assert scale_k(5000, 1920, 1080) == 5000
    assert scale_k(5000, 3840, 2160) == 20000
    assert scale_k(1000, 192, 108) == 10


# --- evaluation data ---------------------------------------------------------------------------


def test_blur_fusion_recovers_a_smooth_foreground_better_than_the_image():
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w] / 64.0
    fgr = np.stack([0.8 + 0.1 * np.sin(xx), 0.3 + 0.1 * yy, 0.2 + 0 * xx], axis=-1)
    bgr = np.stack([0.1 + 0 * xx, 0.7 + 0.1 * np.cos(yy), 0.9 + 0 * xx], axis=-1)
    alpha = np.clip((xx * 64 - 40) / 16, 0, 1)
    image = fgr * alpha[..., None] + bgr * (1 - alpha[..., None])
    partial = (alpha > 0.1) & (alpha < 0.9)
    estimate = estimate_foreground(image, alpha)
    err = np.abs(estimate - fgr)[partial].mean()
    assert err < 0.25 * np.abs(image - fgr)[partial].mean()
    assert err < 0.03


def test_alphamatting_folder_becomes_composites_scored_in_the_unknown_region(tmp_path):
    root = make_alphamatting_folder(tmp_path / "am", count=2)
    data = open_eval_set(str(root), 128, 96, None)
    assert data.name == "am" and len(data) == 2
    frame = data[1]
    alpha = frame["true_pha"][0].numpy()
    assert frame["src"].shape == frame["bgr"].shape == (3, 40, 56)
    assert frame["mask"].dtype == np.bool_
    assert frame["mask"].any() and not frame["mask"][alpha >= 1].any()
    again = open_eval_set(str(root), 128, 96, None)[1]
    assert torch.equal(again["bgr"], frame["bgr"])  # seeded: the same plate every run


def test_synthetic_set_is_seeded_and_at_the_study_resolution():
    a = open_eval_set("synthetic", 128, 96, 2)
    b = open_eval_set("synthetic", 128, 96, 2)
    assert a.name == "synthetic-128x96" and len(a) == 2
    assert a[0]["src"].shape == (3, 96, 128)
    assert torch.equal(a[1]["true_pha"], b[1]["true_pha"])


# --- a real (smoke) run through the CLI --------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """patch-count (on the bundled model) and aspp (smoke-trained, two seeds) on two sets, run
    once for the module."""
    root = tmp_path_factory.mktemp("ablate")
    real = make_alphamatting_folder(root / "am")
    out = root / "out"
    args = ["ablate", "--study", "patch-count,aspp", *SMOKE, "--seeds", "2",
            "--eval-data", "synthetic", "--eval-data", real, "--out", out]  # fmt: skip
    with single_thread(), pytest.raises(SystemExit) as exc:
        app(args=[str(a) for a in args])
    assert exc.value.code == 0
    return out, args


@pytest.mark.slow
def test_a_run_writes_rows_tables_report_and_plots(smoke_run):
    out, _ = smoke_run
    rows = json.loads((out / "results.json").read_text())
    assert len(rows) == (3 + 2) * 2  # one row per variant and set, seeds averaged
    assert {r["variant"] for r in rows} == {"k1000", "k5000", "k10000", "aspp", "no-aspp"}
    assert {r["eval_set"] for r in rows} == {"synthetic-128x96", "am"}
    for row in rows:
        for key in ("mad", "sad", "mse", "grad", "conn", "fgr_l1", "fgr_mse", "fps", "fps_64x48"):
            assert isinstance(row[key], float) and row[key] >= 0, (key, row)
        assert 0 < row["refined_fraction"] <= 1 and row["frames"] == 1
    by_k = {r["k"]: r for r in rows if r["eval_set"] == "synthetic-128x96" and r["k"] != 5000
            or r["variant"] == "k5000" and r["eval_set"] == "synthetic-128x96"}  # fmt: skip
    fractions = [by_k[k]["refined_fraction"] for k in (1000, 5000, 10000)]
    assert fractions == sorted(fractions) and fractions[0] < fractions[2]
    assert (out / "results.csv").read_text().splitlines()[0].startswith("study,")
    report = (out / "report.md").read_text()
    assert "patch-count" in report and "## The paper beside ours" in report
    assert "every variant from scratch" in report
    assert "- Compute over all invocations: training " in report
    assert (out / "plots" / "patch_count.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "patch-count" / "k1000.json").is_file()
    assert not list(out.rglob("*.partial"))


@pytest.mark.slow
def test_inference_studies_run_on_the_bundled_model_without_training(smoke_run):
    from bgmcli.loading import BUNDLED_MODEL

    out, _ = smoke_run
    rows = json.loads((out / "results.json").read_text())
    for row in rows:
        if row["study"] == "patch-count":
            assert row["checkpoint"] == str(BUNDLED_MODEL) and row["seeds"] == 1
    # only the architecture study trained: two variants, two seeds each
    names = sorted(p.parent.name for p in (out / "checkpoints").glob("*/model.pt"))
    assert [n.rsplit("-", 1)[0] for n in names] == [
        "mobilenetv2-aspp-k3", "mobilenetv2-aspp-k3-seed1",
        "mobilenetv2-noaspp-k3", "mobilenetv2-noaspp-k3-seed1",
    ]  # fmt: skip


@pytest.mark.slow
def test_architecture_variants_report_the_mean_and_spread_of_their_seeds(smoke_run):
    out, _ = smoke_run
    rows = json.loads((out / "results.json").read_text())
    for row in (r for r in rows if r["study"] == "aspp"):
        assert row["seeds"] == 2 and row["seed_list"] == [0, 1]
        assert row["mad_min"] <= row["mad"] <= row["mad_max"]
        per_seed = [
            json.loads((out / "aspp" / f"{row['variant']}{s}.json").read_text())["rows"]
            for s in ("", "-seed1")
        ]  # fmt: skip
        mads = [next(r["mad"] for r in runs if r["eval_set"] == row["eval_set"])
                for runs in per_seed]  # fmt: skip
        assert row["mad"] == pytest.approx(sum(mads) / 2)
        assert (row["mad_min"], row["mad_max"]) == (min(mads), max(mads))
        assert row["fps_64x48_min"] <= row["fps_64x48"] <= row["fps_64x48_max"]
    report = (out / "report.md").read_text()
    assert "spread)" in report and "[" in report.split("## aspp")[1]


@pytest.mark.slow
def test_a_second_run_skips_finished_variants_and_redoes_a_lost_one(smoke_run, capsys):
    out, args = smoke_run
    (out / "patch-count" / "k5000.json").unlink()
    (out / "aspp" / "no-aspp-seed1.json").unlink()
    before = (out / "patch-count" / "k1000.json").stat().st_mtime_ns
    code, _, err = run_bgm(capsys, *args)
    assert code == 0
    assert "patch-count/k1000: done before, skipped" in err
    assert "aspp/no-aspp: done before, skipped" in err
    assert "patch-count/k5000: evaluating" in err
    assert "aspp/no-aspp-seed1: evaluating" in err
    assert "training" not in err  # the cached models are found again
    assert "FPS at" not in err  # and the FPS measurements read back
    assert (out / "patch-count" / "k1000.json").stat().st_mtime_ns == before
    assert len(json.loads((out / "results.json").read_text())) == 10


@pytest.mark.slow
def test_a_bare_checkpoint_is_the_inference_studies_model(smoke_run, capsys):
    out, _ = smoke_run
    model = next((out / "checkpoints").glob("mobilenetv2-noaspp-k3-[0-9a-f]*/model.pt"))
    code, _, err = run_bgm(capsys, "ablate", "--study", "refinement", *SMOKE, "--checkpoint",
                        model, "--out", out / "given")  # fmt: skip
    assert code == 0, err
    rows = json.loads((out / "given" / "results.json").read_text())
    assert {r["checkpoint"] for r in rows} == {str(model.resolve())}
    assert {r["aspp"] for r in rows} == {False}  # the given model's architecture, whatever it is
    assert "the paper" in (out / "given" / "report.md").read_text().lower()


@pytest.mark.slow
def test_a_checkpoint_of_the_wrong_architecture_is_refused(smoke_run, capsys):
    out, _ = smoke_run
    aspp_model = next((out / "checkpoints").glob("mobilenetv2-aspp-*/model.pt"))
    code, _, err = run_bgm(capsys, "ablate", "--study", "aspp", *SMOKE, "--out", out / "other",
                        "--checkpoint", f"no-aspp={aspp_model}", "--checkpoint",
                        f"aspp={aspp_model}")  # fmt: skip
    assert_one_line_error(code, err, "no-aspp", "needs mobilenetv2 (no-ASPP")
    assert not (out / "other" / "aspp").exists()  # refused before any work


def test_list_names_every_study(capsys):
    code, out, _ = run_bgm(capsys, "ablate", "--list")
    assert code == 0
    assert [line.split(":")[0] for line in out.strip().splitlines()] == list(ORDER)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--study", "nope"], "unknown study 'nope'"),
        ([], "--study is required"),
        (["--study", "aspp", "--checkpoint", "aspp"], "VARIANT=PATH"),
        (["--study", "aspp", "--seeds", "0"], "--seeds must be at least 1"),
        (["--study", "aspp", "--fps-resolutions", "big"], "unknown resolution 'big'"),
        (["--study", "aspp", "--fps-iters", "0"], "--fps-iters must be at least 1"),
        (["--study", "aspp", "--checkpoint", "k5000=x.pt"], "no variant 'k5000'"),
        (["--study", "aspp", "--checkpoint", "aspp=missing.pt"], "file not found"),
        (["--study", "aspp", "--eval-data", "no/such/dir"], "not 'clip' and not a folder"),
        (["--study", "aspp", "--frames", "0"], "--frames must be at least 1"),
        (["--study", "aspp", "--preset", "huge"], "unknown preset 'huge'"),
        (["--study", "aspp", "--resolution", "big"], "unknown resolution 'big'"),
        (["--study", "missing.yaml"], "study file not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_bgm(capsys, "ablate", "--out", tmp_path / "out", *extra)
    assert_one_line_error(code, err, needle)
    assert not list((tmp_path / "out").glob("*/*.json"))


def test_fields_added_later_keep_the_cache_names_of_earlier_runs():
    """docs/results/quick-cpu was trained under these names; a field added since with its
    neutral value must not send a rerun into training again."""
    from bgmcli.ablate.checkpoints import cache_dir, variant_train_config

    quick = variant_train_config("quick", {"backbone": "mobilenetv2"})
    assert cache_dir(Path("x"), quick).name == "mobilenetv2-aspp-k3-5fbc3ffd1959"
    cosine = variant_train_config("quick", {"backbone": "mobilenetv2"})
    cosine = replace(cosine, base=replace(cosine.base, schedule="cosine"))
    assert cache_dir(Path("x"), cosine).name != "mobilenetv2-aspp-k3-5fbc3ffd1959"
    seed1 = variant_train_config("quick", {"backbone": "mobilenetv2"}, seed=1)
    assert cache_dir(Path("x"), seed1).name.startswith("mobilenetv2-aspp-k3-seed1-")
    for change in ({"synthetic_shapes": "mixed"}, {"plate_misalign": 1.9},
                   {"foreground_shading": 0.5}, {"synthetic_skin_share": 0.2},
                   {"synthetic_veil_share": 0.1},
                   {"synthetic_camouflage_share": 0.25}):  # fmt: skip
        assert (
            cache_dir(Path("x"), replace(quick, **change)).name != cache_dir(Path("x"), quick).name
        )


@pytest.mark.slow
def test_an_official_pth_can_be_the_inference_studies_model(tmp_path, capsys):
    from tests.checkpoint_fixtures import lively_model, save_official_style

    pth = save_official_style(tmp_path / "pytorch_resnet50.pth", lively_model(backbone="resnet50"))
    code, _, err = run_bgm(capsys, "ablate", "--study", "refinement", *SMOKE, "--checkpoint", pth,
                        "--out", tmp_path / "out")  # fmt: skip
    assert code == 0, err
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["backbone"] for r in rows} == {"resnet50"}
    assert "training" not in err
    assert all(r["fps_64x48"] > 0 for r in rows)


def test_seeds_default_to_two_with_quick_and_one_with_paper(tmp_path):
    from bgmcli.ablate.workflow import build_options

    common = dict(out=tmp_path, checkpoints=[], eval_data=None, resolution="hd", frames=None,
                  device="cpu", rerun=False, iters=1)  # fmt: skip
    assert build_options(preset="quick", **common).seeds == 2
    assert build_options(preset="paper", **common).seeds == 1
    assert build_options(preset="paper", seeds=3, **common).seeds == 3
    assert build_options(preset="quick", **common).fps_resolutions == ["hd", "4k"]
