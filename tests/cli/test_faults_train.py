"""`bgm train` under faults: bad settings, files and folders are one line, exit 2, refused
before the model is built; a failed write, a NaN and a second run never damage a run's files."""

from __future__ import annotations

import shutil

import pytest
import torch

from bgmcli.model.checkpoint import save_checkpoint
from tests.checkpoint_fixtures import lively_model
from tests.cli.faults import ODD_CHECKPOINTS, half_written, odd_checkpoint, refused, snapshot
from tests.cli.test_train import base_run, stand_in_data  # noqa: F401 (fixtures)
from tests.cli_helpers import run_bgm

BASE = ["--preset", "smoke", "--stage", "base", "--device", "cpu", "--quiet"]


pytestmark = pytest.mark.usefixtures("stand_in_data")


@pytest.fixture
def run_copy(base_run, tmp_path):  # noqa: F811 (the imported fixture)
    """A copy of the finished one-step base run, for the cases that write into it."""
    out = tmp_path / "run"
    shutil.copytree(base_run, out)
    return out


CONFIGS = {
    "base: 5\n": "expected a mapping",
    "model: [1, 2]\n": "expected a mapping",
    "init: 5\n": "init: expected a string",
    "data_root: [1, 2]\n": "data_root: expected a string",
    "seed: -1\n": "seed must be between",
    "seed: 99999999999999999999\n": "seed",
    "seed: .nan\n": "seed: expected an int",
    "base: {lr_backbone: .inf}\n": "finite number",
    "base: {lr_aspp: .nan}\n": "finite number",
    "base: {lr_backbone: 0, lr_aspp: 0, lr_decoder: 0}\n": "trains nothing",
    "stage: both\nrefine: {batch: 1}\n": "refine.batch 1",
    "stage: both\nrefine: {lr_backbone: 0, lr_aspp: 0, lr_decoder: 0, lr_refiner: 0}\n":
        "stage refine trains nothing",
    "base: {batch: 64}\n": "larger than data_length",
    "base: {size: 100000}\n": "GiB",
    "base: {steps: 0}\n": "steps must be at least 1",
    "data_root: /nowhere\n": "applies to data 'folders' only",
    "backgrounds: /nowhere\n": "applies to data 'folders' only",
    "init: a.pt\nbackbone_weights: b.pth\n": "give one",
    "val_every: 0\n": "val_every must be at least 1",
    "amp: maybe\n": "expected true or false",
    "plate_misalign: 1e400\n": "finite number",
    "~\n": None,  # an empty file is an empty mapping: nothing wrong, checked below as a run
}  # fmt: skip


@pytest.mark.parametrize("text", [t for t, n in CONFIGS.items() if n])
def test_a_bad_config_is_one_line_before_the_model_is_built(text, tmp_path, capsys, monkeypatch):
    import bgmcli.train.loop as loop

    monkeypatch.setattr(loop, "build_model", _no_model)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    args = ["train", "--preset", "smoke", "--quiet", "--config", path, "--out", tmp_path / "o"]
    assert CONFIGS[text] in refused(capsys, *args)
    assert not (tmp_path / "o" / "last.pt").exists()


def _no_model(*args, **kwargs):
    raise AssertionError("the model was built before the settings were checked")


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_bytes(b"base: {steps: 3}\n\xff\xfe"), "not UTF-8"),
        (lambda p: p.mkdir(), "cannot read"),
        (lambda p: p.write_text("base: [1, {2: 3}"), "malformed YAML"),
        (lambda p: None, "cannot read"),  # missing
    ],
)
def test_an_unreadable_config_file_is_one_line(make, needle, tmp_path, capsys):
    path = tmp_path / "c.yaml"
    make(path)
    assert needle in refused(capsys, "train", *BASE, "--config", path, "--out", tmp_path / "o")


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--data-root", "/nowhere"], "applies to data 'folders' only"),
        (["--backgrounds", "/nowhere"], "applies to data 'folders' only"),
        (["--init", "a.pt", "--backbone-weights", "b.pth"], "give one"),
        (["--seed", "-3"], "seed must be between"),
        (["--steps", "0"], "steps must be at least 1"),
        (["--data", "folders"], "needs a dataset folder"),
        (["--data", "folders", "--data-root", "/nowhere"], "not found"),
        (["--out", ""], "empty value"),
        (["--out="], "empty value"),
        (["--backbone", "vgg"], "unknown backbone"),
        (["--device", "tpu"], "device"),
    ],
)
def test_options_that_cannot_apply_are_one_line(options, needle, tmp_path, capsys):
    args = ["train", *BASE, "--out", tmp_path / "o", *options]
    if "--out" in options:
        args = ["train", *BASE, *options]
    assert needle in refused(capsys, *args)
    assert not half_written(tmp_path)


def test_an_out_that_is_a_file_or_cannot_be_made_fails_before_the_model(tmp_path, capsys,
                                                                       monkeypatch):  # fmt: skip
    import bgmcli.train.loop as loop

    monkeypatch.setattr(loop, "build_model", _no_model)
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    assert "is a file" in refused(capsys, "train", *BASE, "--out", blocker)
    assert "cannot write" in refused(capsys, "train", *BASE, "--out", blocker / "sub")
    assert blocker.read_text() == "keep"


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(full_disk, capsys):
    out = full_disk / "run"
    line = refused(capsys, "train", *BASE, "--steps", "1", "--out", out)
    assert "disk is full" in line
    assert not half_written(full_disk) and not (out / "last.pt").exists()


@pytest.mark.parametrize("kind", ODD_CHECKPOINTS)
def test_odd_or_non_finite_start_weights_are_refused(kind, tmp_path, capsys):
    state = lively_model(backbone="mobilenetv2").state_dict()
    path = odd_checkpoint(tmp_path / "init.pt", kind, state)
    line = refused(capsys, "train", *BASE, "--init", path, "--out", tmp_path / "o")
    assert ODD_CHECKPOINTS[kind] in line


def test_backbone_weights_holding_a_list_are_refused(tmp_path, capsys):
    path = tmp_path / "w.pth"
    torch.save([torch.zeros(3)], path)
    line = refused(capsys, "train", *BASE, "--backbone-weights", path, "--out", tmp_path / "o")
    assert "no weights inside" in line


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path, capsys):
    from bgmcli.atomic import output_lock

    out = tmp_path / "run"
    with output_lock(out):  # as a first run holds it (flock: another open file is another run)
        line = refused(capsys, "train", *BASE, "--steps", "1", "--out", out)
    assert "another bgm process" in line
    assert not (out / "metrics.jsonl").exists()


@pytest.mark.slow  # trains, then resumes
def test_resume_refuses_changed_settings_and_keeps_the_run(run_copy, capsys):
    before = snapshot(run_copy)
    for options, needle in [(["--seed", "3"], "seed 0 (asked 3)"),
                            (["--backbone", "resnet50"], "architecture"),
                            (["--preset", "quick"], "other settings")]:  # fmt: skip
        args = ["train", *BASE, "--steps", "2", "--resume", "--out", run_copy, *options]
        assert needle in refused(capsys, *args)
    assert snapshot(run_copy) == before


@pytest.mark.slow  # trains, then resumes
def test_resume_of_a_finished_run_keeps_its_validation_record(run_copy, capsys):
    code, out, _ = run_bgm(capsys, "train", *BASE[:-1], "--steps", "1", "--resume",
                           "--out", run_copy)  # fmt: skip
    assert code == 0 and "nothing left to train" in out
    meta = torch.load(run_copy / "model.pt", weights_only=True)["meta"]
    assert meta["validation"]["step"] == 1


@pytest.mark.slow  # trains
def test_a_non_finite_loss_stops_before_saving_and_keeps_the_last_finite_state(tmp_path, capsys):
    config = tmp_path / "hot.yaml"
    config.write_text("val_every: 1\nbase: {lr_backbone: 1e30, lr_aspp: 1e30, lr_decoder: 1e30}\n")
    out = tmp_path / "run"
    line = refused(capsys, "train", *BASE, "--steps", "3", "--config", config, "--out", out)
    assert "not a finite" in line or "not finite" in line
    saved = torch.load(out / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in saved["model"].values() if v.is_floating_point())


def test_a_nan_model_cannot_be_resumed_or_matted(tmp_path, capsys):
    model = lively_model(backbone="mobilenetv2")
    with torch.no_grad():
        model.decoder.conv4.bias.fill_(float("nan"))
    path = tmp_path / "nan.pt"
    save_checkpoint(path, model)
    assert "NaN or infinite" in refused(capsys, "info", path)
