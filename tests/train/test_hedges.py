"""Hedged interiors for stage refine: lowered only where the coarse alpha is solid, marked in the
error map, and only in the share of samples asked for."""

from __future__ import annotations

import torch

from bgmcli.model.matting import BaseOutput
from bgmcli.train.hedges import hedge


def _base(batch: int = 8) -> BaseOutput:
    pha = torch.zeros(batch, 1, 16, 16)
    pha[..., 4:12, 4:12] = 1.0  # a solid square on an empty background
    return BaseOutput(pha, torch.zeros(batch, 3, 16, 16), torch.zeros(batch, 1, 16, 16),
                      torch.zeros(batch, 8, 16, 16))  # fmt: skip


def test_hedges_lower_solid_interiors_only_and_mark_them_in_the_error_map():
    base = _base()
    out = hedge(base, share=1.0, generator=torch.Generator().manual_seed(0))
    inside, outside = (slice(None), 0, slice(4, 12), slice(4, 12)), base.pha_sm[:, 0] == 0
    assert (out.pha_sm[inside] < 1).any() and (out.pha_sm[inside] >= 1 - 0.4 - 1e-6).all()
    assert torch.equal(out.pha_sm[:, 0][outside], base.pha_sm[:, 0][outside])
    assert torch.allclose(out.err_sm, base.pha_sm - out.pha_sm)


def test_share_zero_leaves_the_coarse_output_as_it_is():
    base = _base()
    out = hedge(base, share=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out.pha_sm, base.pha_sm) and torch.equal(out.err_sm, base.err_sm)
