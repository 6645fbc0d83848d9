"""The patch refiner: crops around selected locations, a small conv net, pastes 4x4 patches back.

This is the readable training/eager form. It follows the paper: features are upsampled to half
resolution and cropped there (8x8 with context for kernel 3), refined, upsampled 2x, joined with
full-resolution crops of src and bgr, and reduced to 4x4 patches of alpha + foreground residual.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bgmcli.model.selection import Selection

HIDDEN_CHANNELS = 32
WIDTHS = (24, 16, 12, 4)  # conv1..conv4 outputs; conv4 gives alpha + foreground residual


class Refiner(nn.Module):
    """`residual`: the network's output is added to the upsampled coarse output it replaces
    (ours), instead of replacing it outright (the paper's and the official checkpoints')."""

    def __init__(self, kernel_size: int = 3, residual: bool = False):
        super().__init__()
        self.kernel_size, self.residual = kernel_size, residual
        coarse = HIDDEN_CHANNELS + 1 + 3 + 6  # hidden, alpha, fgr residual, src + bgr
        self.conv1 = nn.Conv2d(coarse, WIDTHS[0], kernel_size, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTHS[0])
        self.conv2 = nn.Conv2d(WIDTHS[0], WIDTHS[1], kernel_size, bias=False)
        self.bn2 = nn.BatchNorm2d(WIDTHS[1])
        self.conv3 = nn.Conv2d(WIDTHS[1] + 6, WIDTHS[2], kernel_size, bias=False)
        self.bn3 = nn.BatchNorm2d(WIDTHS[2])
        self.conv4 = nn.Conv2d(WIDTHS[2], WIDTHS[3], kernel_size, bias=True)
        self.relu = nn.ReLU(inplace=True)

    @property
    def half_pad(self) -> int:
        """Context around a 2x2 half-res patch so the unpadded 3x3 convs end on its 4x4 patch."""
        return 3 if self.kernel_size == 3 else 0

    @property
    def full_pad(self) -> int:
        return 2 if self.kernel_size == 3 else 0

    def refine(self, half: torch.Tensor, full: torch.Tensor) -> torch.Tensor:
        """The network: half-resolution input (N, 42, h, w) + full-res src/bgr (N, 6, ...)."""
        x = self.relu(self.bn1(self.conv1(half)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = F.interpolate(x, size=full.shape[2:], mode="nearest")
        x = self.relu(self.bn3(self.conv3(torch.cat([x, full], dim=1))))
        return self.conv4(x)

    def forward_full(self, src_bgr: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """Refine every pixel with ordinary convolutions; returns (B, 4, H, W)."""
        height, width = src_bgr.shape[2:]
        half = F.pad(to_half_resolution(coarse, src_bgr), (self.half_pad,) * 4)
        full = F.pad(src_bgr, (self.full_pad,) * 4)
        out = self.refine(half, full)
        if self.residual:
            out = out + upsample_coarse(coarse, height, width)
        return out

    def forward_patches(
        self, src_bgr: torch.Tensor, coarse: torch.Tensor, selection: Selection
    ) -> torch.Tensor:
        """Refine the selected locations; returns the (B, 4, H, W) upsampled coarse output with
        the refined 4x4 patches pasted in."""
        height, width = src_bgr.shape[2:]
        locations = patch_locations(selection, width // 4)
        valid = selection.valid.flatten()
        if self.training:
            # Only the patches that get pasted: the discarded ones (no error there) would
            # otherwise weigh in the BatchNorm statistics the refiner learns from
            locations = tuple(t[valid] for t in locations)
            valid = valid[valid]
        half = crop_patches(to_half_resolution(coarse, src_bgr), locations, 2, self.half_pad)
        full = crop_patches(src_bgr, locations, size=4, pad=self.full_pad)
        patches = self.refine(half, full)
        out = upsample_coarse(coarse, height, width)
        return paste_patches(out, patches, locations, valid, self.residual)


def upsample_coarse(coarse: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The coarse alpha and foreground residual upsampled bilinearly: what `--refine none` gives
    and what the patches are pasted into."""
    return F.interpolate(
        coarse[:, HIDDEN_CHANNELS:], (height, width), mode="bilinear", align_corners=False
    )


def to_half_resolution(coarse: torch.Tensor, src_bgr: torch.Tensor) -> torch.Tensor:
    """The refiner's first input: coarse outputs and src/bgr, both resized to half resolution."""
    size = (src_bgr.shape[2] // 2, src_bgr.shape[3] // 2)
    coarse = F.interpolate(coarse, size, mode="bilinear", align_corners=False)
    src_bgr = F.interpolate(src_bgr, size, mode="bilinear", align_corners=False)
    return torch.cat([coarse, src_bgr], dim=1)


def patch_locations(selection: Selection, width_q: int) -> tuple[torch.Tensor, ...]:
    """(batch, row, col) of every selected quarter-resolution location, flattened over B x K."""
    batch_size, k = selection.idx.shape
    batch = torch.arange(batch_size, device=selection.idx.device).repeat_interleave(k)
    flat = selection.idx.flatten()
    return batch, flat // width_q, flat % width_q


def _window(locations: tuple[torch.Tensor, ...], size: int, extent: int):
    batch, rows, cols = locations
    offsets = torch.arange(extent, device=rows.device)
    ys = (rows * size)[:, None] + offsets
    xs = (cols * size)[:, None] + offsets
    return batch[:, None, None], ys[:, :, None], xs[:, None, :]


def crop_patches(x: torch.Tensor, locations, size: int, pad: int) -> torch.Tensor:
    """(P, C, size + 2 pad, ...) crops; location (r, c) covers rows r*size .. r*size+size-1,
    widened by `pad` on each side (zeros outside the frame)."""
    if pad:
        x = F.pad(x, (pad,) * 4)
    b, ys, xs = _window(locations, size, size + 2 * pad)
    return x[b, :, ys, xs].permute(0, 3, 1, 2).contiguous()


def paste_patches(
    out: torch.Tensor, patches: torch.Tensor, locations, valid: torch.Tensor, residual=False
):
    """Write 4x4 `patches` into `out` at `locations` (added to it if `residual`), keeping `out`
    where `valid` is False."""
    b, ys, xs = _window(locations, 4, 4)
    current = out[b, :, ys, xs]
    new = patches.permute(0, 2, 3, 1)
    if residual:
        new = new + current
    out[b, :, ys, xs] = torch.where(valid[:, None, None, None], new, current)
    return out
