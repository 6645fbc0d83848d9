"""Matting errors as the benchmark code defines them: SAD, MSE, MAD, Grad, Conn, foreground, dtSSD,
and the fraction of a frame the refiner refined.

Pure functions on float arrays in [0, 1] (float32 is computed in float32, anything else in
float64; `refined_fraction` takes the model's `ref_sm` tensor); each docstring names the
reference it follows and its units.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import sparse
from scipy.sparse import csgraph

__all__ = ["sad", "mse", "mad", "grad", "conn", "fgr_l1", "fgr_mse", "dtssd", "compute_all"]

_STRIP = 32  # rows per strip in grad: keeps the column filtering's buffers in cache


def _as_float(x) -> np.ndarray:
    """float32 and float64 arrays stay as they are (no copy); anything else becomes float64."""
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _check_mask(mask, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (e.g. trimap == 128), got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"mask has shape {mask.shape}, expected {shape}")
    return mask


def _check(pred, true, mask=None, *, ndim: int | None = None):
    """Both arrays as floats of one dtype, same shape (and ndim if given), mask checked."""
    p, t = _as_float(pred), _as_float(true)
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same shape, got {p.shape} and {t.shape}")
    if ndim is not None and p.ndim != ndim:
        raise ValueError(f"expected {ndim}-D arrays, got shape {p.shape}")
    if p.dtype != t.dtype:
        p, t = p.astype(np.float64), t.astype(np.float64)
    return p, t, _check_mask(mask, p.shape)


def _region_sum(x: np.ndarray, mask: np.ndarray | None) -> float:
    if mask is None:
        return float(x.sum(dtype=np.float64))
    return float(x.sum(dtype=np.float64, where=mask))


def _region_mean(x: np.ndarray, mask: np.ndarray | None) -> float:
    count = x.size if mask is None else np.count_nonzero(mask)
    return _region_sum(x, mask) / count if count else math.nan


def sad(pred, true, mask=None) -> float:
    """Sum of absolute differences over the region, divided by 1000 (DIM / BGMv2 tables)."""
    p, t, mask = _check(pred, true, mask)
    return _region_sum(np.abs(p - t), mask) / 1000


def mse(pred, true, mask=None) -> float:
    """Mean squared error over the region, raw (not x1e3); nan for an empty region.

    As DIM's compute_mse_loss.m: sum of squared errors over the trimap's unknown band / its area.
    """
    p, t, mask = _check(pred, true, mask)
    d = p - t
    return _region_mean(d * d, mask)


def mad(pred, true, mask=None) -> float:
    """Mean absolute difference over the region, raw (not x1e3); nan for an empty region."""
    p, t, mask = _check(pred, true, mask)
    return _region_mean(np.abs(p - t), mask)


# --- Grad: DIM's compute_gradient_loss.m with Guanglei Xiong's gaussgradient.m -------------------


def _gauss_kernels(sigma: float, eps: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """The two 1-D factors of gaussgradient.m's 2-D kernel (Gaussian x its derivative).

    gaussgradient.m builds hx(i, j) = gauss(i) * dgauss(j) on a (2 * halfsize + 1)^2 grid and
    divides it by its L2 norm; that equals the product of the two factors each of unit L2 norm.
    """
    half = math.ceil(sigma * math.sqrt(-2 * math.log(math.sqrt(2 * math.pi) * sigma * eps)))
    x = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-(x**2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    dg = -x * g / sigma**2
    return g / np.linalg.norm(g), dg / np.linalg.norm(dg)


def _along_columns(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter every column with `kernel`, edge rows replicated (imfilter's 'replicate').

    A banded sparse matrix product: much faster than ndimage.correlate1d along axis 0.
    """
    n, h = x.shape[0], len(kernel) // 2
    rows = np.repeat(np.arange(n), len(kernel))
    cols = np.clip(np.arange(n)[:, None] + np.arange(-h, h + 1), 0, n - 1).ravel()
    op = sparse.csr_array((np.tile(kernel.astype(x.dtype), n), (rows, cols)), shape=(n, n))
    return op @ x


def _along_rows(padded: np.ndarray, kernel: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """Filter rows (already edge-padded by len(kernel) // 2) with a symmetric or antisymmetric
    kernel, pairing the taps; an antisymmetric kernel then gives exactly 0 on flat input."""
    h, w = len(kernel) // 2, out.shape[1]
    odd = kernel[h] == 0
    pair = np.subtract if odd else np.add
    np.multiply(padded[:, h : h + w], kernel[h], out=out)
    for j in range(1, h + 1):
        pair(padded[:, h + j : h + j + w], padded[:, h - j : h - j + w], out=tmp)
        tmp *= kernel[h + j]
        out += tmp


def _pad_rows(x: np.ndarray, h: int, buf: np.ndarray) -> np.ndarray:
    buf = buf[: len(x)]
    buf[:, h:-h] = x
    buf[:, :h] = x[:, :1]
    buf[:, -h:] = x[:, -1:]
    return buf


def _gradient_strips(x: np.ndarray, g: np.ndarray, dg: np.ndarray, scale: float):
    """Yield (first row, Gaussian gradient magnitude of scale * x) strip by strip."""
    h, (rows, width) = len(g) // 2, x.shape
    smooth = _along_columns(x, g * scale)  # Gaussian in y, then its derivative in x -> gx
    deriv = _along_columns(x, dg * scale)  # derivative in y, then the Gaussian in x -> gy
    g, dg = g.astype(x.dtype), dg.astype(x.dtype)  # float32 stays float32 in the row passes
    pad = np.empty((_STRIP, width + 2 * h), x.dtype)
    gx, gy, tmp = (np.empty((_STRIP, width), x.dtype) for _ in range(3))
    for r in range(0, rows, _STRIP):
        n = min(_STRIP, rows - r)
        _along_rows(_pad_rows(smooth[r : r + n], h, pad), dg, gx[:n], tmp[:n])
        _along_rows(_pad_rows(deriv[r : r + n], h, pad), g, gy[:n], tmp[:n])
        gx[:n] *= gx[:n]
        gy[:n] *= gy[:n]
        gx[:n] += gy[:n]
        yield r, np.sqrt(gx[:n], out=gx[:n])


def grad(pred, true, mask=None, sigma: float = 1.4) -> float:
    """Gradient error, divided by 1000 (DIM / BGMv2 tables).

    Follows DIM's compute_gradient_loss.m: both mattes min-max normalised (mat2gray), gradient
    magnitude from gaussgradient.m's first-order Gaussian derivative filters (sigma 1.4, edges
    replicated), summed (|grad p| - |grad t|)^2 over the region. Filtering uses the whole image.
    """
    p, t, mask = _check(pred, true, mask, ndim=2)
    g, dg = _gauss_kernels(sigma)
    strips = []
    for x in (p, t):
        # mat2gray's (x - min) / (max - min) as a scale of the linear filters (the offset
        # cancels); a constant matte has zero gradient either way.
        span = float(x.max() - x.min())
        if span > 0 and not math.isfinite(1 / span):  # subnormal span: divide, as mat2gray does
            x, span = (x - x.min()) / span, 1.0
        strips.append(_gradient_strips(x, g, dg, 1 / span if span > 0 else 0.0))
    total = 0.0
    for (r, mp), (_, mt) in zip(*strips, strict=True):
        mp -= mt
        mp *= mp
        total += _region_sum(mp, None if mask is None else mask[r : r + len(mp)])
    return total / 1000


# --- Conn: DIM's compute_connectivity_error.m ----------------------------------------------------


def _threshold_count(step: float) -> int:
    """n for step = 1 / n: the thresholds 0:step:1 are k / n (0, 0.1, ..., 1 for step 0.1)."""
    n = round(1 / step) if step > 0 else 0
    if not 1 <= n <= 255 or not math.isclose(n * step, 1):
        raise ValueError(f"conn's step must be 1 / n for a whole n up to 255, got {step}")
    return n


def _at_least(value: float, dtype: np.dtype) -> np.generic:
    """The smallest number of `dtype` >= value, so that `x >= it` in dtype is `x >= value`."""
    v = dtype.type(value)
    return v if float(v) >= value else np.nextafter(v, dtype.type(np.inf))


def _row_transitions(both: np.ndarray, n: int):
    """Where the number of thresholds reached (both >= t) changes along each row.

    Returns its value left and right of each change and the change's key row * (W + 1) + col,
    col being the first column right of it (0 to W: rows are padded with a 0 on each side).
    """
    rows, width = both.shape
    q = np.zeros((rows, width + 2), np.uint8)
    inner = q[:, 1:-1]
    for k in range(1, n + 1):
        inner += both >= _at_least(k / n, both.dtype)
    flat = q.ravel()
    idx = np.flatnonzero(flat[1:] != flat[:-1])  # the pads are 0, so no change spans two rows
    return flat[idx], flat[idx + 1], idx - idx // (width + 2)


def _run_components(starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Component index of each run [start, end) given as sorted keys: 4-connected components,
    as runs on adjacent rows that share a column touch."""
    up = width + 1  # key offset of the same column one row up
    lo = np.searchsorted(ends, starts - up, side="right")  # first run above ending after start
    hi = np.searchsorted(starts, ends - up, side="left")  # first run above starting at/after end
    # run j touches runs lo[j] .. hi[j] - 1 of the row above: those are its edges in the graph
    indptr = np.concatenate(([0], np.cumsum(np.maximum(hi - lo, 0))))
    above = np.repeat(lo - indptr[:-1], np.diff(indptr)) + np.arange(indptr[-1])
    graph = sparse.csr_array((np.ones(len(above)), above, indptr), shape=(len(starts),) * 2)
    return csgraph.connected_components(graph, directed=False)[1]


def _largest_runs(starts: np.ndarray, ends: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which runs form the largest component; ties go to the one bwconncomp lists first, i.e.
    with the first pixel in column-major order."""
    comp = _run_components(starts, ends, shape[1])
    sizes = np.bincount(comp, weights=ends - starts)
    tied = np.flatnonzero(sizes[comp] == sizes.max())
    first = (starts[tied] % (shape[1] + 1)) * shape[0] + starts[tied] // (shape[1] + 1)
    return comp == comp[tied[np.argmin(first)]]


def _round_down_map(both: np.ndarray, n: int) -> np.ndarray:
    """compute_connectivity_error.m's l_map for both = min(pred, true).

    Per pixel, the threshold before the first at which it is outside the largest 4-connected
    component of {both >= t} (1 if never). The sets shrink as t grows: a pixel still inside lies
    in the previous largest component, so once the largest component lies elsewhere every
    pixel has left. Components are found on the rows' runs, not pixel by pixel.
    """
    rows, width = both.shape
    left, right, keys = _row_transitions(both, n)
    depth = np.zeros(rows * (width + 1), np.int16)  # +1 / -1 where a component's run starts / ends
    prev = None
    for i in range(1, n + 1):
        starts, ends = keys[(left < i) & (right >= i)], keys[(left >= i) & (right < i)]
        if len(starts) == 0:
            break
        largest = _largest_runs(starts, ends, both.shape)
        starts, ends = starts[largest], ends[largest]
        if prev is not None:  # did the largest component stay inside the previous one?
            k = np.searchsorted(prev[0], starts[0], side="right") - 1
            if k < 0 or prev[1][k] <= starts[0]:
                break
        depth[starts] += 1
        depth[ends] -= 1
        prev = starts, ends
    depth = np.cumsum(depth.reshape(rows, width + 1)[:, :width], axis=1, dtype=np.int16)
    return np.divide(depth, n, dtype=both.dtype)  # k / n exactly; never left: n / n = 1


def _phi(x: np.ndarray, level: np.ndarray) -> np.ndarray:
    d = x - level
    d *= d >= 0.15
    return d  # phi = 1 - d; the 1 cancels in |phi_p - phi_t|


def conn(pred, true, mask=None, step: float = 0.1) -> float:
    """Connectivity error, divided by 1000 (DIM / BGMv2 tables).

    Follows DIM's compute_connectivity_error.m: thresholds 0:step:1, the largest 4-connected
    component of {pred >= t and true >= t} on the whole image, phi = 1 - d * (d >= 0.15) with
    d = alpha - l_map, summed |phi_p - phi_t| over the region.
    """
    p, t, mask = _check(pred, true, mask, ndim=2)
    level = _round_down_map(np.minimum(p, t), _threshold_count(step))
    err = _phi(p, level)
    err -= _phi(t, level)
    return _region_sum(np.abs(err, out=err), mask) / 1000


# --- Foreground and temporal errors --------------------------------------------------------------


def _fgr_diff(pred_fgr, true_fgr, true_pha, mask) -> np.ndarray:
    """pred - true foreground (N, 3) at the N pixels where true alpha > 0 (and mask)."""
    p, t, _ = _check(pred_fgr, true_fgr, ndim=3)
    if p.shape[-1] != 3:
        raise ValueError(f"foregrounds must be H x W x 3 (channels last), got shape {p.shape}")
    pha = np.asarray(true_pha)
    if pha.shape != p.shape[:2]:
        raise ValueError(f"true_pha has shape {pha.shape}, expected {p.shape[:2]}")
    region = pha > 0
    mask = _check_mask(mask, pha.shape)
    if mask is not None:
        region &= mask
    return p[region] - t[region]


def fgr_l1(pred_fgr, true_fgr, true_pha, mask=None) -> float:
    """Mean |pred - true| over channels and pixels with true alpha > 0 (RVM's evaluation); raw
    units, nan if there are none. Foregrounds are H x W x 3 (channels last), alpha H x W."""
    d = _fgr_diff(pred_fgr, true_fgr, true_pha, mask)
    return float(np.abs(d).mean(dtype=np.float64)) if d.size else math.nan


def fgr_mse(pred_fgr, true_fgr, true_pha, mask=None) -> float:
    """Mean (pred - true)^2 over channels and pixels with true alpha > 0 (RVM's evaluation); raw
    units, nan if there are none. Foregrounds are H x W x 3 (channels last), alpha H x W."""
    d = _fgr_diff(pred_fgr, true_fgr, true_pha, mask)
    return float((d * d).mean(dtype=np.float64)) if d.size else math.nan


def dtssd(pred_seq, true_seq, mask=None) -> float:
    """Temporal coherence error of alpha sequences (T, H, W), T >= 2 (Erofeev et al. 2015).

    sqrt(mean over t of the sum over the region of ((pred_t - pred_{t-1}) - (true_t -
    true_{t-1}))^2), in raw alpha units: a sum over pixels, so it grows with the region's size.
    mask is (H, W) or (T, H, W); with the latter a pixel counts at step t if it is in frame t's
    or t-1's region.
    """
    p, t, _ = _check(pred_seq, true_seq, ndim=3)
    if p.shape[0] < 2:
        raise ValueError(f"dtssd needs at least 2 frames, got {p.shape[0]}")
    err = np.diff(p, axis=0) - np.diff(t, axis=0)
    err *= err
    if mask is not None:
        m = np.asarray(mask)
        m = _check_mask(m, p.shape if m.ndim == 3 else p.shape[1:])
        if m.ndim == 3:
            m = m[1:] | m[:-1]
        mask = np.broadcast_to(m, err.shape)
    return math.sqrt(_region_sum(err, mask) / err.shape[0])


def compute_all(pred_pha, true_pha, mask=None) -> dict[str, float]:
    """The five alpha metrics of one frame, keyed sad mse mad grad conn (units as above)."""
    p, t, mask = _check(pred_pha, true_pha, mask, ndim=2)
    return {f.__name__: f(p, t, mask) for f in (sad, mse, mad, grad, conn)}


def holes(pred_pha, interior, level: float = 0.9) -> float:
    """Share of the pixels that are certainly opaque (`interior`, (H, W) bool) where the predicted
    alpha is below `level`: see-through patches inside a subject; nan if there are none."""
    p = _as_float(pred_pha)
    inside = np.asarray(interior, dtype=bool)
    return float((p[inside] < level).mean()) if inside.any() else math.nan


def leak(pred_pha, far, level: float = 0.1) -> float:
    """Share of the pixels that are certainly background (`far`, (H, W) bool) where the predicted
    alpha is above `level`: background let through as foreground; nan if there are none."""
    p = _as_float(pred_pha)
    outside = np.asarray(far, dtype=bool)
    return float((p[outside] > level).mean()) if outside.any() else math.nan


def refined_fraction(ref_sm: torch.Tensor, height: int, width: int) -> float:
    """Fraction of the frame's pixels inside refined 4x4 patches. A quarter-resolution location
    covers a 4x4 patch; patches of the padded border count only their in-frame pixels."""
    ref = ref_sm.float().flatten(0, 1)  # (B, Hq, Wq)
    rows = (height - 4 * torch.arange(ref.shape[1], device=ref.device)).clamp(0, 4)
    cols = (width - 4 * torch.arange(ref.shape[2], device=ref.device)).clamp(0, 4)
    covered = torch.einsum("bhw,h,w->", ref, rows.float(), cols.float())
    return float(covered) / (ref.shape[0] * height * width)
