"""Resume under faults: Ctrl-C and SIGTERM keep the steps done and resume exactly, a crash
between a log row and its checkpoint logs no row twice, --steps counts within each stage."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch

import bgmcli.train.loop as loop
from bgmcli.errors import Interrupted
from bgmcli.train.config import build_train_config
from bgmcli.train.loop import train
from tests.cli_helpers import run_bgm
from tests.train_fixtures import tiny_dataset, use_dataset_fn_in_cli

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(steps=4, **extra):
    return build_train_config("smoke", overrides={"stage": "base", "base": {"steps": steps},
                                                  "val_every": 4, **extra})  # fmt: skip


def _stopping_data(at_item: int, stop):
    """The stand-in data, calling `stop()` when item `at_item` is first drawn (between steps:
    as Ctrl-C lands while a batch loads)."""
    make = tiny_dataset
    drawn = {"n": 0}

    def build(*args, **kwargs):
        data = make(*args, **kwargs)
        if kwargs.get("augment") is False or kwargs.get("length") != 16:
            return data  # the validation set
        get = data.__getitem__

        def getitem(i):
            drawn["n"] += 1
            if drawn["n"] == at_item:
                stop()
            return get(i)

        data.__getitem__ = getitem
        return _Wrapped(data, getitem)

    return build


class _Wrapped(torch.utils.data.Dataset):
    def __init__(self, data, getitem):
        self.data, self.getitem = data, getitem

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.getitem(i)


def _keyboard_interrupt():
    raise KeyboardInterrupt


def _weights(path):
    return torch.load(path, weights_only=True)["model"]


@pytest.mark.slow
def test_ctrl_c_saves_the_steps_done_and_the_resume_is_exact(tmp_path):
    straight = train(_config(), tmp_path / "straight", device="cpu", dataset_fn=tiny_dataset)
    # batch 4: item 11 is drawn in step 3, after steps 1 and 2 are done
    with pytest.raises(Interrupted, match="step 2 of 4.*holds step 2.*--resume"):
        train(_config(), tmp_path / "stopped", device="cpu",
              dataset_fn=_stopping_data(11, _keyboard_interrupt))  # fmt: skip
    saved = torch.load(tmp_path / "stopped" / "last.pt", weights_only=True)
    assert (saved["step"], saved["stage_step"]) == (2, 2)
    train(_config(), tmp_path / "stopped", device="cpu", resume=True, dataset_fn=tiny_dataset)
    a, b = _weights(tmp_path / "straight" / "last.pt"), _weights(tmp_path / "stopped" / "last.pt")
    assert all(torch.equal(v, b[k]) for k, v in a.items())
    rows = (tmp_path / "stopped" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [r["step"] for r in straight.history]


@pytest.mark.slow  # trains until SIGTERM
def test_sigterm_through_the_cli_saves_like_ctrl_c_and_exits_143(tmp_path, capsys, monkeypatch):
    use_dataset_fn_in_cli(monkeypatch)
    monkeypatch.setattr(
        loop,
        "default_dataset_fn",
        lambda: _stopping_data(11, lambda: os.kill(os.getpid(), signal.SIGTERM)),
    )
    code, _, err = run_bgm(capsys, "train", "--preset", "smoke", "--stage", "base", "--device",
                           "cpu", "--quiet", "--out", tmp_path)  # fmt: skip
    assert code == 143 and err.count("\n") == 1 and err.startswith("bgm: terminated: "), err
    assert "holds step 2" in err
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signal.SIGTERM) is not None  # the handler was put back


@pytest.mark.slow
def test_a_crash_between_a_log_row_and_its_checkpoint_logs_no_row_twice(tmp_path, monkeypatch):
    config = _config(val_every=1)
    real = loop.save_state

    def crash_at_step_3(path, **kwargs):
        if kwargs["step"] == 3:
            raise RuntimeError("killed")
        real(path, **kwargs)

    monkeypatch.setattr(loop, "save_state", crash_at_step_3)
    with pytest.raises(RuntimeError):
        train(config, tmp_path, device="cpu", dataset_fn=tiny_dataset)
    monkeypatch.setattr(loop, "save_state", real)
    result = train(config, tmp_path, device="cpu", resume=True, dataset_fn=tiny_dataset)
    rows = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4]
    assert result.summary().startswith("2 steps;") is False  # the whole run's rows: 4 steps
    assert torch.load(tmp_path / "model.pt", weights_only=True)["meta"]["validation"]["step"] == 4


@pytest.mark.slow
def test_more_steps_on_resume_continue_the_stage_in_progress_not_the_one_before(tmp_path):
    def both(steps):
        return build_train_config("smoke", overrides={"stage": "both", "base": {"steps": steps},
                                                      "refine": {"steps": steps}})  # fmt: skip

    train(both(1), tmp_path, device="cpu", dataset_fn=tiny_dataset)
    result = train(both(2), tmp_path, device="cpu", resume=True, dataset_fn=tiny_dataset)
    saved = torch.load(tmp_path / "last.pt", weights_only=True)
    assert (saved["stage"], saved["stage_step"], saved["step"]) == ("refine", 2, 3)
    assert [r["stage"] for r in result.history[-2:]] == ["refine", "refine"]
    assert all(r["stage"] == "refine" for r in result.history[2:])  # base was not trained again
