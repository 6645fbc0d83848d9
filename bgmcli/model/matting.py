"""MattingModel: base network (encoder + ASPP or its ablation + decoder) + selection + refiner."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from bgmcli.config import ModelConfig, RefineConfig
from bgmcli.model.backbones import build_backbone
from bgmcli.model.decoder import Decoder, build_context_module
from bgmcli.model.refiner import HIDDEN_CHANNELS, Refiner
from bgmcli.model.selection import get_selector

BASE_OUT_CHANNELS = 1 + 3 + 1 + HIDDEN_CHANNELS  # alpha, foreground residual, error, hidden


class MattingOutput(NamedTuple):
    """Same order and meaning as the official model's outputs."""

    pha: torch.Tensor  # (B, 1, H, W) alpha in [0, 1]
    fgr: torch.Tensor  # (B, 3, H, W) foreground in [0, 1]
    pha_sm: torch.Tensor  # (B, 1, Hc, Wc) coarse alpha
    fgr_sm: torch.Tensor  # (B, 3, Hc, Wc) coarse foreground
    err_sm: torch.Tensor  # (B, 1, Hc, Wc) coarse predicted error
    ref_sm: torch.Tensor  # (B, 1, H/4, W/4) 1 where a 4x4 patch was refined


class BaseOutput(NamedTuple):
    pha_sm: torch.Tensor
    fgr_residual_sm: torch.Tensor
    err_sm: torch.Tensor
    hid_sm: torch.Tensor


class MattingModel(nn.Module):
    """forward(src, bgr) -> MattingOutput, for (B, 3, H, W) inputs in [0, 1] of any size."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config.backbone)
        self.aspp = build_context_module(self.backbone.out_channels, config.aspp)
        self.decoder = Decoder(self.backbone.skip_channels, BASE_OUT_CHANNELS)
        self.refiner = Refiner(config.kernel_size, config.refiner_residual)

    @property
    def refine(self) -> RefineConfig:
        return self.config.refine

    def base(self, src_sm: torch.Tensor, bgr_sm: torch.Tensor) -> BaseOutput:
        """The coarse network at low resolution."""
        x, *skips = self.backbone(torch.cat([src_sm, bgr_sm], dim=1))
        x = self.decoder(self.aspp(x), *skips)
        return BaseOutput(
            pha_sm=clamp_unit(x[:, 0:1]),
            fgr_residual_sm=x[:, 1:4],
            err_sm=clamp_unit(x[:, 4:5]),
            hid_sm=x[:, 5:].relu(),
        )

    def forward(self, src: torch.Tensor, bgr: torch.Tensor) -> MattingOutput:
        if src.shape != bgr.shape:
            raise ValueError(f"src {tuple(src.shape)} and bgr {tuple(bgr.shape)} differ in shape")
        height, width = src.shape[2:]
        src, bgr = pad_to_multiple(src, 4), pad_to_multiple(bgr, 4)
        scale = self.config.backbone_scale_for(width, height)  # None: from the frame's size
        src_sm = downsample(src, scale)
        bgr_sm = downsample(bgr, scale)
        base = self.base(src_sm, bgr_sm)
        pha_fgr, ref_sm = self.upsample_and_refine(src, bgr, base)
        pha, fgr = self.finish_outputs(pha_fgr, src, height, width)
        return MattingOutput(
            pha=pha,
            fgr=fgr,
            pha_sm=base.pha_sm,
            fgr_sm=clamp_unit(base.fgr_residual_sm + src_sm),
            err_sm=base.err_sm,
            ref_sm=ref_sm,
        )

    def finish_outputs(self, pha_fgr, src, height: int, width: int):
        """Clamped alpha and foreground (residual + source), cropped back to the input size."""
        pha = clamp_unit(pha_fgr[:, :1, :height, :width])
        fgr = clamp_unit((pha_fgr[:, 1:] + src)[:, :, :height, :width])
        return pha, fgr

    def upsample_and_refine(self, src, bgr, base: BaseOutput):
        """Full-resolution (alpha, foreground residual) as (B, 4, H, W) and the refinement map."""
        height, width = src.shape[2:]
        quarter = (height // 4, width // 4)
        mode = self.refine.mode
        coarse = torch.cat([base.hid_sm, base.pha_sm, base.fgr_residual_sm], dim=1)
        if mode == "none":
            out = F.interpolate(
                coarse[:, HIDDEN_CHANNELS:], (height, width), mode="bilinear", align_corners=False
            )
            return out, src.new_zeros((src.shape[0], 1, *quarter))
        src_bgr = torch.cat([src, bgr], dim=1)
        if mode == "full":
            return self.refiner.forward_full(src_bgr, coarse), src.new_ones(
                (src.shape[0], 1, *quarter)
            )
        err = F.interpolate(base.err_sm, quarter, mode="bilinear", align_corners=False)
        selection = get_selector(mode)(
            err, self.refine.k, threshold=self.refine.threshold, seed=self.refine.seed
        )
        out = self.refiner.forward_patches(src_bgr, coarse, selection)
        return out, selection.to_map(*quarter).to(src.dtype)


def clamp_unit(x: torch.Tensor) -> torch.Tensor:
    """Clamp to [0, 1] as the official model does, but let gradients through where training.

    A plain clamp has zero gradient outside [0, 1], so an output that saturates wrongly (raw 3.5
    where the truth is 0.3) can never be corrected: the refiner trained that way ended with 70%
    of its raw alpha outside [0, 1] and patches worse than bilinear upsampling of the coarse
    alpha. Straight-through: forward values are the clamp's, the gradient is the identity's.
    """
    clamped = x.clamp(0.0, 1.0)
    if not x.requires_grad:
        return clamped
    return x + (clamped - x).detach()


def downsample(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Bilinear resize by `scale` (size floor(H * scale)), as the official model does."""
    return F.interpolate(
        x, scale_factor=scale, mode="bilinear", align_corners=False, recompute_scale_factor=True
    )


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad bottom/right so that H and W are multiples of `multiple` (cropped back later)."""
    pad_h = -x.shape[2] % multiple
    pad_w = -x.shape[3] % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(
        x, (0, pad_w, 0, pad_h), mode="reflect" if min(x.shape[2:]) > multiple else "replicate"
    )
