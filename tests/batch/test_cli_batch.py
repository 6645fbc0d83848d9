"""`bgm matte` on many shots as a user runs it: a table and batch.json, a rerun that skips what
is done, one bad shot that does not stop the others (exit 1), and bad command lines that write
nothing (one line, exit 2)."""

import json

import pytest

from bgmcli.engine import matte as engine_matte
from tests.batch.conftest import make_clip, make_plate
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.engine.media import corrupt, final_names, write_image

ALL = ["a.com.mp4", "a.pha.mp4", "b.com.mp4", "b.pha.mp4", "batch.json", "c.com.mp4", "c.pha.mp4"]


def bgm_matte(capsys, checkpoint, *args):
    return run_bgm(capsys, "matte", *args, "--checkpoint", checkpoint, "--k", "10")


def matte_shots(capsys, checkpoint, shots, *args):
    """The folder batch of the `shots` fixture, into shots/out."""
    folder = [shots / "shots", "--bg", shots / "plates", "-o", shots / "out"]
    return bgm_matte(capsys, checkpoint, *folder, *args)


def rows(path):
    return {row["shot"]: row for row in json.loads(path.read_text())["shots"]}


@pytest.mark.slow  # mattes a batch, then again
def test_a_folder_of_shots_then_a_rerun_that_skips_them(capsys, checkpoint, shots):
    out = shots / "out"
    code, stdout, err = matte_shots(capsys, checkpoint, shots)
    assert code == 0, err
    assert final_names(out) == ALL
    done = rows(out / "batch.json")
    assert {name: (r["status"], r["frames"]) for name, r in done.items()} == {
        "a": ("done", 3), "b": ("done", 3), "c": ("done", 3),
    }  # fmt: skip
    assert done["b"]["plate"].endswith("b_bg.png") and done["a"]["fps"] > 0
    assert "3 done, 0 skipped, 0 failed" in stdout
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".mp4"}
    code, stdout, err = matte_shots(capsys, checkpoint, shots)
    assert code == 0, err
    assert {r["status"] for r in rows(out / "batch.json").values()} == {"skipped"}
    assert "0 done, 3 skipped, 0 failed" in stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".mp4"} == written


@pytest.mark.slow  # mattes a batch, then again
def test_an_interrupted_batch_leaves_partials_and_a_rerun_redoes_that_shot(
    capsys, checkpoint, shots, monkeypatch
):
    out, real, calls = shots / "out", engine_matte.run_pipeline, []
    args = [shots / "shots", "--bg", shots / "plates", "-o", out, "--output-format", "png"]

    def interrupted_on_the_second_shot(prefetch, matter, stage, encoders, progress):
        calls.append(1)

        def ctrl_c_after_a_frame(total, step):
            progress(total, step)
            if len(calls) == 2:
                raise KeyboardInterrupt

        return real(prefetch, matter, stage, encoders, ctrl_c_after_a_frame)

    monkeypatch.setattr(engine_matte, "run_pipeline", interrupted_on_the_second_shot)
    code, _, err = bgm_matte(capsys, checkpoint, *args)
    assert code == 130, err
    assert final_names(out) == ["a.com", "a.pha", "batch.json"]
    assert {p.name for p in out.glob("*.partial")} == {"b.com.partial", "b.pha.partial"}
    statuses = {name: r["status"] for name, r in rows(out / "batch.json").items()}
    assert statuses == {"a": "done", "b": "not run", "c": "not run"}
    monkeypatch.setattr(engine_matte, "run_pipeline", real)
    code, _, err = bgm_matte(capsys, checkpoint, *args)
    assert code == 0, err
    assert not list(out.glob("*.partial"))
    assert final_names(out) == sorted(
        [f"{n}.{t}" for n in "abc" for t in ("com", "pha")] + ["batch.json"]
    )
    statuses = {name: r["status"] for name, r in rows(out / "batch.json").items()}
    assert statuses == {"a": "skipped", "b": "done", "c": "done"}


@pytest.mark.slow  # mattes a batch
def test_one_corrupt_shot_fails_alone_exit_1(capsys, checkpoint, shots):
    long = make_clip(shots / "long.mp4", frames=24)
    corrupt(long, shots / "shots" / "bad.mp4")
    make_plate(shots / "plates" / "bad.png")
    write_image(shots / "plates" / "c.png", make_small_plate())  # a warning, not a failure
    out = shots / "out"
    code, stdout, err = matte_shots(capsys, checkpoint, shots)
    assert code == 1, err
    assert final_names(out) == ALL
    result = rows(out / "batch.json")
    assert [result[n]["status"] for n in "abc"] == ["done"] * 3
    assert result["bad"]["status"] == "failed"
    assert "\n" not in result["bad"]["error"] and "bad.mp4" in result["bad"]["error"]
    assert any("resized to fit" in w for w in result["c"]["warnings"])
    assert "failed" in stdout and "3 done, 0 skipped, 1 failed" in stdout


@pytest.mark.slow  # mattes a batch
def test_a_glob_of_videos_with_one_plate_for_all(capsys, checkpoint, shots):
    out = shots / "out"
    pattern = str(shots / "shots" / "[ab].mp4")
    code, _, err = bgm_matte(capsys, checkpoint, pattern, "--bg", shots / "plates/c.png", "-o", out)
    assert code == 0, err
    assert final_names(out) == ["a.com.mp4", "a.pha.mp4", "b.com.mp4", "b.pha.mp4", "batch.json"]
    assert {r["plate"] for r in rows(out / "batch.json").values()} == {str(shots / "plates/c.png")}


def test_one_file_with_a_plate_folder_runs_as_a_single_shot(capsys, checkpoint, shots):
    out = shots / "out"
    code, stdout, err = bgm_matte(
        capsys, checkpoint, shots / "shots/b.mp4", "--bg", shots / "plates", "-o", out
    )
    assert code == 0, err
    assert final_names(out) == ["b.com.mp4", "b.pha.mp4"]  # no batch.json
    lines = stdout.strip().splitlines()  # the summary, and what --align auto found
    assert len(lines) == 2 and "3 frames (64x48)" in lines[0] and "background" in lines[1]


def make_small_plate():
    from tests.engine.media import plate

    return plate(24, 32)


def test_a_manifest_with_a_target_and_options_per_row(capsys, checkpoint, shots):
    (shots / "shots.csv").write_text(
        "input,plate,target,output_types,output_format\n"
        "shots/a.mp4,plates/a_plate.png,#0047AB,com,\n"
        "shots/b.mp4,plates/b_bg.png,,pha,png\n"
    )
    code, _, err = bgm_matte(capsys, checkpoint, "--manifest", shots / "shots.csv", "-q")
    assert code == 0, err
    assert (shots / "shots" / "a.com.mp4").is_file() and not (shots / "shots/a.pha.mp4").exists()
    assert sorted(p.name for p in (shots / "shots" / "b.pha").iterdir()) == [
        "000000.png", "000001.png", "000002.png",
    ]  # fmt: skip
    assert set(rows(shots / "batch.json")) == {"a", "b"}  # beside the manifest


@pytest.mark.slow  # mattes a batch in two shards
def test_two_shards_cover_the_batch_once(capsys, checkpoint, shots):
    out = shots / "out"
    names = set()
    for part in ("1/2", "2/2"):
        code, _, err = matte_shots(capsys, checkpoint, shots, "--shard", part, "-q")
        assert code == 0, err
        index = part.replace("/", "of")
        shard_rows = rows(out / f"batch.shard{index}.json")
        assert not names & set(shard_rows) and {r["status"] for r in shard_rows.values()} == {
            "done"
        }
        names |= set(shard_rows)
    assert names == {"a", "b", "c"}


@pytest.mark.slow
def test_two_jobs_in_spawned_processes(capsys, checkpoint, shots):
    out = shots / "out"
    code, _, err = matte_shots(capsys, checkpoint, shots, "--jobs", "2", "-q")
    assert code == 0, err
    assert final_names(out) == ALL
    summary = json.loads((out / "batch.json").read_text())["summary"]
    assert (summary["done"], summary["jobs"]) == (3, 2)


def bad_command_lines(shots):
    """name -> (arguments after `matte`, what the one line must say)."""
    make_plate(shots / "some_plates" / "a.png")
    make_plate(shots / "some_plates" / "b.png")
    (shots / "no_plate.csv").write_text("input\nshots/a.mp4\n")
    (shots / "gone.csv").write_text(
        "input,plate\nshots/a.mp4,plates/a_plate.png\nshots/x.mp4,p.png\n"
    )
    folder = [shots / "shots", "--bg", shots / "plates"]
    return {
        "plate folder without a match":
            ([shots / "shots", "--bg", shots / "some_plates"], "shot c: no plate in"),
        "manifest without a plate column":
            (["--manifest", shots / "no_plate.csv"], "row 1 (shots/a.mp4): no 'plate'"),
        "manifest with a missing file":
            (["--manifest", shots / "gone.csv"], "row 2 (shots/x.mp4): input not found"),
        "shard 3/2": ([*folder, "--shard", "3/2"], "--shard 3/2"),
        "jobs 0": ([*folder, "--jobs", "0"], "--jobs must be at least 1, got 0"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["plate folder without a match", "manifest without a plate column",
     "manifest with a missing file", "shard 3/2", "jobs 0"],
)  # fmt: skip
def test_a_bad_command_line_is_one_line_exit_2_and_writes_nothing(capsys, checkpoint, shots, case):
    arguments, message = bad_command_lines(shots)[case]
    before = sorted(p for p in shots.rglob("*"))
    code, _, err = bgm_matte(capsys, checkpoint, *arguments, "-o", shots / "out")
    assert_one_line_error(code, err, message)
    assert sorted(p for p in shots.rglob("*")) == before
