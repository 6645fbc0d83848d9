"""Synthetic but realistic benchmark material: frames (a smooth background plate and a soft-edged
foreground blob composited over it, so the error map has edges to find) and random networks
calibrated on them so that activations, alpha and error maps look like a trained model's."""

from __future__ import annotations

import math

import torch

from bgmcli.loading import build_model
from bgmcli.model.calibration import calibrate_random_weights
from bgmcli.model.config import ModelConfig
from bgmcli.model.matting import MattingModel
from bgmcli.model.settings import InferenceSettings

CALIBRATION_MAX = (960, 540)  # the calibration frame: the benchmark's shrunk to fit this
MIN_SIDE = 32
CPU = torch.device("cpu")


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


def calibrated_random_model(
    config: ModelConfig, settings: InferenceSettings, width: int, height: int, device
) -> MattingModel:
    """The training-form network with seeded random weights (the same for every run), calibrated
    in fp32 on `device` on a frame like the benchmark's: BatchNorm statistics and output heads
    (bgmcli.model.calibration); it runs with `settings`."""
    torch.manual_seed(0)
    model = build_model(config).to(device)
    model.settings = settings
    frames = synthetic_pair(*calibration_size(width, height), 1, device, torch.float32)
    calibrate_random_weights(model, *frames)
    return model.eval()


def calibration_size(width: int, height: int) -> tuple[int, int]:
    """The frame shrunk to fit CALIBRATION_MAX, sides multiples of 4 (for the reference too)."""
    scale = min(1.0, CALIBRATION_MAX[0] / width, CALIBRATION_MAX[1] / height)
    return tuple(max(MIN_SIDE, round(side * scale) // 4 * 4) for side in (width, height))
