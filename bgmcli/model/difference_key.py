"""The difference key: the classic baseline that background matting must beat.

Alpha is |src - bgr| (the largest channel difference) mapped linearly from [low, high] to
[0, 1]; the foreground is the source itself. No learning, no refinement. It returns the same
MattingOutput as the network, so every tool (matte, evaluation, ablation tables) can use it.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import nn

from bgmcli.errors import BgmError
from bgmcli.model.matting import MattingOutput
from bgmcli.model.settings import InferenceSettings

NAME = "difference-key"


class DifferenceKey(nn.Module):
    def __init__(self, low: float = 0.04, high: float = 0.2, backbone_scale: float | None = None):
        """`backbone_scale` sizes the coarse outputs (pha_sm, fgr_sm, err_sm) as the network's
        would be; None: chosen from each frame's size, as for the network."""
        super().__init__()
        if not 0.0 <= low < high <= 1.0:
            raise BgmError(f"difference key needs 0 <= low < high <= 1, got {low}, {high}")
        self.low, self.high = low, high
        self.settings = InferenceSettings(backbone_scale=backbone_scale)

    def forward(self, src, bgr, settings: InferenceSettings | None = None) -> MattingOutput:
        """`settings`: only their base network scale applies (to the coarse outputs' size)."""
        if src.shape != bgr.shape:
            raise ValueError(f"src {tuple(src.shape)} and bgr {tuple(bgr.shape)} differ in shape")
        difference = (src - bgr).abs().amax(dim=1, keepdim=True)
        pha = ((difference - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
        scale = (settings or self.settings).for_frame(src.shape[3], src.shape[2]).backbone_scale
        small = (max(1, round(src.shape[2] * scale)), max(1, round(src.shape[3] * scale)))
        quarter = -(-src.shape[2] // 4), -(-src.shape[3] // 4)
        return MattingOutput(
            pha=pha,
            fgr=src,
            pha_sm=F.interpolate(pha, small, mode="bilinear", align_corners=False),
            fgr_sm=F.interpolate(src, small, mode="bilinear", align_corners=False),
            err_sm=src.new_zeros((src.shape[0], 1, *small)),
            ref_sm=src.new_zeros((src.shape[0], 1, *quarter)),
        )


def fit_thresholds(frames, steps: int = 24) -> tuple[float, float]:
    """The (low, high) that minimise the mean alpha MAD over `frames` (dicts with src, bgr,
    true_pha and an optional boolean mask): the key at its best on that data, so a learned
    model is compared with the strongest version of the baseline. Coarse grid, then a finer one
    around the best point."""
    samples = []
    for frame in frames:
        diff = (frame["src"] - frame["bgr"]).abs().amax(dim=0).numpy().astype(np.float32)
        truth = frame["true_pha"][0].numpy().astype(np.float32)
        mask = frame.get("mask")
        if mask is not None:
            diff, truth = diff[mask], truth[mask]
        samples.append((diff.ravel()[::4], truth.ravel()[::4]))  # every 4th pixel is plenty

    def cost(low: float, high: float) -> float:
        total = 0.0
        for diff, truth in samples:
            pha = np.clip((diff - low) / (high - low), 0.0, 1.0)
            total += float(np.abs(pha - truth).mean())
        return total

    best = (np.inf, 0.04, 0.2)
    lows, spans = np.linspace(0.0, 0.4, steps), np.linspace(0.01, 0.6, steps)
    for _ in range(2):
        for low in lows:
            for span in spans:
                if low + span <= 1.0:
                    best = min(best, (cost(low, low + span), float(low), float(low + span)))
        _, low, high = best
        lows = np.clip(np.linspace(low - 0.02, low + 0.02, 9), 0.0, 0.98)
        spans = np.clip(np.linspace(high - low - 0.03, high - low + 0.03, 9), 0.005, 1.0)
    return best[1], best[2]
