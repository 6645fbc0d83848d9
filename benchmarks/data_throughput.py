"""Samples per second of the synthetic generator on one thread, per shape set: training must never
wait for data (a base step of the `default` preset takes ~0.85 s on two threads for 4 samples).

    python benchmarks/data_throughput.py [--size 512] [--samples 64] [--misalign 1.9]
"""

from __future__ import annotations

import argparse
import time

import torch

from bgmcli.data import SampleRecipe, build_dataset
from bgmcli.data.synthetic import SHAPE_SETS, photo_pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="square sample side, pixels")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--misalign", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    photo_pool()  # loaded once per worker process: not part of the per-sample cost
    print("| shape set | size | samples | samples/s (1 thread) |\n|---|---|---|---|")
    for shape_set in SHAPE_SETS:
        recipe = SampleRecipe(shapes=shape_set, misalign=args.misalign)
        data = build_dataset("synthetic", size=(args.size, args.size), length=args.samples,
                             seed=0, recipe=recipe)  # fmt: skip
        started = time.perf_counter()
        for i in range(args.samples):
            data[i]
        rate = args.samples / (time.perf_counter() - started)
        print(f"| {shape_set} | {args.size} | {args.samples} | {rate:.1f} |")


if __name__ == "__main__":
    main()
