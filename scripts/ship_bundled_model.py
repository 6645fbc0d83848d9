"""Store a trained model as the bundled default: half precision, our checkpoint format, with
where it came from in its meta; then check that the fp16 copy predicts what the fp32 one does.

    python scripts/ship_bundled_model.py RUN_DIR/model.pt [--out bgmcli/weights/default.pt]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from bgmcli.bench.frames import synthetic_pair
from bgmcli.loading import build_model, load_model
from bgmcli.model.checkpoint import load_weights, read_checkpoint, save_checkpoint, split_checkpoint
from bgmcli.model.config import model_config

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "bgmcli" / "weights" / "default.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    state, config, meta = split_checkpoint(read_checkpoint(args.model), args.model)
    model = build_model(model_config(config, "checkpoint config"))  # older settings left out
    load_weights(model, state, args.model)
    save_checkpoint(args.out, model, meta=meta | {"stored": "fp16"}, half=True)
    src, bgr = synthetic_pair(640, 360, 1, torch.device("cpu"), torch.float32)
    with torch.inference_mode():
        full = load_model(args.model, refine="none")(src, bgr).pha
        half = load_model(args.out, refine="none")(src, bgr).pha
    diff = (full - half).abs()
    size_mb = args.out.stat().st_size / 2**20
    print(f"{args.out}: {size_mb:.1f} MiB; fp16 vs fp32 coarse alpha on a 640x360 frame: "
          f"mean {diff.mean():.2e}, max {diff.max():.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
