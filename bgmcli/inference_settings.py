"""The inference settings that depend on the frame size, decided in one place: the base
network's input scale and the number k of refined 4x4 patches.

`bgm matte`, `bgm bench`, evaluation, ablation and `load_model` (through the model, which applies
`base_scale` to each frame when its config's scale is None) all call `resolve`, so a frame of a
given size is processed the same way everywhere. Values given explicitly always win.

The base network's scale keeps its input at the paper's size: 1/4 of HD and 1/8 of 4K are
both 480x270, so the scale is 480 / the frame's longer side, at most 1/2 (the refiner's first
stage works at 1/2; the base network is the coarse one). At 640x360 that is 1/2 (base input
320x180) instead of the former fixed 1/4's 160x90; on the real-alpha composites (~800 px) 1/2
measured MAD 124 against 182 x1e-3 for 1/4. `benchmarks/base_scale.py` compares it with fixed
scales and other rules: docs/results/base-scale.md.
"""

from __future__ import annotations

from dataclasses import dataclass

HD_AREA = 1920 * 1080
PAPER_K_HD = 5_000  # and so 20 000 at 4K, which has four times the area
BASE_LONG_SIDE = 480  # the base network's input at the paper's settings: 1920 / 4 = 3840 / 8
MAX_BACKBONE_SCALE = 0.5


@dataclass(frozen=True)
class InferenceSettings:
    """What a frame of one size is processed with."""

    backbone_scale: float
    k: int


def resolve(
    width: int,
    height: int,
    *,
    backbone_scale: float | None = None,
    k: int | None = None,
    k_hd: int = PAPER_K_HD,
) -> InferenceSettings:
    """The settings for a `width` x `height` frame: `backbone_scale` and `k` as given, or (None)
    the rules below. `k_hd` is a patch count given at HD (as ablation variants give it), scaled
    with the frame's area when `k` is None."""
    return InferenceSettings(
        backbone_scale=base_scale(width, height) if backbone_scale is None else backbone_scale,
        k=scale_k(k_hd, width, height) if k is None else k,
    )


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
