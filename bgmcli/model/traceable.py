"""An export-friendly MattingModel: same weights and outputs, refinement in traceable ops.

Eager refinement uses 2-D advanced indexing (not exportable to ONNX), a torch.Generator
(`random`, baked wrongly by tracing) and a data-dependent count (`threshold`); this replaces them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bgmcli.model.matting import MattingModel
from bgmcli.model.refiner import Refiner, patch_locations, to_half_resolution, upsample_coarse
from bgmcli.model.selection import SELECTORS, Selection
from bgmcli.model.settings import InferenceSettings


class TraceableMatting(MattingModel):
    """MattingModel for tracing at one input shape (B, 3, H, W) with `settings` decided for it
    (`for_frame`) and baked in; forward returns a plain tuple."""

    def __init__(self, model: MattingModel, shape: tuple[int, int, int, int], settings=None):
        # Share the parts rather than rebuild: any MattingModel (e.g. with batch norm folded
        # for inference) keeps its exact weights. Puts `model` in eval mode.
        self.share_parts(model)
        self.settings = (settings or model.settings).for_frame(shape[3], shape[2])
        self.eval()
        device = next(model.parameters()).device
        self.notes: tuple[str, ...] = ()
        self.fixed: Selection | None = None
        mode = self.settings.mode
        quarter = (-(-shape[2] // 4), -(-shape[3] // 4))  # the padded frame's quarter size
        if SELECTORS[mode].data_free:
            # Drawn here as eager draws them (same seed, shape and device), then baked in.
            err = torch.zeros(shape[0], 1, *quarter, device=device)
            self.fixed = self.select(err, self.settings)
            self.notes = (f"{mode}: the refined locations are fixed at export",)
        elif not SELECTORS[mode].static:
            self.notes = (
                f"{mode}: exported as full refinement masked by err > threshold "
                "(same outputs; the cost of `full`, not of sparse patches)",
            )

    def forward(self, src: torch.Tensor, bgr: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(super().forward(src, bgr))

    def refine_selected(self, src, bgr, coarse, err, settings: InferenceSettings):
        src_bgr = torch.cat([src, bgr], dim=1)
        if not SELECTORS[settings.mode].static:  # threshold: a data-dependent count
            return refine_masked(self.refiner, src_bgr, coarse, err > settings.threshold)
        selection = self.fixed or self.select(err, settings)
        out = refine_patches(self.refiner, src_bgr, coarse, selection)
        return out, selection.to_map(*err.shape[2:]).to(src.dtype)


def refine_masked(refiner: Refiner, src_bgr, coarse, mask: torch.Tensor):
    """`threshold` with static shapes: refine everywhere, keep it where the quarter-res `mask`
    is set (each location is a 4x4 patch), the upsampled coarse output elsewhere."""
    refined = refiner.forward_full(src_bgr, coarse)
    upsampled = upsample_coarse(coarse, *src_bgr.shape[2:])
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
    out = upsample_coarse(coarse, height, width)
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
