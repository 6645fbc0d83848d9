"""Models for the studies: given with --checkpoint, or trained with a preset and cached under
OUT/checkpoints/ by the hash of the whole training config, so no model is trained twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgmcli.config import to_dict
from bgmcli.train.config import StageConfig, TrainConfig, build_train_config
from bgmcli.train.loop import train


def variant_train_config(preset: str, architecture: dict[str, Any], seed: int = 0) -> TrainConfig:
    """The preset's recipe with the variant's architecture (backbone, aspp, kernel_size) and a
    seed: every variant of a study trains with the same steps and, per seed, the same start."""
    return build_train_config(preset, overrides={"model": dict(architecture), "seed": seed})


# Fields (of a stage, and of the whole config) added after models were first cached, with the
# value that trains as before: left out of the hash while they hold it, so an upgrade still
# finds the models it trained before.
_LATER_STAGE_FIELDS = {
    name: getattr(StageConfig(), name)
    for name in (
        "schedule",
        "lr_final",
        "bn_batches",
        "freeze_batchnorm",
        "input_scale",
        "partial_weight",
        "hedge_share",
    )
}
_LATER_FIELDS = {
    name: getattr(TrainConfig(), name)
    for name in (
        "synthetic_shapes", "plate_misalign", "plate_misalign_share", "foreground_shading",
        "synthetic_veil_share", "synthetic_skin_share", "plate_jitter",
        "shadow_share", "synthetic_tint_share", "synthetic_camouflage_share",
    )
}  # fmt: skip
_LATER_MODEL_FIELDS = {"refiner_residual": False}


# The refine stage's settings stood in the model's section (with an unused k, threshold and seed)
# when the first models were cached: hashed where and as they stood then
_FORMER_REFINE = {"k": 5_000, "threshold": 0.1, "seed": 0}


def config_hash(config: TrainConfig) -> str:
    data = to_dict(config)
    data["model"]["backbone_scale"] = data.pop("backbone_scale")
    data["model"]["refine"] = {"mode": data.pop("refine_mode"), **_FORMER_REFINE}
    for name, neutral in _LATER_FIELDS.items():
        if data.get(name) == neutral:
            del data[name]
    for name, neutral in _LATER_MODEL_FIELDS.items():
        if data["model"].get(name) == neutral:
            del data["model"][name]
    for stage in ("base", "refine"):
        for name, neutral in _LATER_STAGE_FIELDS.items():
            if data[stage].get(name) == neutral:
                del data[stage][name]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cache_dir(out: Path, config: TrainConfig) -> Path:
    """OUT/checkpoints/<backbone>-<aspp|noaspp>-k<kernel>[-seed<N>]-<hash>: readable and unique.
    The hash covers the seed; the name shows it from seed 1 on, so seed 0's models (cached
    before seeds were an option) keep their names."""
    model = config.model
    head = "aspp" if model.aspp else "noaspp"
    seed = f"-seed{config.seed}" if config.seed else ""
    name = f"{model.backbone}-{head}-k{model.kernel_size}{seed}-{config_hash(config)}"
    return Path(out) / "checkpoints" / name


def trained_checkpoint(
    out: Path, config: TrainConfig, *, device: str, progress: Callable | None = None
) -> Path:
    """DIR/model.pt of the cached run, training (or resuming an interrupted run) if needed."""
    run_dir = cache_dir(out, config)
    model_path = run_dir / "model.pt"
    if model_path.is_file():
        return model_path
    resume = (run_dir / "last.pt").is_file()
    train(config, run_dir, device=device, resume=resume, progress=progress,
          meta={"purpose": "bgm ablate"})  # fmt: skip
    return model_path
