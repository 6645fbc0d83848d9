"""Where a model's holes in people lie, plates in register (the people set of
`bgmcli/ablate/people.py`, base network alone): a picture of its holes against the tuned key's,
the share of its hole pixels that are the key's too, and the hole rate binned two ways, by the
frame-minus-plate difference at full resolution and as the base network sees it (frame and plate
shrunk to its grid first). Holes where the full-resolution difference is large but the shrunk one
small would be textures that average to the same colour on the base grid; holes where both are
moderate are a subject that matches its backdrop.

    python benchmarks/people_holes.py [--checkpoint PATH] [--picture holes.png]
        [--people ../shared/pretrained]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from people_diagnosis import SHARED
from PIL import Image
from scipy import ndimage

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import variant_settings
from bgmcli.loading import load_model
from bgmcli.model.difference_key import DifferenceKey, fit_thresholds

BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 1.01)
HOLE = 0.9  # interior alpha below this is a hole (eval_bundled_model's holes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("--people", default=str(SHARED))
    parser.add_argument("--picture", type=Path, default=None, help="PNG of the hole maps")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint, refine="none", device=torch.device("cpu"))
    data = open_eval_set(args.people, 1920, 1080, None, misalign=0.0)
    key = DifferenceKey(*fit_thresholds(data)).eval()
    holes = np.zeros((len(BINS) - 1,) * 2)
    counts = np.zeros_like(holes)
    shared = ours = interior_total = 0
    tiles = []
    for frame in data:
        interior = frame["interior"]
        mine, keys = (interior & (alpha(m, frame) < HOLE) for m in (model, key))
        shared, ours = shared + (mine & keys).sum(), ours + mine.sum()
        interior_total += interior.sum()
        full, coarse = differences(frame, model)
        i, j = (np.digitize(d[interior], BINS) - 1 for d in (full, coarse))
        np.add.at(counts, (i, j), 1)
        np.add.at(holes, (i, j), mine[interior])
        tiles.append(hole_tile(frame, interior, mine, keys))
    print(f"holes {ours / interior_total:.2%} of the interior; {shared / max(ours, 1):.1%} of "
          f"them are the key's holes too")  # fmt: skip
    print("hole rate (share of the interior) by full-resolution difference (rows, a 4 px mean) "
          "and the base grid's (columns)")  # fmt: skip
    names = [f"{a:g}-{b:g}" for a, b in zip(BINS[:-1], BINS[1:], strict=True)]
    print("| full \\ base grid | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for r, name in enumerate(names):
        cells = [f"{holes[r, c] / counts[r, c]:.0%} ({counts[r, c] / interior_total:.1%})"
                 if counts[r, c] else "-" for c in range(len(names))]  # fmt: skip
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.picture:
        rows = [np.concatenate(tiles[r : r + 4], 1) for r in range(0, len(tiles), 4)]
        Image.fromarray(np.concatenate(rows, 0)).save(args.picture)


def alpha(model, frame: dict) -> np.ndarray:
    with torch.inference_mode():
        out = model(frame["src"][None], frame["bgr"][None], variant_settings(model, 5000))
    return out.pha[0, 0].numpy()


def differences(frame: dict, model) -> tuple[np.ndarray, np.ndarray]:
    """|src - bgr| at full resolution (a 4 px mean) and on the base grid, brought to full size."""
    src, bgr = frame["src"], frame["bgr"]
    h, w = src.shape[-2:]
    full = ndimage.uniform_filter((src - bgr).abs().mean(0).numpy(), 4)
    scale = variant_settings(model, 5000).for_frame(w, h).backbone_scale
    small = [F.interpolate(x[None], scale_factor=scale, mode="bilinear", align_corners=False)
             for x in (src, bgr)]  # fmt: skip
    grid = (small[0] - small[1]).abs().mean(1, keepdim=True)
    coarse = F.interpolate(grid, (h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
    return full, coarse


def hole_tile(frame: dict, interior, mine, keys) -> np.ndarray:
    """The frame darkened, the interior lighter; holes red (model), blue (key), magenta (both)."""
    image = frame["src"].permute(1, 2, 0).numpy() * 0.6
    image[interior] += 0.15
    image[mine] = (1, 0, 0)
    image[keys & ~mine] = (0, 0.4, 1)
    image[mine & keys] = (1, 0, 1)
    tile = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    return np.asarray(tile.resize((480, 270), Image.Resampling.BILINEAR))


if __name__ == "__main__":
    main()
