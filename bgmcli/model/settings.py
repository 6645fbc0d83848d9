"""The call-time settings of a matting model, decided in one place: the base network's input
scale and the refinement (mode, k, threshold, seed). The model's config is its architecture;
these are given with each call (`MattingModel.forward(src, bgr, settings)`).

Two of them follow the frame size: the base network's scale and the number k of refined 4x4
patches. `bgm matte`, `bgm bench`, `bgm export`, evaluation, ablation, training, validation and
the model itself (settings left None are chosen for each frame) all call `resolve` /
`InferenceSettings.for_frame`, so a frame of a given size is processed the same way everywhere.
Values given explicitly always win.

The base network's scale keeps its input at the paper's size: 1/4 of HD and 1/8 of 4K are
both 480x270, so the scale is 480 / the frame's longer side, at most 1/2 (the refiner's first
stage works at 1/2; the base network is the coarse one). At 640x360 that is 1/2 (base input
320x180) instead of the former fixed 1/4's 160x90; on the real-alpha composites (~800 px) 1/2
measured MAD 124 against 182 x1e-3 for 1/4. `benchmarks/base_scale.py` compares it with fixed
scales and other rules: docs/results/base-scale.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from bgmcli.errors import BgmError
from bgmcli.model.selection import get_strategy

HD_AREA = 1920 * 1080
PAPER_K_HD = 5_000  # and so 20 000 at 4K, which has four times the area
BASE_LONG_SIDE = 480  # the base network's input at the paper's settings: 1920 / 4 = 3840 / 8
MAX_BACKBONE_SCALE = 0.5


@dataclass(frozen=True, kw_only=True)
class InferenceSettings:
    """What a frame is processed with. `backbone_scale` and `k` None: chosen for each frame's
    size (`for_frame`); `k_hd` is then the patch count at HD, scaled with the frame's area.
    `k` counts 4x4 patches (quarter-resolution locations); `seed` is for mode `random`."""

    backbone_scale: float | None = None
    mode: str = "error"
    k: int | None = None
    k_hd: int = PAPER_K_HD
    threshold: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        get_strategy(self.mode)  # an unknown mode names the known ones
        scale = self.backbone_scale
        if scale is not None and not 0.0 < float(scale) <= MAX_BACKBONE_SCALE:
            raise BgmError(
                f"backbone_scale must be in (0, {MAX_BACKBONE_SCALE}] or None (chosen from the "
                f"frame's size), got {scale!r}"
            )
        for name in ("k", "k_hd"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):  # fmt: skip
                raise BgmError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise BgmError(f"threshold must be in [0, 1], got {self.threshold!r}")

    def for_frame(self, width: int, height: int) -> InferenceSettings:
        """These settings with `backbone_scale` and `k` decided for a `width` x `height` frame.
        Traced for export, the sizes may be tensors: int() bakes the traced shape's values."""
        if self.backbone_scale is not None and self.k is not None:
            return self
        width, height = int(width), int(height)
        return replace(
            self,
            backbone_scale=base_scale(width, height)
            if self.backbone_scale is None
            else self.backbone_scale,
            k=scale_k(self.k_hd, width, height) if self.k is None else self.k,
        )


def resolve(width: int, height: int, **given) -> InferenceSettings:
    """The settings for a `width` x `height` frame: the fields of `InferenceSettings` as given
    (None: the frame-size rules below)."""
    return InferenceSettings(**given).for_frame(width, height)


def base_scale(width: int, height: int) -> float:
    """min(1/2, 480 / longer side): 1/4 at HD and 1/8 at 4K exactly (the paper's), 1/2 up to
    960 px, in between on other sizes, so the base network sees about 480 px on every frame."""
    return min(MAX_BACKBONE_SCALE, BASE_LONG_SIDE / max(width, height))


def default_k(width: int, height: int) -> int:
    """The paper's k, 5000 at HD and 20 000 at 4K, scaled with the frame's area: the same share
    of the frame (about 3.9%) is refined at every size, smaller frames included."""
    return scale_k(PAPER_K_HD, width, height)


def scale_k(k_at_hd: int, width: int, height: int) -> int:
    """A patch count given at HD, for a frame of another size (the same share of its pixels)."""
    return max(1, round(k_at_hd * width * height / HD_AREA))


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
