"""Fixtures of the CLI tests: the engine tests' generated media for `bgm matte`; for the fault
suite a full disk and a folder that cannot be written."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.engine.media import media  # noqa: F401 - a pytest fixture


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    """Tiny frames: every CLI test runs on one torch thread."""


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs: writes past that fail with ENOSPC, as on a full disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.fixture
def read_only(tmp_path):
    """A folder this process cannot write into (skipped for root, who may write anywhere)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):
        pytest.skip("running as root: permissions do not stop writes")
    yield folder
    folder.chmod(0o700)
