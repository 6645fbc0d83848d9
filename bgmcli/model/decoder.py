"""ASPP (or its 1x1 ablation) and the DeepLab-style decoder with skip connections."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP

ASPP_RATES = (3, 6, 9)
ASPP_CHANNELS = 256


def build_context_module(in_channels: int, use_aspp: bool) -> nn.Module:
    """torchvision's ASPP (rates 3, 6, 9), or the ablation's 1x1 conv + BN + ReLU to 256 ch."""
    if use_aspp:
        return ASPP(in_channels, list(ASPP_RATES), ASPP_CHANNELS)
    return nn.Sequential(
        nn.Conv2d(in_channels, ASPP_CHANNELS, 1, bias=False),
        nn.BatchNorm2d(ASPP_CHANNELS),
        nn.ReLU(inplace=True),
    )


class Decoder(nn.Module):
    """Upsample step by step from 1/16 to full size, concatenating the encoder's skips."""

    def __init__(self, skip_channels: tuple[int, int, int, int], out_channels: int):
        super().__init__()
        widths = (ASPP_CHANNELS, 128, 64, 48)
        self.conv1 = nn.Conv2d(widths[0] + skip_channels[0], widths[1], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[1])
        self.conv2 = nn.Conv2d(widths[1] + skip_channels[1], widths[2], 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(widths[2])
        self.conv3 = nn.Conv2d(widths[2] + skip_channels[2], widths[3], 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(widths[3])
        self.conv4 = nn.Conv2d(widths[3] + skip_channels[3], out_channels, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, *skips: torch.Tensor) -> torch.Tensor:
        x3, x2, x1, x0 = skips
        x = self.relu(self.bn1(self.conv1(_up_cat(x, x3))))
        x = self.relu(self.bn2(self.conv2(_up_cat(x, x2))))
        x = self.relu(self.bn3(self.conv3(_up_cat(x, x1))))
        return self.conv4(_up_cat(x, x0))


def _up_cat(x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
    return torch.cat([x, skip], dim=1)
