"""Encoders on torchvision ResNet-50/101 and MobileNetV2 at output stride 16, and their registry.

Child module names follow torchvision (and hence the official checkpoints): `conv1`, `layer1`,
... for ResNets, `features.N` for MobileNetV2.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchvision import models

from bgmcli.errors import BgmError

IN_CHANNELS = 6  # source and background plate, concatenated


class ResNetEncoder(nn.Module):
    """ResNet with a dilated last stage (stride 16) returning features at 1/16, 1/8, 1/4, 1/2, 1."""

    def __init__(self, depth: int):
        super().__init__()
        build = {50: models.resnet50, 101: models.resnet101}[depth]
        net = build(weights=None, replace_stride_with_dilation=[False, False, True])
        net.conv1 = nn.Conv2d(IN_CHANNELS, 64, 7, stride=2, padding=3, bias=False)
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            self.add_module(name, getattr(net, name))
        self.out_channels = 2048
        self.skip_channels = (512, 256, 64, IN_CHANNELS)  # 1/8, 1/4, 1/2, 1/1

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x0 = x
        x1 = self.relu(self.bn1(self.conv1(x0)))
        x2 = self.layer1(self.maxpool(x1))
        x3 = self.layer2(x2)
        x4 = self.layer4(self.layer3(x3))
        return [x4, x3, x2, x1, x0]


class MobileNetV2Encoder(nn.Module):
    """MobileNetV2 features without the last 1x1 conv, dilated after block 14 (stride 16)."""

    def __init__(self):
        super().__init__()
        features = models.mobilenet_v2(weights=None).features[:-1]
        features[0][0] = nn.Conv2d(IN_CHANNELS, 32, 3, stride=2, padding=1, bias=False)
        features[14].conv[1][0].stride = (1, 1)  # keep 1/16 instead of going to 1/32
        for block in features[15:]:
            depthwise = block.conv[1][0]
            depthwise.dilation, depthwise.padding = (2, 2), (2, 2)
        self.features = features
        self.out_channels = 320
        self.skip_channels = (32, 24, 16, IN_CHANNELS)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x0 = x
        x1 = self.features[:2](x0)
        x2 = self.features[2:4](x1)
        x3 = self.features[4:7](x2)
        x4 = self.features[7:](x3)
        return [x4, x3, x2, x1, x0]


@dataclass(frozen=True)
class Backbone:
    """A registered encoder: its constructor, and the signature by which a state dict's keys
    (relative to the encoder) show that they are this encoder's: a key it has and, where a
    larger sibling has that key too, a key it lacks."""

    build: Callable[[], nn.Module]
    has: str
    lacks: str | None = None

    def matches(self, keys: Collection[str], prefix: str = "") -> bool:
        return prefix + self.has in keys and (self.lacks is None or prefix + self.lacks not in keys)


BACKBONES: dict[str, Backbone] = {
    "resnet50": Backbone(
        lambda: ResNetEncoder(50), has="layer3.5.conv1.weight", lacks="layer3.6.conv1.weight"
    ),
    "resnet101": Backbone(lambda: ResNetEncoder(101), has="layer3.22.conv1.weight"),
    "mobilenetv2": Backbone(MobileNetV2Encoder, has="features.0.0.weight"),
}


def check_backbone(name: str) -> str:
    """`name` if registered; else a BgmError listing the known ones."""
    if name not in BACKBONES:
        raise BgmError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    return name


def build_backbone(name: str) -> nn.Module:
    """The encoder registered under `name`; an unknown name lists the known ones."""
    return BACKBONES[check_backbone(name)].build()


def backbone_of(keys: Collection[str], prefix: str = "backbone.") -> str | None:
    """The registered backbone whose signature `keys` (a state dict's) match, or None."""
    return next((name for name, b in BACKBONES.items() if b.matches(keys, prefix)), None)


def load_imagenet_weights(encoder: nn.Module, path: str | Path) -> int:
    """Load a torchvision ImageNet state dict a user has on disk; returns tensors loaded.

    The first convolution takes 6 channels here: the RGB kernel W goes to the source channels and
    -W to the background channels, so the first layer computes the ImageNet filters on the
    difference image src - bgr (by far the better start than a plate at zero in 600-step base
    runs; the TFLite import does the same, see tflite_weights.source_and_plate_kernel).
    """
    from bgmcli.model.checkpoint import check_state_dict, read_checkpoint  # it imports this

    if not Path(path).is_file():
        raise BgmError(f"backbone weights not found: {path}")
    state = check_state_dict(read_checkpoint(path), path)  # safe; every failure one line
    own = encoder.state_dict()
    loaded = 0
    for key, value in state.items():
        if key not in own or not isinstance(value, torch.Tensor):
            continue
        if value.shape == own[key].shape:
            own[key] = value
        elif value.dim() == 4 and value.shape[1] == 3 and own[key].shape[1] == IN_CHANNELS:
            own[key] = torch.cat([value, -value], dim=1)
        else:
            continue
        loaded += 1
    if loaded == 0:
        raise BgmError(f"{path}: no tensor matches the backbone's parameter names")
    encoder.load_state_dict(own)
    return loaded
