"""How much of the reference's time its base network takes (downsampling, backbone, ASPP,
decoder), against its whole forward pass: the ceiling of any speed-up that keeps the base
network's arithmetic (and hence the selected patches) unchanged.

    python benchmarks/reference_base_share.py --case hd-resnet50 [--iters 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from bgmcli.model.frame_size import parse_resolution

sys.path.insert(0, str(Path(__file__).parent))
from compare_reference import CASES, frames  # noqa: E402
from reference_bench import build_reference  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="hd-resnet50")
    parser.add_argument("--iters", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    case = CASES[args.case]
    width, height = parse_resolution(case["resolution"])
    reference = build_reference(case["backbone"], case["scale"], case["k"], width, height).eval()
    src, bgr = frames(case)

    def base():
        small = [F.interpolate(x, scale_factor=case["scale"], mode="bilinear", align_corners=False,
                               recompute_scale_factor=True) for x in (src, bgr)]  # fmt: skip
        x, *shortcuts = reference.backbone(torch.cat(small, dim=1))
        return reference.decoder(reference.aspp(x), *shortcuts)

    runs = {"whole": lambda: reference(src, bgr), "base": base}
    times: dict[str, list[float]] = {name: [] for name in runs}
    with torch.inference_mode():
        for run in runs.values():
            run()  # warm-up
        for _ in range(args.iters):
            for name, run in runs.items():
                began = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - began)
    median = {name: sorted(v)[len(v) // 2] * 1e3 for name, v in times.items()}
    print(f"{args.case}, {torch.get_num_threads()} threads: whole {median['whole']:.0f} ms, "
          f"base network {median['base']:.0f} ms ({median['base'] / median['whole']:.1%}); "
          f"ceiling with the base unchanged {median['whole'] / median['base']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
