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
from bgmcli.inference_settings import MAX_BACKBONE_SCALE, base_scale

BACKBONE_NAMES = ("resnet50", "resnet101", "mobilenetv2")
REFINE_MODES = ("error", "random", "uniform", "threshold", "full", "none")


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
    # None: chosen from each frame's size (bgmcli.inference_settings); training sets it
    backbone_scale: float | None = 0.25
    aspp: bool = True  # False: the ablation's 1x1 conv + BN + ReLU projection
    kernel_size: int = 3  # refiner convolutions, 3 (paper) or 1
    # the refiner's output is added to the upsampled coarse output (ours) instead of replacing
    # it (the paper's and the official checkpoints'): it starts as bilinear upsampling
    refiner_residual: bool = False
    refine: RefineConfig = field(default_factory=RefineConfig)

    def __post_init__(self) -> None:
        _check_choice("backbone", self.backbone, BACKBONE_NAMES)
        scale = self.backbone_scale
        if scale is not None and not 0.0 < float(scale) <= MAX_BACKBONE_SCALE:
            raise BgmError(
                f"backbone_scale must be in (0, {MAX_BACKBONE_SCALE}] or None (chosen from the "
                f"frame's size), got {scale!r}"
            )
        _check_choice("kernel_size", self.kernel_size, (1, 3))

    def backbone_scale_for(self, width: int, height: int) -> float:
        """The base network's scale for a `width` x `height` frame: the configured one, or the
        frame-size rule of `bgmcli.inference_settings` when that is None. Traced for export,
        the sizes are tensors: int() bakes the traced shape's scale, as export intends."""
        if self.backbone_scale is not None:
            return self.backbone_scale
        return base_scale(int(width), int(height))

    def architecture(self) -> dict[str, Any]:
        """The fields that decide the parameter set (used to match checkpoints and cache them)."""
        arch = {"backbone": self.backbone, "aspp": self.aspp, "kernel_size": self.kernel_size}
        if self.refiner_residual:  # left out while off, so older checkpoints' names still match
            arch["refiner_residual"] = True
        return arch


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
    if kind == "float | None":  # backbone_scale: None is a value (chosen per frame)
        if value is None:
            return None
        kind = "float"
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
