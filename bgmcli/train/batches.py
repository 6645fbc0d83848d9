"""Data for training: datasets from bgmcli.data, and batches that are a pure function of the step
(indices and crops drawn from generators seeded by (seed, stage, step)), so resume is exact."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from bgmcli.errors import BgmError

VAL_SEED_OFFSET = 1_000_003  # the held-out set never shares a seed with training data
STAGE_IDS = {"base": 1, "refine": 2}


def default_dataset_fn() -> Callable:
    try:
        from bgmcli.data import build_dataset  # guarded: a build without bgmcli.data
    except ImportError:
        raise BgmError("training data is not available in this version (bgmcli.data)") from None
    return build_dataset


def step_generator(seed: int, stage: str, step: int, purpose: int = 0) -> torch.Generator:
    # torch's CPU generator keeps only the low 32 bits of its seed (bit-packed keys gave every
    # seed, stage and purpose the same draws): SeedSequence mixes all four parts into them
    parts = [seed % 2**63, STAGE_IDS[stage], purpose, step]
    return torch.Generator().manual_seed(int(np.random.SeedSequence(parts).generate_state(1)[0]))


def step_indices(seed: int, stage: str, step: int, batch: int, length: int) -> list[int]:
    """The global batch of step `step`: sampled with replacement, the same on every rank."""
    gen = step_generator(seed, stage, step)
    return torch.randint(length, (batch,), generator=gen).tolist()


class StepBatches(Sampler):
    """Yields each step's share of indices for steps [start, stop) of a stage."""

    def __init__(self, *, seed, stage, start, stop, batch, length, shard: Callable):
        self.args = (seed, stage, batch, length)
        self.start, self.stop, self.shard = start, stop, shard

    def __iter__(self) -> Iterator[list[int]]:
        seed, stage, batch, length = self.args
        for step in range(self.start, self.stop):
            yield self.shard(step_indices(seed, stage, step, batch, length))

    def __len__(self) -> int:
        return self.stop - self.start


def random_crop(batch: dict, crop: int, seed: int, stage: str, step: int) -> dict:
    """One square crop per step, at the same place in every tensor of the batch."""
    if not crop:
        return batch
    return crop_with(batch, crop, step_generator(seed, stage, step, purpose=1))


def crop_with(batch: dict, crop: int, gen: torch.Generator) -> dict:
    """The square crop at a place drawn from `gen` (top, then left), in every tensor (batched
    (B, C, H, W) or one sample's (C, H, W): only the last two dimensions are cropped)."""
    height, width = batch["src"].shape[-2:]
    top = int(torch.randint(height - crop + 1, (1,), generator=gen))
    left = int(torch.randint(width - crop + 1, (1,), generator=gen))
    return {k: v[..., top : top + crop, left : left + crop] for k, v in batch.items()}


def one_line_worker_errors(batches: Iterable) -> Iterator:
    """The batches of a DataLoader, with an error raised in a worker process in one line: torch
    re-raises it wrapped ("Caught BgmError in DataLoader worker process 0. Original Traceback
    ..."), where the user needs only its last line."""
    iterator = iter(batches)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            text = str(exc).strip()
            if "DataLoader worker" not in text:
                raise
            last = text.splitlines()[-1] if "Original Traceback" in text else text
            if isinstance(exc, BgmError):  # the last line is "bgmcli.errors.BgmError: ..."
                raise BgmError(last.split(": ", 1)[-1]) from None
            raise BgmError(f"data loading failed in a worker process: {last}") from None
        yield batch
