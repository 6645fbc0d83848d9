"""Every bad-checkpoint case gives one line on stderr and exit code 2 through the CLI, never a
traceback: missing, not a checkpoint, code-bearing pickle, architecture mismatch."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import torch

from tests.checkpoint_fixtures import lively_model, save_official_style
from tests.cli_helpers import run_bgm


class Opaque:
    """An arbitrary object: unpickling it would need this code, so weights_only refuses it."""

    def __init__(self):
        self.weights = torch.zeros(2)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "pytorch_mobilenetv2.pth"
    return save_official_style(path, lively_model(backbone="mobilenetv2"))


def write_bad_file(kind: str, folder, official) -> str:
    """Make the bad checkpoint `kind` under `folder`; returns its path."""
    path = folder / f"{kind}.pth"
    if kind == "missing":
        return str(path)
    if kind == "directory":
        path.mkdir()
    elif kind == "random bytes":
        path.write_bytes(random.Random(0).randbytes(4096))
    elif kind == "text":
        path.write_text("model: mobilenetv2\nweights: somewhere else\n")
    elif kind == "truncated":
        path.write_bytes(official.read_bytes()[: official.stat().st_size // 2])
    elif kind == "needs code":
        torch.save(Opaque(), path)
    elif kind == "no weights":
        torch.save([1, 2, 3], path)
    elif kind == "not matting":
        torch.save({"epoch": 3, "lr": 0.1}, path)
    elif kind == "keys removed":
        state = torch.load(official, weights_only=True)
        torch.save({k: v for k, v in state.items() if not k.startswith("refiner.")}, path)
    return str(path)


CASES = {
    "missing": "checkpoint not found",
    "directory": "is a directory",
    "random bytes": "is not a",
    "text": "is not a PyTorch checkpoint",
    "truncated": "not a readable PyTorch checkpoint (corrupt, truncated",
    "needs code": "needs arbitrary code to load",
    "no weights": "no weights inside",
    "not matting": "not a matting checkpoint",
    "keys removed": "its keys suggest mobilenetv2 (aspp=True, kernel_size=3): 20 missing "
    "(first: refiner.conv1.weight)",
}


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("bgm: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert message in err


@pytest.mark.slow
@pytest.mark.parametrize("kind", CASES)
def test_bad_checkpoint_is_one_line_exit_2(kind, official, tmp_path, capsys):
    path = write_bad_file(kind, tmp_path, official)
    assert_one_line_error(*run_bgm(capsys, "info", path), CASES[kind])


@pytest.mark.slow
def test_wrong_backbone_names_the_suggested_one_and_first_bad_keys(official, capsys):
    code, out, err = run_bgm(capsys, "info", official, "--backbone", "resnet50")
    assert_one_line_error(code, out, err, "does not fit a resnet50 model")
    assert "its keys suggest mobilenetv2" in err
    assert "missing (first: backbone.conv1.weight)" in err
    assert "unexpected (first: backbone.features.0.0.weight)" in err


def test_export_gives_the_same_one_line_errors(tmp_path, capsys):
    result = run_bgm(capsys, "export", tmp_path / "gone.pt", "-f", "onnx", "-o", tmp_path / "x")
    assert_one_line_error(*result, "checkpoint not found")


@pytest.mark.slow
def test_the_installed_command_prints_no_traceback(official, tmp_path):
    """End to end, in a fresh interpreter: what a user sees in the terminal."""
    path = write_bad_file("needs code", tmp_path, official)
    proc = subprocess.run(
        [sys.executable, "-m", "bgmcli", "info", path], capture_output=True, text=True
    )
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, "needs arbitrary code")
