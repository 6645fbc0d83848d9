"""ModelConfig: a matting network's architecture, everything that decides which weights it has.

Call-time settings (base network scale, refine mode, k, threshold) are not part of it: they are
`bgmcli.model.settings.InferenceSettings`, given with each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgmcli.config import check_choice, from_dict
from bgmcli.model.backbones import check_backbone

# Fields that older checkpoints and training configs held in the model's config: call-time
# settings now (bgmcli.model.settings); reading such a config ignores them
FORMER_SETTINGS = ("backbone_scale", "refine")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """The architecture: everything that changes which weights a model has."""

    backbone: str = "mobilenetv2"
    aspp: bool = True  # False: the ablation's 1x1 conv + BN + ReLU projection
    kernel_size: int = 3  # refiner convolutions, 3 (paper) or 1
    # the refiner's output is added to the upsampled coarse output (ours) instead of replacing
    # it (the paper's and the official checkpoints'): it starts as bilinear upsampling
    refiner_residual: bool = False

    def __post_init__(self) -> None:
        check_backbone(self.backbone)
        check_choice("kernel_size", self.kernel_size, (1, 3))

    def architecture(self) -> dict[str, Any]:
        """The fields that decide the parameter set (used to match checkpoints and cache them)."""
        arch = {"backbone": self.backbone, "aspp": self.aspp, "kernel_size": self.kernel_size}
        if self.refiner_residual:  # left out while off, so older checkpoints' names still match
            arch["refiner_residual"] = True
        return arch


def architecture_only(data: dict[str, Any]) -> dict[str, Any]:
    """A stored model config without the call-time settings older versions kept in it."""
    return {k: v for k, v in data.items() if k not in FORMER_SETTINGS}


def model_config(data: dict[str, Any], where: str = "model config") -> ModelConfig:
    """ModelConfig from a stored or written config, old ones (with settings inside) included."""
    if not isinstance(data, dict):
        return from_dict(ModelConfig, data, where)  # names the problem
    return from_dict(ModelConfig, architecture_only(data), where)
