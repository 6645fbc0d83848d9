"""Evaluation sets for the studies: the seeded synthetic set at the study's resolution, real
image-matting data (alphamatting.com layout) made into background-matting composites, composite
folders (src/, bgr/, pha/, fgr/), and the training issue's folder datasets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bgmcli.ablate.composites import composite
from bgmcli.data import SampleRecipe, build_dataset
from bgmcli.data.image_files import open_image
from bgmcli.errors import BgmError

EVAL_SEED = 20_210_611  # never a training seed: the synthetic set is held out by construction
DEFAULT_SYNTHETIC_FRAMES = 16
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


@dataclass
class EvalSet:
    """`length` frames, each a dict of src, bgr, true_pha, true_fgr ((C, H, W) float tensors),
    mask ((H, W) bool array or None: where metrics count) and id. Frames are cached once made."""

    name: str
    description: str
    length: int
    make: Callable[[int], dict]
    _cache: dict = field(default_factory=dict, repr=False)

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        if i not in self._cache:
            self._cache[i] = self.make(i)
        return self._cache[i]

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        return (self[i] for i in range(self.length))


def open_eval_set(
    spec: str, width: int, height: int, frames: int | None, misalign: float = 1.0
) -> EvalSet:
    """`synthetic`, `clip` (moving clips, in order: clip_set.py), or a folder whose layout says
    what it holds. `misalign` scales the plate's
    misalignment of the sets that make their own plates (synthetic, alphamatting): 0 measures
    how much of a model's error the misalignment causes."""
    if spec == "synthetic":
        return synthetic_set(width, height, frames or DEFAULT_SYNTHETIC_FRAMES, misalign)
    if spec == "clip":
        from bgmcli.ablate.clip_set import clip_set  # imports this module: a cycle at the top

        return clip_set(width, height, frames)
    root = Path(spec)
    if not root.is_dir():
        raise BgmError(f"--eval-data: not 'synthetic', not 'clip' and not a folder: {spec}")
    if (root / "input").is_dir() and (root / "alpha").is_dir():
        return alphamatting_set(root, frames, misalign)
    if all((root / d).is_dir() for d in ("src", "bgr", "pha")):
        return composite_set(root, frames)
    from bgmcli.ablate import people  # imports this module: a cycle at the top

    if people.is_people_folder(root):
        return people.people_set(root, width, height, misalign)
    return folder_dataset_set(root, width, height, frames or DEFAULT_SYNTHETIC_FRAMES)


def resolution_name(width: int, height: int) -> str:
    return {(1920, 1080): "hd", (3840, 2160): "4k"}.get((width, height), f"{width}x{height}")


def synthetic_set(width: int, height: int, frames: int, misalign: float = 1.0) -> EvalSet:
    data = build_dataset(
        "synthetic",
        size=(height, width),
        length=frames,
        seed=EVAL_SEED,
        recipe=SampleRecipe(misalign=misalign),
    )

    def make(i: int) -> dict:
        return {**data[i], "mask": None, "id": f"{i:04d}"}

    name = f"synthetic-{resolution_name(width, height)}"
    return EvalSet(name, f"seeded synthetic composites at {width}x{height}", frames, make)


def alphamatting_set(root: Path, frames: int | None, misalign: float = 1.0) -> EvalSet:
    """alphamatting.com layout: input/, alpha/, trimap/ (optional) PNGs of the same names.
    Metrics count inside the trimap's unknown region (value 128), as the paper's tables do."""
    names = _stems(root / "input")
    missing = [n for n in names if n not in _stems(root / "alpha")]
    if not names or missing:
        raise BgmError(f"{root}: expected input/ and alpha/ images of the same names"
                       + (f" (no alpha for {missing[0]})" if missing else ""))  # fmt: skip
    names = names[:frames] if frames else names
    has_trimap = (root / "trimap").is_dir()
    _check_images(root, ("input", "alpha", "trimap"), names)

    def make(i: int) -> dict:
        name = names[i]
        image = _read(root / "input", name, rgb=True)
        alpha = _read(root / "alpha", name, rgb=False)
        if image.shape[:2] != alpha.shape:
            raise BgmError(f"{root}: input and alpha of {name} differ in size")
        rng = np.random.default_rng(np.random.SeedSequence([EVAL_SEED, i]))
        sample = composite(image, alpha, rng, misalign)
        mask = None
        if has_trimap:
            mask = np.abs(_read(root / "trimap", name, rgb=False) - 128 / 255) < 0.5 / 255
        return {**sample, "mask": mask, "id": name}

    where = "trimap unknown region" if has_trimap else "whole image"
    return EvalSet(root.name, f"real alphas of {root.name}, composited ({where})", len(names), make)


def composite_set(root: Path, frames: int | None) -> EvalSet:
    """src/, bgr/, pha/ and optionally fgr/ and trimap/, matched by file name."""
    names = _stems(root / "src")
    for folder in ("bgr", "pha"):
        missing = [n for n in names if n not in _stems(root / folder)]
        if missing:
            raise BgmError(f"{root / folder}: no image for {missing[0]} (src/ has it)")
    if not names:
        raise BgmError(f"{root / 'src'}: no images")
    names = names[:frames] if frames else names
    _check_images(root, ("src", "bgr", "pha", "fgr", "trimap"), names)

    def make(i: int) -> dict:
        name = names[i]
        src = _tensor(_read(root / "src", name, rgb=True))
        pha = _tensor(_read(root / "pha", name, rgb=False))
        fgr = _tensor(_read(root / "fgr", name, rgb=True)) if (root / "fgr").is_dir() else src
        mask = None
        if (root / "trimap").is_dir():
            mask = np.abs(_read(root / "trimap", name, rgb=False) - 128 / 255) < 0.5 / 255
        bgr = _tensor(_read(root / "bgr", name, rgb=True))
        if bgr.shape != src.shape or pha.shape[-2:] != src.shape[-2:]:
            raise BgmError(f"{root}: src, bgr and pha of {name} differ in size")
        return {"src": src, "bgr": bgr, "true_pha": pha, "true_fgr": fgr, "mask": mask, "id": name}

    return EvalSet(root.name, f"composites from {root}", len(names), make)


def folder_dataset_set(root: Path, width: int, height: int, frames: int) -> EvalSet:
    """A VideoMatte240K or PhotoMatte85 folder composited as in training, seeded."""
    data = build_dataset("folders", size=(height, width), length=frames, seed=EVAL_SEED,
                         root=str(root))  # fmt: skip

    def make(i: int) -> dict:
        return {**data[i], "mask": None, "id": f"{i:04d}"}

    return EvalSet(root.name, f"{root} composited at {width}x{height}", frames, make)


def _stems(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _check_images(root: Path, folders: tuple[str, ...], names: list[str]) -> None:
    """Open every image's header now: an unreadable file or a decompression bomb fails before
    any model is trained or evaluated, not when its turn comes."""
    for folder in folders:
        if not (root / folder).is_dir():
            continue
        for path in (root / folder).iterdir():
            if path.stem in names and path.suffix.lower() in IMAGE_SUFFIXES:
                with open_image(path):
                    pass


def _read(folder: Path, stem: str, *, rgb: bool) -> np.ndarray:
    """float64 in [0, 1]: (H, W, 3) for rgb, else (H, W) from the first channel."""
    paths = [p for p in folder.iterdir() if p.stem == stem and p.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise BgmError(f"cannot read {stem} in {folder}: no such image")
    from skimage import io  # scikit-image, slow to import: only for real-alpha folders

    with open_image(paths[0]):  # missing, damaged and oversized files: one line, before decoding
        pass
    try:
        img = io.imread(paths[0])
    except (OSError, ValueError, SyntaxError, EOFError) as e:  # damage found while decoding
        raise BgmError(f"cannot read {stem} in {folder}: {e}") from None
    scale = 65535.0 if img.dtype == np.uint16 else 255.0
    img = img.astype(np.float64) / scale
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2) if rgb else img
    return img[..., :3] if rgb else img[..., 0]


def _tensor(img: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(img)).float()
    return t.permute(2, 0, 1) if t.ndim == 3 else t[None]
