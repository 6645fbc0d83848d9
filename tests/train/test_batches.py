"""Each step's batch and crop come from generators keyed by (seed, stage, purpose, step)."""

from __future__ import annotations

import torch


def test_step_draws_differ_by_seed_stage_and_purpose():
    from bgmcli.train.batches import step_generator

    def draw(seed, stage, purpose):
        return torch.randint(10**6, (4,), generator=step_generator(seed, stage, 7, purpose))

    reference = draw(0, "base", 0)
    assert torch.equal(reference, draw(0, "base", 0))
    for other in (draw(1, "base", 0), draw(0, "refine", 0), draw(0, "base", 1)):
        assert not torch.equal(reference, other)
