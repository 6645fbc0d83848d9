"""Real matting datasets laid out as folders: VideoMatte240K (`fgr/` + `pha/` frame folders or
videos) or PhotoMatte85 (RGBA PNGs), composited over a backgrounds folder or synthetic ones.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from torch.utils.data import Dataset

from bgmcli.data import augment, synthetic
from bgmcli.data.image_files import open_image, read_image_array
from bgmcli.data.recipe import FIRST_RECIPE, SampleRecipe
from bgmcli.errors import BgmError

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}


@dataclass(frozen=True)
class Item:
    """One source of frames: a video file, or a list of image files (a frame folder or a PNG)."""

    path: Path
    frames: tuple[Path, ...] | None  # None for a video
    count: int

    def read(self, k: int, mode: str) -> torch.Tensor:
        """Frame k as a float32 (C, H, W) tensor; mode is PIL's "RGB", "L" or "RGBA"."""
        if self.frames is None:
            return read_video_frame(self.path, k, mode)
        return read_image(self.frames[k], mode)


def _to_tensor(arr: np.ndarray) -> torch.Tensor:
    if arr.ndim == 2:
        arr = arr[..., None]
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).float() / 255


def read_image(path: Path, mode: str) -> torch.Tensor:
    return _to_tensor(read_image_array(path, mode))


def read_video_frame(path: Path, k: int, mode: str) -> torch.Tensor:
    # Decodes from the start: simple and exact; long clips would want keyframe seeking.

    fmt = "gray" if mode == "L" else "rgb24"
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == k:
                return _to_tensor(frame.to_ndarray(format=fmt))
    raise BgmError(f"{path} has no frame {k}")


def video_frame_count(path: Path) -> int:
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.frames:
                return int(stream.frames)
            return sum(1 for p in container.demux(stream) if p.size)
    except (av.error.FFmpegError, IndexError) as e:
        raise BgmError(f"cannot read video {path}: {e}") from None


def _media(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXT)


def _clip(path: Path) -> Item:
    """A clip entry of fgr/ or pha/: a frame folder or a video file."""
    if path.is_dir():
        frames = _media(path)
        return Item(path, tuple(frames), len(frames))
    return Item(path, None, video_frame_count(path))


def _entries(folder: Path) -> dict[str, Path]:
    """Clip name -> path for the frame folders and videos in fgr/ or pha/."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_dir() or p.suffix.lower() in VIDEO_EXT:
            out[p.stem if p.is_file() else p.name] = p
    return out


def scan_videomatte(root: Path) -> list[tuple[Item, Item]]:
    """Matched (fgr, pha) clips of a VideoMatte240K-style folder; mismatches are BgmErrors."""
    for sub in ("fgr", "pha"):
        if not (root / sub).is_dir():
            raise BgmError(f"dataset folder {root} has no {sub}/ folder (VideoMatte240K layout)")
    fgr, pha = _entries(root / "fgr"), _entries(root / "pha")
    for name in sorted(set(fgr) ^ set(pha)):
        have, lack = ("fgr", "pha") if name in fgr else ("pha", "fgr")
        raise BgmError(f"{root / have / name} has no match in {root / lack}")
    pairs = []
    for name in fgr:
        f, p = _clip(fgr[name]), _clip(pha[name])
        if f.count != p.count:
            raise BgmError(f"{f.path} has {f.count} frames but {p.path} has {p.count}")
        if f.frames is not None and p.frames is not None:
            if [x.stem for x in f.frames] != [x.stem for x in p.frames]:
                raise BgmError(f"frame names differ between {f.path} and {p.path}")
        if f.count:
            pairs.append((f, p))
    return pairs


def scan_photomatte(root: Path) -> list[Item]:
    """The RGBA PNGs of a PhotoMatte85-style folder; a PNG without alpha is a BgmError."""
    items = []
    for path in sorted(root.glob("*.png")) + sorted(root.glob("*.PNG")):
        with open_image(path) as img:
            if "A" not in img.getbands() and "transparency" not in img.info:
                raise BgmError(f"{path} has no alpha channel (PhotoMatte85 layout needs RGBA PNGs)")
        items.append(Item(path, (path,), 1))
    return items


def scan_backgrounds(folder: Path) -> list[Item]:
    """Background images and videos anywhere under `folder`."""
    if not folder.is_dir():
        raise BgmError(f"backgrounds folder not found: {folder}")
    items = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_EXT:
            items.append(Item(p, (p,), 1))
        elif p.is_file() and p.suffix.lower() in VIDEO_EXT:
            items.append(Item(p, None, video_frame_count(p)))
    items = [i for i in items if i.count]
    if not items:
        raise BgmError(f"backgrounds folder {folder} holds no images or videos")
    return items


class FolderDataset(Dataset):
    """`length` composites of a folder dataset over backgrounds; item i depends on (seed, i)."""

    def __init__(
        self, root, *, size, length: int, seed: int, backgrounds=None, augment=True,
        recipe: SampleRecipe = FIRST_RECIPE,
    ):  # fmt: skip
        self.root = Path(root)
        if not self.root.is_dir():
            raise BgmError(f"dataset folder not found: {self.root}")
        if (self.root / "fgr").exists() or (self.root / "pha").exists():
            self.pairs = [(f, p) for f, p in scan_videomatte(self.root)]
        else:
            self.pairs = [(i, None) for i in scan_photomatte(self.root)]
        if not self.pairs:
            raise BgmError(
                f"dataset folder {self.root} is empty: expected fgr/ and pha/ clips "
                "(VideoMatte240K) or RGBA PNGs (PhotoMatte85)"
            )
        self.starts = list(np.cumsum([0] + [f.count for f, _ in self.pairs]))
        self.backgrounds = scan_backgrounds(Path(backgrounds)) if backgrounds else None
        self.size, self.length, self.seed, self.augment = tuple(size), length, seed, augment
        self.recipe = recipe  # its plate misalignment (outlines and shading are synthetic)

    def __len__(self) -> int:
        return self.length

    def _subject(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        n = int(rng.integers(self.starts[-1]))
        c = bisect.bisect_right(self.starts, n) - 1
        fgr_item, pha_item = self.pairs[c]
        k = n - self.starts[c]
        if pha_item is None:  # RGBA image
            rgba = fgr_item.read(k, "RGBA")
            return rgba[:3], rgba[3:]
        fgr, pha = fgr_item.read(k, "RGB"), pha_item.read(k, "L")
        if fgr.shape[-2:] != pha.shape[-2:]:
            raise BgmError(f"frame {k} of {fgr_item.path} and {pha_item.path} differ in size")
        return fgr, pha

    def _background(self, rng: np.random.Generator) -> torch.Tensor:
        if self.backgrounds is None:
            return synthetic.background(rng, self.size)[0]
        item = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        img = item.read(int(rng.integers(item.count)), "RGB")
        return augment.random_crop(img, rng, self.size, zoom=(1.0, 1.3))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, i]))
        fgr, pha = self._subject(rng)
        if self.augment:
            fgr, pha = augment.paired_affine(fgr, pha, rng, self.size)
        else:
            fgr, pha = augment.fit(fgr, pha, self.size)
        live = self._background(rng)
        fgr, pha = fgr.clamp(0, 1), pha.clamp(0, 1)
        return augment.compose_sample(fgr, pha, live, rng, self.augment, self.recipe)
