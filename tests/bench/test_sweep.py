"""`bgm bench`: well-formed rows on tiny frames, sweeps as cartesian products, JSON output, and
one-line errors (exit 2) for bad options."""

from __future__ import annotations

import json
import time

import pytest
import torch

from bgmcli.bench.measure import PeakMemory, percentile
from bgmcli.bench.sweep import plan_sweep, run_sweep
from bgmcli.errors import BgmError
from bgmcli.metrics import refined_fraction
from tests.cli_helpers import run_bgm

# one thread: quicker than two when other jobs share the CPUs, and the same code paths
TINY = ["-r", "64x48", "--device", "cpu", "--threads", "1", "--iters", "2", "--warmup", "1"]
METRICS = ("fps", "latency_p50_ms", "latency_p90_ms", "base_ms", "refine_ms")


@pytest.mark.slow  # times the model in each configuration
def test_rows_are_well_formed():
    configs = plan_sweep(resolution=["64x48"], device=["cpu"], threads=[1], iters=2, warmup=1)
    (row,) = run_sweep(configs)
    assert (row["width"], row["height"], row["backbone"], row["batch"]) == (
        64,
        48,
        "mobilenetv2",
        1,
    )
    assert all(row[key] > 0 for key in METRICS)
    assert row["latency_p50_ms"] <= row["latency_p90_ms"]
    assert row["fps"] == pytest.approx(1000 / row["latency_p50_ms"])
    assert row["peak_mem_mb"] >= 0
    assert 0 < row["refined_fraction"] <= 1  # the blob's edge makes the error map non-degenerate


def test_sweep_is_the_cartesian_product():
    configs = plan_sweep(
        resolution=["64x48", "96x64"], backbone=["mobilenetv2", "resnet50"], batch=[1, 2], iters=1
    )
    got = [(c.resolution, c.backbone, c.batch) for c in configs]
    assert got == [
        (r, b, n) for r in ("64x48", "96x64") for b in ("mobilenetv2", "resnet50") for n in (1, 2)
    ]


@pytest.mark.slow  # times the model in each configuration
def test_json_output_parses_one_row_per_configuration(capsys):
    code, out, _ = run_bgm(capsys, "bench", *TINY, "--batch", "1,2", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [row["batch"] for row in rows] == [1, 2]
    assert all(row["fps"] > 0 and 0 <= row["refined_fraction"] <= 1 for row in rows)


@pytest.mark.slow  # times the model in each configuration
def test_table_output(capsys):
    code, out, _ = run_bgm(capsys, "bench", *TINY, "--iters", "1", "--refine", "none")
    assert code == 0
    assert "64x48" in out and "FPS" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--resolution", "huge"], "unknown resolution 'huge'"),
        (["--iters", "0"], "--iters must be at least 1"),
        (["--device", "cpu", "--precision", "fp16"], "fp16 is not supported on the CPU"),
        (["--backbone", "vgg16"], "unknown backbone 'vgg16'"),
        (["--k", "many"], "Invalid value for '--k': 'many' is not a whole number"),
        (["--k", "0"], "k must be a positive integer, got 0"),
        (["--k", "-3"], "k must be a positive integer, got -3"),
        (["--refine", "best"], "unknown refine mode 'best'; known: error, random"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, args, message):
    code, out, err = run_bgm(capsys, "bench", *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("bgm: error:") and message in err


def test_paper_defaults():
    def defaults(width, height):
        (cfg,) = plan_sweep(resolution=[f"{width}x{height}"])
        return cfg.backbone_scale, cfg.k

    assert defaults(1920, 1080) == (0.25, 5000)
    assert defaults(3840, 2160) == (0.125, 20000)
    assert defaults(1280, 720) == (0.375, round(5000 * 1280 * 720 / (1920 * 1080)))
    assert defaults(2560, 1440)[0] == 0.1875
    assert defaults(640, 360)[0] == 0.5
    assert plan_sweep(resolution=["4k"], backbone_scale=[0.25], k=[7])[0].k == 7


def test_refined_fraction_counts_only_in_frame_pixels():
    # 6x8 frame, padded to 8x8: the second quarter-resolution row has 2 of its 4 rows in frame
    ref = torch.zeros(1, 1, 2, 2)
    ref[0, 0, 1, :] = 1
    assert refined_fraction(ref, 6, 8) == pytest.approx(2 * 8 / (6 * 8))
    assert refined_fraction(torch.ones(2, 1, 2, 2), 6, 8) == 1.0


def test_cpu_peak_memory_sees_a_transient_allocation():
    memory = PeakMemory(torch.device("cpu"))
    block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    del block
    assert memory.peak_mb() >= 48


def test_percentile_interpolates():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 90) == pytest.approx(1.9)
    assert percentile([5.0], 90) == 5.0


def test_missing_checkpoint_is_an_error():
    with pytest.raises(BgmError, match="checkpoint not found"):
        plan_sweep(resolution=["64x48"], checkpoint=["/nonexistent/model.pth"])


@pytest.mark.slow  # times the model
def test_checkpoint_is_measured_through_load_model(tmp_path, capsys):
    from bgmcli import build_model
    from bgmcli.model.config import ModelConfig

    path = tmp_path / "pytorch_mobilenetv2.pth"  # official layout: a bare state dict
    torch.save(build_model(ModelConfig(backbone="mobilenetv2")).state_dict(), path)
    code, out, _ = run_bgm(capsys, "bench", *TINY, "--checkpoint", str(path), "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["checkpoint"] == str(path) and row["backbone"] == "mobilenetv2"


def test_cpu_peak_memory_without_kernel_reset(monkeypatch):
    monkeypatch.setattr("bgmcli.bench.measure.reset_rss_peak", lambda: False)  # a sampling thread
    memory = PeakMemory(torch.device("cpu"))
    block = torch.ones(64 * 2**20 // 4)
    time.sleep(0.05)
    del block
    assert memory.peak_mb() >= 48


@pytest.mark.slow
def test_clip_quality_and_the_temporal_filter_in_the_rows(capsys):
    code, out, _ = run_bgm(capsys, "bench", *TINY, "--batch", "2", "--clip", "--json")
    assert code == 0
    (plain,) = json.loads(out)
    assert plain["temporal"] is False and plain["clip_mad"] > 0 and plain["clip_dtssd"] > 0
    code, out, _ = run_bgm(capsys, "bench", *TINY, "--batch", "2", "--clip", "--temporal")
    assert code == 0 and "clip dtSSD" in out and "temporal True" in out
    (row,) = run_sweep(plan_sweep(resolution=["64x48"], device=["cpu"], threads=[1], iters=1,
                                  warmup=1))  # fmt: skip
    assert row["clip_mad"] is None and row["clip_dtssd"] is None  # not asked for
