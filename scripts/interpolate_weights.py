"""Interpolate the base networks of two checkpoints of one architecture (weight-space ensembling,
as in WiSE-FT, Wortsman et al., CVPR 2022): (1 - t) * A + t * B for every floating-point tensor of
the encoder, ASPP and decoder (BatchNorm statistics included); the refiner is taken whole from
one of them. B should be a fine-tuned descendant of A, so that both lie in one basin.

    python scripts/interpolate_weights.py A.pt B.pt --t 0.1 --refiner a -o soup.pt

The output keeps B's checkpoint fields (format, config, meta) and records the recipe in
meta["interpolation"]; `bgm info` and `load_model` read it like any checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from bgmcli.atomic import atomic_write
from bgmcli.errors import BgmError
from bgmcli.model.checkpoint import read_checkpoint


def interpolate(a: dict, b: dict, t: float, refiner: str) -> dict:
    """The checkpoint dict: B's fields, base-network tensors mixed, the refiner of `refiner`."""
    if set(a["model"]) != set(b["model"]):
        raise SystemExit("the two checkpoints hold different architectures")
    mixed = {}
    for key, tensor_b in b["model"].items():
        tensor_a = a["model"][key]
        if key.startswith("refiner."):
            mixed[key] = (a if refiner == "a" else b)["model"][key]
        elif tensor_b.is_floating_point():
            mixed[key] = (1 - t) * tensor_a + t * tensor_b
        else:  # counters such as num_batches_tracked
            mixed[key] = tensor_b
    meta = dict(b.get("meta") or {})
    meta["interpolation"] = {"t": t, "refiner": refiner}
    return {**b, "model": mixed, "meta": meta}


def _read(path: Path) -> dict:
    """A checkpoint of ours, through the project's safe loader (one-line errors)."""
    try:
        data = read_checkpoint(path)
    except BgmError as exc:
        raise SystemExit(str(exc)) from None
    if not isinstance(data.get("model"), dict):
        raise SystemExit(f"{path} is not a bgm checkpoint (no 'model' weights)")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--t", type=float, required=True, help="0: A's base network, 1: B's")
    parser.add_argument("--refiner", choices=("a", "b"), default="a")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()
    if not 0 <= args.t <= 1:
        raise SystemExit(f"--t must be between 0 and 1, got {args.t}")
    a, b = _read(args.a), _read(args.b)
    soup = interpolate(a, b, args.t, args.refiner)
    atomic_write(args.out, lambda tmp: torch.save(soup, tmp))
    print(f"{args.out}: base network {1 - args.t:g} x {args.a} + {args.t:g} x {args.b}, "
          f"refiner of {args.a if args.refiner == 'a' else args.b}")  # fmt: skip


if __name__ == "__main__":
    main()
