"""Where to refine: strategies that pick quarter-resolution locations from the error map.

`SELECTORS` is the one list of refine modes (`--refine`), each with its traits; `full` and `none`
select nothing (every location, no location) and so have no function. Each selector maps `err`
(B, 1, Hq, Wq) to a `Selection`: flat location indices (B, K) and a validity mask (B, K). K
depends only on the shape and k (static shapes for CUDA graphs and `torch.compile`), except for
`threshold`, whose count depends on the data by definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from bgmcli.errors import BgmError


class Selection(NamedTuple):
    idx: torch.Tensor  # (B, K) long, flat index into the Hq * Wq quarter-resolution grid
    valid: torch.Tensor  # (B, K) bool; invalid entries are left unrefined

    def to_map(self, height: int, width: int) -> torch.Tensor:
        """The (B, 1, Hq, Wq) float map with 1 at refined locations, like the official `ref_sm`."""
        batch = self.idx.shape[0]
        ref = torch.zeros(batch, height * width, device=self.idx.device)
        ref.scatter_(1, self.idx, self.valid.to(ref.dtype))
        return ref.view(batch, 1, height, width)


def select_error(err: torch.Tensor, k: int, **_: object) -> Selection:
    """The paper: the k locations of highest predicted error (none where the error is 0)."""
    flat = err.flatten(1)
    k = min(k, flat.shape[1])
    top = flat.topk(k, dim=1, sorted=False)
    return Selection(top.indices, top.values > 0)


def select_random(err: torch.Tensor, k: int, *, seed: int = 0, **_: object) -> Selection:
    """k distinct locations drawn uniformly at random, reproducible under `seed`."""
    flat = err.flatten(1)
    k = min(k, flat.shape[1])
    generator = torch.Generator(device=err.device).manual_seed(seed)
    scores = torch.rand(flat.shape, generator=generator, device=err.device)
    idx = scores.topk(k, dim=1, sorted=False).indices
    return Selection(idx, torch.ones_like(idx, dtype=torch.bool))


def select_uniform(err: torch.Tensor, k: int, **_: object) -> Selection:
    """k locations on an evenly spaced grid over the frame, the same for every frame."""
    batch, _, height, width = err.shape
    idx = uniform_grid(height, width, k, err.device)
    idx = idx.unsqueeze(0).expand(batch, -1)
    return Selection(idx, torch.ones_like(idx, dtype=torch.bool))


def uniform_grid(height: int, width: int, k: int, device: torch.device) -> torch.Tensor:
    """Flat indices of min(k, H*W) cell centres of a rows x cols grid shaped like the frame."""
    total = height * width
    if k >= total:
        return torch.arange(total, device=device)
    rows = min(height, max(1, math.ceil(math.sqrt(k * height / width))))
    cols = min(width, math.ceil(k / rows))
    rows = math.ceil(k / cols)  # cols may have been clipped to the width
    ys = ((torch.arange(rows, device=device) + 0.5) * height / rows).long()
    xs = ((torch.arange(cols, device=device) + 0.5) * width / cols).long()
    grid = (ys[:, None] * width + xs[None, :]).flatten()
    # rows * cols >= k: drop the surplus (< cols points) evenly rather than from one edge.
    keep = (torch.arange(k, device=device) * grid.numel()) // k
    return grid[keep]


def select_threshold(
    err: torch.Tensor, k: int, *, threshold: float = 0.1, **_: object
) -> Selection:
    """Every location whose error exceeds `threshold` (a data-dependent count; `k` unused)."""
    flat = err.flatten(1)
    count = int((flat > threshold).sum(dim=1).max())
    top = flat.topk(count, dim=1, sorted=False)
    return Selection(top.indices, top.values > threshold)


@dataclass(frozen=True)
class Strategy:
    """A refine mode: its selection function (None for `full` and `none`) and its traits."""

    select: Callable[..., Selection] | None
    uses_k: bool  # the number of refined locations is k
    static: bool  # the selection's shape depends on the frame size and k only (CUDA graphs)
    data_free: bool = False  # the locations ignore the error values (baked in at export)
    refines: bool = True  # the refiner runs at all


SELECTORS: dict[str, Strategy] = {
    "error": Strategy(select_error, uses_k=True, static=True),
    "random": Strategy(select_random, uses_k=True, static=True, data_free=True),
    "uniform": Strategy(select_uniform, uses_k=True, static=True, data_free=True),
    "threshold": Strategy(select_threshold, uses_k=False, static=False),
    "full": Strategy(None, uses_k=False, static=True),
    "none": Strategy(None, uses_k=False, static=True, refines=False),
}


def get_strategy(name: str) -> Strategy:
    if name not in SELECTORS:
        raise BgmError(f"unknown refine mode {name!r}; known: {', '.join(SELECTORS)}")
    return SELECTORS[name]


def get_selector(name: str) -> Callable[..., Selection]:
    """The selection function of a mode that selects locations (not `full` or `none`)."""
    select = get_strategy(name).select
    if select is None:
        patchy = ", ".join(n for n, s in SELECTORS.items() if s.select is not None)
        raise BgmError(f"refine mode {name!r} selects no locations; those that do: {patchy}")
    return select
