"""INPUT arguments -> the inputs of shots: a folder or glob of videos gives one shot per video,
of images one image sequence (as for a single shot); URLs, devices and '-' pass untouched."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

from bgmcli.engine.images import IMAGE_SUFFIXES
from bgmcli.engine.matte_config import OUTPUT_TYPES
from bgmcli.errors import BgmError

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".mpg",
     ".mpeg", ".wmv", ".flv", ".3gp", ".y4m", ".dv", ".ogv"}
)  # fmt: skip
# `<stem>.<type>.<ext>`: bgm's own outputs, which go next to the inputs by default
_OUTPUT_NAME = re.compile(rf".+\.({'|'.join(OUTPUT_TYPES)})\.[^.]+$")


@dataclass(frozen=True)
class ShotInput:
    """One shot's INPUT as run_matte takes it, and the name its outputs and plate go by."""

    input: Path | str  # a str only for what passes untouched (URL, device, '-')
    name: str | None  # None where only the source can tell (a stream)
    listed: bool = False  # came from a folder or glob of videos (the command names a batch)


@dataclass
class Expansion:
    shots: list[ShotInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what folders and globs picked or left out

    @property
    def is_batch(self) -> bool:
        return len(self.shots) > 1 or any(shot.listed for shot in self.shots)


def is_stream(text: str) -> bool:
    """A URL, a capture device or stdin: the engine's sources decide what it is."""
    return text == "-" or "://" in text or text.startswith("/dev/")


def expand_inputs(arguments: list[str]) -> Expansion:
    """Every argument in order; a file listed twice is one shot."""
    expansion, seen = Expansion(), set()
    for argument in arguments:
        for shot in _expand_one(argument, expansion.notes):
            key = shot.input if isinstance(shot.input, str) else shot.input.resolve()
            if key in seen:
                expansion.notes.append(f"{shot.input} is listed more than once: matted once")
                continue
            seen.add(key)
            expansion.shots.append(shot)
    return expansion


def _expand_one(argument: str, notes: list[str]) -> list[ShotInput]:
    if is_stream(argument):
        return [ShotInput(argument, None)]
    path = Path(argument)
    if path.is_dir():
        return _folder(path, notes)
    if path.exists():
        return [ShotInput(path, path.stem)]
    if any(ch in argument for ch in "*?["):
        return _glob(argument, notes)
    raise BgmError(f"input not found: {argument}")


def _folder(folder: Path, notes: list[str]) -> list[ShotInput]:
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as exc:
        raise BgmError(f"cannot read folder {folder}: {exc.strerror or exc}") from None
    videos, images = _split(files, f"{folder}/", notes)
    if videos:
        if images:
            notes.append(
                f"{folder}/: {_count(videos, 'video')} picked as shots, "
                f"{_count(images, 'image')} left out (give '{folder}/*.png' or the like to matte "
                f"them as one image sequence)"
            )
        return [ShotInput(video, video.stem, listed=True) for video in videos]
    if images:
        return [ShotInput(folder, folder.name or "images")]
    raise BgmError(f"no videos or images in {folder}")


def _glob(pattern: str, notes: list[str]) -> list[ShotInput]:
    matches = sorted(Path(p) for p in glob.glob(pattern))
    shots = [shot for p in matches if p.is_dir() for shot in _folder(p, notes)]
    videos, images = _split([p for p in matches if p.is_file()], pattern, notes)
    if not shots and not videos and images:  # images only: one sequence, as a single shot reads it
        return [ShotInput(Path(pattern), Path(pattern).parent.name or "images")]
    if images:
        notes.append(
            f"{pattern}: {_count(videos, 'video')} picked as shots, {_count(images, 'image')} "
            f"left out (a glob of images alone is one image sequence)"
        )
    shots += [ShotInput(video, video.stem, listed=True) for video in videos]
    if not shots:
        raise BgmError(f"no videos or images match {pattern}")
    return shots


def _split(files: list[Path], where: str, notes: list[str]) -> tuple[list[Path], list[Path]]:
    """(videos, images) among `files`, leaving out bgm's own outputs and .partial files."""
    outputs = [p for p in files if _OUTPUT_NAME.match(p.name) or p.name.endswith(".partial")]
    if outputs:
        notes.append(f"{where}: {_count(outputs, 'file')} named like bgm outputs left out")
    files = [p for p in files if p not in outputs]
    videos = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    return videos, images


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'s' * (len(items) != 1)}"
