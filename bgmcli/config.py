"""Validated loading of frozen, keyword-only configuration dataclasses from dicts and YAML.

Precedence is defaults < YAML < CLI options.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import yaml

from bgmcli.errors import BgmError


def check_choice(name: str, value: Any, choices: tuple) -> None:
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
        if nested is not None:
            kwargs[key] = from_dict(nested, value, f"{where}.{key}")
        else:
            kwargs[key] = coerce_field(fields[key], value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # e.g. a wrong type deep inside a comparison
        raise BgmError(f"{where}: {exc}") from None


def _nested_type(cls: type, key: str) -> type | None:
    value = getattr(cls(), key, None)
    return type(value) if dataclasses.is_dataclass(value) else None


_ARTICLE = {"int": "an"}


def coerce_field(f: dataclasses.Field, value: Any, where: str) -> Any:
    """Accept YAML's natural spellings (1e-4 as str, ints for floats) and reject the rest:
    NaN and infinities too (an infinite learning rate trains NaN weights)."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    if kind.endswith(" | None"):
        if value is None:
            return None
        kind = kind.removesuffix(" | None")
    try:
        if kind == "float" and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):
                raise BgmError(f"{where}: expected a finite number, got {value!r}")
            return number
        if kind == "int" and not isinstance(value, bool) and float(value) == int(value):
            return int(value)
    except (TypeError, ValueError, OverflowError):
        raise BgmError(
            f"{where}: expected {_ARTICLE.get(kind, 'a')} {kind}, got {value!r}"
        ) from None
    if kind in ("int", "float"):
        raise BgmError(f"{where}: expected {_ARTICLE.get(kind, 'a')} {kind}, got {value!r}")
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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BgmError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BgmError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise BgmError(f"{path}: malformed YAML{at}") from None
    return data if data is not None else {}
