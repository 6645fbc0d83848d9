"""A training probe's quick figures: the base network alone (refine none), which is what a
stage-base probe changes, on the three sets the bundled model is held to.

    python benchmarks/probe_eval.py CHECKPOINT [CHECKPOINT ...] [--synthetic-frames 8]

Per checkpoint: people holes and leak (hand-held plates, HD; and with the plates in register,
as the aligner leaves them), synthetic HD MAD x1e3, real
composites MAD x1e3 (alphamatting.com, trimap band, base scale by the frame-size rule).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import evaluate
from bgmcli.loading import load_model

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="paths, or 'bundled'")
    parser.add_argument("--synthetic-frames", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--in-register", action="store_true",
                        help="synthetic and real plates in register too (as an aligner leaves "
                        "them), not misaligned")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cpu = torch.device("cpu")
    misalign = 0.0 if args.in_register else 1.0
    sets = {
        "people": open_eval_set(str(SHARED / "pretrained"), 1920, 1080, None),
        # as the plate aligner leaves a hand-held plate: in register
        "people, exact plates": open_eval_set(str(SHARED / "pretrained"), 1920, 1080, None, 0.0),
        "synthetic-hd": open_eval_set("synthetic", 1920, 1080, args.synthetic_frames, misalign),
        "real": open_eval_set(
            str(SHARED / "eval" / "alphamatting-lowres"), 1920, 1080, None, misalign
        ),
    }
    rows = {}
    for path in args.checkpoints:
        began = time.perf_counter()
        model = load_model(None if path == "bundled" else path, refine="none", device=cpu)
        people = evaluate(model, sets["people"], 5000, cpu, iters=1)
        exact = evaluate(model, sets["people, exact plates"], 5000, cpu, iters=1)
        row = {
            "holes": people["holes"],
            "leak": people["leak"],
            "holes_exact": exact["holes"],
            "leak_exact": exact["leak"],
            "synthetic_mad": evaluate(model, sets["synthetic-hd"], 5000, cpu, iters=1)["mad"],
            "real_mad": evaluate(model, sets["real"], 5000, cpu, iters=1)["mad"],
        }
        rows[path] = row
        print(f"{path}: holes {row['holes']:.2%}, leak {row['leak']:.2%} (exact plates: "
              f"{row['holes_exact']:.2%}, {row['leak_exact']:.2%}), synthetic HD MAD "
              f"{row['synthetic_mad'] * 1e3:.2f}, real MAD {row['real_mad'] * 1e3:.2f} "
              f"({time.perf_counter() - began:.0f} s)", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
