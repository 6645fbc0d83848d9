"""End-to-end frames per second of `bgm matte` on a generated 1920x1080 H.264 clip, beside the
model alone (its forward pass on the same frames) and beside the same work done serially
(decode, infer, encode one after the other in one thread). CPU, fp32, --refine error --k 5000.

    python benchmarks/matte_throughput.py [--frames 48] [--backbones mobilenetv2,resnet50]

Weights are random with BatchNorm calibrated on the clip (as in benchmarks/README.md), so the
error map and the refined patches behave like a trained model's; the work done is the same.
The load average is printed beside each figure: other processes on the machine slow it down.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image
from skimage import data

from bgmcli.engine.compose import GREEN, to_float
from bgmcli.engine.formats import FORMATS
from bgmcli.engine.pipeline import Batch, Matter
from bgmcli.engine.sinks import open_sink, plan_outputs
from bgmcli.engine.sources import VideoSource
from bgmcli.loading import build_model, load_model
from bgmcli.model.checkpoint import save_checkpoint
from bgmcli.model.config import ModelConfig

WIDTH, HEIGHT, K, SCALE = 1920, 1080, 5_000, 0.25


def make_clip(folder: Path, frames: int) -> tuple[Path, Path]:
    """A garage photograph with a person (the astronaut portrait) moving across it, + noise."""
    rng = np.random.default_rng(0)
    garage = data.stereo_motorcycle()[0][41:458]
    plate = np.asarray(Image.fromarray(garage).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC))
    person = np.asarray(Image.fromarray(data.astronaut()).resize((900, 900)), np.float32)
    y, x = np.mgrid[0:900, 0:900]
    alpha = (((x - 450) / 400) ** 2 + ((y - 520) / 480) ** 2 < 1).astype(np.float32)[..., None]
    clip = folder / "hd.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "18", "preset": "fast"}
        for index in range(frames):
            image = plate.astype(np.float32)
            left = 100 + index * (WIDTH - 1100) // max(frames - 1, 1)
            region = image[HEIGHT - 900 :, left : left + 900]
            region[:] = alpha * person + (1 - alpha) * region
            image = (image + rng.normal(0, 2, image.shape)).clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    plate_path = folder / "hd_plate.png"
    Image.fromarray(plate).save(plate_path)
    return clip, plate_path


def decoded(clip: Path) -> list[np.ndarray]:
    source = VideoSource(clip)
    images = [frame.image for frame in source.frames()]
    source.close()
    return images


def calibrate_batchnorm(model: torch.nn.Module, src: torch.Tensor, bgr: torch.Tensor) -> None:
    """Every BatchNorm's running statistics from one train-mode pass (batch >= 2)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, exactly its statistics
    model.train()
    model(src, bgr)
    model.eval()


def make_checkpoint(backbone: str, folder: Path, images, plate: np.ndarray) -> Path:
    """Random weights, BatchNorm statistics from two frames at half size."""
    small = [np.asarray(Image.fromarray(i).resize((WIDTH // 2, HEIGHT // 2))) for i in images[:2]]
    bgr = np.asarray(Image.fromarray(plate).resize((WIDTH // 2, HEIGHT // 2)))
    src = to_float(torch.from_numpy(np.stack(small)))
    bgr = to_float(torch.from_numpy(np.stack([bgr, bgr])))
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone=backbone))
    with torch.no_grad():
        calibrate_batchnorm(model, src, bgr)
    path = folder / f"{backbone}.pt"
    save_checkpoint(path, model)
    return path


def model_alone(checkpoint: Path, images, plate) -> float:
    """The model's forward pass on the decoded frames, one at a time, after 2 warm-up calls."""
    model = load_model(checkpoint, refine="error", k=K, backbone_scale=SCALE)
    bgr = to_float(torch.from_numpy(plate)[None])
    with torch.inference_mode():
        for image in images[:2]:
            model(to_float(torch.from_numpy(image)[None]), bgr)
        began = time.perf_counter()
        for image in images:
            model(to_float(torch.from_numpy(image)[None]), bgr)
    return len(images) / (time.perf_counter() - began)


def serial(checkpoint: Path, clip: Path, plate: np.ndarray, folder: Path) -> float:
    """Decode, infer, encode (com + pha, H.264) one after the other on one thread."""
    model = load_model(checkpoint, refine="error", k=K, backbone_scale=SCALE)
    began = time.perf_counter()
    source = VideoSource(clip)
    fmt = FORMATS["mp4"]
    outputs = plan_outputs(source.info, ("com", "pha"), fmt, folder, transparent=False)
    sinks = [open_sink(output, fmt, source.info, None) for output in outputs]
    green = torch.tensor(GREEN, dtype=torch.float32).view(1, 3, 1, 1) / 255
    bgr = to_float(torch.from_numpy(plate)[None])
    matter = Matter(model, torch.device("cpu"), torch.float32, bgr=bgr, tgt=green)
    count = 0
    for frame in source.frames():
        src = to_float(torch.from_numpy(frame.image[None]))
        matted = matter(Batch(src, None, None, [frame.pts]))
        for output, sink in zip(outputs, sinks, strict=True):
            sink.write(matted.pictures(output), [frame.pts])
        count += 1
    for sink in sinks:
        sink.close()
    source.close()
    return count / (time.perf_counter() - began)


def end_to_end(checkpoint: Path, clip: Path, plate: Path, folder: Path) -> dict:
    """`bgm matte` as a user runs it: whole-process fps, and the fps of its summary line."""
    bgm = Path(sys.executable).with_name("bgm")
    command = [
        str(bgm), "matte", str(clip), "--bg", str(plate), "-o", str(folder), "--overwrite",
        "--checkpoint", str(checkpoint), "--refine", "error", "--k", str(K), "--device", "cpu",
    ]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    summary = re.search(
        r"(\d+) frames .*: ([\d.]+) fps end-to-end, model ([\d.]+) fps", done.stdout
    )
    frames = int(summary.group(1))
    return {
        "process_fps": frames / seconds,
        "run_fps": float(summary.group(2)),
        "model_step_fps": float(summary.group(3)),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(backbone: str, folder: Path, clip: Path, plate_path: Path, images, plate) -> dict:
    checkpoint = make_checkpoint(backbone, folder, images, plate)
    row = {"backbone": backbone, "frames": len(images)}
    row["load_before"] = load()
    row["model_alone_fps"] = model_alone(checkpoint, images, plate)
    row["load_model"] = load()
    row["serial_fps"] = serial(checkpoint, clip, plate, folder / "serial")
    row["load_serial"] = load()
    row.update(end_to_end(checkpoint, clip, plate_path, folder / "bgm"))
    row["load_bgm"] = load()
    row["bgm_vs_model"] = row["run_fps"] / row["model_alone_fps"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--backbones", default="mobilenetv2,resnet50")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("serial", "bgm"):
            (folder / sub).mkdir()
        clip, plate_path = make_clip(folder, args.frames)
        images, plate = decoded(clip), np.array(Image.open(plate_path).convert("RGB"))
        threads = torch.get_num_threads()
        print(f"clip: {len(images)} frames {WIDTH}x{HEIGHT} H.264; torch threads: {threads}")
        for backbone in args.backbones.split(","):
            row = measure(backbone, folder, clip, plate_path, images, plate)
            rows.append(row)
            shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
            print(json.dumps(shown), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
