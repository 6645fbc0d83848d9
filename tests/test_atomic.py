"""bgmcli/atomic.py: unique temporary names, one wording for failed writes, the folder lock and
names that must stay file names."""

from __future__ import annotations

import errno

import pytest

from bgmcli.atomic import (
    atomic_write,
    check_file_name,
    output_lock,
    temporary_name,
    write_error,
)
from bgmcli.errors import BgmError


def test_two_writers_never_share_a_temporary_name(tmp_path):
    target = tmp_path / "last.pt"
    names = {temporary_name(target) for _ in range(50)}
    assert len(names) == 50
    assert all(n.parent == tmp_path and n.name.endswith(".partial.pt") for n in names)


def test_a_failed_write_is_one_line_and_keeps_the_previous_file(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("previous")

    def full(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(BgmError, match=r"cannot write .*results.json: No space .*disk is full"):
        atomic_write(target, full)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_write_error_names_the_file_and_the_reason():
    error = write_error("out/model.pt", PermissionError(errno.EACCES, "Permission denied"))
    assert str(error) == "cannot write out/model.pt: Permission denied"


def test_the_lock_refuses_a_second_holder_and_is_released_after(tmp_path):
    with output_lock(tmp_path):
        with pytest.raises(BgmError, match="another bgm process"):
            with output_lock(tmp_path):
                pass
    with output_lock(tmp_path):  # released: a later run may start
        pass


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\nb"])
def test_names_that_are_no_single_file_name_are_refused(name):
    with pytest.raises(BgmError, match="cannot be a file name"):
        check_file_name(name, "variant")


def test_ordinary_names_pass():
    assert check_file_name("k5000-error_v2 (HD)", "variant") == "k5000-error_v2 (HD)"
