"""What a checkpoint holds: architecture, parameter counts per part, config and provenance
(including the origin of pretrained start weights, meta "start_weights").

`describe_checkpoint` loads the weights into the architecture (so a bad file fails here with the
loader's one-line error) and returns plain, JSON-serialisable data for `bgm info`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import torch

from bgmcli.config import to_dict
from bgmcli.model.checkpoint import (
    FORMAT,
    load_weights,
    model_config_from,
    read_checkpoint,
    split_checkpoint,
)
from bgmcli.model.matting import MattingModel

PARTS = ("backbone", "aspp", "decoder", "refiner")


def describe_checkpoint(path: str | Path, *, backbone: str | None = None) -> dict[str, Any]:
    """A summary of the checkpoint at `path`; `backbone` overrides the stored or inferred one."""
    path = Path(path)
    data = read_checkpoint(path)
    state, config, meta = split_checkpoint(data, path)
    model = MattingModel(model_config_from(config, state, {"backbone": backbone}))
    load_weights(model, state, path)
    cfg = model.config
    return {
        "path": str(path),
        "format": checkpoint_format(data, config),
        "file_size": path.stat().st_size,
        "weights_dtype": weights_dtype(state),
        "architecture": {
            "backbone": cfg.backbone,
            "context": "ASPP (rates 3, 6, 9)" if cfg.aspp else "1x1 conv projection",
            "refiner_kernel": cfg.kernel_size,
        },
        "parameters": parameter_counts(model),
        "config_source": "checkpoint" if config is not None else "inferred from the keys",
        "config": to_dict(cfg),
        "start_weights": meta.get("start_weights"),  # None: trained from random weights
        "meta": meta,
    }


def checkpoint_format(data: dict, config: dict | None) -> str:
    if data.get("format") == FORMAT:
        return f"bgm v{data.get('version', '?')}"
    if config is not None:
        return "bgm training checkpoint"
    return "official BackgroundMattingV2 state dict"


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Learnable parameters, total and per top-level part (buffers such as BN stats excluded)."""
    counts = {part: 0 for part in PARTS}
    for name, param in model.named_parameters():
        part = name.split(".", 1)[0]
        counts[part] = counts.get(part, 0) + param.numel()
    return {"total": sum(counts.values()), **counts}


def weights_dtype(state: dict[str, torch.Tensor]) -> str:
    """The dtype of the stored floating-point tensors, e.g. 'float32' or 'float16 (300), ...'."""
    kinds = Counter(
        str(t.dtype).removeprefix("torch.") for t in state.values() if t.is_floating_point()
    )
    if len(kinds) == 1:
        return next(iter(kinds))
    return ", ".join(f"{dtype} ({count})" for dtype, count in kinds.most_common()) or "none"
