"""The people evaluation set: people cut out by the segmenter, over other photographs, with
hand-held plates; the regions where the answer is certain are right by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.people import BACKGROUNDS, PEOPLE, hand_held_plate

SHARED = Path(__file__).resolve().parents[3] / "shared" / "pretrained"

needs_photos = pytest.mark.skipif(
    not (SHARED / "squat.bmp").is_file(), reason=f"no people photographs at {SHARED}"
)


@needs_photos
def test_people_set_regions_are_certain():
    pytest.importorskip("ai_edge_litert", reason="the segmenter runs on ai-edge-litert")
    data = open_eval_set(str(SHARED), 320, 180, None)
    assert len(data) == len(PEOPLE) * len(BACKGROUNDS)
    frame = data[len(BACKGROUNDS)]  # grace_hopper over the first backdrop
    pha = frame["true_pha"][0].numpy()
    interior, far = frame["interior"], frame["far"]
    assert interior.sum() > 0.03 * pha.size and far.sum() > 0.3 * pha.size
    assert not (interior & far).any()
    assert pha[interior].min() > 0.99 and pha[far].max() < 0.01
    assert frame["src"].shape == frame["bgr"].shape == (3, 180, 320)


def test_hand_held_plate_moves_by_pixels_not_more():
    rng = np.random.default_rng(0)
    live = torch.full((3, 108, 192), 0.2)
    live[:, 40:60, 80:100] = 1.0  # a bright square to follow
    plate = hand_held_plate(live, rng, misalign=10.0)  # 10x the 0.2-0.6 px of this size
    before = np.argwhere(live[0].numpy() > 0.99).mean(0)
    after = np.argwhere(plate[0].numpy() > 0.9).mean(0)
    assert 0.5 < np.abs(after - before).max() < 12
    still = hand_held_plate(live, np.random.default_rng(0), misalign=0.0)
    assert np.argwhere(still[0].numpy() > 0.9).mean(0) == pytest.approx(before, abs=0.3)
