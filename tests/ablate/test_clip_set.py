"""The moving-clip evaluation set and the temporal figures of an evaluation: frames in clip
order, dtSSD per clip (nan on single pictures), the temporal filter run over each clip."""

from __future__ import annotations

import math

import pytest
import torch

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import evaluate
from bgmcli.errors import BgmError
from bgmcli.model.difference_key import DifferenceKey
from bgmcli.model.temporal import TemporalSettings


def test_the_clip_set_holds_a_still_and_a_hand_held_clip_in_order():
    data = open_eval_set("clip", 64, 36, 3)
    assert data.name == "clip-64x36" and len(data) == 6
    frames = list(data)
    assert [f["sequence"] for f in frames] == ["static"] * 3 + ["handheld"] * 3
    assert all(f["src"].shape == (3, 36, 64) and f["true_pha"].shape == (1, 36, 64) for f in frames)
    # the still camera's plate is one picture; the hand-held one's follows the camera
    assert torch.equal(frames[0]["bgr"], frames[2]["bgr"])
    assert not torch.equal(frames[3]["bgr"], frames[5]["bgr"])


def test_a_clip_of_one_frame_is_refused_in_one_line():
    with pytest.raises(BgmError, match="needs at least 2 frames a clip"):
        open_eval_set("clip", 64, 36, 1)


def test_evaluation_reports_dtssd_on_clips_and_runs_the_filter_over_them():
    key, cpu = DifferenceKey(), torch.device("cpu")
    data = open_eval_set("clip", 64, 36, 3)
    plain = evaluate(key, data, 5000, cpu, iters=1)
    filtered = evaluate(key, data, 5000, cpu, iters=1, temporal=TemporalSettings())
    assert plain["frames"] == filtered["frames"] == 6
    assert math.isfinite(plain["dtssd"]) and math.isfinite(filtered["dtssd"])
    assert filtered["dtssd"] != plain["dtssd"] and filtered["fps"] > 0
    single = evaluate(key, open_eval_set("synthetic", 64, 36, 2), 5000, cpu, iters=1)
    assert math.isnan(single["dtssd"])  # single pictures have no time
