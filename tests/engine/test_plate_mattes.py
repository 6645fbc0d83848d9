"""--bg auto's model round: the base network's mattes against the plate mark where each frame's
subject covers the background (widened), and leave the rest of the room uncovered."""

import numpy as np
import pytest

from bgmcli.engine.plate_mattes import has_base_network, matte_masks
from bgmcli.loading import load_model
from bgmcli.model.difference_key import DifferenceKey
from tests.engine.media import plate
from tests.engine.test_plate_estimate import disc, noisy


@pytest.fixture(scope="module")
def bundled():
    return load_model(None, device="cpu")


@pytest.mark.slow
def test_the_subject_is_covered_with_a_margin_and_the_room_is_not(bundled, one_thread):
    rng = np.random.default_rng(0)
    room = plate(72, 128)
    frames = np.stack([noisy(disc(room, 40 + 24 * i, 36, 14), rng) for i in range(3)])
    masks = matte_masks(bundled, frames, room, reach=2)
    assert masks.shape == (3, 72, 128)
    y, x = np.mgrid[0:72, 0:128]
    for i in range(3):
        distance = np.hypot(x - (40 + 24 * i), y - 36)
        assert masks[i][distance <= 15].all()  # the disc and a pixel past its edge
        # the room away from it: a few specks where the noise looks like something (the round
        # errs on "covered": a background pixel left out of one frame's median costs little)
        assert masks[i][distance > 24].mean() < 0.2


@pytest.mark.slow
def test_only_a_network_has_a_model_round(bundled):
    assert has_base_network(bundled)
    assert not has_base_network(DifferenceKey())
