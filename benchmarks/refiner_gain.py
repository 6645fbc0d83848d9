"""Where the refiner helps: a checkpoint's refined alpha (refine `error`) beside its coarse alpha
upsampled bilinearly (refine `none`), region by region, on an evaluation set.

    python benchmarks/refiner_gain.py --checkpoint PATH [--data synthetic|DIR] [--resolution hd]
        [--frames 16] [--k 5000] [--threads N]

Regions (per frame, from the refined 4x4 patches): `inside` (refined pixels at least 3 px from
an unrefined one), `edge` (within 3 px of the border between refined and unrefined pixels, on
either side: the Grad filter's reach), `rest` (everything else: what the refiner never touches)
and `all`. Grad sums over its region, so `rest` shows how much of a frame's Grad error the k
patches could not address at all; MAD is a mean (x1e3). Masks of real sets (trimap's unknown
region) are intersected with each region.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import variant_settings
from bgmcli.loading import load_model
from bgmcli.metrics import grad, mad
from bgmcli.model.frame_size import parse_resolution

REACH_PX = 3  # about the Grad filter's half width (Gaussian derivative, sigma 1.4)
REGIONS = ("inside", "edge", "rest", "all")


def regions(refined: np.ndarray, mask: np.ndarray | None) -> dict[str, np.ndarray]:
    inside = ndimage.binary_erosion(refined, iterations=REACH_PX)
    edge = ndimage.binary_dilation(refined, iterations=REACH_PX) & ~inside
    every = {
        "inside": inside,
        "edge": edge,
        "rest": ~(inside | edge),
        "all": np.ones_like(refined),
    }
    return {name: region if mask is None else region & mask for name, region in every.items()}


def frame_rows(refined_model, coarse_model, frame) -> dict[str, float]:
    src, bgr = frame["src"][None], frame["bgr"][None]
    with torch.inference_mode():
        out = refined_model(src, bgr)
        coarse = coarse_model(src, bgr).pha
    height, width = src.shape[-2:]
    refined = F.interpolate(out.ref_sm, scale_factor=4.0)[0, 0, :height, :width].numpy() > 0
    true = frame["true_pha"][0].numpy()
    mask = frame["mask"]
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    row = {}
    for name, region in regions(refined, mask).items():
        for label, pred in (("refined", out.pha), ("upsampled", coarse)):
            p = pred[0, 0].numpy()
            row[f"{name}/{label}/mad"] = mad(p, true, region) * 1e3
            row[f"{name}/{label}/grad"] = grad(p, true, region)
    row["refined_fraction"] = float(refined.mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("--data", default="synthetic", help="synthetic or an evaluation folder")
    parser.add_argument("--resolution", default="hd")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--k", type=int, default=5_000, help="refined patches at HD")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = parse_resolution(args.resolution)
    data = open_eval_set(args.data, width, height, args.frames)
    refined_model = load_model(args.checkpoint, refine="error", device="cpu")
    coarse_model = load_model(args.checkpoint, refine="none", device="cpu")
    for model in (refined_model, coarse_model):  # k given at HD, scaled with each frame's area
        model.settings = variant_settings(model, args.k)
    rows = []
    for frame in data:
        rows.append(frame_rows(refined_model, coarse_model, frame))
    mean = {key: float(np.nanmean([r[key] for r in rows])) for key in rows[0]}
    print(f"{data.description}: {len(rows)} frames, k {args.k} at HD, "
          f"{100 * mean['refined_fraction']:.1f}% of pixels refined")  # fmt: skip
    print("| region | MAD x1e3 refined | MAD x1e3 upsampled | Grad refined | Grad upsampled |")
    print("|---|---|---|---|---|")
    for name in REGIONS:
        cells = [mean[f"{name}/{label}/{metric}"] for metric in ("mad", "grad")
                 for label in ("refined", "upsampled")]  # fmt: skip
        print(f"| {name} | " + " | ".join(_cell(v) for v in cells) + " |")


def _cell(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


if __name__ == "__main__":
    main()
