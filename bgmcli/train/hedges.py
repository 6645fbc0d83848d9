"""Hedged interiors for stage refine: the coarse alpha of some samples lowered in smooth blotches
where it is nearly opaque, and the error map raised there, so that the refiner is shown the
base network's hedges on people (alpha 0.6-0.9 inside a solid subject) and learns to undo them
from the full-resolution difference, instead of adding a residual to an interior that synthetic
samples always give it solid."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bgmcli.model.matting import BaseOutput

SOLID = 0.95  # coarse alpha above this is an interior a hedge can be put in
DEPTH = (0.1, 0.4)  # how far a blotch lowers alpha at its strongest


def hedge(base: BaseOutput, share: float, generator: torch.Generator | None = None) -> BaseOutput:
    """`base` with hedged blotches in `share` of the batch's samples (detached: the base network
    is frozen in stage refine, and its outputs are the refiner's inputs)."""
    pha, err = base.pha_sm.detach(), base.err_sm.detach()
    batch, _, height, width = pha.shape
    device = pha.device
    chosen = torch.rand(batch, 1, 1, 1, generator=generator).to(device) < share
    cells = torch.rand(batch, 1, 4, 4, generator=generator).to(device)
    blotches = F.interpolate(cells, (height, width), mode="bicubic", align_corners=False)
    depth = torch.empty(batch, 1, 1, 1).uniform_(*DEPTH, generator=generator).to(device)
    drop = (blotches.clamp(0, 1) * depth) * (pha > SOLID) * chosen
    hedged = pha * (1 - drop)
    return base._replace(pha_sm=hedged, err_sm=torch.maximum(err, pha - hedged))
