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
320x180) instead of the former fixed 1/4's 160x90. `benchmarks/base_scale.py` compares it with
fixed scales and other rules, on synthetic and real-alpha frames: docs/results/base-scale.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bgmcli.errors import BgmError
from bgmcli.model.frame_size import MAX_BACKBONE_SCALE, PAPER_K_HD, base_scale, scale_k
from bgmcli.model.selection import get_strategy


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
    (None: the frame-size rules of `bgmcli.model.frame_size`)."""
    return InferenceSettings(**given).for_frame(width, height)
