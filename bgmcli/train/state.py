"""Training checkpoints: model, optimizer, scaler, step, stage, RNG states and the full config.

The file also carries "config" (the ModelConfig) and "model" (the state dict) at the top level,
so `bgm matte --checkpoint DIR/last.pt` loads it like any of our checkpoints.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgmcli.config import to_dict
from bgmcli.errors import BgmError
from bgmcli.model.checkpoint import atomic_save, read_checkpoint, split_checkpoint

FORMAT = "bgm-train"


def save_state(
    path: Path, *, model, optimizer, scaler, step: int, stage: str, config,
    meta: dict | None = None, stage_step: int | None = None, log_rows: int | None = None,
    rng: dict | None = None,
) -> None:  # fmt: skip
    """`step` counts the run's steps, `stage_step` those of `stage`; `log_rows` the rows of
    DIR/metrics.jsonl written so far; `rng` the generators' states (default: as they are)."""
    atomic_save(
        {
            "format": FORMAT,
            "config": to_dict(config.model),
            "train_config": to_dict(config),
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(),
            "step": step,
            "stage": stage,
            "stage_step": stage_step,
            "log_rows": log_rows,
            "rng": rng if rng is not None else rng_state(),
            "meta": meta or {},  # e.g. the origin of pretrained start weights
        },
        path,
    )


def load_state(path: Path) -> dict[str, Any]:
    data = read_checkpoint(path)
    if data.get("format") != FORMAT or "step" not in data:
        raise BgmError(f"{path} is not a training checkpoint of `bgm train` (cannot resume it)")
    split_checkpoint(data, path)  # weights of the right types, finite
    for key in ("train_config", "optimizer", "scaler", "rng"):
        if not isinstance(data.get(key), dict):
            raise BgmError(f"{path}: its {key!r} is damaged (cannot resume it)")
    return data


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Every generator's state, in types that load with torch.load(weights_only=True)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
