"""MattingModel: base network (encoder + ASPP or its ablation + decoder) + selection + refiner.

The one refine dispatch (`upsample_and_refine`: none / full / selected locations) lives here; the
fast and the exportable forms plug in their own patch step (`refine_selected`)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from bgmcli.model.backbones import build_backbone
from bgmcli.model.config import ModelConfig
from bgmcli.model.decoder import Decoder, build_context_module
from bgmcli.model.refiner import HIDDEN_CHANNELS, Refiner, upsample_coarse
from bgmcli.model.selection import Selection, get_selector, get_strategy
from bgmcli.model.settings import InferenceSettings

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


class Prepared(NamedTuple):
    """A frame's inputs for the two parts of `forward`: padded to multiples of 4, downsampled
    for the base network, with the settings decided for the frame's size."""

    src: torch.Tensor
    bgr: torch.Tensor
    src_sm: torch.Tensor
    bgr_sm: torch.Tensor
    settings: InferenceSettings
    height: int  # the input's size, before padding
    width: int


class MattingModel(nn.Module):
    """forward(src, bgr, settings) -> MattingOutput, for (B, 3, H, W) inputs in [0, 1] of any
    size. `config` is the architecture; `settings` (default: `self.settings`, which `load_model`
    sets from its arguments) say how a call runs."""

    def __init__(self, config: ModelConfig, settings: InferenceSettings | None = None):
        super().__init__()
        self.config = config
        self.settings = settings or InferenceSettings()
        self.backbone = build_backbone(config.backbone)
        self.aspp = build_context_module(self.backbone.out_channels, config.aspp)
        self.decoder = Decoder(self.backbone.skip_channels, BASE_OUT_CHANNELS)
        self.refiner = Refiner(config.kernel_size, config.refiner_residual)

    def share_parts(self, model: MattingModel, parts=("backbone", "aspp", "decoder", "refiner")):
        """Take `model`'s config, settings and modules (the same weights) without building any:
        how the fast and the exportable forms are made from a loaded model."""
        nn.Module.__init__(self)
        self.config, self.settings = model.config, model.settings
        for name in parts:
            setattr(self, name, getattr(model, name))

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

    def forward(
        self, src: torch.Tensor, bgr: torch.Tensor, settings: InferenceSettings | None = None
    ) -> MattingOutput:
        x = self.prepare(src, bgr, settings)
        return self.finish(x, self.base(x.src_sm, x.bgr_sm))

    def prepare(self, src, bgr, settings: InferenceSettings | None = None) -> Prepared:
        """Padding, the settings for the frame's size and the base network's inputs."""
        if src.shape != bgr.shape:
            raise ValueError(f"src {tuple(src.shape)} and bgr {tuple(bgr.shape)} differ in shape")
        height, width = src.shape[2:]
        settings = (settings or self.settings).for_frame(width, height)
        src, bgr = pad_to_multiple(src, 4), pad_to_multiple(bgr, 4)
        scale = settings.backbone_scale
        return Prepared(src, bgr, downsample(src, scale), downsample(bgr, scale), settings,
                        height, width)  # fmt: skip

    def finish(self, x: Prepared, base: BaseOutput) -> MattingOutput:
        """Everything after the base network: upsampling, refinement, the outputs."""
        pha_fgr, ref_sm = self.upsample_and_refine(x.src, x.bgr, base, x.settings)
        pha, fgr = self.finish_outputs(pha_fgr, x.src, x.height, x.width)
        return MattingOutput(
            pha=pha,
            fgr=fgr,
            pha_sm=base.pha_sm,
            fgr_sm=clamp_unit(base.fgr_residual_sm + x.src_sm),
            err_sm=base.err_sm,
            ref_sm=ref_sm,
        )

    def finish_outputs(self, pha_fgr, src, height: int, width: int):
        """Clamped alpha and foreground (residual + source), cropped back to the input size."""
        pha = clamp_unit(pha_fgr[:, :1, :height, :width])
        fgr = clamp_unit((pha_fgr[:, 1:] + src)[:, :, :height, :width])
        return pha, fgr

    def upsample_and_refine(self, src, bgr, base: BaseOutput, settings: InferenceSettings):
        """Full-resolution (alpha, foreground residual) as (B, 4, H, W) and the refinement map."""
        height, width = src.shape[2:]
        quarter = (src.shape[0], 1, height // 4, width // 4)
        coarse = torch.cat([base.hid_sm, base.pha_sm, base.fgr_residual_sm], dim=1)
        strategy = get_strategy(settings.mode)
        if not strategy.refines:
            return upsample_coarse(coarse, height, width), src.new_zeros(quarter)
        if strategy.select is None:  # everywhere
            src_bgr = torch.cat([src, bgr], dim=1)
            return self.refiner.forward_full(src_bgr, coarse), src.new_ones(quarter)
        err = F.interpolate(base.err_sm, quarter[2:], mode="bilinear", align_corners=False)
        return self.refine_selected(src, bgr, coarse, err, settings)

    def select(self, err: torch.Tensor, settings: InferenceSettings) -> Selection:
        """The quarter-resolution locations the settings' mode picks from the error map."""
        return get_selector(settings.mode)(
            err, settings.k, threshold=settings.threshold, seed=settings.seed
        )

    def refine_selected(self, src, bgr, coarse, err, settings: InferenceSettings):
        """The patch step (this is the training form's): refine the selected locations, paste
        them into the upsampled coarse output; also returns the refinement map."""
        selection = self.select(err, settings)
        out = self.refiner.forward_patches(torch.cat([src, bgr], dim=1), coarse, selection)
        return out, selection.to_map(*err.shape[2:]).to(src.dtype)


def clamp_unit(x: torch.Tensor) -> torch.Tensor:
    """Clamp to [0, 1] as the official model does, but let gradients through where training.

    A plain clamp has zero gradient outside [0, 1], so an output that saturates on the wrong
    side can never be corrected (what that did to the refiner: docs/training.md).
    Straight-through: forward values are the clamp's, the gradient is the identity's.
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
