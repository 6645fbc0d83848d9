"""Opening image files of datasets and evaluation sets: every missing, unreadable, damaged or
oversized file (a decompression bomb) is a one-line BgmError naming it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from bgmcli.errors import BgmError


@contextmanager
def open_image(path: str | Path) -> Iterator[Image.Image]:
    """PIL's `Image.open`, with its failures in one line. Pillow only warns between its pixel
    limit and twice that: here the limit itself refuses, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except FileNotFoundError:
        raise BgmError(f"image not found: {path}") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BgmError(
            f"{path}: refused, too many pixels (over {Image.MAX_IMAGE_PIXELS:,}; "
            "a decompression bomb?)"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # empty, damaged, truncated
        raise BgmError(f"cannot read image {path}: {exc or type(exc).__name__}") from None


def read_image_array(path: str | Path, mode: str | None = None) -> np.ndarray:
    """The image's pixels as an array, converted to PIL `mode` ("RGB", "L", "RGBA") if given."""
    with open_image(path) as image:
        try:
            return np.array(image.convert(mode) if mode else image)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:  # decoding fails late
            raise BgmError(f"cannot read image {path}: {exc or type(exc).__name__}") from None
