"""Sources: what a user's video, image or folder turns into (frames, size, rate, timestamps),
and damaged inputs that must fail loudly rather than give a shorter output."""

from fractions import Fraction

import pytest

from bgmcli.engine.sources import IMAGE_RATE, ImageSource, VideoSource, open_source
from bgmcli.errors import BgmError


def test_video_keeps_its_exact_rate_size_and_timestamps(media):
    source = open_source(media.clip)
    info = source.info
    frames = list(source.frames())
    source.close()
    assert (info.width, info.height, info.kind, info.name) == (160, 120, "video", "clip")
    assert info.rate == Fraction(24000, 1001) and isinstance(info.rate, Fraction)
    assert info.frames == len(frames) == 48 and info.has_audio
    assert [f.pts for f in frames[:3]] == [0, 1001, 2002]
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype.name == "uint8"


def test_start_and_duration_select_frames_and_shift_timestamps(media):
    source = open_source(media.clip, start=0.5, duration=0.5)
    frames = list(source.frames())
    source.close()
    # frames at 12..23 * 1001/24000 s lie in [0.5, 1.0); the first one is at 12.012 - 12 frames
    assert len(frames) == 12
    assert frames[0].pts == 12 * 1001 - 12_000 and source.info.offset == 0.5


def test_variable_frame_rate_timestamps_pass_through(media):
    source = open_source(media.vfr)
    stamps = [f.pts * source.info.time_base for f in source.frames()]
    source.close()
    assert stamps == [Fraction(p, 1000) for p in media.vfr_pts]


def test_display_rotation_is_applied(media):
    source = open_source(media.rotated)
    first = next(iter(source.frames()))
    source.close()
    assert (source.info.width, source.info.height) == (120, 160)
    assert first.image.shape == (160, 120, 3)


def test_truncated_video_is_an_error_not_a_shorter_output(media):
    source = open_source(media.truncated)
    with pytest.raises(BgmError, match="truncated"):
        list(source.frames())


def test_corrupt_video_is_an_error(media):
    with pytest.raises(BgmError, match="corrupt|decode"):
        source = open_source(media.corrupt)
        list(source.frames())


@pytest.mark.parametrize("name", ["notes.mp4", "missing.mp4"])
def test_unreadable_inputs_are_one_line_errors(media, name):
    with pytest.raises(BgmError) as error:
        open_source(media.root / name)
    assert "\n" not in str(error.value)


def test_start_past_the_end_is_an_error(media):
    with pytest.raises(BgmError, match="no video frames"):
        VideoSource(media.clip, start=60)


def test_image_folder_and_glob(media):
    folder = open_source(media.images)
    assert isinstance(folder, ImageSource) and folder.info.frames == 5
    assert folder.info.rate == IMAGE_RATE and folder.info.name == "shots"
    assert [f.pts for f in folder.frames()] == [0, 1, 2, 3, 4]
    matched = open_source(media.images / "00[0-2].png")
    assert matched.info.frames == 3 and matched.info.name == "shots"


def test_images_of_different_sizes_are_an_error(media, tmp_path):
    from tests.engine.media import plate, write_image

    write_image(tmp_path / "a.png", plate(120, 160))
    write_image(tmp_path / "b.png", plate(60, 80))
    with pytest.raises(BgmError, match="one size"):
        list(open_source(tmp_path).frames())


def test_start_does_not_apply_to_images(media):
    with pytest.raises(BgmError, match="video inputs"):
        open_source(media.plate, start=1.0)
