"""`bgm info`: architecture, parameter counts per part, config (stored or inferred) and origin, as
a table or as JSON."""

from __future__ import annotations

import json

import pytest
import torch

from bgmcli.model.checkpoint import save_checkpoint
from bgmcli.model.config import ModelConfig
from bgmcli.model.matting import MattingModel
from tests.checkpoint_fixtures import lively_model, save_official_style
from tests.cli_helpers import run_bgm

META = {"source": "bgm train", "command": "bgm train --preset tiny", "steps": 1200}
ABLATION = {"backbone": "mobilenetv2", "aspp": False, "kernel_size": 1}


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """Our format: the ASPP ablation with a 1x1 refiner, stored in fp16, with training meta."""
    path = tmp_path_factory.mktemp("ours") / "ablation.pt"
    save_checkpoint(path, lively_model(**ABLATION), meta=META, half=True)
    return path


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "pytorch_mobilenetv2.pth"
    return save_official_style(path, lively_model(backbone="mobilenetv2"))


def info_json(capsys, path) -> dict:
    code, out, err = run_bgm(capsys, "info", path, "--json")
    assert code == 0, err
    return json.loads(out)


def test_our_checkpoint_shows_its_architecture_config_and_origin(ours, capsys):
    info = info_json(capsys, ours)
    assert info["format"] == "bgm v1"
    assert info["architecture"] == {
        "backbone": "mobilenetv2",
        "context": "1x1 conv projection",
        "refiner_kernel": 1,
    }
    assert info["config_source"] == "checkpoint"
    assert {k: info["config"][k] for k in ABLATION} == ABLATION
    assert info["meta"] == META
    assert info["weights_dtype"] == "float16"
    assert info["file_size"] == ours.stat().st_size


def test_parameter_counts_add_up_per_part(ours, capsys):
    counts = info_json(capsys, ours)["parameters"]
    model = MattingModel(ModelConfig(**ABLATION))
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert counts["total"] == sum(
        counts[part] for part in ("backbone", "aspp", "decoder", "refiner")
    )
    assert counts["aspp"] == 320 * 256 + 2 * 256  # the 1x1 conv + BN projection
    assert counts["refiner"] == sum(p.numel() for p in model.refiner.parameters())


def test_official_file_shows_the_inferred_config(official, capsys):
    info = info_json(capsys, official)
    assert info["format"] == "official BackgroundMattingV2 state dict"
    assert info["config_source"] == "inferred from the keys"
    assert info["architecture"]["context"].startswith("ASPP")
    assert info["architecture"]["refiner_kernel"] == 3
    assert info["meta"]["source"] == "official BackgroundMattingV2 state dict"
    assert info["weights_dtype"] == "float32"


def test_table_lists_the_same_facts(ours, capsys):
    code, out, err = run_bgm(capsys, "info", ours)
    assert code == 0 and err == ""
    total = sum(p.numel() for p in MattingModel(ModelConfig(**ABLATION)).parameters())
    for text in ("mobilenetv2", "1x1 conv projection", f"{total:,}", "float16", "steps", "1200"):
        assert text in out


def test_info_does_not_change_the_checkpoint(ours, capsys):
    before = torch.load(ours, weights_only=True)["model"]
    info_json(capsys, ours)
    after = torch.load(ours, weights_only=True)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_no_argument_describes_the_bundled_model_briefly(capsys):
    code, out, err = run_bgm(capsys, "info")
    assert code == 0 and err == ""
    assert "the bundled model" in out and "default.pt" in out and "mobilenetv2" in out
    assert "train.refine" not in out  # the training metadata waits for --full
    assert "more rows of training metadata: --full" in out
    assert len(out.splitlines()) < 40


def test_full_adds_the_config_and_training_metadata(capsys):
    code, out, _ = run_bgm(capsys, "info", "--full")
    assert code == 0
    assert "config kernel_size" in out and "meta train.refine.k" in out
    assert "--full" not in out
