"""The difference key: the classic baseline that background matting must beat.

Alpha is |src - bgr| (the largest channel difference) mapped linearly from [low, high] to
[0, 1]; the foreground is the source itself. No learning, no refinement. It returns the same
MattingOutput as the network, so every tool (matte, evaluation, ablation tables) can use it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bgmcli.errors import BgmError
from bgmcli.model.matting import MattingOutput

NAME = "difference-key"


class DifferenceKey(nn.Module):
    def __init__(self, low: float = 0.04, high: float = 0.2, backbone_scale: float = 0.25):
        super().__init__()
        if not 0.0 <= low < high <= 1.0:
            raise BgmError(f"difference key needs 0 <= low < high <= 1, got {low}, {high}")
        self.low, self.high, self.backbone_scale = low, high, backbone_scale

    def forward(self, src: torch.Tensor, bgr: torch.Tensor) -> MattingOutput:
        if src.shape != bgr.shape:
            raise ValueError(f"src {tuple(src.shape)} and bgr {tuple(bgr.shape)} differ in shape")
        difference = (src - bgr).abs().amax(dim=1, keepdim=True)
        pha = ((difference - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
        small = (
            max(1, round(src.shape[2] * self.backbone_scale)),
            max(1, round(src.shape[3] * self.backbone_scale)),
        )
        quarter = -(-src.shape[2] // 4), -(-src.shape[3] // 4)
        return MattingOutput(
            pha=pha,
            fgr=src,
            pha_sm=F.interpolate(pha, small, mode="bilinear", align_corners=False),
            fgr_sm=F.interpolate(src, small, mode="bilinear", align_corners=False),
            err_sm=src.new_zeros((src.shape[0], 1, *small)),
            ref_sm=src.new_zeros((src.shape[0], 1, *quarter)),
        )
