"""Plates matched to shots by name (`--bg FOLDER`): for shot NAME the plate is NAME.*, else
NAME_plate.*, else NAME_bg.* (an image or a video); two files at the same rank are ambiguous."""

from __future__ import annotations

from pathlib import Path

from bgmcli.batch.inputs import VIDEO_SUFFIXES
from bgmcli.engine.images import IMAGE_SUFFIXES
from bgmcli.errors import BgmError

PLATE_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
PLATE_PATTERNS = ("{name}", "{name}_plate", "{name}_bg")  # in order of preference


def plate_files(folder: Path) -> dict[str, list[Path]]:
    """Stem -> the image and video files of `folder` with that stem."""
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as exc:
        raise BgmError(f"cannot read plate folder {folder}: {exc.strerror or exc}") from None
    stems: dict[str, list[Path]] = {}
    for path in files:
        if path.suffix.lower() in PLATE_SUFFIXES:
            stems.setdefault(path.stem, []).append(path)
    return stems


def match_plate(name: str | None, shot: Path | str, folder: Path, stems) -> Path:
    """The plate for shot `name` (its own file excluded: plates may sit beside the shots)."""
    if name is None:
        raise BgmError(f"--bg {folder} matches plates by name; the stream {shot} has none")
    own = Path(shot).resolve() if isinstance(shot, Path) else None
    for pattern in PLATE_PATTERNS:
        found = [p for p in stems.get(pattern.format(name=name), []) if p.resolve() != own]
        if len(found) > 1:
            raise BgmError(
                f"shot {name}: several plates in {folder}: {', '.join(p.name for p in found)}; "
                f"keep one"
            )
        if found:
            return found[0]
    wanted = ", ".join(pattern.format(name=name) + ".*" for pattern in PLATE_PATTERNS)
    raise BgmError(f"shot {name}: no plate in {folder} (looked for {wanted})")
