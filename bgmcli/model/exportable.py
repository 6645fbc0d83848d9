"""An export-friendly MattingModel: same weights and outputs, refinement in traceable ops.

Eager refinement uses 2-D advanced indexing (not exportable to ONNX), a torch.Generator
(`random`, baked wrongly by tracing) and a data-dependent count (`threshold`); this replaces them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bgmcli.model.matting import BaseOutput, MattingModel
from bgmcli.model.refiner import HIDDEN_CHANNELS, Refiner, patch_locations, to_half_resolution
from bgmcli.model.selection import Selection, get_selector

FIXED_SELECTIONS = ("random", "uniform")  # their locations depend on the shape only


class ExportableMatting(MattingModel):
    """MattingModel for tracing at one input shape (B, 3, H, W); forward returns a plain tuple."""

    def __init__(self, model: MattingModel, shape: tuple[int, int, int, int]):
        # Share the parts rather than rebuild: any MattingModel (e.g. with batch norm folded
        # for inference) keeps its exact weights. Puts `model` in eval mode.
        nn.Module.__init__(self)
        self.config = model.config
        for name in ("backbone", "aspp", "decoder", "refiner"):
            setattr(self, name, getattr(model, name))
        self.eval()
        device = next(model.parameters()).device
        self.notes: tuple[str, ...] = ()
        self.fixed: Selection | None = None
        quarter = (-(-shape[2] // 4), -(-shape[3] // 4))  # the padded frame's quarter size
        if self.refine.mode in FIXED_SELECTIONS:
            # Drawn here as eager draws them (same seed, shape and device), then baked in.
            self.fixed = fixed_selection(self.refine, shape[0], quarter, device)
            self.notes = (f"{self.refine.mode}: the refined locations are fixed at export",)
        elif self.refine.mode == "threshold":
            self.notes = (
                "threshold: exported as full refinement masked by err > threshold "
                "(same outputs; the cost of `full`, not of sparse patches)",
            )

    def forward(self, src: torch.Tensor, bgr: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(super().forward(src, bgr))

    def upsample_and_refine(self, src, bgr, base: BaseOutput):
        mode = self.refine.mode
        if mode in ("none", "full"):
            return super().upsample_and_refine(src, bgr, base)
        height, width = src.shape[2:]
        quarter = (height // 4, width // 4)
        coarse = torch.cat([base.hid_sm, base.pha_sm, base.fgr_residual_sm], dim=1)
        src_bgr = torch.cat([src, bgr], dim=1)
        err = F.interpolate(base.err_sm, quarter, mode="bilinear", align_corners=False)
        if mode == "threshold":
            return refine_masked(self.refiner, src_bgr, coarse, err > self.refine.threshold)
        selection = self.fixed or get_selector(mode)(err, self.refine.k)
        out = refine_patches(self.refiner, src_bgr, coarse, selection)
        return out, selection.to_map(*quarter).to(src.dtype)


def fixed_selection(refine, batch: int, quarter: tuple[int, int], device) -> Selection:
    """The selection `random` / `uniform` make for this shape (they ignore the error values)."""
    err = torch.zeros(batch, 1, *quarter, device=device)
    return get_selector(refine.mode)(err, refine.k, threshold=refine.threshold, seed=refine.seed)


def refine_masked(refiner: Refiner, src_bgr, coarse, mask: torch.Tensor):
    """`threshold` with static shapes: refine everywhere, keep it where the quarter-res `mask`
    is set (each location is a 4x4 patch), the upsampled coarse output elsewhere."""
    refined = refiner.forward_full(src_bgr, coarse)
    upsampled = F.interpolate(
        coarse[:, HIDDEN_CHANNELS:], src_bgr.shape[2:], mode="bilinear", align_corners=False
    )
    full_mask = mask.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)
    return torch.where(full_mask, refined, upsampled), mask.to(src_bgr.dtype)


def refine_patches(refiner: Refiner, src_bgr, coarse, selection: Selection) -> torch.Tensor:
    """Refiner.forward_patches with crops and pastes as 1-D gathers/scatters over pixels."""
    height, width = src_bgr.shape[2:]
    locations = patch_locations(selection, width // 4)
    half_in = to_half_resolution(coarse, src_bgr)
    half = gather_patches(half_in, locations, 2, refiner.half_pad)
    full = gather_patches(src_bgr, locations, 4, refiner.full_pad)
    patches = refiner.refine(half, full)
    out = F.interpolate(
        coarse[:, HIDDEN_CHANNELS:], (height, width), mode="bilinear", align_corners=False
    )
    return scatter_patches(out, patches, locations, selection.valid.flatten(), refiner.residual)


def _pixel_index(locations, size: int, extent: int, height: int, width: int) -> torch.Tensor:
    """(P, extent, extent) flat indices into a (B * H * W) pixel list of each patch window."""
    batch, rows, cols = locations
    offsets = torch.arange(extent, device=rows.device)
    ys = (rows * size)[:, None] + offsets
    xs = (cols * size)[:, None] + offsets
    return (batch * height * width)[:, None, None] + ys[:, :, None] * width + xs[:, None, :]


def _pixels(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B * H * W, C): one row per pixel, so patches are 1-D row gathers."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def gather_patches(x: torch.Tensor, locations, size: int, pad: int) -> torch.Tensor:
    """crop_patches of refiner.py: (P, C, size + 2 pad, size + 2 pad) crops, zeros outside."""
    if pad:
        x = F.pad(x, (pad,) * 4)
    extent = size + 2 * pad
    index = _pixel_index(locations, size, extent, x.shape[2], x.shape[3])
    rows = _pixels(x)[index.flatten()]
    return rows.view(-1, extent, extent, x.shape[1]).permute(0, 3, 1, 2)


def scatter_patches(out, patches, locations, valid: torch.Tensor, residual=False) -> torch.Tensor:
    """paste_patches of refiner.py, out of place: 4x4 `patches` (added to `out` if `residual`)
    where `valid`, `out` elsewhere."""
    batch, channels, height, width = out.shape
    index = _pixel_index(locations, 4, 4, height, width).flatten()
    pixels = _pixels(out)
    new = patches.permute(0, 2, 3, 1).reshape(-1, channels)
    keep = valid.repeat_interleave(16)[:, None]
    current = pixels[index]
    if residual:
        new = new + current
    pixels = pixels.index_put((index,), torch.where(keep, new, current))
    return pixels.view(batch, height, width, channels).permute(0, 3, 1, 2)
