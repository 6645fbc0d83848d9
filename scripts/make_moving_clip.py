"""Writes a moving clip with true alpha (bgmcli.data.moving_clip) for `bgm matte`: NAME.mp4
(H.264), NAME_plate.png (the plate as a camera records it) and NAME.truth.npz.

    python scripts/make_moving_clip.py OUTDIR [--name walk] [--subject synthetic|photo]
        [--photos ../shared/eval/alphamatting-lowres] [--camera static|handheld]
        [--size 640x360] [--frames 48] [--fps 24] [--empty-before 0] [--empty-after 0] [--seed 0]

then e.g. `bgm matte OUTDIR/walk.mp4 --bg OUTDIR/walk_plate.png`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bgmcli.data.clip_files import write_clip
from bgmcli.data.moving_clip import CAMERAS, SUBJECTS, ClipSpec, moving_clip
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import parse_resolution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--name", default="walk")
    parser.add_argument("--subject", choices=SUBJECTS, default="synthetic")
    parser.add_argument("--photos", type=Path, default=None, help="alphamatting-layout folder")
    parser.add_argument("--photo", default=None, help="its image (e.g. GT05); default: by seed")
    parser.add_argument("--camera", choices=CAMERAS, default="static")
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--fps", type=float, default=24.0)
    parser.add_argument("--empty-before", type=int, default=0)
    parser.add_argument("--empty-after", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--subject-scale", type=float, default=1.0, help="its size (1: usual)")
    parser.add_argument("--walk", type=float, default=0.6, help="share of the width it walks")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        width, height = parse_resolution(args.size)
        spec = ClipSpec(width=width, height=height, frames=args.frames, fps=args.fps,
                        camera=args.camera, subject=args.subject, photos=args.photos,
                        photo=args.photo, empty_before=args.empty_before,
                        empty_after=args.empty_after, noise=args.noise,
                        subject_scale=args.subject_scale, walk=args.walk,
                        seed=args.seed)  # fmt: skip
        files = write_clip(moving_clip(spec), args.outdir, args.name, crf=args.crf)
    except BgmError as exc:
        print(f"make_moving_clip: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"{files.video}\n{files.plate}\n{files.truth}")


if __name__ == "__main__":
    main()
