"""`bgm info` under faults: every hostile or damaged checkpoint is one line, exit 2."""

from __future__ import annotations

import pickle

import pytest
import torch

from tests.checkpoint_fixtures import lively_model
from tests.cli.faults import ODD_CHECKPOINTS, odd_checkpoint, refused


@pytest.fixture(scope="module")
def state():
    return lively_model(backbone="mobilenetv2").state_dict()


@pytest.mark.parametrize("kind", ODD_CHECKPOINTS)
def test_a_checkpoint_of_odd_contents_is_one_line(kind, state, tmp_path, capsys):
    path = odd_checkpoint(tmp_path / "odd.pt", kind, state)
    assert ODD_CHECKPOINTS[kind] in refused(capsys, "info", path)


class Payload:
    """Unpickling this would call os.system: weights_only must refuse it, saying why."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
def test_a_malicious_pickle_is_refused_as_code_not_as_a_bad_file(how, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    if how == "torch.save":
        torch.save({"model": Payload()}, path)
    else:
        path.write_bytes(pickle.dumps(Payload(), protocol=4))  # torch cannot parse protocol 4
    line = refused(capsys, "info", path)
    assert "would run that code" in line
    assert not (tmp_path / "pwned").exists()


def test_a_raw_pickle_of_plain_data_prints_no_torch_warning(tmp_path, capsys):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    assert "not a PyTorch checkpoint" in refused(capsys, "info", path)  # one line: no warning


@pytest.mark.parametrize("arg", ["", "--backbone="])
def test_empty_values_are_refused(arg, capsys):
    assert "empty value" in refused(capsys, "info", arg)
