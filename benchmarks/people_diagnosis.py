"""Why people come out with holes: measurements that tell the causes apart, on the people set
(`bgmcli/ablate/people.py`) beside the held-out synthetic set.

    python benchmarks/people_diagnosis.py [--checkpoint PATH] [--people ../shared/pretrained]

1. Base scale: holes and leak with the base network at 1/8, 1/4 (the HD rule) and 1/2.
2. The plate: the same frames with an exact plate (no hand-held motion).
3. Plate difference: the hole rate of interior pixels binned by how much the frame differs from
   the plate there (|src - bgr|, mean of the channels, smoothed to the base grid), on people and
   on synthetic subjects. The same hole rate at the same difference says the model reads the
   difference alone; many more holes on people at a difference that synthetic subjects survive
   says their appearance (texture) misleads it.
4. Where in the interior (plates in register): the hole rate by depth (distance to the
   interior's edge, px) and by local texture (standard deviation of the frame's grey level in a
   33 px window): holes deep inside point to context the network lacks, holes in smooth areas to
   skin read as a veil.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import evaluate, variant_settings
from bgmcli.loading import load_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pretrained"
DIFF_BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 1.01)
DEPTH_BINS = (0, 20, 50, 100, 200, 10_000)
TEXTURE_BINS = (0.0, 0.01, 0.02, 0.04, 0.08, 1.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("--people", default=str(SHARED))
    parser.add_argument("--synthetic-frames", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cpu = torch.device("cpu")
    coarse = load_model(args.checkpoint, refine="none", device=cpu)
    people = open_eval_set(args.people, 1920, 1080, None)
    exact = open_eval_set(args.people, 1920, 1080, None, misalign=0.0)
    results: dict = {"scale": {}, "plate": {}, "difference": {}}
    for scale in (0.125, 0.25, 0.5):
        row = evaluate(coarse, people, 5000, cpu, iters=1, backbone_scale=scale)
        results["scale"][scale] = {"holes": row["holes"], "leak": row["leak"]}
        print(f"base scale {scale}: holes {row['holes']:.2%}, leak {row['leak']:.2%}", flush=True)
    row = evaluate(coarse, exact, 5000, cpu, iters=1)
    results["plate"]["exact"] = {"holes": row["holes"], "leak": row["leak"]}
    print(f"exact plate (1/4): holes {row['holes']:.2%}, leak {row['leak']:.2%}", flush=True)
    synthetic = open_eval_set("synthetic", 1920, 1080, args.synthetic_frames)
    for name, data in (("people", people), ("synthetic", synthetic)):
        rates = hole_rate_by_difference(coarse, data, cpu)
        results["difference"][name] = rates
        cells = ", ".join(f"{b}: {r:.1%} of {n}" for b, (r, n) in rates.items())
        print(f"{name}: hole rate by plate difference: {cells}", flush=True)
    for name, rates in hole_rate_by_place(coarse, exact, cpu).items():
        results[name] = rates
        cells = ", ".join(f"{b}: {r:.1%} of {n}" for b, (r, n) in rates.items())
        print(f"people, plates in register: hole rate by {name}: {cells}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def hole_rate_by_difference(model, data, device) -> dict[str, tuple[float, int]]:
    """Interior pixels binned by the plate difference: (share below alpha 0.9, pixel count)."""
    holes = np.zeros(len(DIFF_BINS) - 1)
    counts = np.zeros(len(DIFF_BINS) - 1)
    settings = variant_settings(model, 5000)
    for frame in data:
        with torch.inference_mode():
            out = model(frame["src"][None].to(device), frame["bgr"][None].to(device), settings)
        pha = out.pha[0, 0].float().cpu().numpy()
        interior = frame.get("interior")
        if interior is None:  # synthetic: certainly opaque where the truth is, eroded
            margin = max(1, round(24 * pha.shape[0] / 1080))
            solid = frame["true_pha"][0].numpy() >= 1.0
            interior = ndimage.binary_erosion(solid, iterations=margin)
        diff = (frame["src"] - frame["bgr"]).abs().mean(0).numpy()
        diff = ndimage.uniform_filter(diff, size=8)  # what the base grid (1/4) sees, about
        which = np.digitize(diff[interior], DIFF_BINS) - 1
        hole = pha[interior] < 0.9
        np.add.at(counts, which, 1)
        np.add.at(holes, which, hole)
    names = [f"{a:g}-{b:g}" for a, b in zip(DIFF_BINS[:-1], DIFF_BINS[1:], strict=True)]
    return {n: (float(h / c) if c else float("nan"), int(c))
            for n, h, c in zip(names, holes, counts, strict=True)}  # fmt: skip


def hole_rate_by_place(model, data, device) -> dict[str, dict[str, tuple[float, int]]]:
    """Interior pixels binned by depth and by local texture: (share below 0.9, pixel count)."""
    tallies = {"depth": (DEPTH_BINS, []), "texture": (TEXTURE_BINS, [])}
    settings = variant_settings(model, 5000)
    for frame in data:
        with torch.inference_mode():
            out = model(frame["src"][None].to(device), frame["bgr"][None].to(device), settings)
        interior = frame["interior"]
        hole = out.pha[0, 0].float().cpu().numpy()[interior] < 0.9
        grey = frame["src"].mean(0).numpy()
        mean = ndimage.uniform_filter(grey, 33)
        spread = np.sqrt(np.maximum(ndimage.uniform_filter(grey * grey, 33) - mean * mean, 0))
        tallies["depth"][1].append((ndimage.distance_transform_edt(interior)[interior], hole))
        tallies["texture"][1].append((spread[interior], hole))
    return {name: _binned(bins, pairs) for name, (bins, pairs) in tallies.items()}


def _binned(bins, pairs) -> dict[str, tuple[float, int]]:
    values = np.concatenate([v for v, _ in pairs])
    holes = np.concatenate([h for _, h in pairs])
    which = np.digitize(values, bins) - 1
    out = {}
    for i, (a, b) in enumerate(zip(bins[:-1], bins[1:], strict=True)):
        count = int((which == i).sum())
        out[f"{a:g}-{b:g}"] = (float(holes[which == i].mean()) if count else float("nan"), count)
    return out


if __name__ == "__main__":
    main()
