"""Shared fixtures: realistic random inputs and BatchNorm-calibrated random models."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from bgmcli.model.calibration import calibrate_random_weights

__all__ = ["calibrate_random_weights", "make_frame_pair"]


def make_frame_pair(height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A textured background plate and a source with a flat-coloured 'subject' on it."""
    gen = torch.Generator().manual_seed(seed)
    bgr = torch.rand(1, 3, height, width, generator=gen)
    bgr = torch.nn.functional.avg_pool2d(bgr, 5, stride=1, padding=2)  # smoother, like a photo
    src = (bgr + 0.02 * torch.randn(bgr.shape, generator=gen)).clamp(0, 1)
    top, left = height // 4, width // 3
    src[:, :, top : height - top, left : width - left] = torch.rand(1, 3, 1, 1, generator=gen)
    return src, bgr


@pytest.fixture
def frame_pair():
    return make_frame_pair(128, 160)


@contextmanager
def single_thread():
    """One torch thread: the two cores are shared with other test processes and jobs, and tiny
    inputs run faster and steadier on one (no OpenMP spinning)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def one_thread():
    with single_thread():
        yield
