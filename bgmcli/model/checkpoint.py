"""Checkpoints: our format (weights + the config that built them) and the official .pth files.

Our format is a dict {"format": "bgm", "version", "config", "model", "meta"} that loads with
`torch.load(weights_only=True)`. An official BackgroundMattingV2 file is a bare state dict whose
keys (`backbone.*`, `aspp.*`, `decoder.*`, `refiner.*`) tell the architecture.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from bgmcli.atomic import atomic_write
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
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch words every weights_only failure alike; only an unknown global/class is code.
        # Anything else (e.g. "Unsupported operand") is bytes that are no pickle at all.
        if re.search(r"Unsupported (global|class)", str(exc)):
            raise BgmError(
                f"{path} needs arbitrary code to load (a pickled object, not plain weights); "
                "refused for safety: re-save it as a state dict"
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


def split_checkpoint(data: dict[str, Any], path: str | Path) -> tuple[dict, dict | None, dict]:
    """(state_dict, config dict or None for official files, meta) of a loaded checkpoint."""
    if data.get("format") == FORMAT:
        return data["model"], data.get("config"), dict(data.get("meta", {}))
    if "model" in data and isinstance(data["model"], dict) and "config" in data:
        return data["model"], data["config"], dict(data.get("meta", {}))  # a training checkpoint
    if all(isinstance(v, torch.Tensor) for v in data.values()):
        return data, None, {"source": "official BackgroundMattingV2 state dict"}
    raise BgmError(f"{Path(path)} is not a matting checkpoint (unrecognised contents)")


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
    """torch.save through `atomic_write`: never a half-written file under `path`."""
    atomic_write(Path(path), lambda tmp: torch.save(obj, tmp))
