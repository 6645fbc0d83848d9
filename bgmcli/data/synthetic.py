"""Procedural matting samples: textured silhouettes with hair, veils and motion blur over
photographic or procedural backgrounds; item i depends only on (seed, i).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from bgmcli.data import augment, outlines
from bgmcli.data.recipe import FIRST_RECIPE, SampleRecipe

Size = tuple[int, int]
# outlines of the subject: smooth ellipses only; also ragged; also tangles (`tangle`)
SHAPE_SETS = ("blobs", "mixed", "tangled")
TANGLE_SHARE = 0.25  # of the "tangled" set's subjects

PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "immunohistochemistry",
    "hubble_deep_field", "brick", "grass", "gravel", "moon", "retina", "colorwheel", "page",
)  # fmt: skip


@lru_cache(maxsize=1)
def photo_pool() -> tuple[torch.Tensor, ...]:
    """scikit-image's bundled photographs as float32 (3, H, W) tensors, loaded once per process."""
    import skimage.data  # scikit-image is slow to import: only when photographs are read

    pool = []
    for name in PHOTOS:
        img = np.asarray(getattr(skimage.data, name)())
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        t = torch.from_numpy(np.ascontiguousarray(img[..., :3].transpose(2, 0, 1))).float() / 255
        pool.append(t)
    return tuple(pool)


def _tint(img: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    # Grayscale photos get a random colour cast so that they are not all neutral.
    if float((img[0] - img[1]).abs().mean()) < 1e-3:
        img = img * torch.from_numpy(rng.uniform(0.4, 1.2, (3, 1, 1)).astype(np.float32))
    return img.clamp(0, 1)


def photo_crop(rng: np.random.Generator, hw: Size, exclude: int = -1) -> tuple[torch.Tensor, int]:
    """A random crop of a random photograph (not `exclude`), possibly flipped."""
    pool = photo_pool()
    k = int(rng.integers(len(pool)))
    if k == exclude:
        k = (k + 1) % len(pool)
    img = augment.random_crop(pool[k], rng, hw, zoom=(1.0, 3.0))
    if rng.random() < 0.5:
        img = img.flip(-1)
    return _tint(img, rng), k


def _colours(rng: np.random.Generator, n: int) -> torch.Tensor:
    return torch.from_numpy(rng.uniform(0, 1, (n, 3, 1, 1)).astype(np.float32))


def procedural(rng: np.random.Generator, hw: Size) -> torch.Tensor:
    """A gradient, smooth noise or stripes texture (3, H, W)."""
    h, w = hw
    ys = torch.linspace(-1, 1, h)[:, None]
    xs = torch.linspace(-1, 1, w)[None, :]
    a = rng.uniform(0, 2 * math.pi)
    proj = xs * math.cos(a) + ys * math.sin(a)
    c = _colours(rng, 2)
    kind = rng.integers(3)
    if kind == 0:  # linear gradient
        t = ((proj + 1.5) / 3).clamp(0, 1)
    elif kind == 1:  # stripes
        t = 0.5 + 0.5 * torch.sin(proj * rng.uniform(3, 40) + rng.uniform(0, 6.3))
    else:  # smooth noise: a few octaves of upsampled random grids
        g = int(rng.integers(3, 12))
        low = torch.from_numpy(rng.uniform(0, 1, (1, 3, g, g)).astype(np.float32))
        mid = F.interpolate(low, size=(max(2, h // 4), max(2, w // 4)), mode="bicubic")
        return F.interpolate(mid, size=hw, mode="bilinear", align_corners=False)[0].clamp(0, 1)
    return c[0] * (1 - t) + c[1] * t


def background(rng: np.random.Generator, hw: Size) -> tuple[torch.Tensor, int]:
    """The live background: a photograph (70%) or a procedural texture; returns its photo index."""
    if rng.random() < 0.7:
        return photo_crop(rng, hw)
    return procedural(rng, hw), -1


def foreground(rng: np.random.Generator, hw: Size, live: torch.Tensor, exclude: int,
               shading: float = 0.0, skin: float = 0.0, tint: float = 0.25,
               camouflage: float = 0.0):  # fmt: skip
    """A photo-textured foreground, sometimes tinted toward the background's colours (hard case),
    with probability `shading` shaded (`shade`); with probability `skin` a smooth one (`skin`);
    with probability `camouflage` blended toward the colours of the background behind it."""
    fgr = photo_crop(rng, hw, exclude)[0] if rng.random() < 0.85 else procedural(rng, hw)
    # Drawn only when asked for (as shading below), so that the default draws stay the same.
    if skin > 0 and rng.random() < skin:
        fgr = smooth_surface(rng, hw)
    if rng.random() < tint:
        t = rng.uniform(0.3, 0.8)
        fgr = fgr * (1 - t) + augment.channel_mean(live) * t
    if camouflage > 0 and rng.random() < camouflage:  # drawn only when asked for, as below
        fgr = camouflaged(rng, fgr, live)
    # Drawn only when asked for, so that shading 0 leaves every later draw (and so the
    # evaluation sets) as they were.
    if shading > 0 and rng.random() < shading:
        fgr = shade(rng, fgr)
    return fgr


def camouflaged(rng: np.random.Generator, fgr: torch.Tensor, live: torch.Tensor) -> torch.Tensor:
    """The foreground blended toward the background's local colours (its mean over cells of about
    a sixteenth of the sample): an orange suit over a red motorcycle, skin over brown fur. The
    global tint above leaves the subject far from the backdrop wherever the backdrop is not its
    average colour; here the difference stays small everywhere, and the subject is opaque."""
    h, w = live.shape[-2:]
    cells = F.interpolate(live[None], size=(max(2, h // 16), max(2, w // 16)), mode="area")
    local = F.interpolate(cells, size=(h, w), mode="bilinear", align_corners=False)[0]
    t = rng.uniform(0.3, 0.7)
    return fgr * (1 - t) + local * t


def smooth_surface(rng: np.random.Generator, hw: Size) -> torch.Tensor:
    """A nearly textureless opaque surface: one colour (often a skin tone) under smooth light
    with a soft highlight and pore-scale noise of 1-3%.

    Every smooth area of the other foregrounds is a veil or a flat procedural fill, while faces,
    necks and plain clothes are smooth, opaque and shaded (bgmcli/weights/README.md, issue 21)."""
    h, w = hw
    if rng.random() < 0.6:  # skin: hue 0.02-0.11, from pale to dark
        value = rng.uniform(0.25, 0.95)
        tone = np.array([1.0, rng.uniform(0.62, 0.82), rng.uniform(0.45, 0.7)]) * value
    else:
        tone = rng.uniform(0.05, 0.95, 3)
    colour = torch.from_numpy(tone.astype(np.float32))[:, None, None]
    grid = torch.from_numpy(rng.uniform(0, 1, (1, 1, 3, 3)).astype(np.float32))
    light = F.interpolate(grid, size=hw, mode="bicubic", align_corners=True)[0]  # broad shading
    light = 1 - rng.uniform(0.2, 0.6) * (light - light.min()) / (light.max() - light.min() + 1e-6)
    ys = torch.linspace(-1, 1, h)[:, None]
    xs = torch.linspace(-1, 1, w)[None, :]
    cx, cy, r = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(0.1, 0.4)
    highlight = rng.uniform(0.0, 0.25) * torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / r**2)
    pores = torch.from_numpy(rng.normal(0, rng.uniform(0.01, 0.03), (1, h, w)).astype(np.float32))
    return (colour * light + highlight + pores).clamp(0, 1)


def shade(rng: np.random.Generator, fgr: torch.Tensor) -> torch.Tensor:
    """Darken a foreground by a shading field: smooth light falloff, or the light pattern of a
    photograph (gaps between grass blades, pebbles, bricks), down to a floor of 3-40%.

    Real subjects are dark in their folds, on their shadow side and between their strands and
    leaves, far more often than unshaded synthetic foregrounds (the shares: docs/training.md)."""
    hw = tuple(fgr.shape[-2:])
    field = procedural(rng, hw) if rng.random() < 0.5 else photo_crop(rng, hw)[0]
    field = field.mean(0, keepdim=True)
    low, high = float(field.min()), float(field.max())
    field = ((field - low) / max(high - low, 1e-6)) ** rng.uniform(0.5, 2.0)
    floor = rng.uniform(0.03, 0.4)
    return fgr * (floor + (1 - floor) * field)


def subject(rng: np.random.Generator, hw: Size, shape_set: str = "blobs") -> torch.Tensor:
    """The subject's alpha before hair and veils. "mixed": half the subjects are smooth ellipses,
    a quarter have a photograph's level line as outline, a quarter are leaves or petals."""
    if shape_set == "blobs":
        return outlines.silhouette(rng, hw)
    pick = rng.random()
    if pick < 0.5:
        return outlines.silhouette(rng, hw)
    if pick < 0.75:
        return outlines.photo_shape(rng, photo_crop(rng, hw)[0].mean(0))
    return outlines.foliage(rng, hw)


def tangle(
    rng: np.random.Generator, hw: Size, fgr: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A dense subject seen in depth: a dark mass behind 2-4 layers of leaves or thick opaque
    strands, each layer lit more than the one behind it; returns (fgr, alpha).

    In plants, bouquets, yarn and wicker the gaps between the front elements mostly show deeper
    elements, opaque and dark, not the background; a model that never saw such subjects calls
    those gaps background (docs/training.md: the real set's worst photographs)."""
    pha = outlines.silhouette(rng, hw)
    colour = fgr * rng.uniform(0.05, 0.3)  # deep inside, little light reaches
    layers = int(rng.integers(2, 5))
    for j in range(layers):
        if rng.random() < 0.5:
            layer = outlines.foliage(rng, hw)
        else:
            count = int(rng.integers(40, 200))
            layer = outlines.strands(rng, pha, count, width=(2, 8), opacity=(1.0, 1.0))
        light = (0.3 + 0.7 * (j + 1) / layers) * rng.uniform(0.8, 1.0)
        texture = photo_crop(rng, hw)[0] if rng.random() < 0.5 else fgr
        covered = outlines.over(pha, layer)
        colour = (texture * light * layer + colour * pha * (1 - layer)) / covered.clamp(min=1e-3)
        pha = covered
    return colour.clamp(0, 1), pha


def matte(rng: np.random.Generator, hw: Size, fgr: torch.Tensor, live: torch.Tensor,
          shape_set: str = "blobs", veil_share: float = 0.3):  # fmt: skip
    """Alpha with silhouette, hair and veil; recolours `fgr` where the strands are."""
    if shape_set == "tangled" and rng.random() < TANGLE_SHARE:
        fgr, body = tangle(rng, hw, fgr)
    else:
        body = subject(rng, hw, "mixed" if shape_set == "tangled" else shape_set)
    n_hair = int(rng.integers(0, 150)) if rng.random() < 0.7 else 0
    hair = outlines.strands(rng, body, n_hair)
    pha = outlines.over(body, hair)
    if rng.random() < 0.6:
        # Hair colour: dark/natural, or the background's own colour (the hardest case).
        hair_col = _colours(rng, 1)[0] * rng.uniform(0.2, 1.0)
        if rng.random() < 0.3:
            hair_col = augment.channel_mean(live)
        only = hair * (1 - body)
        fgr = fgr * (1 - only) + hair_col * only
    if rng.random() < veil_share:
        pha = outlines.over(pha, outlines.veil(rng, hw))
    return fgr, pha


def generate(
    rng: np.random.Generator,
    hw: Size,
    augment_: bool = True,
    recipe: SampleRecipe = FIRST_RECIPE,
) -> dict[str, torch.Tensor]:
    """One sample dict: src, bgr (plate), true_pha, true_fgr as float32 tensors in [0, 1]."""
    live, k = background(rng, hw)
    fgr = foreground(rng, hw, live, exclude=k, shading=recipe.shading, skin=recipe.skin_share,
                     tint=recipe.tint_share, camouflage=recipe.camouflage_share)  # fmt: skip
    fgr, pha = matte(rng, hw, fgr, live, recipe.shapes, recipe.veil_share)
    if rng.random() < 0.3:
        # Blur the premultiplied colour with the alpha so the blurred fgr is not haloed.
        prem, pha = augment.motion_blur([fgr * pha, pha], rng)
        fgr = torch.where(pha > 1e-3, prem / pha.clamp(min=1e-3), fgr)
    # Snap float round-off so that opaque and empty regions are exactly 1 and 0.
    pha = torch.where(pha > 1 - 1e-4, 1.0, torch.where(pha < 1e-4, 0.0, pha))
    return augment.compose_sample(fgr.clamp(0, 1), pha, live, rng, augment_, recipe)


class SyntheticDataset(Dataset):
    """`length` procedural samples of size (H, W); item i is a pure function of (seed, i)."""

    def __init__(
        self,
        *,
        size: Size,
        length: int,
        seed: int,
        augment: bool = True,
        recipe: SampleRecipe = FIRST_RECIPE,
    ):
        self.size, self.length, self.seed, self.augment = tuple(size), length, seed, augment
        self.recipe = recipe

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, i]))
        return generate(rng, self.size, self.augment, self.recipe)
