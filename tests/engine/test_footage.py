"""The extra pass of --bg frame:TIME and auto: the frame shown at a time (or the last one), a
time past the end in one line, and a sample of frames bounded in number and spread evenly."""

import numpy as np
import pytest

from bgmcli.engine.footage import frame_at, sample_frames
from bgmcli.engine.plate_forms import LAST_FRAME
from bgmcli.errors import BgmError
from tests.engine.media import frame, plate, write_image, write_video

RATE = 24000 / 1001  # write_video's default


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("footage") / "clip.mp4", 30, 36, 64)


def closest(image, count: int = 30) -> int:
    """The index of the clip's frame that `image` shows (the subject moves 3 px a frame)."""
    room = plate(36, 64)
    errors = [np.abs(image.astype(int) - frame(i, room)).mean() for i in range(count)]
    return int(np.argmin(errors))


def test_the_frame_at_a_time_and_the_last_frame(clip):
    assert closest(frame_at(clip, 0.0)) == 0
    assert closest(frame_at(clip, 10 / RATE)) == 10
    assert closest(frame_at(clip, LAST_FRAME)) == 29


def test_a_time_past_the_end_is_one_line(clip):
    past = r"frame:9 is past the end of .*clip.mp4 \(it lasts 1.25 s\)"
    with pytest.raises(BgmError, match=past):
        frame_at(clip, 9.0)


def test_image_sequences_by_index_and_one_image_refused(tmp_path):
    room = plate(36, 64)
    for index in range(5):
        write_image(tmp_path / f"{index:03d}.png", frame(index * 5, room))
    assert np.array_equal(frame_at(tmp_path, 2 / 24), frame(10, room))
    assert np.array_equal(frame_at(tmp_path, LAST_FRAME), frame(20, room))
    with pytest.raises(BgmError, match="past the end"):
        frame_at(tmp_path, 1.0)
    with pytest.raises(BgmError, match="is one image"):
        frame_at(tmp_path / "000.png", 0.0)


def test_the_sample_is_bounded_and_spread_over_the_take(clip):
    sample = sample_frames(clip, limit=8)
    assert sample.read == 30
    assert 4 <= len(sample.images) <= 8
    shown = [closest(image) for image in sample.images]
    assert shown[0] == 0 and shown[-1] >= 24  # from the start to near the end
    steps = np.diff(shown)
    assert steps.min() == steps.max()  # evenly spaced


def test_the_sample_keeps_to_start_and_duration(clip):
    sample = sample_frames(clip, start=10 / RATE, duration=10 / RATE)
    assert sample.read == 10
    assert closest(sample.images[0]) == 10
