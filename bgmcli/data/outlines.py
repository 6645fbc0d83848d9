"""Procedural alpha mattes: body-like silhouettes with soft edges, ragged outlines (a
photograph's level lines, leaves and petals), hair-like strands, veils.

Pure functions of an explicit numpy Generator returning float32 (1, H, W) tensors in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

Size = tuple[int, int]


def _smooth_field(rng: np.random.Generator, hw: Size, cells: int = 5) -> torch.Tensor:
    """A smooth random field in about [-1, 1] of size hw (bicubic from a cells x cells grid)."""
    low = torch.from_numpy(rng.uniform(-1, 1, size=(1, 1, cells, cells)).astype(np.float32))
    return F.interpolate(low, size=hw, mode="bicubic", align_corners=False)[0, 0]


def _ellipse_depth(ys, xs, rng: np.random.Generator, cx, cy, ax, ay) -> torch.Tensor:
    """Approximate signed distance (pixels, positive inside) to a rotated ellipse's outline."""
    a = rng.uniform(-0.4, 0.4)
    dx, dy = xs - cx, ys - cy
    u = (dx * math.cos(a) + dy * math.sin(a)) / ax
    v = (-dx * math.sin(a) + dy * math.cos(a)) / ay
    return (1 - torch.sqrt(u * u + v * v)) * min(ax, ay)


def _parts(rng: np.random.Generator, hw: Size) -> list[tuple[float, float, float, float]]:
    """Ellipses (cx, cy, ax, ay) in pixels: head and shoulders (60%) or random blobs."""
    h, w = hw
    cx = w * rng.uniform(0.35, 0.65)
    if rng.random() < 0.6:
        s = rng.uniform(0.7, 1.1)
        return [
            (cx, h * rng.uniform(0.25, 0.4), w * 0.13 * s, h * 0.17 * s),  # head
            (cx, h * 0.55, w * 0.07 * s, h * 0.12 * s),  # neck
            (cx + w * rng.uniform(-0.05, 0.05), h * 1.05, w * 0.4 * s, h * 0.4 * s),  # shoulders
        ]
    cy = h * rng.uniform(0.35, 0.65)
    return [
        (cx + w * rng.uniform(-0.2, 0.2), cy + h * rng.uniform(-0.2, 0.2),
         w * rng.uniform(0.06, 0.25), h * rng.uniform(0.06, 0.25))
        for _ in range(int(rng.integers(2, 7)))
    ]  # fmt: skip


def silhouette(rng: np.random.Generator, hw: Size) -> torch.Tensor:
    """A union of ellipses with a wobbly outline and a soft edge 0.7-4 px wide.

    The signed distance is smooth, so it is computed at 1/4 size and upsampled; only the
    edge ramp is evaluated at full resolution, which keeps outlines sharp and cheap.
    """
    h, w = hw
    lh, lw = max(2, h // 4), max(2, w // 4)
    ys = (torch.arange(lh, dtype=torch.float32)[:, None] + 0.5) * (h / lh)
    xs = (torch.arange(lw, dtype=torch.float32)[None, :] + 0.5) * (w / lw)
    depth = torch.full((lh, lw), -1e4)
    for cx, cy, ax, ay in _parts(rng, hw):
        depth = torch.maximum(depth, _ellipse_depth(ys, xs, rng, cx, cy, ax, ay))
    depth += _smooth_field(rng, (lh, lw), 6) * (min(h, w) * rng.uniform(0.0, 0.04))
    full = F.interpolate(depth[None, None], size=hw, mode="bilinear", align_corners=False)[0]
    return (full / rng.uniform(0.7, 4.0) + 0.5).clamp_(0, 1)


def strands(
    rng: np.random.Generator,
    pha: torch.Tensor,
    count: int,
    width: tuple[int, int] = (1, 4),
    opacity: tuple[float, float] = (0.25, 1.0),
) -> torch.Tensor:
    """Anti-aliased hair-like curves growing out of `pha`: `width` px wide (the upper bound
    excluded), of `opacity` (the defaults: hair 1-3 px wide, partly transparent).

    All curves are quadratic Beziers sampled every <= 0.67 px and splatted bilinearly in one
    bincount, which is what makes hundreds of strands affordable per sample.
    """
    h, w = pha.shape[-2:]
    a = pha[0, ::2, ::2].numpy()  # stride 2: start points need not be exhaustive
    edge = np.argwhere((a > 0.3) & (a < 0.9)) * 2
    if len(edge) == 0 or count == 0:
        return torch.zeros(1, h, w)
    inside = np.argwhere(a > 0.5) * 2
    cy, cx = inside.mean(0) if len(inside) else (h / 2, w / 2)
    start = edge[rng.integers(0, len(edge), count)][:, ::-1].astype(np.float64)  # (x, y)
    out = start - np.array([cx, cy])
    ang = np.arctan2(out[:, 1], out[:, 0]) + rng.uniform(-0.7, 0.7, count)
    length = min(h, w) * rng.uniform(0.04, 0.25, count)
    bend = rng.uniform(-0.6, 0.6, count)
    d = np.stack([np.cos(ang), np.sin(ang)], 1)
    n = np.stack([-d[:, 1], d[:, 0]], 1)
    p1 = start + d * length[:, None] * 0.5 + n * (bend * length)[:, None]
    ang2 = ang + bend * 1.5
    p2 = start + np.stack([np.cos(ang2), np.sin(ang2)], 1) * length[:, None]
    width = rng.integers(width[0], width[1], count)
    offsets = [(i, k - (width[i] - 1) / 2) for i in range(count) for k in range(width[i])]
    idx = np.array([o[0] for o in offsets])
    off = np.array([o[1] for o in offsets])[:, None]
    steps = int(math.ceil(1.5 * length.max())) + 2  # <= 0.67 px apart
    t = np.linspace(0, 1, steps)[None, :, None]
    a, b, c = (q[idx][:, None, :] + n[idx][:, None, :] * off[:, :, None] for q in (start, p1, p2))
    pts = (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c  # (strands, steps, 2)
    opacity = rng.uniform(opacity[0], opacity[1], count)[idx]
    weight = np.broadcast_to((opacity * length[idx] / (steps - 1))[:, None], pts.shape[:2])
    return _splat(pts.reshape(-1, 2), weight.reshape(-1), h, w)


def _splat(pts: np.ndarray, weight: np.ndarray, h: int, w: int) -> torch.Tensor:
    """Bilinearly accumulate weighted points into an (1, H, W) coverage map, clipped to 1."""
    x = pts[:, 0].astype(np.float32) - 0.5  # pixel centres at +0.5
    y = pts[:, 1].astype(np.float32) - 0.5
    weight = weight.astype(np.float32)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    acc = np.zeros(h * w)
    gx, gy = 1 - fx, 1 - fy
    corners = ((0, 0, gx * gy), (1, 0, fx * gy), (0, 1, gx * fy), (1, 1, fx * fy))
    for dx, dy, wt in corners:
        xi, yi = (x0 + dx).astype(np.int64), (y0 + dy).astype(np.int64)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        acc += np.bincount(yi[ok] * w + xi[ok], weights=(weight * wt)[ok], minlength=h * w)
    return torch.from_numpy(np.minimum(acc, 1.0).astype(np.float32).reshape(1, h, w))


def veil(rng: np.random.Generator, hw: Size) -> torch.Tensor:
    """A semi-transparent soft region (opacity 0.15-0.7), like glass, tulle or smoke."""
    h, w = hw
    lh, lw = max(2, h // 8), max(2, w // 8)
    ys = (torch.arange(lh, dtype=torch.float32)[:, None] + 0.5) * (h / lh)
    xs = (torch.arange(lw, dtype=torch.float32)[None, :] + 0.5) * (w / lw)
    cx, cy = w * rng.uniform(0.2, 0.8), h * rng.uniform(0.2, 0.8)
    ax, ay = w * rng.uniform(0.08, 0.3), h * rng.uniform(0.08, 0.3)
    depth = _ellipse_depth(ys, xs, rng, cx, cy, ax, ay)
    mask = (depth / rng.uniform(2.0, 20.0) + 0.5).clamp_(0, 1)
    mask = F.interpolate(mask[None, None], size=hw, mode="bilinear", align_corners=False)[0]
    return mask * rng.uniform(0.15, 0.7)


def over(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Alpha of `b` laid over `a`."""
    return 1 - (1 - a) * (1 - b)


def _soft_edge(inside: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """A binary mask as alpha: Gaussian-blurred (sigma 0.4-1.5 px), an edge 1-4 px wide that
    also rounds the pixel steps of the outline off."""
    soft = gaussian_filter(inside.astype(np.float32), rng.uniform(0.4, 1.5), mode="nearest")
    # snap round-off so that opaque and empty regions stay exactly 1 and 0
    soft = np.where(soft > 1 - 1e-3, 1.0, np.where(soft < 1e-3, 0.0, soft)).astype(np.float32)
    return torch.from_numpy(soft)[None]


def photo_shape(rng: np.random.Generator, gray: torch.Tensor) -> torch.Tensor:
    """Alpha whose outline is a level line of a photograph (H, W): the ragged, concave, holed
    contours of real objects (petals, leaves, coins) that smooth ellipses never show.
    Kept inside a random subject-sized ellipse so there is background around it."""
    h, w = gray.shape
    field = gray.numpy()
    level = np.quantile(field, rng.uniform(0.3, 0.7))
    inside = field > level if rng.random() < 0.5 else field < level
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    ax, ay = w * rng.uniform(0.2, 0.45), h * rng.uniform(0.2, 0.45)
    inside &= ((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 < 1
    return _soft_edge(inside, rng)


def foliage(rng: np.random.Generator, hw: Size) -> torch.Tensor:
    """Leaves or petals: 8-60 thin ellipses (3-25% of the frame long) around 1-3 centres, as in
    plants and flowers, with thin stems; outlines sharp and concave between the leaves."""
    h, w = hw
    side = min(h, w)
    inside = np.zeros((h, w), dtype=bool)
    centres = rng.uniform([0.3 * w, 0.3 * h], [0.7 * w, 0.7 * h], size=(int(rng.integers(1, 4)), 2))
    for _ in range(int(rng.integers(8, 61))):
        cx, cy = centres[rng.integers(len(centres))]
        ang = rng.uniform(0, 2 * math.pi)
        length = side * rng.uniform(0.03, 0.25)
        width = length * rng.uniform(0.08, 0.4)
        reach = rng.uniform(0.3, 1.2) * length  # where the leaf sits along its stem
        lx, ly = cx + math.cos(ang) * reach, cy + math.sin(ang) * reach
        _fill_ellipse(inside, lx, ly, length / 2, width / 2, ang)
        _fill_ellipse(inside, (cx + lx) / 2, (cy + ly) / 2, reach / 2, max(0.6, width / 10), ang)
    return _soft_edge(inside, rng)


def _fill_ellipse(mask: np.ndarray, cx, cy, a: float, b: float, ang: float) -> None:
    """Set the pixels of a rotated ellipse (semi-axes a along `ang`, b across) in `mask`."""
    h, w = mask.shape
    r = math.ceil(max(a, b)) + 1
    y0, y1 = max(0, int(cy) - r), min(h, int(cy) + r + 1)
    x0, x1 = max(0, int(cx) - r), min(w, int(cx) + r + 1)
    if y0 >= y1 or x0 >= x1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    dx, dy = xs - cx, ys - cy
    u = (dx * math.cos(ang) + dy * math.sin(ang)) / a
    v = (-dx * math.sin(ang) + dy * math.cos(ang)) / b
    mask[y0:y1, x0:x1] |= u * u + v * v < 1
