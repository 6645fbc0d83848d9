"""`bgm train` through the CLI: a smoke run, and every bad input as one line on stderr, exit 2."""

from __future__ import annotations

import pytest
import torch

from bgmcli.cli import app
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.conftest import single_thread
from tests.train_fixtures import use_dataset_fn_in_cli


@pytest.fixture(autouse=True)
def stand_in_data(monkeypatch):
    use_dataset_fn_in_cli(monkeypatch)
    with single_thread():
        yield


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A finished one-step base-stage run (made once: the checkpoint-based cases share it)."""
    out = tmp_path_factory.mktemp("run")
    mp = pytest.MonkeyPatch()
    use_dataset_fn_in_cli(mp)
    try:
        with pytest.raises(SystemExit) as exc:
            app(
                args=[
                    "train",
                    "--preset",
                    "smoke",
                    "--stage",
                    "base",
                    "--steps",
                    "1",
                    "--out",
                    str(out),
                    "--device",
                    "cpu",
                    "--quiet",
                ]
            )
    finally:
        mp.undo()
    assert exc.value.code == 0
    return out


@pytest.mark.slow  # trains both stages
def test_smoke_run_prints_validation_and_a_summary(tmp_path, capsys):
    code, out, _ = run_bgm(
        capsys, "train", "--preset", "smoke", "--out", tmp_path, "--device", "cpu"
    )
    assert code == 0
    assert "8 steps; val MAD" in out and str(tmp_path / "model.pt") in out
    assert (tmp_path / "last.pt").exists() and (tmp_path / "metrics.jsonl").exists()


def test_unknown_preset(tmp_path, capsys):
    code, _, err = run_bgm(capsys, "train", "--preset", "huge", "--out", tmp_path)
    assert_one_line_error(code, err, "unknown preset 'huge'", "smoke")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("base: {steps: 3\n", "malformed YAML"),
        ("bsae: {steps: 3}\n", "unknown field 'bsae'"),
        ("base: {steps: many}\n", "base.steps"),
        ("model: {backbone: vgg}\n", "unknown backbone 'vgg'"),
        ("stage: middle\n", "unknown stage 'middle'"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_file_names_the_field(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, _, err = run_bgm(
        capsys, "train", "--preset", "smoke", "--config", path, "--out", tmp_path / "o"
    )
    assert_one_line_error(code, err, needle)


def test_data_folder_that_matches_no_layout(tmp_path, capsys):
    code, _, err = run_bgm(
        capsys,
        "train",
        "--preset",
        "smoke",
        "--data",
        "folders",
        "--data-root",
        tmp_path / "nothing",
        "--out",
        tmp_path / "o",
        "--device",
        "cpu",
    )
    assert_one_line_error(code, err, "nothing")


def test_resume_without_a_checkpoint(tmp_path, capsys):
    code, _, err = run_bgm(capsys, "train", "--preset", "smoke", "--out", tmp_path, "--resume")
    assert_one_line_error(code, err, "no checkpoint to resume")


@pytest.mark.slow
def test_a_folder_holding_a_run_needs_resume(base_run, capsys):
    code, _, err = run_bgm(capsys, "train", "--preset", "smoke", "--out", base_run)
    assert_one_line_error(code, err, "already holds a training run", "--resume")


@pytest.mark.slow
def test_resume_with_another_architecture(base_run, capsys):
    code, _, err = run_bgm(
        capsys,
        "train",
        "--preset",
        "smoke",
        "--out",
        base_run,
        "--resume",
        "--backbone",
        "resnet50",
    )
    assert_one_line_error(code, err, "another architecture", "resnet50")


@pytest.mark.slow
def test_init_from_a_checkpoint_of_another_architecture(base_run, tmp_path, capsys):
    code, _, err = run_bgm(
        capsys,
        "train",
        "--preset",
        "smoke",
        "--stage",
        "refine",
        "--init",
        base_run / "model.pt",
        "--backbone",
        "resnet50",
        "--out",
        tmp_path,
    )
    assert_one_line_error(code, err, "does not fit a resnet50 model")


def test_batch_too_small_and_bad_workers(tmp_path, capsys):
    path = tmp_path / "b.yaml"
    path.write_text("base: {batch: 1}\n")
    code, _, err = run_bgm(
        capsys,
        "train",
        "--preset",
        "smoke",
        "--config",
        path,
        "--out",
        tmp_path / "o",
        "--device",
        "cpu",
    )
    assert_one_line_error(code, err, "base.batch 1")
    code, _, err = run_bgm(
        capsys, "train", "--preset", "smoke", "--workers", "-1", "--out", tmp_path / "p"
    )
    assert_one_line_error(code, err, "--workers")


@pytest.mark.slow  # trains, then resumes
def test_resume_continues_and_a_finished_run_has_nothing_left(tmp_path, capsys):
    args = ["train", "--preset", "smoke", "--stage", "base", "--out", tmp_path, "--device", "cpu"]
    assert run_bgm(capsys, *args, "--steps", "1", "--quiet")[0] == 0
    code, out, _ = run_bgm(capsys, *args, "--steps", "2", "--resume")
    assert code == 0 and "2 steps; val MAD" in out
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2
    code, out, _ = run_bgm(capsys, *args, "--steps", "2", "--resume")
    assert code == 0 and "nothing left to train" in out
