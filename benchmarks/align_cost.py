"""What `bgm matte --align` costs per HD frame on this CPU, beside the bundled model's time per
frame: a still camera with a tripod plate (auto: measured, not warped), a still camera with a
hand-held plate (estimated once, the warped plate reused), and a moving camera (estimated and
warped on every frame). The plate's per-frame trip through the pipeline (a constant plate goes to
the device once when alignment is off) is timed as well.

    python benchmarks/align_cost.py [--frames 12] [--photo garage] [--json F]

Alignment and the model are timed alternately, frame by frame, so both see the same load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from align_quality import HANDHELD, PHOTOS, moved, noisy, person_over
from PIL import Image

from bgmcli.engine.align import Aligner
from bgmcli.engine.compose import to_float
from bgmcli.loading import load_model
from bgmcli.model.settings import InferenceSettings

WIDTH, HEIGHT = 1920, 1080
DRIFT = {"shift": (1.5, -0.8), "rotation_deg": 0.02}  # per frame, for the moving camera


def scenes(photo: np.ndarray, frames: int, rng) -> dict[str, tuple[np.ndarray, list]]:
    """name -> (plate, frames): the person walks across each; the plate is from a tripod or
    hand-held; the moving camera drifts from frame to frame."""
    place = np.linspace(0.1, 0.9, frames)
    still = [person_over(photo, rng, p)[0] for p in place]
    drifting = []
    for i, p in enumerate(place):
        view = moved(photo, tuple(i * d for d in DRIFT["shift"]),
                     rotation_deg=i * DRIFT["rotation_deg"])  # fmt: skip
        drifting.append(person_over(view, rng, p)[0])
    handheld = noisy(moved(photo, **HANDHELD), rng)
    return {
        "still camera, tripod plate": (noisy(photo, rng), still),
        "still camera, hand-held plate": (handheld, still),
        "moving camera": (handheld, drifting),
    }


def hd_photo(name: str) -> np.ndarray:
    photo = Image.fromarray(PHOTOS[name]()).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    return np.asarray(photo, np.float32)


def time_scene(model, plate: np.ndarray, frames: list, mode: str) -> dict:
    aligner = Aligner(mode, warn=lambda message: None)
    align_s, model_s, upload_s = [], [], []
    for frame in frames:
        began = time.perf_counter()
        bgr = aligner(plate, frame)
        align_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        bgr = to_float(torch.from_numpy(np.stack([bgr])))  # what the decode thread then does
        upload_s.append(time.perf_counter() - began)
        src = to_float(torch.from_numpy(np.stack([frame])))
        began = time.perf_counter()
        with torch.inference_mode():
            model(src, bgr)
        model_s.append(time.perf_counter() - began)
    report = aligner.report()
    align_ms = [s * 1000 for s in align_s]
    model_ms = statistics.median(model_s) * 1000
    return {
        "mode": mode, "estimates": report.estimates, "aligned": report.aligned,
        "offset_px": round(report.furthest.offset_px, 2) if report.furthest else None,
        "first_frame_ms": round(align_ms[0], 1),
        "later_frames_median_ms": round(statistics.median(align_ms[1:]), 1),
        "mean_ms": round(statistics.mean(align_ms), 1),
        "plate_upload_ms": round(statistics.median(upload_s) * 1000, 1),
        "model_median_ms": round(model_ms, 1),
        "share_of_model": round((statistics.mean(align_ms)) / model_ms, 3),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--photo", default="garage", choices=sorted(PHOTOS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rule = InferenceSettings().for_frame(WIDTH, HEIGHT)
    model = load_model(None, backbone_scale=rule.backbone_scale, refine=rule.mode, k=rule.k,
                       device=torch.device("cpu"))  # fmt: skip
    warm = torch.rand(1, 3, HEIGHT, WIDTH)
    with torch.inference_mode():
        model(warm, warm)
    rows = []
    rng = np.random.default_rng(0)
    for name, (plate, frames) in scenes(hd_photo(args.photo), args.frames, rng).items():
        for mode in ("auto", "on"):
            row = {"scene": name, **time_scene(model, plate, frames, mode)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"torch threads {torch.get_num_threads()}; load average {load}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
