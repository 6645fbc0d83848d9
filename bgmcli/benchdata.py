"""Synthetic but realistic benchmark material: a smooth background plate with a soft-edged
foreground blob composited over it, and BatchNorm calibration so random weights behave like
trained ones (normalised activations, an error map that is neither all zero nor all one)."""

from __future__ import annotations

import math

import torch
from torch import nn


def synthetic_pair(
    width: int, height: int, batch: int, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """(src, bgr), each (batch, 3, height, width) in [0, 1]: a head-and-shoulders blob with a
    wavy, soft edge (where the error map peaks) over a smooth plate. Deterministic."""
    y, x = torch.meshgrid(
        torch.linspace(0.0, 1.0, height, device=device),
        torch.linspace(0.0, 1.0, width, device=device),
        indexing="ij",
    )
    bgr = _plate(x, y)
    pha = _blob_alpha(x, y, width / height)
    fgr = torch.stack(
        [
            0.75 + 0.2 * torch.sin(2 * math.pi * 9 * x) * torch.cos(2 * math.pi * 7 * y),
            0.45 + 0.1 * torch.cos(2 * math.pi * 5 * (x + y)),
            0.35 + 0.15 * torch.sin(2 * math.pi * 13 * y),
        ]
    )
    # A real capture differs from its plate a little: exposure and sensor noise.
    generator = torch.Generator(device=device).manual_seed(0)
    noise = 0.01 * torch.randn(3, height, width, generator=generator, device=device)
    src = (pha * fgr + (1 - pha) * bgr * 1.02 + noise).clamp(0.0, 1.0)
    return _batched(src, batch, dtype), _batched(bgr, batch, dtype)


def _plate(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A smooth background: low-frequency colour gradients, like a lit wall."""
    tau = 2 * math.pi
    return torch.stack(
        [
            0.55 + 0.25 * torch.sin(tau * (0.8 * x + 0.3 * y)),
            0.50 + 0.20 * torch.cos(tau * (0.5 * x - 0.9 * y) + 1.0),
            0.45 + 0.20 * torch.sin(tau * 1.3 * y + 2.0 * x),
        ]
    ).clamp(0.0, 1.0)


def _blob_alpha(x: torch.Tensor, y: torch.Tensor, aspect: float) -> torch.Tensor:
    """Alpha of a head (circle with a hair-like wavy rim) on shoulders (ellipse), soft edges."""
    dx = (x - 0.5) * aspect
    head_dy = y - 0.38
    theta = torch.atan2(head_dy, dx)
    head = torch.sqrt(dx**2 + head_dy**2) / (0.16 * (1 + 0.06 * torch.sin(40 * theta)))
    body = torch.sqrt((dx / 0.32) ** 2 + ((y - 0.95) / 0.4) ** 2)
    distance = torch.minimum(head, body)  # < 1 inside
    return torch.sigmoid((1.0 - distance) / 0.02)


def _batched(frame: torch.Tensor, batch: int, dtype: torch.dtype) -> torch.Tensor:
    return frame.to(dtype).unsqueeze(0).repeat(batch, 1, 1, 1).contiguous()


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, src: torch.Tensor, bgr: torch.Tensor) -> nn.Module:
    """Set every BatchNorm's running statistics to those of one train-mode pass over (src, bgr)
    (a batch of at least 2, for the pooled ASPP branch), then return the model in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, exactly its statistics
    model.train()
    model(src, bgr)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    return model.eval()
