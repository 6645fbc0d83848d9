"""Training data: procedural samples or real datasets laid out as folders, with the paper's
augmentations; `build_dataset` is the one entry point for the training loop.
"""

from __future__ import annotations

from torch.utils.data import Dataset

from bgmcli.data.recipe import FIRST_RECIPE, SampleRecipe
from bgmcli.errors import BgmError

KINDS = ("synthetic", "folders")


def build_dataset(
    kind: str,
    *,
    size: tuple[int, int],
    length: int,
    seed: int,
    root: str | None = None,
    backgrounds: str | None = None,
    augment: bool = True,
    recipe: SampleRecipe = FIRST_RECIPE,
) -> Dataset:
    """A dataset of `length` dicts (src, bgr, true_pha, true_fgr) of `size` (height, width).

    Item i depends only on (seed, i), so every worker, DDP rank and resumed run sees the same
    data. `augment=False` keeps the random content but gives the plate exactly equal to the
    live background, with no shadows, colour jitter or noise. `recipe` says how samples are
    drawn (outlines, plate misalignment, shading): bgmcli.data.recipe.
    """
    if kind == "synthetic":
        from bgmcli.data.synthetic import SyntheticDataset  # scikit-image: slow to import

        return SyntheticDataset(size=size, length=length, seed=seed, augment=augment,
                                recipe=recipe)  # fmt: skip
    if kind == "folders":
        from bgmcli.data.folders import FolderDataset  # PyAV only for this kind

        if root is None:
            raise BgmError("--data folders needs a dataset folder (root)")
        return FolderDataset(
            root, size=size, length=length, seed=seed, backgrounds=backgrounds, augment=augment,
            recipe=recipe,
        )  # fmt: skip
    raise BgmError(f"unknown data kind {kind!r}; known: {', '.join(KINDS)}")


__all__ = ["KINDS", "SampleRecipe", "build_dataset"]
