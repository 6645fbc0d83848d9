"""The temporal filter smooths what holds still, keeps moving edges as each frame has them (no
lag), waits `ahead` frames and keeps order; the flicker meter counts only where the input holds
still, a hand-held camera's shake included."""

from __future__ import annotations

import pytest
import torch

from bgmcli.model.temporal import FlickerMeter, TemporalFilter, TemporalSettings, plate_gate

H, W = 36, 64


def _scene(t: int, step: int = 6, shake: int = 0):
    """A bright square walking `step` px a frame over a textured wall, seen by a camera that
    shifts `shake` px every other frame: (frame, plate aligned to it, true alpha)."""
    gen = torch.Generator().manual_seed(0)
    wall = torch.rand(1, 3, H, W + 8, generator=gen) * 0.5
    pha = torch.zeros(1, 1, H, W + 8)
    pha[..., 8:28, 4 + step * t : 20 + step * t] = 1.0
    dx = shake * (t % 2)
    bgr, pha = wall[..., dx : dx + W], pha[..., dx : dx + W]
    return pha + bgr * (1 - pha), bgr, pha


def _noisy(pha: torch.Tensor, t: int, amount: float = 0.05) -> torch.Tensor:
    """The model's matte: the truth plus flicker that changes every frame."""
    gen = torch.Generator().manual_seed(100 + t)
    return (pha + amount * torch.rand(pha.shape, generator=gen)).clamp(0, 1)


def _run(settings: TemporalSettings, frames: int = 6, **scene) -> tuple[list, list]:
    filt, out, truth = TemporalFilter(settings), [], []
    for t in range(frames):
        src, bgr, pha = _scene(t, **scene)
        truth.append(pha)
        noisy = _noisy(pha, t)
        out += filt.push(src, bgr, noisy, src, tag=(t, noisy))
    return out + filt.flush(), truth


def _flicker(phas: list, truth: list) -> tuple[float, float]:
    """Mean alpha change where the truth holds still, and the largest error where it moves."""
    still, moving = [], []
    for t in range(1, len(phas)):
        change = (phas[t] - phas[t - 1]).abs()
        holds = (truth[t] == truth[t - 1]) & (truth[t] == 0)
        still.append(change[holds].mean())
        moving.append((phas[t] - truth[t]).abs()[truth[t] != truth[t - 1]].max())
    return float(torch.stack(still).mean()), float(torch.stack(moving).max())


def test_still_areas_flicker_less_and_moving_edges_keep_their_own_matte():
    for settings in (TemporalSettings(), TemporalSettings().live()):
        out, truth = _run(settings)
        raw = [tag[1] for _, _, tag in out]
        raw_still, raw_edges = _flicker(raw, truth)
        still, edges = _flicker([pha for pha, _, _ in out], truth)
        assert still < 0.6 * raw_still, settings
        assert edges <= raw_edges + 1e-6, settings  # no lag: the square's edges as per frame


def test_a_hand_held_shake_is_not_taken_for_motion():
    """Frame and plate move together: the plate difference holds still, so does the filter."""
    out, truth = _run(TemporalSettings(), shake=3)
    raw_still, _ = _flicker([tag[1] for _, _, tag in out], truth)
    assert _flicker([pha for pha, _, _ in out], truth)[0] < 0.6 * raw_still


def test_offline_waits_one_frame_live_none_and_order_holds():
    offline, live = TemporalFilter(TemporalSettings()), TemporalFilter(TemporalSettings().live())
    src, bgr, pha = _scene(0)
    assert offline.push(src, bgr, pha, src, tag=0) == []
    assert [tag for _, _, tag in live.push(src, bgr, pha, src, tag=0)] == [0]
    tags = [tag for _, _, tag in offline.push(src, bgr, pha, src, tag=1)]
    assert tags == [0] and [tag for _, _, tag in offline.flush()] == [1]
    assert offline.flush() == []


def test_the_foreground_is_filtered_with_the_alphas_weights():
    filt = TemporalFilter(TemporalSettings().live())
    src, bgr, pha = _scene(0, step=0)
    filt.push(src, bgr, pha, torch.zeros_like(src))
    ((pha_out, fgr_out, _),) = filt.push(src, bgr, pha, torch.ones_like(src))
    assert torch.equal(pha_out, pha)  # nothing moved, alpha the same
    # live, the past counts 1.5 to 1 (offline: 3 to the frame's 1 and the next frame's 1)
    assert torch.allclose(fgr_out, torch.full_like(src, 0.4), atol=1e-3)


def _noisy_wall(seed: int, sigma: float = 0.01):
    """A textured plate and a frame of it with fresh sensor noise."""
    gen = torch.Generator().manual_seed(seed)
    bgr = torch.rand(1, 3, H, W, generator=gen) * 0.5 + 0.25
    return bgr + sigma * torch.randn(bgr.shape, generator=gen), bgr


def test_the_plate_gate_clears_a_halo_over_background_that_shows_as_it_is():
    src, bgr = _noisy_wall(1)
    halo = torch.full((1, 1, H, W), 0.06)
    assert plate_gate(halo, src - bgr, TemporalSettings()).mean() < 0.25 * 0.06


def test_the_plate_gate_keeps_a_strand_and_a_veil_that_show_over_the_plate():
    settings = TemporalSettings()
    src, bgr = _noisy_wall(2)
    area = (..., slice(10, 26), slice(20, 44))
    for alpha, colour in ((0.2, 1.0), (0.6, None)):  # a light strand; a veil 0.1 off the wall
        frame, pha = src.clone(), torch.zeros(1, 1, H, W)
        over = bgr[area] + 0.1 / alpha if colour is None else torch.full_like(bgr[area], colour)
        frame[area] = alpha * over + (1 - alpha) * src[area]
        pha[area] = alpha
        assert plate_gate(pha, frame - bgr, settings)[area].mean() > 0.95 * alpha, alpha


LUMA_CHROMA = TemporalSettings(gate_colour="luma-chroma")


def _beside_a_subject(seed: int, shift: tuple[float, float, float]):
    """A noisy wall, a saturated subject from column 32 on, and the column just before it
    shifted by `shift` (RGB) over the plate, with a halo's alpha 0.06: (frame - plate, alpha,
    the column)."""
    src, bgr = _noisy_wall(seed)
    column, subject = (..., slice(8, 28), slice(31, 32)), (..., slice(8, 28), slice(32, 48))
    src[subject] = torch.tensor([0.9, 0.2, 0.1]).view(1, 3, 1, 1)
    src[column] += torch.tensor(shift).view(1, 3, 1, 1)
    pha = torch.zeros(1, 1, H, W)
    pha[subject], pha[column] = 1.0, 0.06
    return src - bgr, pha, column


def test_the_luma_chroma_gate_clears_a_one_pixel_chroma_fringe_beside_a_subject():
    red = 1.5748 * 0.03  # Cr up by 0.03 with the luma unchanged: what 4:2:0 spills over an edge
    d, pha, column = _beside_a_subject(5, (red, -0.2126 * red / 0.7152, 0.0))
    assert plate_gate(pha, d, LUMA_CHROMA)[column].mean() < 0.35 * 0.06
    assert plate_gate(pha, d, TemporalSettings())[column].mean() > 0.45 * 0.06  # rgb: kept
    assert plate_gate(pha, d, LUMA_CHROMA)[..., 8:28, 32:48].min() > 0.99  # the subject stays


def test_the_luma_chroma_gate_keeps_alpha_where_one_pixel_differs_in_luma():
    d, pha, column = _beside_a_subject(6, (0.12, 0.12, 0.12))  # grey: luma only, read per pixel
    assert plate_gate(pha, d, LUMA_CHROMA)[column].mean() > 0.9 * 0.06


def test_gate_colour_is_checked():
    with pytest.raises(ValueError, match="gate_colour"):
        TemporalSettings(gate_colour="yuv")


def test_the_plate_gate_of_a_half_precision_run_is_the_same():
    src, bgr = _noisy_wall(4)
    halo = torch.full((1, 1, H, W), 0.06)
    full = plate_gate(halo, src - bgr, TemporalSettings())
    half = plate_gate(halo.half(), (src - bgr).half(), TemporalSettings())
    assert half.dtype == torch.float16 and torch.allclose(half.float(), full, atol=2e-3)


def test_the_filter_gates_only_when_asked():
    src, bgr = _noisy_wall(3)
    halo = torch.full((1, 1, H, W), 0.06)
    plain = TemporalSettings(plate_gate=False).live()
    ((pha, _, _),) = TemporalFilter(plain).push(src, bgr, halo, src)
    assert torch.equal(pha, halo)
    ((pha, _, _),) = TemporalFilter(TemporalSettings().live()).push(src, bgr, halo, src)
    assert pha.mean() < 0.3 * 0.06  # most of a halo over a wall that matches its plate is gone


def test_the_live_gate_is_narrower_than_the_offline_one():
    offline = TemporalSettings()
    assert offline.live().gate_noise < offline.gate_noise


def test_the_flicker_meter_counts_only_where_the_input_holds_still():
    meter = FlickerMeter()
    assert meter.flicker is None
    src, bgr, pha = _scene(0)
    meter.add(src, bgr, pha)
    assert meter.flicker is None  # one frame: nothing to compare
    meter.add(src, bgr, pha + 0.01)  # input unchanged: all of it flickered by 0.01
    assert abs(meter.flicker - 0.01) < 1e-6
    assert meter.still_share == 1.0
    moving = FlickerMeter()
    for t in range(2):  # the square moves, its alpha with it: that change is not flicker
        moving.add(*_scene(t))
    assert moving.flicker == 0.0 and 0.5 < moving.still_share < 0.9
    shaken = FlickerMeter()
    for t in range(2):  # the camera shakes: the wall moves in the frame, but it holds still
        src, bgr, pha = _scene(t, step=0, shake=3)
        shaken.add(src, bgr, pha + 0.01 * t)
    assert abs(shaken.flicker - 0.01) < 1e-6 and shaken.still_share > 0.6
