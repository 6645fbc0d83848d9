"""Manifests as users write them: CSV or YAML, paths relative to the manifest, options per row;
every mistake names its row."""

import pytest

from bgmcli.batch.manifest import read_manifest
from bgmcli.errors import BgmError
from tests.batch.conftest import make_clip, make_plate


@pytest.fixture
def project(tmp_path):
    make_clip(tmp_path / "shots" / "a.mp4")
    make_clip(tmp_path / "shots" / "b.mp4")
    make_plate(tmp_path / "plates" / "a.png")
    make_plate(tmp_path / "plates" / "b.png")
    return tmp_path


def test_a_csv_row_carries_its_plate_target_and_options(project):
    manifest = project / "shots.csv"
    manifest.write_text(
        "input,plate,target,output-types,k,align,start,output_dir\n"
        "shots/a.mp4,plates/a.png,#0047AB,com,50,yes,0.5,out/a\n"
        "shots/b.mp4,plates/b.png,,,,,,\n"
    )
    first, second = read_manifest(manifest, have_bg=False)
    assert first.shot.input == project / "shots/a.mp4" and first.shot.name == "a"
    assert first.plate == project / "plates/a.png"
    assert first.options == {
        "target": "#0047AB", "output_types": ("com",), "k": 50, "align": "on", "start": 0.5,
        "outdir": project / "out/a",
    }  # fmt: skip
    assert second.options == {} and second.plate == project / "plates/b.png"


def test_a_yaml_list_of_shots(project):
    manifest = project / "shots.yaml"
    manifest.write_text("shots:\n  - {input: shots/a.mp4, plate: plates/a.png, k: 20}\n")
    (row,) = read_manifest(manifest, have_bg=False)
    assert row.shot.name == "a" and row.options == {"k": 20}


def test_the_temporal_filter_per_shot(project):
    manifest = project / "shots.csv"
    manifest.write_text("input,plate,temporal\nshots/a.mp4,plates/a.png,yes\n"
                        "shots/b.mp4,plates/b.png,no\n")  # fmt: skip
    first, second = read_manifest(manifest, have_bg=False)
    assert first.options == {"temporal": True} and second.options == {"temporal": False}
    manifest.write_text("input,plate,temporal\nshots/a.mp4,plates/a.png,maybe\n")
    with pytest.raises(BgmError, match="temporal.*'maybe' is not yes or no"):
        read_manifest(manifest, have_bg=False)


def test_rows_without_a_plate_take_bg(project):
    manifest = project / "shots.csv"
    manifest.write_text("input\nshots/a.mp4\n")
    (row,) = read_manifest(manifest, have_bg=True)
    assert row.plate is None
    with pytest.raises(BgmError, match=r"row 1 \(shots/a.mp4\): no 'plate'"):
        read_manifest(manifest, have_bg=False)


@pytest.mark.parametrize(
    "text, message",
    [
        ("plate\nplates/a.png\n", r"row 1: no 'input'"),
        ("input,plate\nshots/a.mp4,plates/a.png\nshots/gone.mp4,plates/b.png\n",
         r"row 2 \(shots/gone.mp4\): input not found"),
        ("input,plate\nshots/a.mp4,plates/a.png\nshots/b.mp4,plates/gone.png\n",
         r"row 2 \(shots/b.mp4\): plate not found"),
        ("input,plate,target\nshots/a.mp4,plates/a.png,beach.jpg\n",
         r"row 1 \(shots/a.mp4\): target not found"),
        ("input,plate,k\nshots/a.mp4,plates/a.png,many\n", r"row 1 \(shots/a.mp4\): k 'many'"),
        ("input,plate,colour\nshots/a.mp4,plates/a.png,red\n", r"row 1: unknown column 'colour'"),
    ],
)  # fmt: skip
def test_mistakes_name_the_row(project, text, message):
    manifest = project / "shots.csv"
    manifest.write_text(text)
    with pytest.raises(BgmError, match=message):
        read_manifest(manifest, have_bg=False)


def test_a_bad_option_value_in_a_row_names_the_row(project):
    from bgmcli.batch.plan import plan_shots

    manifest = project / "shots.csv"
    manifest.write_text(
        "input,plate,output_types\nshots/a.mp4,plates/a.png,com\nshots/b.mp4,plates/b.png,alpha\n"
    )
    with pytest.raises(BgmError, match=r"row 2 \(shots/b.mp4\): unknown output type 'alpha'"):
        plan_shots([], None, manifest, {})


def test_a_row_may_take_its_plate_from_its_own_footage(project):
    manifest = project / "shots.csv"
    manifest.write_text("input,plate\nshots/a.mp4,auto\nshots/b.mp4,frame:-1\n")
    first, second = read_manifest(manifest, have_bg=False)
    assert first.plate is None and first.options["plate_auto"] is True
    assert second.plate is None and second.options["plate_time"] == -1.0
    manifest.write_text("input,plate\nshots/a.mp4,frame:-3\n")
    with pytest.raises(BgmError, match=r"row 1 \(shots/a.mp4\): plate 'frame:-3': .* -1 for the"):
        read_manifest(manifest, have_bg=False)
