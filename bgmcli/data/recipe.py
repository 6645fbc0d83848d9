"""How training samples are drawn, beyond their content: one value handed from the training
config to the datasets, instead of one argument per knob through every signature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampleRecipe:
    """`shapes`: the synthetic subjects' outlines (bgmcli.data.synthetic.SHAPE_SETS).
    `misalign`: multiple of the paper's plate misalignment (+-1 degree, +-1%). `misalign_share`:
    the fraction of plates misaligned at all. `shading`: the fraction of synthetic foregrounds
    darkened by a shading field, as real subjects are in their folds and between their strands.
    `veil_share`: the fraction of subjects with a smooth semi-transparent veil over them.
    `skin_share`: the fraction of foregrounds that are smooth, shaded and nearly textureless
    (skin, plain cloth, painted surfaces), opaque like any other foreground. `plate_jitter`: the
    plate's colour jitter (brightness, contrast, saturation 1 +- this). `shadow_share`: the
    fraction of samples in which the subject casts a shadow on the live background (and not on
    the plate). `tint_share`: the fraction of synthetic foregrounds tinted toward the
    background's colours (the hard case: opaque where the plate differs little).
    `camouflage_share`: the fraction blended toward the colours of the background right behind
    them (the harder case: a subject that matches its backdrop locally, not on average).
    The defaults draw the samples of the first versions, bit for bit (evaluation sets too)."""

    shapes: str = "blobs"
    misalign: float = 1.0
    misalign_share: float = 0.7
    shading: float = 0.0
    veil_share: float = 0.3
    skin_share: float = 0.0
    plate_jitter: float = 0.18
    shadow_share: float = 0.3
    tint_share: float = 0.25
    camouflage_share: float = 0.0


# the samples of the first versions (and of every evaluation set)
FIRST_RECIPE = SampleRecipe()
