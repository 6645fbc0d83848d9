"""The frame-size rules of the call-time settings (the base network's scale, k by area) and the
parsers of size options. Torch-free, so that the CLI parses its options without importing torch.

The patch count has three meanings, each with its own name: `k_hd`, patches per HD frame's area
(the paper's 5000; studies give theirs so, and other sizes scale it with their area); `k`, patches
refined on this frame; `sample_pixels`, the official code's count of pixels (16 per patch).
"""

from __future__ import annotations

from fractions import Fraction

from bgmcli.errors import BgmError

HD_AREA = 1920 * 1080
PAPER_K_HD = 5_000  # and so 20 000 at 4K, which has four times the area
BASE_LONG_SIDE = 480  # the base network's input at the paper's settings: 1920 / 4 = 3840 / 8
MAX_BACKBONE_SCALE = 0.5


def base_scale(width: int, height: int) -> float:
    """min(1/2, 480 / longer side): 1/4 at HD and 1/8 at 4K exactly (the paper's), 1/2 up to
    960 px, in between on other sizes, so the base network sees about 480 px on every frame."""
    return min(MAX_BACKBONE_SCALE, BASE_LONG_SIDE / max(width, height))


def default_k(width: int, height: int) -> int:
    """The paper's k, 5000 at HD and 20 000 at 4K, scaled with the frame's area: the same share
    of the frame (about 3.9%) is refined at every size, smaller frames included."""
    return scale_k(PAPER_K_HD, width, height)


def scale_k(k_hd: int, width: int, height: int) -> int:
    """This frame's k from a patch count given at HD (the same share of its pixels)."""
    return max(1, round(k_hd * width * height / HD_AREA))


PIXELS_PER_PATCH = 16  # a 4x4 patch at full resolution


def sample_pixels(k: int, width: int, height: int) -> int:
    """The official `refine_sample_pixels` for k patches on a frame (at most all of them)."""
    return PIXELS_PER_PATCH * min(k, (width // 4) * (height // 4))


NAMED_RESOLUTIONS = {"hd": (1920, 1080), "4k": (3840, 2160)}


def parse_resolution(text: str, min_side: int = 16) -> tuple[int, int]:
    """(width, height) from `hd`, `4k` or `WxH` (each side at least `min_side`)."""
    key = text.strip().lower()
    if key in NAMED_RESOLUTIONS:
        return NAMED_RESOLUTIONS[key]
    width, sep, height = key.partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise BgmError(f"unknown resolution {text!r}; use hd, 4k or WxH (e.g. 1280x720)")
    if min(int(width), int(height)) < min_side:
        raise BgmError(f"resolution {text!r} is too small: each side must be >= {min_side}")
    return int(width), int(height)


def parse_scale(text: str | None) -> float | None:
    """'1/4' or '0.25' -> 0.25 (None stays None: chosen from the frame's size)."""
    if text is None:
        return None
    try:
        return float(Fraction(str(text).strip()))
    except (ValueError, ZeroDivisionError):
        raise BgmError(f"--backbone-scale {text!r} is not a number such as 1/4 or 0.25") from None
