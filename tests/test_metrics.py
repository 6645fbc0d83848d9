import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from bgmcli import metrics
from bgmcli.metrics import compute_all, conn, dtssd, fgr_l1, fgr_mse, grad, mad, mse, sad

ALPHA_METRICS = [sad, mse, mad, grad, conn]


def soft_disk(size=16, radius=5.0):
    yy, xx = np.mgrid[:size, :size]
    return np.clip(radius - np.hypot(yy - size / 2, xx - size / 2), 0, 1)


def noisy(true, seed=0, sigma=0.2):
    return np.clip(true + np.random.default_rng(seed).normal(0, sigma, true.shape), 0, 1)


# Literal ports of DIM's MATLAB code (loops and all), to check the vectorised versions against.
def reference_grad(pred, true, sigma=1.4):
    def gauss(x):
        return math.exp(-(x**2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))

    def dgauss(x):
        return -x * gauss(x) / sigma**2

    def mat2gray(x):
        return (x - x.min()) / (x.max() - x.min())

    half = math.ceil(sigma * math.sqrt(-2 * math.log(math.sqrt(2 * math.pi) * sigma * 1e-2)))
    taps = range(-half, half + 1)
    hx = np.array([[gauss(i) * dgauss(j) for j in taps] for i in taps])
    hx /= np.sqrt((hx**2).sum())

    def amp(x):
        gx = ndimage.convolve(x, hx, mode="nearest")  # imfilter(..., 'replicate', 'conv')
        gy = ndimage.convolve(x, hx.T, mode="nearest")
        return np.sqrt(gx**2 + gy**2)

    return ((amp(mat2gray(pred)) - amp(mat2gray(true))) ** 2).sum() / 1000


def reference_conn(pred, true):
    thresh = np.arange(0, 11) / 10
    l_map = -np.ones(pred.shape)
    for ii in range(1, len(thresh)):
        both = (pred >= thresh[ii]) & (true >= thresh[ii])
        labels, n = ndimage.label(both.T)  # transposed: bwconncomp numbers in column-major order
        omega = np.zeros(pred.shape, bool)
        if n:
            omega = labels.T == np.argmax(np.bincount(labels.ravel())[1:]) + 1
        l_map[(l_map == -1) & ~omega] = thresh[ii - 1]
    l_map[l_map == -1] = 1
    pred_d, true_d = pred - l_map, true - l_map
    pred_phi = 1 - pred_d * (pred_d >= 0.15)
    true_phi = 1 - true_d * (true_d >= 0.15)
    return np.abs(pred_phi - true_phi).sum() / 1000


def test_perfect_prediction_scores_zero():
    true = noisy(soft_disk(), seed=1)
    for metric in ALPHA_METRICS:
        assert metric(true, true.copy()) == 0
    fgr = np.random.default_rng(2).random(true.shape + (3,))
    assert fgr_l1(fgr, fgr.copy(), true) == 0
    assert fgr_mse(fgr, fgr.copy(), true) == 0
    seq = np.stack([true, true * 0.5, true**2])
    assert dtssd(seq, seq.copy()) == 0


def test_sad_mse_mad_by_hand():
    pred = np.array([[0.0, 0.5], [1.0, 0.25]])
    true = np.array([[0.0, 1.0], [0.5, 0.25]])
    assert sad(pred, true) == pytest.approx(1.0 / 1000)  # |d| = 0, .5, .5, 0
    assert mad(pred, true) == pytest.approx(0.25)
    assert mse(pred, true) == pytest.approx(0.125)


def test_mask_restricts_the_region():
    pred = np.array([[0.0, 0.5], [1.0, 0.25]])
    true = np.array([[0.0, 1.0], [0.5, 0.25]])
    top = np.array([[True, True], [False, False]])
    assert sad(pred, true, top) == pytest.approx(0.5 / 1000)
    assert mad(pred, true, top) == pytest.approx(0.25)
    assert mse(pred, true, top) == pytest.approx(0.125)
    assert math.isnan(mse(pred, true, np.zeros((2, 2), bool)))  # an empty region has no mean
    assert sad(pred, true, np.zeros((2, 2), bool)) == 0


@pytest.mark.parametrize("metric", [grad, conn])
def test_grad_and_conn_split_over_complementary_masks(metric):
    true = soft_disk()
    pred = noisy(true)
    mask = np.zeros(true.shape, bool)
    mask[:, :8] = True
    total = metric(pred, true)
    assert metric(pred, true, mask) + metric(pred, true, ~mask) == pytest.approx(total)


def test_grad_filters_the_whole_image_before_masking():
    true = soft_disk()
    mask = np.zeros(true.shape, bool)
    mask[:, :8] = True
    pred = np.where(mask, true, noisy(true))  # right inside the mask, wrong just outside it
    assert grad(pred, true, mask) > 0


def test_grad_is_blind_to_gain_and_offset():
    true = noisy(soft_disk(), seed=3)
    assert grad(true * 0.5 + 0.1, true) == pytest.approx(0, abs=1e-12)
    assert grad(noisy(true, seed=4), true) > 0


@pytest.mark.parametrize("seed", range(4))
def test_grad_and_conn_match_the_matlab_code(seed):
    rng = np.random.default_rng(seed)
    true = ndimage.gaussian_filter(rng.random((23, 31)), 2)
    true = (true - true.min()) / np.ptp(true)
    pred = np.clip(true + rng.normal(0, 0.15, true.shape), 0, 1)
    if seed % 2:  # 8-bit mattes land exactly on thresholds such as 0.2 = 51 / 255
        pred, true = np.round(pred * 255) / 255, np.round(true * 255) / 255
    if seed >= 2:  # not spanning [0, 1]: mat2gray matters
        pred = 0.1 + 0.8 * pred
    assert grad(pred, true) == pytest.approx(reference_grad(pred, true), rel=1e-9)
    assert conn(pred, true) == pytest.approx(reference_conn(pred, true), rel=1e-9, abs=1e-12)


def test_conn_by_hand():
    # An all-zero prediction: nothing survives the first threshold, l_map = 0, and every true
    # alpha >= 0.15 counts fully.
    true = np.zeros((5, 5))
    true[1:4, 1:4] = 1
    true[0, 0], true[4, 4] = 0.1, 0.5
    assert conn(np.zeros_like(true), true) == pytest.approx((9 + 0.5) / 1000)
    # The soft pixel drops out of the component at 0.6, so l_map = 0.5 there: |phi| differs by
    # (1 - 0.5) for the truth and 0 for the prediction.
    assert conn(np.array([[1.0, 0.5]]), np.array([[1.0, 1.0]])) == pytest.approx(0.5 / 1000)


def test_conn_ties_go_to_the_first_component_in_column_major_order():
    true, pred = np.zeros((10, 10)), np.zeros((10, 10))
    true[0:3, 6:9], pred[0:3, 6:9] = 0.35, 0.3  # top right: 9 pixels
    true[6:9, 0:3], pred[6:9, 0:3] = 1.0, 1.0  # bottom left, same size, first in MATLAB's order
    assert conn(pred, true) == pytest.approx(9 * 0.05 / 1000)  # top right left at t = 0.1
    assert conn(pred.T, true.T) == pytest.approx(0)


def test_fgr_errors_ignore_pixels_without_foreground():
    pha = np.array([[0.0, 0.5], [1.0, 0.0]])
    true = np.zeros((2, 2, 3))
    pred = true.copy()
    pred[0, 0] = pred[1, 1] = 1.0  # wrong only where alpha is 0
    assert fgr_l1(pred, true, pha) == 0
    assert fgr_mse(pred, true, pha) == 0
    pred[0, 1, 2] = 0.5  # one channel of one of the two foreground pixels
    assert fgr_l1(pred, true, pha) == pytest.approx(0.5 / 6)
    assert fgr_mse(pred, true, pha) == pytest.approx(0.25 / 6)
    only_first_row = np.array([[True, True], [False, False]])
    assert fgr_l1(pred, true, pha, only_first_row) == pytest.approx(0.5 / 3)
    assert math.isnan(fgr_l1(pred, true, np.zeros((2, 2))))


def test_dtssd_by_hand():
    true = np.zeros((3, 1, 2))
    pred = true.copy()
    pred[1:, 0, 0] = 1.0  # one pixel jumps between frames 0 and 1, then stays
    # frame steps: sum of squared differences 1 then 0 -> sqrt(mean) = sqrt(0.5)
    assert dtssd(pred, true) == pytest.approx(math.sqrt(0.5))
    assert dtssd(true + 0.3, true) == pytest.approx(0)  # a constant offset does not flicker
    assert dtssd(pred, true, np.array([[False, True]])) == 0
    frames = np.zeros((3, 1, 2), bool)
    frames[1, 0, 0] = True  # the pixel is in frame 1's region: counts for both its steps
    assert dtssd(pred, true, frames) == pytest.approx(math.sqrt(0.5))


def test_compute_all():
    true = soft_disk()
    pred = noisy(true)
    result = compute_all(pred, true)
    assert list(result) == ["sad", "mse", "mad", "grad", "conn"]
    assert result["conn"] == conn(pred, true)


def test_float32_gives_the_same_numbers():
    true = soft_disk()
    pred = noisy(true)
    for metric in ALPHA_METRICS:
        assert metric(pred.astype(np.float32), true.astype(np.float32)) == pytest.approx(
            metric(pred, true), rel=1e-5
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda: sad(np.zeros((2, 2)), np.zeros((2, 3))),
        lambda: mse(np.zeros((2, 2)), np.zeros(4)),
        lambda: grad(np.zeros((2, 2)), np.zeros((3, 2))),
        lambda: grad(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
        lambda: conn(np.zeros((2, 2)), np.zeros((2, 3))),
        lambda: mad(np.zeros((2, 2)), np.zeros((2, 2)), np.ones((3, 3), bool)),
        lambda: sad(np.zeros((2, 2)), np.zeros((2, 2)), np.full((2, 2), 128)),  # trimap, not bool
        lambda: fgr_l1(np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), np.zeros((3, 2))),
        lambda: fgr_mse(np.zeros((3, 2, 2)), np.zeros((3, 2, 2)), np.zeros((2, 2))),
        lambda: dtssd(np.zeros((3, 2, 2)), np.zeros((2, 2, 2))),
        lambda: dtssd(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))),
    ],
)
def test_bad_shapes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


unit = st.floats(0, 1, allow_nan=False)


def test_grad_of_a_matte_whose_range_is_subnormal_is_finite():
    # 1 / 5e-324 overflows: mat2gray's division must not turn into inf * 0
    value = grad(np.zeros((1, 2)), np.array([[5e-324, 0.0]]))
    assert math.isfinite(value) and value >= 0


@settings(max_examples=30, deadline=None)
@given(st.data(), st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_metrics_are_nonnegative_and_symmetric(data, shape):
    pred = data.draw(arrays(np.float64, shape, elements=unit))
    true = data.draw(arrays(np.float64, shape, elements=unit))
    for metric in ALPHA_METRICS:
        assert metric(pred, true) >= 0
        assert metric(pred, true) == pytest.approx(metric(true, pred))
    assert conn(pred, true) == pytest.approx(reference_conn(pred, true), abs=1e-12)


def test_grad_kernel_is_gaussgradients():
    g, dg = metrics._gauss_kernels(1.4)
    assert len(g) == 9  # halfsize = ceil(1.4 * sqrt(-2 log(sqrt(2 pi) 1.4 0.01))) = 4
    assert np.linalg.norm(np.outer(g, dg)) == pytest.approx(1)


def test_holes_and_leak_count_only_their_regions():
    pred = np.array([[1.0, 0.5, 0.95], [0.0, 0.2, 0.05]])
    interior = np.array([[True, True, True], [False, False, False]])
    far = ~interior
    assert metrics.holes(pred, interior) == pytest.approx(1 / 3)  # 0.5 < 0.9
    assert metrics.leak(pred, far) == pytest.approx(1 / 3)  # 0.2 > 0.1
    assert math.isnan(metrics.holes(pred, np.zeros_like(interior)))
