"""The fast inference form of MattingModel: a patch refiner that crops straight from the coarse
and full-resolution tensors instead of resampling whole frames first.

The training form upsamples every coarse feature map to half resolution, pads it and then crops
patches: at 4K that writes ~600 MB for a few thousand 8x8 patches. Here each patch's half-
resolution input is computed on its own: the coarse features (36 channels) by bilinear
interpolation of a small window (exactly what F.interpolate computes there). src/bgr (6 channels)
are halved once per frame by 2x2 averaging (bit-identical to the 2x bilinear downsample) and
cropped from there: that measured ~16% faster at 4K than averaging a 16x16 full-resolution crop
per patch, because a gather costs per element. Shapes depend only on the frame size and k, so
CUDA graphs and torch.compile work.

The base network's batch norm is deliberately not folded into its convolutions: on calibrated
random ResNet weights folding moved coarse outputs by ~1e-4, enough to flip which locations make
the top-k, for a gain of a few percent. The refiner's is folded: its outputs select nothing, so
rounding there stays rounding (~1e-7) in the pasted patches.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from bgmcli.model.matting import MattingModel
from bgmcli.model.refiner import Refiner, paste_patches, patch_locations, upsample_coarse

PATCH_CHUNK = 4096  # patches refined per step


class InferenceMattingModel(MattingModel):
    """Same outputs as MattingModel (to float rounding), faster; built by `from_model`."""

    @classmethod
    def from_model(cls, model: MattingModel) -> InferenceMattingModel:
        fast = cls.__new__(cls)
        fast.share_parts(model, ("backbone", "aspp", "decoder"))
        # Thousands of 8x8 patches convolve faster channels-last (oneDNN on CPU; figure in
        # docs/results/cpu-speed.md); the base network gains nothing, so only the refiner is.
        refiner = fold_batchnorm(copy.deepcopy(model.refiner).eval())
        fast.refiner = refiner.to(memory_format=torch.channels_last)
        return fast.eval()

    def finish_outputs(self, pha_fgr, src, height: int, width: int):
        # pha_fgr is a fresh tensor of this call: finish it in place, no full-resolution copies.
        pha = pha_fgr[:, :1].clamp_(0.0, 1.0)
        fgr = pha_fgr[:, 1:].add_(src).clamp_(0.0, 1.0)
        return pha[:, :, :height, :width], fgr[:, :, :height, :width]

    def refine_selected(self, src, bgr, coarse, err, settings):
        selection = self.select(err, settings)
        locations = patch_locations(selection, err.shape[3])
        out = upsample_coarse(coarse, *src.shape[2:])
        half_src_bgr = torch.cat([F.avg_pool2d(src, 2), F.avg_pool2d(bgr, 2)], dim=1)
        valid = selection.valid.flatten()
        # In chunks: 20 000 patches at once need ~600 MB of intermediates (42 channels of 8x8
        # each); chunks bound that and keep the working set in cache. Shapes stay static.
        for start in range(0, valid.numel(), PATCH_CHUNK):
            chunk = tuple(t[start : start + PATCH_CHUNK] for t in locations)
            patches = refine_patches(self.refiner, src, bgr, half_src_bgr, coarse, chunk)
            keep = valid[start : start + PATCH_CHUNK]
            out = paste_patches(out, patches, chunk, keep, self.refiner.residual)
        return out, selection.to_map(*err.shape[2:]).to(src.dtype)


def fold_batchnorm(refiner: Refiner) -> Refiner:
    """conv1..conv3 with their BatchNorm folded in (a bias each); the BatchNorms become no-ops."""
    for i in (1, 2, 3):
        conv, norm = getattr(refiner, f"conv{i}"), getattr(refiner, f"bn{i}")
        setattr(refiner, f"conv{i}", fuse_conv_bn_eval(conv, norm))
        setattr(refiner, f"bn{i}", nn.Identity())
    return refiner


def refine_patches(refiner: Refiner, src, bgr, half_src_bgr, coarse, locations) -> torch.Tensor:
    """(P, 4, 4, 4) refined alpha + foreground residual for the P selected locations."""
    hp, fp = refiner.half_pad, refiner.full_pad
    full = torch.cat([_crop_zero_padded(x, locations, 4, fp, 4 + 2 * fp) for x in (src, bgr)], 1)
    half_src_bgr = _crop_zero_padded(half_src_bgr, locations, 2, hp, 2 + 2 * hp)
    half_size = (src.shape[2] // 2, src.shape[3] // 2)
    half_coarse = _interpolate_windows(coarse, locations, half_size, 2 + 2 * hp, hp)
    return refiner.refine(torch.cat([half_coarse, half_src_bgr], dim=1), full)


def _crop_zero_padded(x, locations, stride: int, pad: int, size: int) -> torch.Tensor:
    """(P, C, size, size) crops starting at (row * stride - pad, col * stride - pad), with zeros
    outside the frame (without padding the whole frame)."""
    batch, rows, cols = locations
    offsets = torch.arange(size, device=x.device)
    ys = (rows * stride - pad)[:, None] + offsets
    xs = (cols * stride - pad)[:, None] + offsets
    inside = ((ys >= 0) & (ys < x.shape[2]))[:, :, None] & ((xs >= 0) & (xs < x.shape[3]))[:, None]
    ys, xs = ys.clamp(0, x.shape[2] - 1), xs.clamp(0, x.shape[3] - 1)
    patches = x[batch[:, None, None], :, ys[:, :, None], xs[:, None, :]]  # (P, size, size, C)
    return (patches * inside[..., None]).permute(0, 3, 1, 2)  # channels-last memory


def _interpolate_windows(coarse, locations, half_size, size: int, pad: int) -> torch.Tensor:
    """What F.interpolate(coarse, half_size, bilinear) padded by `pad` holds in each patch's
    size x size window at half resolution, computed from a small coarse window per patch."""
    batch, rows, cols = locations
    weights_y, start_y = _bilinear_weights(rows * 2 - pad, size, half_size[0], coarse.shape[2])
    weights_x, start_x = _bilinear_weights(cols * 2 - pad, size, half_size[1], coarse.shape[3])
    span = weights_y.shape[2]
    offsets = torch.arange(span, device=coarse.device)
    ys = (start_y[:, None] + offsets)[:, :, None]
    xs = (start_x[:, None] + offsets)[:, None, :]
    window = coarse[batch[:, None, None], :, ys, xs]  # (P, span, span, C)
    weights_y, weights_x = weights_y.to(coarse.dtype), weights_x.to(coarse.dtype)  # fp16/bf16
    # weights_y . window . weights_x^T as two batched matmuls in the window's own layout: about
    # twice as fast as the einsum of the same product, whose plan permutes (copies) the window
    rows = torch.matmul(weights_y, window.flatten(2)).unflatten(2, (span, -1))  # (P, size, span, C)
    half = torch.matmul(weights_x[:, None], rows)  # (P, size, size, C)
    return half.permute(0, 3, 1, 2)  # channels-last memory, like the refiner's weights


def _bilinear_weights(first, size: int, out_size: int, in_size: int):
    """Per patch, the (P, size, span) matrix mapping `span` input samples starting at the
    returned (P,) start index to output samples first .. first + size - 1 of a bilinear
    resize from in_size to out_size (align_corners=False); rows outside the output are zero."""
    scale = in_size / out_size
    span = min(in_size, math.ceil((size - 1) * scale) + 2)
    dst = first[:, None] + torch.arange(size, device=first.device)
    real = ((dst + 0.5) * scale - 0.5).clamp(min=0)
    low = real.floor().long().clamp(max=in_size - 1)
    lam = (real - low).clamp(0, 1)
    high = (low + 1).clamp(max=in_size - 1)
    start = low[:, 0].clamp(max=in_size - span)
    inside = ((dst >= 0) & (dst < out_size)).to(real.dtype)
    weights = torch.zeros(*dst.shape, span, device=first.device, dtype=real.dtype)
    weights.scatter_add_(
        2, (low - start[:, None]).clamp(0, span - 1)[..., None], ((1 - lam) * inside)[..., None]
    )
    weights.scatter_add_(
        2, (high - start[:, None]).clamp(0, span - 1)[..., None], (lam * inside)[..., None]
    )
    return weights, start
