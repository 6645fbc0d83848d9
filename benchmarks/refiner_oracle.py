"""The refiner alone, with true coarse inputs (bgmcli/train/refiner_oracle.py): trains a fresh
refiner on crops of synthetic samples and scores it inside its patches against bilinear
upsampling of the same coarse alpha. The issue's bar: MAD and Grad at most 0.6x bilinear.

    python benchmarks/refiner_oracle.py [--steps 500] [--batch 2] [--k 300] [--crop 256]
        [--size 1080] [--residual] [--all-patches-bn] [--threads 1] [--json out.json]

Samples are drawn once into a pool (the generator is slower than the refiner) and cropped at
random each step; the held-out samples are drawn like training (augmented, random crops) from
another seed.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from bgmcli.data import SampleRecipe, build_dataset
from bgmcli.model.refiner import Refiner
from bgmcli.train.batches import crop_with
from bgmcli.train.refiner_oracle import oracle_scores, train_oracle


def pool(size: int, count: int, seed: int, args) -> list[dict]:
    data = build_dataset(
        "synthetic", size=(size, size), length=count, seed=seed, augment=True,
        recipe=SampleRecipe(shapes=args.shapes, misalign=args.misalign,
                            misalign_share=args.misalign_share),
    )  # fmt: skip
    return [data[i] for i in range(count)]


def batches(samples: list[dict], steps: int, batch: int, crop: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        picks = torch.randint(len(samples), (batch,), generator=gen).tolist()
        stacked = {k: torch.stack([samples[i][k] for i in picks]) for k in samples[0]}
        yield crop_with(stacked, crop, gen)


def held_out(samples: list[dict], crop: int) -> list[dict]:
    gen = torch.Generator().manual_seed(12345)
    return [crop_with(sample, crop, gen) for sample in samples]


class AllPatchesBatchNorm(Refiner):
    """The old behaviour for comparison: BatchNorm statistics over every selected patch,
    the discarded (error 0) ones included."""

    def forward_patches(self, src_bgr, coarse, selection):
        mode, self.training = self.training, False  # its BatchNorms stay in training mode
        try:
            return super().forward_patches(src_bgr, coarse, selection)
        finally:
            self.training = mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--k", type=int, default=300, help="patches per sample")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--size", type=int, default=1080, help="samples drawn at this size")
    parser.add_argument("--scale", type=float, default=0.25, help="the coarse grid's scale")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--residual", action="store_true")
    parser.add_argument("--all-patches-bn", action="store_true")
    parser.add_argument("--pool", type=int, default=48)
    parser.add_argument("--eval", type=int, default=16)
    parser.add_argument("--shapes", default="mixed")
    parser.add_argument("--misalign", type=float, default=1.0)
    parser.add_argument("--misalign-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    train_pool = pool(args.size, args.pool, args.seed, args)
    val = held_out(pool(args.size, args.eval, args.seed + 1_000_003, args), args.crop)
    drawn = time.perf_counter() - started
    refiner = (AllPatchesBatchNorm if args.all_patches_bn else Refiner)(3, args.residual)
    before = oracle_scores(refiner, val, args.scale, args.k)
    losses = train_oracle(
        refiner, batches(train_pool, args.steps, args.batch, args.crop, args.seed),
        args.scale, args.k, args.lr,
    )  # fmt: skip
    after = oracle_scores(refiner, val, args.scale, args.k)
    result = {
        "args": vars(args), "untrained": before, "trained": after,
        "loss_first_last_50": [sum(losses[:50]) / 50, sum(losses[-50:]) / 50],
        "seconds": {"data": round(drawn, 1), "total": round(time.perf_counter() - started, 1)},
    }  # fmt: skip
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
