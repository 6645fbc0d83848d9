"""The shots of a batch: plates per shot, clashes of names, and shards that cover every shot
exactly once."""

import pytest

from bgmcli.batch.plan import parse_shard, plan_shots, select_shard
from bgmcli.errors import BgmError
from tests.batch.conftest import make_clip, make_plate

OPTIONS = {"outdir": None}


def test_shards_cover_every_shot_exactly_once(tmp_path):
    for index in range(7):
        make_clip(tmp_path / f"s{index}.mp4", frames=1)
    make_plate(tmp_path / "plate.png")
    shots = plan_shots([str(tmp_path / "*.mp4")], tmp_path / "plate.png", None, OPTIONS).shots
    parts = [select_shard(shots, parse_shard(f"{i}/3")) for i in (1, 2, 3)]
    names = [shot.name for part in parts for shot in part]
    assert sorted(names) == [f"s{i}" for i in range(7)]
    assert [len(part) for part in parts] == [3, 2, 2]
    again = plan_shots([str(tmp_path / "*.mp4")], tmp_path / "plate.png", None, OPTIONS).shots
    assert [s.name for s in select_shard(again, (2, 3))] == [s.name for s in parts[1]]


@pytest.mark.parametrize("text", ["3/2", "0/2", "1/0", "1", "a/b", "-1/2"])
def test_a_shard_outside_the_parts_is_an_error(text):
    with pytest.raises(BgmError, match="--shard"):
        parse_shard(text)


def test_a_plate_folder_beside_the_shots(tmp_path):
    make_clip(tmp_path / "a.mp4")
    make_clip(tmp_path / "a_plate.mp4")  # a recorded background pass
    make_clip(tmp_path / "b.mp4")
    make_plate(tmp_path / "b_bg.png")
    plan = plan_shots([str(tmp_path)], tmp_path, None, OPTIONS)
    assert [(s.name, s.config.background.name) for s in plan.shots] == [
        ("a", "a_plate.mp4"), ("b", "b_bg.png"),
    ]  # fmt: skip
    assert any("a_plate.mp4: the plate of another shot" in note for note in plan.notes)


def test_shots_of_one_name_writing_to_one_folder_clash(tmp_path):
    make_clip(tmp_path / "day1" / "a.mp4")
    make_clip(tmp_path / "day2" / "a.mp4")
    make_plate(tmp_path / "plate.png")
    inputs = [str(tmp_path / "day1/a.mp4"), str(tmp_path / "day2/a.mp4")]
    assert len(plan_shots(inputs, tmp_path / "plate.png", None, OPTIONS).shots) == 2  # beside each
    with pytest.raises(BgmError, match="both named a"):
        plan_shots(inputs, tmp_path / "plate.png", None, {"outdir": tmp_path / "out"})


def test_per_shot_plates_from_the_footage_beside_a_plate_file(tmp_path):
    """--bg FILE for every shot but one whose row says auto; --bg auto for all but one whose
    row names a file: each shot gets exactly one plate."""
    make_clip(tmp_path / "a.mp4")
    make_clip(tmp_path / "b.mp4")
    make_plate(tmp_path / "plate.png")
    manifest = tmp_path / "shots.csv"
    manifest.write_text("input,plate\na.mp4,auto\nb.mp4,\n")
    a, b = plan_shots([], tmp_path / "plate.png", manifest, OPTIONS).shots
    assert a.config.background is None and a.config.plate_auto
    assert b.config.background == tmp_path / "plate.png" and not b.config.plate_auto
    manifest.write_text("input,plate\na.mp4,plate.png\nb.mp4,\n")
    auto = OPTIONS | {"plate_auto": True}
    a, b = plan_shots([], None, manifest, auto).shots
    assert a.config.background == tmp_path / "plate.png" and not a.config.plate_auto
    assert b.config.background is None and b.config.plate_auto
