"""Keeping up: the ladder of settings, and the choice of the best one that meets the target."""

import time

import pytest
import torch

from bgmcli.engine.keep_up import choose, ladder, parse_latency_target
from bgmcli.errors import BgmError


def test_the_ladder_goes_from_the_size_rule_to_the_fastest():
    rungs = ladder(640, 480)
    assert rungs[0] == (0.5, 741)  # the frame-size rule: 1/2, and 5000 at HD scaled by area
    assert rungs[-1] == (0.125, 1)
    assert all(scale * 640 >= 80 for scale, _ in rungs)


def test_values_given_by_the_user_stay_fixed():
    assert {scale for scale, _ in ladder(640, 480, scale=0.25)} == {0.25}
    assert {k for _, k in ladder(640, 480, k=500)} == {500}


class SlowAtHighScale(torch.nn.Module):
    """A model whose time depends on the base scale, as the real one's does."""

    def forward(self, src, bgr, settings):
        time.sleep(0.15 if settings.backbone_scale > 0.3 else 0.005)
        return src


@pytest.mark.slow
def test_the_first_rung_within_the_target_is_chosen():
    frame = torch.zeros(1, 3, 480, 640)
    choice = choose(SlowAtHighScale(), frame, frame, target=100.0, rate=30,
                    device=torch.device("cpu"), threads=1)  # fmt: skip
    # 1/2 misses the target at every k; 1/4 with the full k is the best that meets it
    assert (choice.backbone_scale, choice.k, choice.threads) == (0.25, 741, 1)
    assert choice.keeps_up and choice.chosen and "chosen: base scale 0.25" in choice.describe()


def test_quality_keeps_the_size_rule_and_reports_its_time():
    frame = torch.zeros(1, 3, 480, 640)
    choice = choose(SlowAtHighScale(), frame, frame, target="quality", rate=30,
                    device=torch.device("cpu"), threads=1)  # fmt: skip
    assert choice.backbone_scale == 0.5 and not choice.chosen and choice.model_ms >= 150


def test_latency_target_values():
    assert parse_latency_target("120") == 120.0
    assert parse_latency_target("80ms") == 80.0
    assert parse_latency_target(None) == "auto"
    with pytest.raises(BgmError, match="--latency-target 'fast'"):
        parse_latency_target("fast")
