"""Training data: procedural samples or real datasets laid out as folders, with the paper's
augmentations; `build_dataset` is the one entry point for the training loop.
"""

from __future__ import annotations

from torch.utils.data import Dataset

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
    shape_set: str = "blobs",
    misalign: float = 1.0,
    misalign_share: float = 0.7,
) -> Dataset:
    """A dataset of `length` dicts (src, bgr, true_pha, true_fgr) of `size` (height, width).

    Item i depends only on (seed, i), so every worker, DDP rank and resumed run sees the same
    data. `augment=False` keeps the random content but gives the plate exactly equal to the
    live background, with no shadows, colour jitter or noise. `shape_set` picks the synthetic
    subjects' outlines (bgmcli.data.synthetic.SHAPE_SETS); `misalign` scales the plate's
    misalignment (1: the paper's +-1 degree, +-1%) and `misalign_share` the fraction of plates
    misaligned.
    """
    if kind == "synthetic":
        from bgmcli.data.synthetic import SyntheticDataset

        return SyntheticDataset(size=size, length=length, seed=seed, augment=augment,
                                shape_set=shape_set, misalign=misalign,
                                misalign_share=misalign_share)  # fmt: skip
    if kind == "folders":
        from bgmcli.data.folders import FolderDataset

        if root is None:
            raise BgmError("--data folders needs a dataset folder (root)")
        return FolderDataset(
            root, size=size, length=length, seed=seed, backgrounds=backgrounds, augment=augment,
            misalign=misalign, misalign_share=misalign_share,
        )  # fmt: skip
    raise BgmError(f"unknown data kind {kind!r}; known: {', '.join(KINDS)}")


__all__ = ["KINDS", "build_dataset"]
