"""--align: a plate shot from a slightly different spot is registered to the frame, an exact plate
is left alone by `auto`, the estimate is reused while the camera is still, and frames that
cannot be registered are named, not silently mis-matted."""

import numpy as np
import pytest
from skimage import data, filters, transform
from skimage.transform import SimilarityTransform

from bgmcli.engine.align import Aligner, warp

PHOTO = data.astronaut()[::2, ::2]  # a real photograph, 256x256


def moved(image, dx=0.0, dy=0.0, angle_deg=0.0, scale=1.0, noise=2.0, seed=0):
    """The photo as a camera moved about its centre sees it, with sensor noise."""
    centre = (np.array(image.shape[1::-1]) - 1) / 2
    motion = SimilarityTransform(translation=-centre)
    motion = SimilarityTransform(matrix=SimilarityTransform(
        scale=scale, rotation=np.deg2rad(angle_deg)).params @ motion.params)  # fmt: skip
    motion = SimilarityTransform(matrix=SimilarityTransform(
        translation=centre + (dx, dy)).params @ motion.params)  # fmt: skip
    out = transform.warp(image, motion.inverse, order=3, mode="edge", preserve_range=True)
    out += np.random.default_rng(seed).normal(0, noise, out.shape)
    return out.clip(0, 255).round().astype(np.uint8)


def inner_error(a, b) -> float:
    inner = (slice(16, -16), slice(16, -16))
    return float(np.abs(a[inner].astype(int) - b[inner]).mean())


def test_auto_aligns_a_hand_held_plate_and_measures_its_motion():
    frame = moved(PHOTO, dx=3, dy=-2, angle_deg=0.3, scale=1.01)
    aligner = Aligner("auto", warn=pytest.fail)
    aligned = aligner(PHOTO, frame)
    assert inner_error(aligned, frame) < inner_error(PHOTO, frame) / 3
    report = aligner.report()
    assert (report.frames, report.aligned, report.estimates) == (1, 1, 1)
    found = report.first
    assert found.shift == pytest.approx((3, -2), abs=0.3)
    assert found.rotation_deg == pytest.approx(0.3, abs=0.05)
    assert found.scale == pytest.approx(1.01, abs=0.002)


def test_auto_leaves_a_tripod_plate_alone_and_on_warps_it():
    frame = moved(PHOTO)  # noise only
    auto = Aligner("auto", warn=pytest.fail)
    assert auto(PHOTO, frame) is PHOTO
    assert auto.report().aligned == 0 and auto.report().first.offset_px < 0.2
    on = Aligner("on", warn=pytest.fail)
    assert on(PHOTO, frame) is not PHOTO and on.report().aligned == 1


def test_a_still_camera_is_estimated_once_and_a_moving_one_again():
    plate = moved(PHOTO, dx=4, seed=1)
    aligner = Aligner("auto", warn=pytest.fail)
    still = [aligner(plate, moved(PHOTO, seed=i)) for i in range(3)]
    assert aligner.report().estimates == 1
    assert still[1] is still[0] and still[2] is still[0]  # the warped plate is reused
    aligner(plate, moved(PHOTO, dx=-3, seed=4))  # the camera moved 3 px
    report = aligner.report()
    assert report.estimates == 2 and report.furthest.shift[0] == pytest.approx(-7, abs=0.3)


@pytest.mark.slow  # an HD picture
def test_a_soft_backdrop_is_aligned_at_half_the_size():
    # a backdrop out of focus, as behind a portrait: too few tiles have texture at the working
    # size, enough at half of it
    photo = transform.resize(data.astronaut(), (1080, 1920), order=1, preserve_range=True)
    soft = filters.gaussian(photo, sigma=13, channel_axis=-1, preserve_range=True)
    soft = soft.round().astype(np.uint8)
    plate = moved(soft, seed=1)
    frame = moved(soft, dx=3, dy=-2, angle_deg=0.2, scale=1.01)
    aligner = Aligner("auto", warn=pytest.fail)
    aligned = aligner(plate, frame)
    assert aligner.report().aligned == 1
    assert inner_error(aligned, frame) < inner_error(plate, frame) / 2


def test_frames_that_cannot_be_aligned_are_named():
    flat = np.full_like(PHOTO, 128)  # no texture at all
    messages = []
    aligner = Aligner("auto", messages.append)
    for _ in range(3):
        out = aligner(flat, moved(PHOTO))
    assert out is flat  # used unaligned: there was no earlier alignment
    assert len(messages) == 1 and "cannot align the background to frame 0" in messages[0]
    assert "too little texture" in messages[0]
    (closing,) = aligner.warnings()
    assert closing.startswith("background alignment failed on frames 0-2 of 3 (too little texture)")


def test_a_plate_whose_parts_disagree_is_uncertain():
    frame = moved(PHOTO)
    plate = moved(PHOTO, seed=1)
    plate[:, 128:] = moved(PHOTO, dx=6, seed=1)[:, 128:]  # half the scene is nearer: parallax
    aligner = Aligner("auto", warn=pytest.fail)
    aligner(plate, frame)
    (closing,) = aligner.warnings()
    assert closing.startswith("background alignment is uncertain on frame 0 of 1")


def test_warp_moves_the_plate_exactly_and_repeats_its_edges():
    shift = np.array([[1, 0, 3.0], [0, 1, -2.0], [0, 0, 1]])  # 3 px right, 2 px up
    out = warp(PHOTO, shift)
    assert np.array_equal(out[:-2, 3:], PHOTO[2:, :-3])
    assert np.array_equal(out[:, 0], out[:, 3])  # the strip the plate does not show: its edge
