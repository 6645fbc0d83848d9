"""INPUT arguments as a user gives them: folders and globs of videos are shots, of images one
image sequence; streams pass untouched; bgm's own outputs are never taken for shots."""

import pytest

from bgmcli.batch.inputs import expand_inputs
from bgmcli.errors import BgmError
from tests.batch.conftest import make_clip, make_plate


def test_a_folder_of_videos_and_images_picks_the_videos_and_says_so(tmp_path):
    make_clip(tmp_path / "b.mp4")
    make_clip(tmp_path / "a.mov")
    make_plate(tmp_path / "still.png")
    expansion = expand_inputs([str(tmp_path)])
    assert [s.input.name for s in expansion.shots] == ["a.mov", "b.mp4"]
    assert [s.name for s in expansion.shots] == ["a", "b"]
    assert expansion.is_batch
    assert len(expansion.notes) == 1
    assert "2 videos picked as shots, 1 image left out" in expansion.notes[0]


def test_a_folder_or_glob_of_images_stays_one_image_sequence(tmp_path):
    for index in range(3):
        make_plate(tmp_path / "take" / f"{index:03d}.png")
    folder = expand_inputs([str(tmp_path / "take")])
    assert [(s.input, s.name) for s in folder.shots] == [(tmp_path / "take", "take")]
    assert not folder.is_batch
    pattern = str(tmp_path / "take" / "*.png")
    globbed = expand_inputs([pattern])
    assert [(str(s.input), s.name) for s in globbed.shots] == [(pattern, "take")]
    assert not globbed.is_batch


def test_a_glob_of_videos_gives_one_shot_each_and_paths_add_up(tmp_path):
    for name in ("s1", "s2", "s3"):
        make_clip(tmp_path / f"{name}.mp4")
    expansion = expand_inputs([str(tmp_path / "s[12].mp4"), str(tmp_path / "s3.mp4")])
    assert [s.name for s in expansion.shots] == ["s1", "s2", "s3"]
    one = expand_inputs([str(tmp_path / "s1.mp4")])
    assert not one.is_batch and one.shots[0].input == tmp_path / "s1.mp4"


def test_a_file_listed_twice_is_one_shot(tmp_path):
    make_clip(tmp_path / "a.mp4")
    expansion = expand_inputs([str(tmp_path), str(tmp_path / "a.mp4")])
    assert len(expansion.shots) == 1 and "more than once" in expansion.notes[0]


@pytest.mark.parametrize(
    "stream", ["-", "/dev/video0", "rtsp://camera.local/live", "https://x/y.mp4"]
)
def test_streams_pass_untouched_as_one_shot(stream):
    expansion = expand_inputs([stream])
    assert [(s.input, s.name) for s in expansion.shots] == [(stream, None)]
    assert not expansion.is_batch


def test_outputs_of_an_earlier_run_beside_the_shots_are_not_shots(tmp_path):
    make_clip(tmp_path / "a.mp4")
    make_clip(tmp_path / "a.com.mp4")
    (tmp_path / "a.pha.mp4.partial").write_bytes(b"")
    expansion = expand_inputs([str(tmp_path / "*.mp4*")])
    assert [s.name for s in expansion.shots] == ["a"]
    assert "2 files named like bgm outputs left out" in expansion.notes[0]


def test_nothing_to_matte_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(BgmError, match="no videos or images in"):
        expand_inputs([str(tmp_path)])
    with pytest.raises(BgmError, match="no videos or images match"):
        expand_inputs([str(tmp_path / "*.mp4")])
    with pytest.raises(BgmError, match="input not found"):
        expand_inputs([str(tmp_path / "gone.mp4")])
