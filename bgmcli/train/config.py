"""TrainConfig: the training recipe (stages, data, validation, checkpoints) around a ModelConfig.

Presets ship as YAML in `presets/`; precedence is defaults < preset < --config FILE < CLI options.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bgmcli.config import check_choice, from_dict, load_yaml, to_dict
from bgmcli.data import KINDS as DATA_KINDS
from bgmcli.data.recipe import SampleRecipe
from bgmcli.data.synthetic import SHAPE_SETS
from bgmcli.errors import BgmError
from bgmcli.model.config import FORMER_SETTINGS, ModelConfig
from bgmcli.model.settings import InferenceSettings

PRESETS_DIR = Path(__file__).parent / "presets"
STAGES = ("base", "refine", "both")
SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**32 - 1  # numpy's seeds stop there


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    """One stage's schedule and optimiser. Learning rates are per part of the model (Adam)."""

    steps: int = 100
    batch: int = 8
    size: int = 512  # square samples drawn from the dataset at this resolution
    crop: int = 0  # random square crop of each sample (0: use the whole sample)
    lr_backbone: float = 1e-4
    lr_aspp: float = 5e-4
    lr_decoder: float = 5e-4
    lr_refiner: float = 3e-4  # unused in the base stage
    k: int = 5_000  # refined 4x4 patches per image while training the refiner
    # "cosine": every rate decays over the stage's steps to `lr_final` times its start, so the
    # stage ends on settled weights instead of wherever the last large step left them
    schedule: str = "constant"
    lr_final: float = 0.01
    # batches over which BatchNorm statistics are recomputed when the stage ends (0: keep the
    # running averages; bgmcli/train/recalibrate.py says why)
    bn_batches: int = 0
    # keep the base network's BatchNorm statistics fixed (eval mode) in stage base too, as stage
    # refine always does: for continuing trained weights on small batches, whose batch
    # statistics would otherwise replace the ones the weights were trained with
    freeze_batchnorm: bool = False
    # stage base: the base network sees each crop resized by this, as it sees a frame at
    # inference, and is held to the truth shrunk by area to its grid: strands then come as thin
    # (a fraction of a base pixel) as they do in an HD frame at base scale 1/4
    input_scale: float = 1.0
    # stage base: pixels of partial true alpha count this many times in the alpha L1
    partial_weight: float = 1.0
    # stage refine: the share of samples whose coarse alpha gets hedged interiors (train/hedges.py)
    hedge_share: float = 0.0

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "size", "k"):
            if getattr(self, name) < 1:
                raise BgmError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.crop < 0 or self.crop > self.size or self.crop % 4:
            raise BgmError(f"crop must be 0 or a multiple of 4 up to size, got {self.crop!r}")
        if self.size % 4:
            raise BgmError(f"size must be a multiple of 4, got {self.size!r}")
        for name in ("lr_backbone", "lr_aspp", "lr_decoder", "lr_refiner"):
            if not getattr(self, name) >= 0:
                raise BgmError(f"{name} must be 0 (frozen) or more, got {getattr(self, name)!r}")
        check_choice("schedule", self.schedule, SCHEDULES)
        if self.bn_batches < 0:
            raise BgmError(f"bn_batches must be 0 or more, got {self.bn_batches!r}")
        if not 0 <= self.lr_final <= 1:
            raise BgmError(f"lr_final must be between 0 and 1, got {self.lr_final!r}")
        if not 0 < self.input_scale <= 1:
            raise BgmError(f"input_scale must be above 0 and at most 1, got {self.input_scale!r}")
        if not 0 <= self.hedge_share <= 1:
            raise BgmError(f"hedge_share must be between 0 and 1, got {self.hedge_share!r}")
        if not 1 <= self.partial_weight <= 100:
            raise BgmError(f"partial_weight must be between 1 and 100, got {self.partial_weight!r}")

    def lr_factor(self, local_step: int) -> float:
        """The multiple of each part's learning rate used for the stage's step `local_step`."""
        if self.schedule == "constant":
            return 1.0
        progress = local_step / max(self.steps - 1, 1)
        return self.lr_final + (1 - self.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def resolution(self) -> int:
        return self.crop or self.size


def _refine_stage() -> StageConfig:
    return StageConfig(
        batch=4, size=2048, lr_backbone=5e-5, lr_aspp=5e-5, lr_decoder=1e-4, lr_refiner=3e-4
    )


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Everything that decides a training run's result (device and workers excepted)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    # the settings the refine stage runs the model with (its k is the stage's): settings.py
    backbone_scale: float = 0.25
    refine_mode: str = "error"
    stage: str = "both"
    base: StageConfig = field(default_factory=StageConfig)
    refine: StageConfig = field(default_factory=_refine_stage)
    data: str = "synthetic"
    data_root: str | None = None
    backgrounds: str | None = None
    data_length: int = 10_000  # distinct samples the dataset holds (synthetic: per seed)
    synthetic_shapes: str = "blobs"  # subjects' outlines: smooth ellipses, or "mixed" (ragged too)
    # multiple of the paper's plate misalignment (+-1 degree, +-1%) in training samples: a sample
    # that stands for part of a larger frame needs that frame's shift in its own pixels
    plate_misalign: float = 1.0
    # the fraction of training plates misaligned at all (the official code: 0.3); 0.7 trains as
    # this project did before (and keeps the ablation cache's names)
    plate_misalign_share: float = 0.7
    # the fraction of synthetic foregrounds darkened by a shading field (data.synthetic.shade)
    foreground_shading: float = 0.0
    # the fractions of synthetic subjects with a veil, and of smooth skin-like foregrounds
    synthetic_veil_share: float = 0.3
    synthetic_skin_share: float = 0.0
    # colour jitter of the training plates (brightness, contrast, saturation 1 +- this): the
    # official code's 0.18 stands for a plate shot under other light
    plate_jitter: float = 0.18
    # the fraction of samples with the subject's shadow on the live background (not the plate)
    shadow_share: float = 0.3
    # the fraction of synthetic foregrounds tinted toward the background's colours
    synthetic_tint_share: float = 0.25
    # the fraction blended toward the colours of the background right behind them
    synthetic_camouflage_share: float = 0.0
    seed: int = 0
    val_every: int = 100
    val_samples: int = 8
    ckpt_every: int = 0  # also keep DIR/step-N.pt every this many steps (0: only last.pt)
    amp: bool = True  # mixed precision, on CUDA only
    init: str | None = None  # weights to start from (e.g. a base-stage model for --stage refine)
    backbone_weights: str | None = None  # pretrained encoder: torchvision .pth or .tflite

    def __post_init__(self) -> None:
        self.settings(self.refine)  # checks backbone_scale and refine_mode
        check_choice("stage", self.stage, STAGES)
        check_choice("data", self.data, DATA_KINDS)
        check_choice("synthetic_shapes", self.synthetic_shapes, SHAPE_SETS)
        if not 0 <= self.plate_misalign <= 10:
            raise BgmError(f"plate_misalign must be between 0 and 10, got {self.plate_misalign!r}")
        if not 0 <= self.plate_misalign_share <= 1:
            raise BgmError(
                f"plate_misalign_share must be between 0 and 1, got {self.plate_misalign_share!r}"
            )
        shares = ("foreground_shading", "synthetic_veil_share", "synthetic_skin_share")
        shares = (*shares, "synthetic_tint_share", "synthetic_camouflage_share")
        for name in (*shares, "plate_jitter", "shadow_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise BgmError(f"{name} must be between 0 and 1, got {getattr(self, name)!r}")
        for name in ("data_length", "val_every", "val_samples"):
            if getattr(self, name) < 1:
                raise BgmError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.ckpt_every < 0:
            raise BgmError(f"ckpt_every must be 0 or more, got {self.ckpt_every!r}")
        if not 0 <= self.seed <= MAX_SEED:
            raise BgmError(f"seed must be between 0 and {MAX_SEED}, got {self.seed!r}")
        self._check_sources()
        for stage in self.stages():  # every stage's settings before the first step
            self._check_stage(stage, getattr(self, stage))

    def _check_sources(self) -> None:
        """Options that would be silently ignored are refused instead."""
        if self.data != "folders":
            for name in ("data_root", "backgrounds"):
                if getattr(self, name) is not None:
                    raise BgmError(f"{name} applies to data 'folders' only (data is {self.data!r})")
        if self.init and self.backbone_weights:
            raise BgmError(
                "init and backbone_weights both given: init's weights (the whole model's) would "
                "replace backbone_weights' (the encoder's); give one"
            )

    def _check_stage(self, stage: str, cfg: StageConfig) -> None:
        rates = [cfg.lr_backbone, cfg.lr_aspp, cfg.lr_decoder]
        if stage == "refine":
            rates.append(cfg.lr_refiner)
        if not any(rates):
            raise BgmError(f"stage {stage} trains nothing: every learning rate of it is 0")
        if cfg.batch > self.data_length:
            raise BgmError(
                f"{stage}.batch {cfg.batch} is larger than data_length {self.data_length}: "
                "a batch would repeat samples"
            )

    def recipe(self) -> SampleRecipe:
        """How the training and validation samples are drawn."""
        return SampleRecipe(shapes=self.synthetic_shapes, misalign=self.plate_misalign,
                            misalign_share=self.plate_misalign_share,
                            shading=self.foreground_shading,
                            veil_share=self.synthetic_veil_share,
                            skin_share=self.synthetic_skin_share,
                            plate_jitter=self.plate_jitter,
                            shadow_share=self.shadow_share,
                            tint_share=self.synthetic_tint_share,
                            camouflage_share=self.synthetic_camouflage_share)  # fmt: skip

    def settings(self, stage: StageConfig) -> InferenceSettings:
        """What the model runs with in `stage` (training and validation): a fixed k per crop."""
        return InferenceSettings(
            backbone_scale=self.backbone_scale, mode=self.refine_mode, k=stage.k
        )

    def stages(self) -> list[str]:
        return ["base", "refine"] if self.stage == "both" else [self.stage]


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_preset(name: str) -> dict[str, Any]:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise BgmError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    return load_yaml(path)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of plain dicts: nested mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def build_train_config(
    preset: str = "default",
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """defaults < preset < YAML file < overrides (a nested dict; None values are ignored)."""
    data = _move_former_settings(load_preset(preset))
    if config_file is not None:
        extra = load_yaml(config_file)
        if not isinstance(extra, dict):
            raise BgmError(f"{config_file}: expected a mapping of training fields")
        data = merge(data, _move_former_settings(extra))
    data = merge(data, _move_former_settings(_drop_none(overrides or {})))
    where = str(config_file) if config_file is not None else f"preset {preset}"
    return from_dict(TrainConfig, _with_defaults(data), where)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    """Options left unset (None), and sections left empty by them, are not overrides."""
    out = {k: _drop_none(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}
    return {k: v for k, v in out.items() if v != {}}


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """Fill nested stage sections from the class defaults, so a preset may give only some."""
    defaults = to_dict(TrainConfig())
    for key in ("base", "refine", "model"):
        if isinstance(data.get(key), dict):
            data = {**data, key: merge(defaults[key], data[key])}
    return data


def config_from_checkpoint(data: dict[str, Any]) -> TrainConfig:
    return from_dict(TrainConfig, _move_former_settings(data), "checkpoint train config")


def _move_former_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Older configs held the base network's scale and the refine mode in `model` (with a k,
    threshold and seed that training never used: the stage's k applied); they are
    `backbone_scale` and `refine_mode` of the training config now."""
    model = data.get("model")
    if not isinstance(model, dict) or not any(name in model for name in FORMER_SETTINGS):
        return data
    data = {**data, "model": {k: v for k, v in model.items() if k not in FORMER_SETTINGS}}
    if model.get("backbone_scale") is not None:
        data["backbone_scale"] = model["backbone_scale"]
    if isinstance(model.get("refine"), dict) and "mode" in model["refine"]:
        data["refine_mode"] = model["refine"]["mode"]
    return data


def replace_stage(config: TrainConfig, **stage_fields: Any) -> TrainConfig:
    """Apply the same overrides (e.g. steps) to every stage that runs."""
    given = {k: v for k, v in stage_fields.items() if v is not None}
    if not given:
        return config
    changes = {s: dataclasses.replace(getattr(config, s), **given) for s in config.stages()}
    return dataclasses.replace(config, **changes)
