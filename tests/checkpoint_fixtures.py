"""Helpers for the checkpoint, info and export tests: lively random models in our format and
the official one."""

from __future__ import annotations

from pathlib import Path

import torch

from bgmcli.model.config import ModelConfig
from bgmcli.model.matting import MattingModel


def lively_model(seed: int = 0, **config) -> MattingModel:
    """A random model whose coarse alpha and error sit mid-range (not clamped to 0 or 1), so
    every refine mode selects, refines and pastes something, with distinct error values."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MattingModel(ModelConfig(**config)).eval()
    with torch.no_grad():
        model.decoder.conv4.bias[:5] = 0.5  # alpha, foreground residual, error
    return model


def save_official_style(path: Path, model: MattingModel) -> Path:
    """A bare state dict, as the official BackgroundMattingV2 .pth files are."""
    torch.save(model.state_dict(), path)
    return path
