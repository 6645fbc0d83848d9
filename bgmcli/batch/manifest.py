"""A manifest: one row per shot (CSV with a header, or YAML: a list of mappings or {shots: [...]})
with `input`, `plate` and optionally `target` and per-shot options; paths are relative to it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bgmcli.batch.inputs import VIDEO_SUFFIXES, ShotInput, is_stream
from bgmcli.engine.images import IMAGE_SUFFIXES
from bgmcli.engine.matte_config import ALIGN_MODES, parse_output_types, parse_time
from bgmcli.engine.plate_forms import parse_bg
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import parse_scale


def _align(text: str) -> str:
    """--align's choice; yes/no (and true/false) read as on/off, as a spreadsheet writes them."""
    value = str(text).strip().lower()
    value = {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(
        value, value
    )
    if value not in ALIGN_MODES:
        raise ValueError(f"{text!r} is not one of {', '.join(ALIGN_MODES)}")
    return value


def _yes_no(text: str) -> bool:
    """An on/off cell: yes/no, true/false, on/off or 1/0, as a spreadsheet writes them."""
    value = str(text).strip().lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{text!r} is not yes or no")
    return value in ("1", "true", "yes", "on")


# column -> (MatteConfig field, parser of the cell); `input` and `plate` are handled apart
OPTION_COLUMNS: dict[str, tuple[str, Callable]] = {
    "target": ("target", str),
    "output_dir": ("outdir", Path),
    "output_types": ("output_types", lambda v: parse_output_types(str(v))),
    "output_format": ("output_format", str),
    "start": ("start", lambda v: parse_time(str(v), "start")),
    "duration": ("duration", lambda v: parse_time(str(v), "duration")),
    "align": ("align", _align),
    "temporal": ("temporal", _yes_no),
    "refine": ("refine", str),
    "k": ("k", int),
    "backbone_scale": ("backbone_scale", lambda v: parse_scale(str(v))),
    "threshold": ("threshold", float),
}
COLUMNS = ("input", "plate", *OPTION_COLUMNS)


@dataclass(frozen=True)
class ManifestRow:
    label: str  # "manifest shots.csv row 3 (a.mp4)", for errors
    shot: ShotInput
    plate: Path | None  # None: --bg gives it
    options: dict  # MatteConfig fields -> values


def read_manifest(path: Path, *, have_bg: bool) -> list[ManifestRow]:
    """Every row checked (columns, files, values) before any shot runs."""
    records = _records(Path(path))
    if not records:
        raise BgmError(f"manifest {path} lists no shots")
    return [_row(path, number, record, have_bg) for number, record in enumerate(records, 1)]


def _records(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BgmError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            reason = str(exc).splitlines()[0]
            raise BgmError(f"manifest {path} is not valid YAML: {reason}") from None
        data = data.get("shots") if isinstance(data, dict) else data
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise BgmError(f"manifest {path}: expected a list of shots (mappings), or shots: [...]")
        return data
    if path.suffix.lower() != ".csv":
        raise BgmError(f"manifest {path}: give a .csv or a .yaml file")
    return list(csv.DictReader(text.splitlines()))


def _row(path: Path, number: int, record: dict, have_bg: bool) -> ManifestRow:
    cells = {_column(key): value for key, value in record.items() if key is not None}
    cells = {k: v for k, v in cells.items() if v is not None and str(v).strip() != ""}
    label = f"manifest {path.name} row {number}"
    unknown = sorted(set(cells) - set(COLUMNS))
    if unknown:
        raise BgmError(f"{label}: unknown column {unknown[0]!r}; known: {', '.join(COLUMNS)}")
    if "input" not in cells:
        raise BgmError(f"{label}: no 'input'")
    label = f"{label} ({cells['input']})"
    shot = _shot(path.parent, str(cells["input"]).strip(), label)
    if "plate" not in cells and not have_bg:
        raise BgmError(f"{label}: no 'plate' (add a plate column or give --bg)")
    plate, options = _plate(path.parent, cells, label)
    for column, (field, parse) in OPTION_COLUMNS.items():
        if column in cells:
            try:
                options[field] = parse(cells[column])
            except (BgmError, ValueError) as exc:
                raise BgmError(f"{label}: {column} {cells[column]!r}: {exc}") from None
    if "outdir" in options and not options["outdir"].is_absolute():
        options["outdir"] = path.parent / options["outdir"]
    _check_target(path.parent, options, label)
    return ManifestRow(label, shot, plate, options)


def _plate(folder: Path, cells: dict, label: str) -> tuple[Path | None, dict]:
    """The row's plate: a file (relative to the manifest) or a form taking it from the input
    (capture, frame:TIME, auto) as --bg reads them, with the MatteConfig fields it sets."""
    if "plate" not in cells:
        return None, {}
    text = str(cells["plate"]).strip()
    try:
        form = parse_bg(text, folder)
    except BgmError as exc:
        raise BgmError(f"{label}: plate {text!r}: {exc}") from None
    if form.path is None:
        return None, form.fields()
    return _file(folder, text, label, "plate"), {}


def _column(key: str) -> str:
    return str(key).strip().lower().replace("-", "_").replace(" ", "_")


def _shot(folder: Path, text: str, label: str) -> ShotInput:
    if is_stream(text):
        return ShotInput(text, None)
    path = _file(folder, text, label, "input")
    return ShotInput(path, path.stem if path.is_file() else path.name)


def _file(folder: Path, text: str, label: str, what: str) -> Path:
    path = Path(text).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.exists():
        raise BgmError(f"{label}: {what} not found: {path}")
    return path


def _check_target(folder: Path, options: dict, label: str) -> None:
    """A target that names a picture or a video must exist (colours are checked by the run)."""
    target = options.get("target")
    if target and Path(target).suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        options["target"] = str(_file(folder, target, label, "target"))
