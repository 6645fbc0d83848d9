"""The shots of a batch: INPUTs or a manifest -> one MatteConfig per shot, plates matched, names
checked for clashes; `--shard I/N` keeps every N-th shot. All of it before anything is written."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bgmcli.batch import MISSING_INPUT
from bgmcli.batch.inputs import ShotInput, expand_inputs
from bgmcli.batch.manifest import read_manifest
from bgmcli.batch.plates import match_plate, plate_files
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.engine.plate_forms import PlateForm
from bgmcli.errors import BgmError


@dataclass(frozen=True)
class Shot:
    name: str  # the table's label: the shot's name, or the stream as given
    config: MatteConfig


@dataclass
class BatchPlan:
    shots: list[Shot]
    notes: list[str] = field(default_factory=list)
    is_batch: bool = True  # False: one shot named as one input, run as `bgm matte` always ran


def plan_shots(inputs: list[str], bg: Path | None, manifest: Path | None, options: dict):
    """`options`: the MatteConfig fields given on the command line (a manifest row overrides)."""
    if manifest is not None and inputs:
        raise BgmError("give INPUT paths or --manifest, not both")
    if manifest is None and not inputs:
        raise BgmError(MISSING_INPUT)
    if manifest is not None:
        rows = read_manifest(manifest, have_bg=bg is not None or _from_input(options))
        pairs = [(row.shot, row.plate, row.options) for row in rows]
        labels = {id(row.shot): row.label for row in rows}
        plan = BatchPlan([])
    else:
        expansion = expand_inputs(inputs)
        pairs = [(shot, None, {}) for shot in expansion.shots]
        labels, plan = {}, BatchPlan([], expansion.notes, expansion.is_batch)
    for shot, plate, extra in _with_plates(pairs, bg, plan.notes, options):
        own_file = {} if plate is None else PlateForm().fields()  # a row's file replaces --bg
        config = dict(options | extra | own_file, input=shot.input, background=plate)
        plan.shots.append(Shot(_label(shot), _config(config, labels.get(id(shot)))))
    _check_names(plan.shots)
    return plan


def _config(fields: dict, label: str | None) -> MatteConfig:
    """A manifest row's bad value (k 0, an unknown output type) names the row."""
    try:
        return MatteConfig(**fields)
    except BgmError as exc:
        raise BgmError(f"{label}: {exc}" if label else str(exc)) from None


def _with_plates(pairs: list, bg: Path | None, notes: list[str], options: dict) -> list:
    """Each shot's plate: its own (manifest), matched in the folder --bg, or --bg itself; none
    where it comes from the input (capture, frame:TIME, auto: given or in the shot's row)."""
    pairs = [
        (shot, plate, extra, plate is None and _from_input(options | extra))
        for shot, plate, extra in pairs
    ]
    if bg is None:
        if any(plate is None and not own for _, plate, _, own in pairs):
            raise BgmError("missing option '--bg': the clean background plate, or a folder of them")
        return [(shot, plate, extra) for shot, plate, extra, _ in pairs]
    if not Path(bg).is_dir():
        return [(shot, None if own else plate or bg, extra) for shot, plate, extra, own in pairs]
    stems = plate_files(Path(bg))
    matched = [
        (shot, None if own else plate or _try_match(shot, Path(bg), stems), extra)
        for shot, plate, extra, own in pairs
    ]
    # A folder of shots may hold their plate videos too: a shot's plate is not another shot
    # (a file named on the command line or in a manifest stays a shot).
    plates = {plate.resolve() for _, plate, _ in matched if isinstance(plate, Path)}
    left = [m for m in matched if m[0].listed and m[0].input.resolve() in plates]
    if left:
        names = ", ".join(m[0].input.name for m in left)
        notes.append(f"{names}: the plate of another shot, not matted as a shot")
    kept = [m for m in matched if m not in left]
    for _, plate, _ in kept:
        if isinstance(plate, BgmError):
            raise plate
    return kept


def _from_input(fields: dict) -> bool:
    """Whether these MatteConfig fields take the plate from the input itself."""
    return bool(fields.get("capture_s") or fields.get("plate_auto")
                or fields.get("plate_time") is not None)  # fmt: skip


def _try_match(shot: ShotInput, folder: Path, stems) -> Path | BgmError:
    """The plate, or the error to raise should this shot not turn out to be a plate itself."""
    try:
        return match_plate(shot.name, shot.input, folder, stems)
    except BgmError as exc:
        return exc


def _label(shot: ShotInput) -> str:
    return shot.name if shot.name is not None else str(shot.input)


def _check_names(shots: list[Shot]) -> None:
    """Two shots named alike in one output folder would write the same files."""
    seen: dict[tuple, Shot] = {}
    for shot in shots:
        config = shot.config
        if isinstance(config.input, str):
            continue
        outdir = Path(config.outdir) if config.outdir else Path(config.input).parent
        key = (outdir.resolve(), shot.name)
        if key in seen and seen[key].config.input != config.input:
            raise BgmError(
                f"shots {seen[key].config.input} and {config.input} are both named {shot.name} "
                f"and would write the same outputs in {outdir}; rename one or give output_dir"
            )
        seen.setdefault(key, shot)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'2/4' -> (2, 4): the second of four parts, counted from 1."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise BgmError(f"--shard {text!r}: give I/N, e.g. 1/4 (part I of N, counted from 1)")
    index, count = int(parts[0]), int(parts[1])
    if count < 1 or not 1 <= index <= count:
        raise BgmError(f"--shard {text}: I must be between 1 and N ({count}), counted from 1")
    return index, count


def select_shard(shots: list[Shot], shard: tuple[int, int] | None) -> list[Shot]:
    """Shot i (0-based, in the order listed) belongs to part i % N + 1: the same command on every
    machine gives disjoint parts that cover the batch, with sizes at most one apart."""
    if shard is None:
        return shots
    index, count = shard
    return [shot for i, shot in enumerate(shots) if i % count == index - 1]


def report_path(shots: list[Shot], outdir, manifest, shard) -> Path:
    """batch.json in --output-dir, else beside the manifest, else in the inputs' common folder;
    one file per shard (shards may share a folder)."""
    name = "batch.json" if shard is None else "batch.shard{}of{}.json".format(*shard)
    if outdir is not None:
        return Path(outdir) / name
    if manifest is not None:
        return Path(manifest).parent / name
    files = [s.config.input for s in shots if isinstance(s.config.input, Path)]
    folders = [str(Path(path).resolve().parent) for path in files]
    return Path(os.path.commonpath(folders) if folders else ".") / name
