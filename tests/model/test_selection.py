"""Selection strategies: how many locations, where, and reproducibility."""

from __future__ import annotations

import pytest
import torch

from bgmcli.errors import BgmError
from bgmcli.model.selection import SELECTORS, get_selector, uniform_grid


def error_map(height=30, width=40, seed=0):
    return torch.rand(2, 1, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", ["error", "random", "uniform"])
@pytest.mark.parametrize("k", [1, 37, 500, 1200, 5000])
def test_exactly_k_distinct_locations_or_all(name, k):
    err = error_map()
    sel = get_selector(name)(err, k)
    expected = min(k, 30 * 40)
    assert sel.idx.shape == (2, expected)
    assert bool(sel.valid.all())
    for row in sel.idx:
        assert row.unique().numel() == expected
    ref = sel.to_map(30, 40)
    assert ref.shape == (2, 1, 30, 40)
    assert ref.sum(dim=(1, 2, 3)).tolist() == [expected, expected]


def test_error_picks_the_highest_errors_and_skips_zero_error():
    err = torch.zeros(1, 1, 8, 8)
    err[0, 0, 2, 3], err[0, 0, 5, 6], err[0, 0, 7, 0] = 0.9, 0.5, 0.7
    sel = get_selector("error")(err, 2)
    assert sorted(sel.idx[0].tolist()) == [2 * 8 + 3, 7 * 8 + 0]
    sel = get_selector("error")(err, 5)  # only 3 locations have any error
    assert int(sel.valid.sum()) == 3


def test_random_is_reproducible_under_a_seed_and_differs_across_seeds():
    err = error_map()
    a = get_selector("random")(err, 100, seed=7).idx.sort(dim=1).values
    b = get_selector("random")(err, 100, seed=7).idx.sort(dim=1).values
    c = get_selector("random")(err, 100, seed=8).idx.sort(dim=1).values
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_random_ignores_the_error_map():
    a = get_selector("random")(error_map(seed=1), 50, seed=3).idx
    b = get_selector("random")(error_map(seed=2), 50, seed=3).idx
    assert torch.equal(a, b)


@pytest.mark.parametrize("height,width,k", [(270, 480, 5000), (30, 40, 100), (40, 200, 50)])
def test_uniform_grid_covers_the_frame_evenly(height, width, k):
    idx = uniform_grid(height, width, k, torch.device("cpu"))
    assert idx.numel() == k == idx.unique().numel()
    ys, xs = idx // width, idx % width
    # Every horizontal and vertical band of the frame gets its share of locations.
    for coord, size in ((ys, height), (xs, width)):
        bands = torch.bincount((coord * 4) // size, minlength=4).float()
        assert bands.min() >= 0.8 * bands.mean()
    # And the grid reaches to within one cell spacing of all four edges.
    rows, cols = ys.unique().numel(), xs.unique().numel()
    assert ys.min() < height / rows and ys.max() >= height - height / rows
    assert xs.min() < width / cols and xs.max() >= width - width / cols


def test_threshold_takes_every_location_above_it():
    err = error_map()
    sel = get_selector("threshold")(err, 1, threshold=0.8)
    ref = sel.to_map(30, 40)
    assert torch.equal(ref.bool(), err > 0.8)


def test_threshold_above_every_error_selects_nothing():
    sel = get_selector("threshold")(error_map(), 1, threshold=1.0)
    assert sel.idx.shape[1] == 0


def test_unknown_strategy_lists_the_known_ones():
    with pytest.raises(BgmError, match="known: " + ", ".join(SELECTORS)):
        get_selector("best")
