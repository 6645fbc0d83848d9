"""Where a set's remaining error lies: in the pixels the refiner re-computed or in those it left
to the upsampled coarse output, by true alpha; and the coarse output against the ideal coarse
output (the truth shrunk to the base grid by area, upsampled). Tells "the refiner reaches too
few pixels" (raise k), "the refiner gains little where it works" (its training) and "the coarse
output is far from what its grid allows" (the base network) apart.

    python benchmarks/refiner_reach.py [--checkpoint PATH] [--k 5000] [--align auto|off]
        [--data ../shared/eval/alphamatting-lowres]

Plates are registered as `bgm matte --align auto` does (eval_bundled_model.py); metrics inside
the trimap's unknown region where the set has trimaps. MAD x1e3 pooled over the counted pixels
(eval_bundled_model averages per frame, so its figures differ).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from coarse_gap import REGIONS, regions
from eval_bundled_model import SHARED_REAL, aligned_set

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import variant_settings
from bgmcli.loading import load_model
from bgmcli.train.losses import shrink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("--data", default=str(SHARED_REAL))
    parser.add_argument("--k", type=int, default=5000, help="refined patches at HD")
    parser.add_argument("--align", default="auto", choices=("auto", "off"))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint, refine="error", k=args.k, device=torch.device("cpu"))
    data = open_eval_set(args.data, 1920, 1080, None)
    data = aligned_set(data, "auto") if args.align == "auto" else data
    sums: dict[str, float] = {}
    counted = 0
    for frame in data:
        with torch.inference_mode():
            out = model(frame["src"][None], frame["bgr"][None], variant_settings(model, args.k))
        true = frame["true_pha"][0].numpy()
        mask = frame["mask"] if frame["mask"] is not None else np.ones(true.shape, bool)
        counted += int(mask.sum())
        for name, value in split(out, frame["true_pha"], mask).items():
            sums[name] = sums.get(name, 0.0) + value
    print(f"{data.name}: {len(data)} frames, k {args.k} at HD; MAD x1e3 over the counted pixels")
    print("| true alpha | pixels | share | coarse upsampled | refined | gain |")
    print("|---|---|---|---|---|---|")
    for name in REGIONS:
        for where in ("refined", "left"):
            key = f"{name} {where}"
            coarse, final = sums[f"{key} coarse"] / counted, sums[f"{key} final"] / counted
            gain = 1 - final / coarse if coarse else 0.0
            print(f"| {name} | {where} | {sums[f'{key} pixels'] / counted:.1%} | "
                  f"{coarse * 1e3:.2f} | {final * 1e3:.2f} | {gain:.0%} |")  # fmt: skip
    print("| true alpha | coarse upsampled | ideal coarse | coarse / ideal |")
    print("|---|---|---|---|")
    for name in REGIONS:
        coarse = sum(sums[f"{name} {where} coarse"] for where in ("refined", "left")) / counted
        ideal = sums[f"{name} ideal"] / counted
        print(f"| {name} | {coarse * 1e3:.2f} | {ideal * 1e3:.2f} | {coarse / ideal:.2f} |")
    print(
        f"all pixels: coarse {sums['coarse'] / counted * 1e3:.2f}, refined "
        f"{sums['final'] / counted * 1e3:.2f}, ideal coarse {sums['ideal'] / counted * 1e3:.2f}"
    )


def split(out, true_pha: torch.Tensor, mask: np.ndarray) -> dict[str, float]:
    """Absolute-error sums of one frame by true-alpha region x refined-or-left, and in all."""
    size = out.pha.shape[2:]
    final = out.pha[0, 0].numpy()
    coarse = F.interpolate(out.pha_sm, size, mode="bilinear", align_corners=False)[0, 0].numpy()
    ideal_small = shrink(true_pha[None], out.pha_sm.shape[2:])
    ideal = F.interpolate(ideal_small, size, mode="bilinear", align_corners=False)[0, 0].numpy()
    refined = F.interpolate(out.ref_sm.float(), size, mode="nearest")[0, 0].numpy() > 0
    true = true_pha[0].numpy()
    sums = {
        "coarse": np.abs(coarse - true)[mask].sum(),
        "final": np.abs(final - true)[mask].sum(),
        "ideal": np.abs(ideal - true)[mask].sum(),
    }
    for name, region in regions(true).items():
        sums[f"{name} ideal"] = np.abs(ideal - true)[mask & region].sum()
        for where, place in (("refined", refined), ("left", ~refined)):
            sel = mask & region & place
            sums[f"{name} {where} pixels"] = sel.sum()
            sums[f"{name} {where} coarse"] = np.abs(coarse - true)[sel].sum()
            sums[f"{name} {where} final"] = np.abs(final - true)[sel].sum()
    return {name: float(value) for name, value in sums.items()}


if __name__ == "__main__":
    main()
