"""Fixtures of the batch tests: tiny clips (64x48, 3 frames), plates and a random checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.media import plate, random_checkpoint, write_image, write_video


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    """Tiny frames: one torch thread."""


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    return random_checkpoint(tmp_path_factory.mktemp("model") / "random.pt")


def make_clip(path: Path, frames: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, frames, 48, 64)


def make_plate(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_image(path, plate(48, 64))


@pytest.fixture
def shots(tmp_path) -> Path:
    """shots/a.mp4 b.mp4 c.mp4 and plates/a_plate.png b_bg.png c.png."""
    for name in ("a", "b", "c"):
        make_clip(tmp_path / "shots" / f"{name}.mp4")
    for name in ("a_plate", "b_bg", "c"):
        make_plate(tmp_path / "plates" / f"{name}.png")
    return tmp_path
