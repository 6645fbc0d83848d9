"""`bgm matte --align` on real photographs as a user meets it: a frame with a person in it, and
a plate that is hand-held (shifted, zoomed ~1%, rotated a little, noisy) or from a tripod (noise
only). The leak in the far background with --align off, auto and on, through run_matte on image
files with the bundled model.

    python benchmarks/align_quality.py [--photos garage,rocket,coffee] [--sweep] [--json F]

--sweep: the far background's error against a pure shift of the plate (0 to 2 px), used as it is
and aligned, on which --align auto's threshold rests (docs/alignment.md).
Leak: the share of the far background (more than 24 px from the person) with alpha above 0.1.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from skimage import data
from skimage.transform import SimilarityTransform, warp

from bgmcli.engine.matte import run_matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.loading import load_model
from bgmcli.model.settings import InferenceSettings

PHOTOS = {
    "garage": lambda: data.stereo_motorcycle()[0],
    "rocket": data.rocket,
    "coffee": data.coffee,
}
HANDHELD = {"shift": (3.0, -2.0), "scale": 1.01, "rotation_deg": 0.2}
NOISE = 2.0  # grey levels of sensor noise, drawn anew for the frame and for the plate
FAR_PX = 24


def person_over(photo: np.ndarray, rng, place: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(frame, alpha): the astronaut portrait, cut out as an ellipse, standing in the photo
    (`place`: 0 at the left edge, 1 at the right)."""
    height, width = photo.shape[:2]
    side = int(height * 0.8)
    person = np.asarray(Image.fromarray(data.astronaut()).resize((side, side)), np.float32)
    y, x = np.mgrid[0:side, 0:side] / side
    cut = (((x - 0.5) / 0.45) ** 2 + ((y - 0.58) / 0.55) ** 2 < 1).astype(np.float32)
    alpha = np.zeros((height, width), np.float32)
    left = int((width - side) * place)
    alpha[height - side :, left : left + side] = cut
    layer = np.zeros_like(photo, np.float32)
    layer[height - side :, left : left + side] = person
    frame = photo * (1 - alpha[..., None]) + layer * alpha[..., None]
    return noisy(frame, rng), alpha


def noisy(image: np.ndarray, rng) -> np.ndarray:
    return (image + rng.normal(0, NOISE, image.shape)).clip(0, 255).round().astype(np.uint8)


def moved(photo: np.ndarray, shift, scale: float = 1.0, rotation_deg: float = 0.0) -> np.ndarray:
    """The photo as a camera a little off would see it: about the centre, bicubic."""
    height, width = photo.shape[:2]
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    about = SimilarityTransform(translation=-centre)
    turn = SimilarityTransform(scale=scale, rotation=np.deg2rad(rotation_deg))
    back = SimilarityTransform(translation=centre + np.asarray(shift))
    motion = SimilarityTransform(matrix=back.params @ turn.params @ about.params)
    out = warp(photo, motion.inverse, order=3, mode="edge", preserve_range=True)
    return out.astype(np.float32)


class Runs:
    """run_matte on image files in a temporary folder, one bundled model per frame size."""

    def __init__(self, folder: Path):
        self.folder, self.models = folder, {}

    def leak(self, frame, plate, far, align: str) -> dict:
        Image.fromarray(frame).save(self.folder / "frame.png")
        Image.fromarray(plate).save(self.folder / "plate.png")
        config = MatteConfig(input=self.folder / "frame.png", background=self.folder / "plate.png",
                             outdir=self.folder, output_types=("pha",), align=align,
                             device="cpu", overwrite=True)  # fmt: skip
        result = run_matte(config, model=self.model(frame.shape[1], frame.shape[0]))
        pha = np.asarray(Image.open(self.folder / "frame.pha.png"), np.float32) / 255
        report = result.alignment
        found = report.first if report is not None else None
        return {
            "align": align,
            "leak_pct": float((pha[far] > 0.1).mean() * 100),
            "far_mad_x1e3": float(pha[far].mean() * 1000),
            "offset_px": None if found is None else round(found.offset_px, 3),
            "aligned": bool(report and report.aligned),
        }

    def model(self, width: int, height: int):
        if (width, height) not in self.models:
            rule = InferenceSettings().for_frame(width, height)
            self.models[width, height] = load_model(
                None, backbone_scale=rule.backbone_scale, refine=rule.mode, k=rule.k,
                device=torch.device("cpu"),
            )  # fmt: skip
        return self.models[width, height]


def plates_study(runs: Runs, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        rng = np.random.default_rng(0)
        photo = PHOTOS[name]().astype(np.float32)
        frame, alpha = person_over(photo, rng)
        far = ~ndimage.binary_dilation(alpha > 0, iterations=FAR_PX)
        plates = {"tripod": noisy(photo, rng), "hand-held": noisy(moved(photo, **HANDHELD), rng)}
        for plate_name, plate in plates.items():
            for align in ("off", "auto", "on"):
                row = {"photo": name, "plate": plate_name, **runs.leak(frame, plate, far, align)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def shift_sweep(runs: Runs, name: str) -> list[dict]:
    rng = np.random.default_rng(1)
    photo = PHOTOS[name]().astype(np.float32)
    frame, alpha = person_over(photo, rng)
    far = ~ndimage.binary_dilation(alpha > 0, iterations=FAR_PX)
    rows = []
    for shift in (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
        plate = noisy(moved(photo, (shift, 0.0)), rng)
        for align in ("off", "on"):
            row = {"photo": name, "shift_px": shift, **runs.leak(frame, plate, far, align)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=",".join(PHOTOS))
    parser.add_argument("--sweep", action="store_true", help="the threshold's shift sweep")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    names = [name.strip() for name in args.photos.split(",") if name.strip()]
    with tempfile.TemporaryDirectory() as folder:
        runs = Runs(Path(folder))
        rows = {"plates": plates_study(runs, names)}
        if args.sweep:
            rows["sweep"] = [row for name in names for row in shift_sweep(runs, name)]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
