"""Checkpoints: our format (weights + the config that built them) and the official .pth files.

Our format is a dict {"format": "bgm", "version", "config", "model", "meta"} that loads with
`torch.load(weights_only=True)`. An official BackgroundMattingV2 file is a bare state dict whose
keys (`backbone.*`, `aspp.*`, `decoder.*`, `refiner.*`) tell the architecture.
"""

from __future__ import annotations

import io
import pickle
import re
import warnings
from pathlib import Path
from pickletools import genops
from typing import Any

import torch

from bgmcli.atomic import atomic_write_bytes
from bgmcli.config import to_dict
from bgmcli.errors import BgmError
from bgmcli.model.backbones import backbone_of
from bgmcli.model.config import ModelConfig, model_config

FORMAT = "bgm"
VERSION = 1


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint file safely; every failure is a one-line BgmError."""
    path = Path(path)
    if not path.exists():
        raise BgmError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise BgmError(f"checkpoint is a directory, not a file: {path}")
    try:
        with warnings.catch_warnings():  # torch warns of legacy (raw pickle) files: not ours to say
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch words every weights_only failure alike; only an unknown global/class is code
        # (torch spells it "Unsupported global" or "unsupported GLOBAL"). Anything else (e.g.
        # "Unsupported operand") is bytes that are no pickle at all.
        if re.search(r"unsupported (global|class)", str(exc), re.IGNORECASE) or _names_code(path):
            raise BgmError(
                f"{path} was refused: it needs arbitrary code to load, and loading it would "
                "run that code (a pickled object, not plain weights); re-save it as a state dict"
            ) from None
        raise BgmError(f"{path} is not a PyTorch checkpoint") from None
    except Exception as exc:  # torch.load on arbitrary bytes fails with many exception types
        raise BgmError(
            f"{path} is not a readable PyTorch checkpoint (corrupt, truncated or another kind "
            f"of file: {type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or not data:
        raise BgmError(f"{path} is not a PyTorch checkpoint (no weights inside)")
    return data


def _names_code(path: Path) -> bool:
    """Whether a raw pickle (one torch's loader could not even parse, e.g. protocol 4) imports
    a callable: read opcode by opcode, never run."""
    try:
        with open(path, "rb") as f:
            return any(op.name in ("GLOBAL", "STACK_GLOBAL", "INST") for op, _, _ in genops(f))
    except Exception:  # not a pickle after all: then it names no code either
        return False


def split_checkpoint(data: dict[str, Any], path: str | Path) -> tuple[dict, dict | None, dict]:
    """(state_dict, config dict or None for official files, meta) of a loaded checkpoint, each
    of the type it must have: a file that loads safely may still hold anything."""
    if data.get("format") == FORMAT or ("model" in data and "config" in data):
        parts = data.get("model"), data.get("config"), data.get("meta", {})
        for name, part in zip(("model", "config", "meta"), parts, strict=True):
            if not isinstance(part, dict):
                raise BgmError(f"{Path(path)}: its {name!r} is a {type(part).__name__}, not a "
                               "mapping (a damaged or foreign checkpoint)")  # fmt: skip
        return check_state_dict(parts[0], path), parts[1], dict(parts[2])
    if all(isinstance(v, torch.Tensor) for v in data.values()):
        return (
            check_state_dict(data, path),
            None,
            {"source": "official BackgroundMattingV2 state dict"},
        )
    raise BgmError(f"{Path(path)} is not a matting checkpoint (unrecognised contents)")


def check_state_dict(state: Any, path: str | Path) -> dict[str, torch.Tensor]:
    """`state` if it maps names to tensors of finite values; a one-line error naming the first
    bad entry otherwise (NaN weights would make every output NaN, e.g. a blank alpha)."""
    if not isinstance(state, dict) or not state:
        raise BgmError(f"{Path(path)}: its weights are not a mapping of names to tensors")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise BgmError(
                f"{Path(path)}: weight {key!r} is a {type(value).__name__}, not a tensor"
            )
    bad = first_non_finite(state)
    if bad is not None:
        raise BgmError(f"{Path(path)}: weight {bad!r} holds NaN or infinite values; refused")
    return state


def first_non_finite(state: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor with a NaN or an infinity, or None: the one
    "finite or refuse" check that loading, training and export share."""
    for key, value in state.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return key
    return None


def infer_architecture(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Backbone (by the registry's signatures), ASPP and refiner kernel size implied by a state
    dict's keys and shapes."""
    kernel = state.get("refiner.conv1.weight")
    return {
        "backbone": backbone_of(state.keys()),
        "aspp": "aspp.0.weight" not in state,
        "kernel_size": int(kernel.shape[-1]) if kernel is not None else 3,
    }


def model_config_from(config: dict | None, state: dict, overrides: dict[str, Any]) -> ModelConfig:
    """The ModelConfig for a checkpoint: its own config (ours; call-time settings older files
    stored in it are left out) or inferred (official), then the caller's overrides of
    architecture fields (None: keep)."""
    if config is not None:
        base = to_dict(model_config(config, "checkpoint config"))
    else:
        base = infer_architecture(state)
        if base["backbone"] is None:
            raise BgmError("checkpoint keys match no known backbone (expected backbone.* keys)")
    fields = {k: v for k, v in overrides.items() if v is not None}
    return model_config({**base, **fields}, "checkpoint config")


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], path) -> None:
    """Strict load; a mismatch names the backbone the keys suggest and the first bad keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        suggested = infer_architecture(state)
        parts = [
            f"{len(x)} {name} (first: {x[0]})"
            for name, x in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("mismatched", mismatched),
            )
            if x
        ]
        raise BgmError(
            f"{Path(path)} does not fit a {model.config.backbone} model "
            f"(aspp={model.config.aspp}, kernel_size={model.config.kernel_size}); its keys suggest "
            f"{suggested['backbone'] or 'no known backbone'} (aspp={suggested['aspp']}, "
            f"kernel_size={suggested['kernel_size']}): {'; '.join(parts)}"
        )
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def save_checkpoint(
    path: str | Path, model: torch.nn.Module, meta: dict[str, Any] | None = None, half: bool = False
) -> None:
    """Write our format atomically (temporary file + rename); `half` stores floats as fp16."""
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
        for k, v in model.state_dict().items()
    }
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": to_dict(model.config),
        "model": state,
        "meta": meta or {},
    }
    atomic_save(payload, path)


def atomic_save(obj: Any, path: str | Path) -> None:
    """torch.save through `atomic_write`: never a half-written file under `path`. Serialised in
    memory first: torch's own file writer reports a full disk as a RuntimeError deep inside."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())
