"""A tiny stand-in for bgmcli.data.build_dataset (same contract) and helpers for training tests."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from bgmcli.errors import BgmError


class TinyMatting(Dataset):
    """A soft-edged ellipse of flat colour over a smooth background; the plate is the background
    with a little noise. Deterministic per (seed, index)."""

    def __init__(self, size, length, seed):
        self.size, self.length, self.seed = size, length, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed * 100_003 + index)
        h, w = self.size
        bgr = F.interpolate(torch.rand(1, 3, 4, 4, generator=gen), (h, w), mode="bilinear")[0]
        cy, cx, ry, rx = torch.rand(4, generator=gen) * torch.tensor([0.4, 0.4, 0.2, 0.2]) + 0.3
        yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
        d = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        pha = ((1 - d) * 4).clamp(0, 1).unsqueeze(0)
        fgr = torch.rand(3, 1, 1, generator=gen).expand(3, h, w).clone()
        src = fgr * pha + bgr * (1 - pha)
        plate = (bgr + 0.01 * torch.randn(bgr.shape, generator=gen)).clamp(0, 1)
        return {"src": src, "bgr": plate, "true_pha": pha, "true_fgr": fgr}


def tiny_dataset(kind="synthetic", *, size, length, seed, root=None, backgrounds=None,
                 augment=True, **_):  # fmt: skip
    if kind != "synthetic":
        raise BgmError(f"{root}: not a dataset folder (stand-in)")
    assert not math.isnan(seed)
    return TinyMatting(size, length, seed)


def dataset_fn():
    """The real generator once bgmcli.data has landed, the stand-in until then."""
    try:
        from bgmcli.data import build_dataset
    except ImportError:
        return tiny_dataset
    return build_dataset


def use_dataset_fn_in_cli(monkeypatch=None) -> None:
    """Make `bgm train` use dataset_fn() (the stand-in until bgmcli.data lands)."""
    import bgmcli.train.loop as loop

    if monkeypatch is None:
        loop.default_dataset_fn = dataset_fn
    else:
        monkeypatch.setattr(loop, "default_dataset_fn", dataset_fn)


if __name__ == "__main__":  # `torchrun ... tests/train_fixtures.py train ...`: the CLI, in DDP
    import sys

    from bgmcli.cli import app

    use_dataset_fn_in_cli()
    app(args=sys.argv[1:])
