"""`bgm export` under faults: one line, exit 2, and no file replaced or left half written."""

from __future__ import annotations

import pytest

from bgmcli.model.checkpoint import save_checkpoint
from tests.checkpoint_fixtures import lively_model
from tests.cli.faults import (
    ODD_CHECKPOINTS,
    half_written,
    odd_checkpoint,
    refused,
    snapshot,
)

SMALL = ["-f", "torchscript", "-r", "64x48", "--k", "8", "--no-verify"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    save_checkpoint(path, lively_model(backbone="mobilenetv2"))
    return path


def test_an_existing_file_is_kept_without_overwrite(checkpoint, tmp_path, capsys):
    out = tmp_path / "m.pt"
    out.write_bytes(b"precious")
    assert "--overwrite" in refused(capsys, "export", checkpoint, "-o", out, *SMALL)
    assert out.read_bytes() == b"precious"


@pytest.mark.slow  # exports the model
@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(fmt, checkpoint, full_disk, capsys):
    options = [o if o != "torchscript" else fmt for o in SMALL]
    line = refused(capsys, "export", checkpoint, "-o", full_disk / "m.bin", *options)
    assert "disk is full" in line
    assert list(full_disk.iterdir()) == []


@pytest.mark.parametrize("kind", ODD_CHECKPOINTS)
def test_a_checkpoint_of_odd_contents_is_one_line(kind, tmp_path, capsys):
    state = lively_model(backbone="mobilenetv2").state_dict()
    path = odd_checkpoint(tmp_path / "odd.pt", kind, state)
    before = snapshot(tmp_path)
    assert ODD_CHECKPOINTS[kind] in refused(capsys, "export", path, "-o", tmp_path / "m", *SMALL)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["-r", "99999x99999"], "GiB"),
        (["-r", "64x48", "--batch-size", "10000000"], "GiB"),
        (["-r", ""], "empty value"),
        (["-o", ""], "empty value"),
        (["-r", "64x48", "--threshold", "nan"], "threshold"),
        (["-r", "64x48", "--backbone-scale", "inf"], "scale"),
        (["-r", "64x48", "--batch-size", "0"], "batch size"),
    ],
)
def test_bad_options_are_one_line_before_any_file(options, needle, checkpoint, tmp_path, capsys):
    out = tmp_path / "m.pt"
    args = ["export", checkpoint, "-f", "torchscript", "--no-verify", "-o", out, *options]
    assert needle in refused(capsys, *args)
    assert not out.exists() and not half_written(tmp_path)


def test_an_output_folder_that_cannot_be_made(checkpoint, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "output folder" in refused(capsys, "export", checkpoint, "-o", blocker / "m.pt", *SMALL)
