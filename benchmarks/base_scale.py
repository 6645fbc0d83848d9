"""The base network's input scale against the frame size: the frame-size rule of
`bgmcli.model.settings` (what `bgm matte`, `bench`, evaluation and `load_model` use) beside
fixed scales and other candidate rules, on synthetic frames at several sizes and on the real-alpha
composites (~800 px photographs; metrics inside the trimap's unknown region).

    OMP_NUM_THREADS=1 python benchmarks/base_scale.py [--checkpoint PATH] [--frames 8]
        [--frames-4k 4] [--sizes 640x360,800x450,960x540,...,3840x2160]
        [--scales 1/8,1/4,1/2] [--real ../shared/eval/alphamatting-lowres] [--json out.json]

The model runs as `load_model` gives it (refine `error`), with k 5000 at HD scaled with the
frame's area (`evaluate`). Each set is evaluated at every fixed scale, at every scale a
candidate rule picks there, and with the library's rule (backbone_scale None); the `chosen by`
column names the candidates that pick a row's scale for every frame of the set.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import torch

from bgmcli.ablate.evalsets import open_eval_set
from bgmcli.ablate.evaluate import evaluate
from bgmcli.loading import load_model
from bgmcli.model.frame_size import base_scale

SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "alphamatting-lowres"
DEFAULT_SIZES = "640x360,800x450,960x540,1280x720,1600x900,1920x1080,2560x1440,3840x2160"
K_HD = 5000


def _step(w: int, h: int) -> float:
    return 0.25 if max(w, h) <= 2048 else 0.125


# Candidate rules, by name. "rule" is the library's (bgmcli.model.frame_size.base_scale), so
# a change there shows up here without editing this script.
CANDIDATES: dict[str, Callable[[int, int], float]] = {
    "rule": base_scale,
    "step 1/4 to 2K, 1/8 above": _step,
    "480/long": lambda w, h: min(0.5, 480 / max(w, h)),
    "512/long": lambda w, h: min(0.5, 512 / max(w, h)),
    "320/long": lambda w, h: min(0.5, 320 / max(w, h)),  # not the paper's at HD and 4K
    "area 480x270": lambda w, h: min(0.5, math.sqrt(480 * 270 / (w * h))),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("--frames", type=int, default=8, help="synthetic frames per size")
    parser.add_argument("--frames-4k", type=int, default=4, help="synthetic frames at >= 4K")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="WxH,... of synthetic sets")
    parser.add_argument("--scales", default="1/8,1/4,1/2", help="fixed scales to compare")
    parser.add_argument("--real", default=str(SHARED_REAL), help="alphamatting-layout folder "
                        "('' to skip)")  # fmt: skip
    parser.add_argument("--real-frames", type=int, default=None, help="default: all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    device = torch.device("cpu")
    model = load_model(args.checkpoint, refine="error", device=device)
    fixed = [float(Fraction(s)) for s in args.scales.split(",") if s.strip()]
    sets = []
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.lower().split("x"))
        frames = args.frames_4k if w * h >= 3840 * 2160 else args.frames
        sets.append(open_eval_set("synthetic", w, h, frames))
    if args.real and Path(args.real).is_dir():
        sets.append(open_eval_set(args.real, 0, 0, args.real_frames))
    elif args.real:
        print(f"no real set at {args.real}: synthetic only")
    results = []
    for data in sets:
        set_started = time.perf_counter()
        sizes = [tuple(frame["src"].shape[-1:-3:-1]) for frame in data]  # (w, h) per frame
        picks = {name: {rule(w, h) for w, h in sizes} for name, rule in CANDIDATES.items()}
        scales = sorted(set(fixed) | {s for p in picks.values() if len(p) == 1 for s in p})
        rows = []
        for scale in scales:
            row = evaluate(model, data, K_HD, device, iters=1, backbone_scale=scale)
            chosen = [name for name, p in picks.items() if p == {scale}]
            rows.append({"scale": scale, "chosen_by": chosen, **row})
        if len(picks["rule"]) > 1:  # the rule varies over the set's frames: run it as such
            row = evaluate(model, data, K_HD, device, iters=1, backbone_scale=None)
            rows.append({"scale": None, "chosen_by": ["rule"], **row})
        result = {"set": data.name, "description": data.description, "frames": len(data),
                  "sizes": sorted(set(sizes)), "rows": rows,
                  "seconds": time.perf_counter() - set_started}  # fmt: skip
        results.append(result)
        print_table(result)
    print_summary(results)
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s, {args.threads} thread(s)")
    if args.json:
        out = {"checkpoint": args.checkpoint, "results": results, "seconds": total}
        args.json.write_text(json.dumps(out, indent=1))


def print_summary(results: list[dict]) -> None:
    """Per set: MAD of each candidate rule (where it picks one scale for the whole set) against
    the best row's, as a ratio (1.00: the candidate picks the best scale measured)."""
    names = list(CANDIDATES)
    print("\n### Summary\n\nMAD x1e3 of each rule's choice (/ the best measured; - : the "
          "rule's scale varies over the set's frames)\n")  # fmt: skip
    print("| set | best scale | best MAD | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for result in results:
        best = min(result["rows"], key=lambda r: r["mad"])
        cells = []
        for name in names:
            rows = [r for r in result["rows"] if name in r["chosen_by"]]
            cells.append(f"{rows[0]['mad'] * 1e3:.1f} ({rows[0]['mad'] / best['mad']:.2f})"
                         if rows else "-")  # fmt: skip
        scale = "per frame" if best["scale"] is None else _fraction(best["scale"])
        print(
            f"| {result['set']} | {scale} | {best['mad'] * 1e3:.2f} | " + " | ".join(cells) + " |"
        )


def print_table(result: dict) -> None:
    sizes = result["sizes"]
    where = f"{sizes[0][0]}x{sizes[0][1]}" if len(sizes) == 1 else f"{len(sizes)} sizes"
    print(f"\n### {result['set']}\n\n{result['description']}; {result['frames']} frames, "
          f"{where}, {result['seconds']:.0f} s\n")  # fmt: skip
    print("| scale | base input | MAD x1e3 | MSE x1e3 | SAD /1e3 | Grad /1e3 | Conn /1e3 "
          "| fgr L1 x1e3 | FPS | chosen by |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    best = min(r["mad"] for r in result["rows"])
    for r in result["rows"]:
        scale = "per frame" if r["scale"] is None else _fraction(r["scale"])
        base = "varies" if r["scale"] is None or len(sizes) > 1 else _base(sizes[0], r["scale"])
        cells = [r["mad"] * 1e3, r["mse"] * 1e3, r["sad"], r["grad"], r["conn"], r["fgr_l1"] * 1e3]
        text = [f"{c:.2f}" for c in cells]
        if r["mad"] == best:
            text[0] = f"**{text[0]}**"
        print(f"| {scale} | {base} | " + " | ".join(text)
              + f" | {r['fps']:.2f} | {', '.join(r['chosen_by'])} |")  # fmt: skip


def _fraction(scale: float) -> str:
    f = Fraction(scale).limit_denominator(64)
    return f"{f.numerator}/{f.denominator}" if float(f) == scale else f"{scale:.4g}"


def _base(size: tuple[int, int], scale: float) -> str:
    # the model pads to a multiple of 4, then floor(side * scale) (bgmcli.model.matting)
    w, h = (-(-side // 4) * 4 for side in size)
    return f"{math.floor(w * scale)}x{math.floor(h * scale)}"


if __name__ == "__main__":
    main()
