"""`bgm ablate` under faults: hostile study files and evaluation images, a busy or full
output folder: one line, exit 2, nothing written outside --out and no result half written."""

from __future__ import annotations

import pytest
import yaml

from tests.ablate.test_workflow import SMOKE, make_alphamatting_folder
from tests.cli.faults import bad_png, half_written, refused

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = [
    *SMOKE[:-4],
    "--fps-resolutions",
    "none",
    "--quiet",
]  # no FPS figures: the faults come first

STUDIES = {
    "threshold abc": ({"variants": [{"name": "a", "refine": "threshold", "threshold": "abc"}]},
                      "threshold: expected a float"),
    "k list": ({"variants": [{"name": "a", "k": [1]}]}, "k: expected an int"),
    "aspp text": ({"variants": [{"name": "a", "aspp": "yes"}]}, "expected true or false"),
    "variant name with /": ({"variants": [{"name": "x/../../y"}]}, "cannot be a file name"),
    "variant name ..": ({"variants": [{"name": ".."}]}, "cannot be a file name"),
    "study name escapes": ({"name": "../../escaped", "variants": [{"name": "a"}]},
                           "cannot be a file name"),
    "study name absolute": ({"name": "/tmp/x", "variants": [{"name": "a"}]},
                            "cannot be a file name"),
    "variants not a list": ({"variants": {"name": "a"}}, "non-empty list"),
    "variant not a mapping": ({"variants": [5]}, "mapping with a name"),
    "top level a list": ([1, 2], "expected a mapping"),
}  # fmt: skip


@pytest.mark.parametrize("case", STUDIES)
def test_a_hostile_study_file_is_one_line_and_writes_nothing(case, tmp_path, capsys):
    data, needle = STUDIES[case]
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert needle in refused(capsys, "ablate", "--study", study, "--out", out, *FAST)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["study.yaml"]


def test_a_study_file_that_is_not_utf8(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_bytes(b"variants:\n- {name: \xff\xfe}\n")
    assert "not UTF-8" in refused(capsys, "ablate", "--study", study, "--out", tmp_path, *FAST)


@pytest.mark.parametrize("kind", ["empty", "garbage", "bomb"])
def test_an_unreadable_evaluation_image_fails_before_any_work(kind, tmp_path, capsys):
    data = make_alphamatting_folder(tmp_path / "eval")
    bad_png(data / "alpha" / "GT00.png", kind)
    out = tmp_path / "out"
    args = ["ablate", "--study", "refinement", "--eval-data", data, "--out", out, *FAST]
    assert "GT00.png" in refused(capsys, *args)
    assert not list(out.rglob("*.json")) and not half_written(out)


def test_a_busy_output_folder_is_refused(tmp_path, capsys):
    from bgmcli.atomic import output_lock

    out = tmp_path / "out"
    with output_lock(out):
        line = refused(capsys, "ablate", "--study", "refinement", "--out", out, *FAST)
    assert "another bgm process" in line


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(full_disk, capsys):
    (full_disk / "filler").write_bytes(b"\0" * (1 << 20))  # tmpfs stops at its size
    out = full_disk / "out"
    line = refused(capsys, "ablate", "--study", "refinement", "--out", out, *FAST)
    assert "disk is full" in line
    assert not half_written(full_disk)
