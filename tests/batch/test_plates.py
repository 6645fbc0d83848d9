"""Plates matched by name: NAME.*, then NAME_plate.*, then NAME_bg.*; never the shot itself."""

import pytest

from bgmcli.batch.plates import match_plate, plate_files
from bgmcli.errors import BgmError


def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b"")


def test_the_rule_in_its_order(tmp_path):
    touch(tmp_path, "s1.png", "s1_plate.jpg", "s1_bg.png", "s2_plate.mp4", "s2_bg.jpg", "s3_bg.tif")
    stems = plate_files(tmp_path)
    assert match_plate("s1", tmp_path / "in/s1.mp4", tmp_path, stems).name == "s1.png"
    assert match_plate("s2", tmp_path / "in/s2.mp4", tmp_path, stems).name == "s2_plate.mp4"
    assert match_plate("s3", tmp_path / "in/s3.mp4", tmp_path, stems).name == "s3_bg.tif"


def test_plates_beside_the_shots_never_match_the_shot_itself(tmp_path):
    touch(tmp_path, "s1.mp4", "s1_plate.png", "notes.txt")
    stems = plate_files(tmp_path)
    assert match_plate("s1", tmp_path / "s1.mp4", tmp_path, stems).name == "s1_plate.png"


def test_no_match_names_the_shot_and_the_rule(tmp_path):
    touch(tmp_path, "other.png")
    with pytest.raises(BgmError, match=r"shot s9: no plate in .* s9\.\*, s9_plate\.\*, s9_bg\.\*"):
        match_plate("s9", tmp_path / "s9.mp4", tmp_path, plate_files(tmp_path))


def test_two_plates_of_one_rank_are_ambiguous(tmp_path):
    touch(tmp_path, "s1_plate.png", "s1_plate.jpg")
    with pytest.raises(BgmError, match="shot s1: several plates"):
        match_plate("s1", tmp_path / "s1.mp4", tmp_path, plate_files(tmp_path))
