"""The README's picture: one frame of the demo clip, the bundled model's alpha and its composite
over a blue screen, side by side (`docs/images/demo-frame.png`).

    python scripts/demo_figure.py [--frame 24] [--checkpoint PATH] [-o docs/images/demo-frame.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from bgmcli import load_model

ROOT = Path(__file__).resolve().parents[1]
BLUE = np.array([0.0, 0.28, 0.67], dtype=np.float32)  # '#0047AB', the README's --target example


def read_frame(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise SystemExit(f"{path} has no frame {index}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame", type=int, default=24)
    parser.add_argument("--checkpoint", default=None, help="default: the bundled model")
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs/images/demo-frame.png")
    args = parser.parse_args()
    src = read_frame(ROOT / "examples/demo.mp4", args.frame)
    plate = np.array(Image.open(ROOT / "examples/demo_plate.jpg").convert("RGB"))
    as_tensor = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    model = load_model(args.checkpoint)  # README defaults: refine error, the frame-size rule
    with torch.inference_mode():
        out = model(as_tensor(src), as_tensor(plate))
    pha = out.pha[0, 0].numpy()[..., None]
    fgr = out.fgr[0].permute(1, 2, 0).numpy()
    composite = fgr * pha + BLUE * (1 - pha)
    panels = [src / 255, np.repeat(pha, 3, axis=2), composite]
    gap = np.ones((src.shape[0], 8, 3), dtype=np.float32)
    row = np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".partial.png")
    Image.fromarray((row.clip(0, 1) * 255).round().astype(np.uint8)).save(partial, optimize=True)
    partial.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
