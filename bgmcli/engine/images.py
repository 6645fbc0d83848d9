"""Still images: reading photos (EXIF orientation applied, as a phone shows them), resizing and
writing PNG. Every unreadable file is a one-line BgmError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from bgmcli.errors import BgmError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def read_image(path: Path, what: str = "image") -> np.ndarray:
    """uint8 (H, W, 3) RGB."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            return np.array(image.convert("RGB"))  # writable: torch.from_numpy wants that
    except FileNotFoundError:
        raise BgmError(f"{what} not found: {path}") from None
    except PermissionError:
        raise BgmError(f"cannot read {what} {path}: permission denied") from None
    except UnidentifiedImageError:
        raise BgmError(f"{what} {path} is not an image that can be read") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
        raise BgmError(f"{what} {path} is damaged or truncated ({exc})") from None


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (H, W, C) resized to (height, width) with a good filter (plates are smooth)."""
    if image.shape[:2] == (height, width):
        return image
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    return np.array(resized)


def write_png(path: Path, image: np.ndarray) -> None:
    """uint8 (H, W) or (H, W, 3 | 4) as grey, RGB or RGBA PNG; fast compression (frames are
    many). Pillow infers the mode from the shape."""
    Image.fromarray(image).save(path, format="PNG", compress_level=1)
