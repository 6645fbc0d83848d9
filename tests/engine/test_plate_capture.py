"""--bg capture: the median of the frames over the capture is the plate, so that noise and
something passing through do not stay in it."""

import numpy as np
import pytest

from bgmcli.engine.live import Arrival
from bgmcli.engine.plate_capture import capture_plate, parse_capture
from bgmcli.errors import BgmError
from tests.engine.media import frame, plate


class Frames:
    """A feed that hands out given frames, then ends."""

    def __init__(self, images):
        self.images = list(images)

    def take(self):
        return Arrival(self.images.pop(0), 0, 0.0) if self.images else None


def test_capture_option():
    assert parse_capture("capture") == 2.0
    assert parse_capture("capture:3.5") == 3.5
    assert parse_capture("room.png") is None
    with pytest.raises(BgmError, match="more than 0 seconds"):
        parse_capture("capture:0")


def test_the_median_leaves_out_what_passes_through():
    room = plate(60, 80)
    images = [room, frame(10, room), room, frame(40, room), room]
    steps = []
    captured = capture_plate(Frames(images), seconds=1, rate=5, countdown=0, tell=steps.append)
    assert np.array_equal(captured, room)
    assert steps and "capturing the background over 1 s (5 frames)" in steps[0]


def test_the_countdown_skips_the_first_seconds():
    room = plate(60, 80)
    images = [frame(i, room) for i in range(4)] + [room] * 2  # the subject leaves after 4
    captured = capture_plate(Frames(images), seconds=1, rate=2, countdown=2, tell=print)
    assert np.array_equal(captured, room)


def test_an_input_that_ends_during_the_countdown_is_one_line():
    with pytest.raises(BgmError, match="ended during the countdown"):
        capture_plate(Frames([plate(60, 80)]), seconds=1, rate=2, countdown=1, tell=print)
