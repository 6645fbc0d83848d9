"""Frozen, keyword-only configuration dataclasses and their validated loading from dicts/YAML.

Precedence is defaults < YAML < CLI options; `replace_checked` applies overrides with validation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bgmcli.errors import BgmError

BACKBONE_NAMES = ("resnet50", "resnet101", "mobilenetv2")
REFINE_MODES = ("error", "random", "uniform", "threshold", "full", "none")


HD_AREA = 1920 * 1080
PAPER_K_HD = 5_000  # and so 20 000 at 4K, which has four times the area


def default_k(width: int, height: int) -> int:
    """The paper's k, 5000 at HD and 20 000 at 4K, scaled with the frame's area: the same share
    of the frame (about 3.9%) is refined at every size, smaller frames included."""
    return scale_k(PAPER_K_HD, width, height)


def scale_k(k_at_hd: int, width: int, height: int) -> int:
    """A patch count given at HD, for a frame of another size (the same share of its pixels)."""
    return max(1, round(k_at_hd * width * height / HD_AREA))


def default_backbone_scale(width: int, height: int) -> float:
    """The paper's choice: 1/4 up to 2K, 1/8 above (so the base network sees ~500 px)."""
    return 0.25 if max(width, height) <= 2048 else 0.125


@dataclass(frozen=True, kw_only=True)
class RefineConfig:
    """Where and how the refiner runs. `k` counts 4x4 patches (quarter-resolution locations)."""

    mode: str = "error"
    k: int = 5_000
    threshold: float = 0.1
    seed: int = 0  # for mode "random"

    def __post_init__(self) -> None:
        _check_choice("refine.mode", self.mode, REFINE_MODES)
        if not isinstance(self.k, int) or self.k < 1:
            raise BgmError(f"refine.k must be a positive integer, got {self.k!r}")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise BgmError(f"refine.threshold must be in [0, 1], got {self.threshold!r}")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """The architecture: everything that changes which weights a model has, plus inference knobs."""

    backbone: str = "mobilenetv2"
    backbone_scale: float = 0.25
    aspp: bool = True  # False: the ablation's 1x1 conv + BN + ReLU projection
    kernel_size: int = 3  # refiner convolutions, 3 (paper) or 1
    refine: RefineConfig = field(default_factory=RefineConfig)

    def __post_init__(self) -> None:
        _check_choice("backbone", self.backbone, BACKBONE_NAMES)
        if not 0.0 < float(self.backbone_scale) <= 0.5:
            raise BgmError(f"backbone_scale must be in (0, 0.5], got {self.backbone_scale!r}")
        _check_choice("kernel_size", self.kernel_size, (1, 3))

    def architecture(self) -> dict[str, Any]:
        """The fields that decide the parameter set (used to match checkpoints and cache them)."""
        return {"backbone": self.backbone, "aspp": self.aspp, "kernel_size": self.kernel_size}


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        known = ", ".join(str(c) for c in choices)
        raise BgmError(f"unknown {name} {value!r}; known: {known}")


def from_dict(cls: type, data: dict[str, Any], where: str = "config") -> Any:
    """Build dataclass `cls` from a plain dict, naming the first unknown or ill-typed field."""
    if not isinstance(data, dict):
        raise BgmError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise BgmError(f"{where}: unknown field {key!r}; known: {', '.join(fields)}")
        nested = _nested_type(cls, key)
        if nested is not None and isinstance(value, dict):
            value = from_dict(nested, value, f"{where}.{key}")
        kwargs[key] = _coerce(fields[key], value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # e.g. a wrong type deep inside a comparison
        raise BgmError(f"{where}: {exc}") from None


def _nested_type(cls: type, key: str) -> type | None:
    value = getattr(cls(), key, None)
    return type(value) if dataclasses.is_dataclass(value) else None


def _coerce(f: dataclasses.Field, value: Any, where: str) -> Any:
    """Accept YAML's natural spellings (1e-4 as str, ints for floats) and reject the rest."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    try:
        if kind == "float" and not isinstance(value, bool):
            return float(value)
        if kind == "int" and not isinstance(value, bool) and float(value) == int(value):
            return int(value)
    except (TypeError, ValueError):
        raise BgmError(f"{where}: expected a {kind}, got {value!r}") from None
    if kind in ("int", "float"):
        raise BgmError(f"{where}: expected a {kind}, got {value!r}")
    if kind == "bool" and not isinstance(value, bool):
        raise BgmError(f"{where}: expected true or false, got {value!r}")
    if kind == "str" and not isinstance(value, str):
        raise BgmError(f"{where}: expected a string, got {value!r}")
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """A plain, YAML/JSON-serialisable dict of a config dataclass."""
    return dataclasses.asdict(config)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with `safe_load`; syntax errors become one-line BgmErrors."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise BgmError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise BgmError(f"{path}: malformed YAML{at}") from None
    return data if data is not None else {}


def replace_checked(config: Any, **overrides: Any) -> Any:
    """dataclasses.replace that ignores None overrides (CLI options left unset)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(config, **given) if given else config
