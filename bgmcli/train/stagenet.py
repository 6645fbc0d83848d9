"""What each stage trains, as one module (so DDP can wrap it) and its Adam parameter groups."""

from __future__ import annotations

import torch
from torch import nn

from bgmcli.errors import BgmError
from bgmcli.model.matting import clamp_unit, downsample
from bgmcli.model.settings import InferenceSettings
from bgmcli.train.config import StageConfig
from bgmcli.train.hedges import hedge
from bgmcli.train.losses import base_loss, refine_loss


class StageNet(nn.Module):
    """Stage "base": the base network alone at its input resolution (as the paper's MattingBase),
    or on the input resized by `input_scale` (as it runs inside the model on a frame);
    stage "refine": base + refiner end to end, run with `settings` (the training config's, with
    the stage's k: `TrainConfig.settings`). forward returns the stage's loss."""

    def __init__(
        self,
        model: nn.Module,
        stage: str,
        settings: InferenceSettings | None = None,
        freeze_batchnorm: bool = False,
        input_scale: float = 1.0,
        partial_weight: float = 1.0,
        hedge_share: float = 0.0,
    ):
        super().__init__()
        self.model, self.stage = model, stage
        self.settings = settings
        self.input_scale, self.partial_weight = input_scale, partial_weight
        self.hedge_share = hedge_share
        self.freeze_batchnorm = freeze_batchnorm or stage == "refine"

    def train(self, mode: bool = True) -> StageNet:
        """In stage "refine" the base network's BatchNorm keeps the statistics of stage "base":
        refine batches are small (2-4 crops) and ASPP's pooling branch normalises one value per
        image, so batch statistics there are noise; running statistics updated from them broke
        inference at HD (docs/training.md). The refiner's BatchNorm sees k patches per image and
        keeps training.
        Stage base keeps them too when `freeze_batchnorm` is set.
        """
        super().train(mode)
        if mode and self.freeze_batchnorm:
            for part in (self.model.backbone, self.model.aspp, self.model.decoder):
                for module in part.modules():
                    if isinstance(module, nn.modules.batchnorm._BatchNorm):
                        module.eval()
        return self

    def forward(self, src, bgr, true_pha, true_fgr) -> torch.Tensor:
        return self.loss(self.outputs(src, bgr), true_pha, true_fgr)

    def outputs(self, src, bgr):
        """What the stage's loss is computed from: (alpha, foreground, error) at the base
        network's resolution in stage base, the whole MattingOutput in stage refine."""
        if self.stage == "base":
            if self.input_scale != 1:
                src, bgr = downsample(src, self.input_scale), downsample(bgr, self.input_scale)
            out = self.model.base(src, bgr)
            return out.pha_sm, clamp_unit(out.fgr_residual_sm + src), out.err_sm
        if self.hedge_share and self.training:
            x = self.model.prepare(src, bgr, self.settings)
            base = self.model.base(x.src_sm, x.bgr_sm)
            return self.model.finish(x, hedge(base, self.hedge_share))
        return self.model(src, bgr, self.settings)

    def loss(self, outputs, true_pha, true_fgr) -> torch.Tensor:
        if self.stage == "base":
            return base_loss(*outputs, true_pha, true_fgr, self.partial_weight)
        return refine_loss(outputs, true_pha, true_fgr)


def param_groups(model: nn.Module, stage: str, cfg: StageConfig) -> list[dict]:
    """The paper's per-part learning rates; the base stage leaves the refiner out (and frozen).
    A part whose learning rate is 0 is frozen too: no gradients are computed for it."""
    parts = {"backbone": cfg.lr_backbone, "aspp": cfg.lr_aspp, "decoder": cfg.lr_decoder}
    if stage == "refine":
        parts["refiner"] = cfg.lr_refiner
    model.refiner.requires_grad_(stage == "refine")
    for name, lr in parts.items():
        getattr(model, name).requires_grad_(lr > 0)
    groups = [
        {"params": list(getattr(model, name).parameters()), "lr": lr, "name": name}
        for name, lr in parts.items()
        if lr > 0
    ]
    if not groups:
        raise BgmError(f"stage {stage} trains nothing: every learning rate of it is 0")
    return groups
