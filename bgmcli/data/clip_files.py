"""A moving clip on disk, as `bgm matte` takes it: `<name>.mp4` (H.264), `<name>_plate.png` (the
plate as a camera records it) and `<name>.truth.npz` (alpha, foreground, backgrounds, plate,
camera poses); each file written under a temporary name and renamed when complete."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from bgmcli.atomic import atomic_write, check_file_name
from bgmcli.data.moving_clip import MovingClip
from bgmcli.errors import BgmError

TRUTH_KEYS = ("pha", "fgr", "bgr", "plate", "poses", "present", "fps")


@dataclass(frozen=True)
class ClipFiles:
    video: Path
    plate: Path
    truth: Path


def clip_files(folder: Path, name: str) -> ClipFiles:
    """Where the clip `name` lies in `folder`."""
    check_file_name(name, "clip name")
    folder = Path(folder)
    return ClipFiles(folder / f"{name}.mp4", folder / f"{name}_plate.png",
                     folder / f"{name}.truth.npz")  # fmt: skip


def write_clip(clip: MovingClip, folder: Path, name: str, crf: int = 18) -> ClipFiles:
    """The clip's frames as H.264 (yuv420p, `crf`), its captured plate as a PNG and its truth
    (pha as float16, colours as uint8) as a compressed .npz."""
    files = clip_files(folder, name)
    if clip.spec.width % 2 or clip.spec.height % 2:
        raise BgmError(f"H.264 (yuv420p) needs an even frame size, got "
                       f"{clip.spec.width}x{clip.spec.height}")  # fmt: skip
    atomic_write(files.video, lambda tmp: _write_video(tmp, clip, crf))
    atomic_write(files.plate, lambda tmp: Image.fromarray(to_uint8(clip.captured_plate)).save(
        tmp, format="PNG"))  # fmt: skip
    truth = {
        "pha": clip.pha[:, 0].numpy().astype(np.float16),
        "fgr": to_uint8(clip.fgr),
        "bgr": to_uint8(clip.bgr),
        "plate": to_uint8(clip.plate),
        "poses": clip.poses,
        "present": clip.present,
        "fps": np.float64(clip.spec.fps),
    }

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: numpy would append .npz to the name
            np.savez_compressed(f, **truth)

    atomic_write(files.truth, save)
    return files


def read_truth(path: Path) -> dict[str, np.ndarray]:
    """A clip's truth: pha (T, H, W) float32, fgr and bgr (T, H, W, 3) and plate (H, W, 3) uint8,
    poses (T, 3, 3), present (T,) bool, fps."""
    try:
        with np.load(path, allow_pickle=False) as data:
            truth = {key: data[key] for key in TRUTH_KEYS}
    except (OSError, ValueError, KeyError) as exc:
        raise BgmError(f"cannot read the clip truth {path}: {exc}") from None
    truth["pha"] = truth["pha"].astype(np.float32)
    return truth


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(..., 3, H, W) floats in [0, 1] -> (..., H, W, 3) uint8."""
    planes = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return np.ascontiguousarray(planes.movedim(-3, -1).numpy())


def _write_video(path: Path, clip: MovingClip, crf: int) -> None:
    rate = Fraction(clip.spec.fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = clip.spec.width, clip.spec.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf)}
        for image in to_uint8(clip.src):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
