"""--bg auto's estimate: where the subject moves, each pixel's background from the frames it was
uncovered in (noise averaged out); empty frames found and used; a subject that stays put is
never mistaken for background seen."""

import numpy as np

from bgmcli.engine.plate_estimate import coverage_picture, estimate_plate, masked_median
from tests.engine.media import plate

ROOM = plate(36, 64)


def disc(image, cx, cy, r, colour=(230, 200, 170)):
    y, x = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    out = image.copy()
    out[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = colour
    return out


def noisy(image, rng, sigma=2.0):
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def walk(count=24, empty_before=0, rng=None):
    """A subject (a disc a third of the frame high) crossing the frame, after empty frames."""
    rng = rng or np.random.default_rng(0)
    frames = [noisy(ROOM, rng) for _ in range(empty_before)]
    for i in range(count):
        frames.append(noisy(disc(ROOM, -4 + 72 * i / (count - 1), 18, 9), rng))
    return np.stack(frames)


def test_the_background_behind_a_moving_subject_within_two_grey_levels():
    estimate = estimate_plate(walk())
    error = np.abs(estimate.plate.astype(int) - ROOM)[estimate.seen > 0].mean()
    assert error <= 2.0
    assert estimate.seen_share == 1.0 and estimate.moved_share > 0.2
    assert estimate.empty == ()


def test_empty_frames_are_found_wherever_they_are():
    frames = walk(empty_before=4)
    frames = np.concatenate([frames[4:10], frames[:4], frames[10:]])  # empty in the middle
    estimate = estimate_plate(frames)
    assert estimate.empty == (6, 7, 8, 9)
    assert np.abs(estimate.plate.astype(int) - ROOM).mean() <= 2.0


def test_a_subject_that_never_moves_shows_no_motion():
    rng = np.random.default_rng(1)
    still = np.stack([noisy(disc(ROOM, 32, 18, 9), rng) for _ in range(12)])
    assert estimate_plate(still).moved_share < 0.002


def test_a_subject_that_only_sways_leaves_its_middle_unseen():
    rng = np.random.default_rng(2)
    sway = np.stack([noisy(disc(ROOM, 32 + (i % 3 - 1), 18, 10), rng) for i in range(12)])
    estimate = estimate_plate(sway)
    assert estimate.seen[18, 32] == 0  # the body's middle: never uncovered
    assert estimate.seen[2, 2] == 12  # the far corner: seen in every frame


def test_the_median_leaves_out_what_is_not_kept():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (7, 5, 4, 3), dtype=np.uint8)
    keep = rng.random((7, 5, 4)) < 0.6
    keep[:, 0, 0] = False  # a pixel never kept: the median of all
    got = masked_median(images, keep)
    for y in range(5):
        for x in range(4):
            rows = keep[:, y, x] if keep[:, y, x].any() else slice(None)
            want = np.median(images[rows, y, x].astype(float), axis=0)
            assert np.abs(got[y, x] - want).max() <= 0.5


def test_the_coverage_picture_is_red_where_nothing_was_seen():
    rng = np.random.default_rng(2)
    sway = np.stack([noisy(disc(ROOM, 32 + (i % 3 - 1), 18, 10), rng) for i in range(12)])
    picture = coverage_picture(estimate_plate(sway))
    assert tuple(picture[18, 32]) == (255, 0, 0)
    assert tuple(picture[2, 2]) == (255, 255, 255)


def test_a_last_round_of_masks_takes_out_a_faint_veil_the_differences_miss():
    """A veil a few levels off the room lingers over one place in most frames: the differences
    cannot tell it from noise, so the median takes its colour; masks that see it (the model's
    mattes) leave the room's own colour."""
    rng = np.random.default_rng(3)
    frames = walk(count=24, rng=rng).astype(int)
    veil = np.zeros(frames.shape[:3], bool)
    veil[4:20, :, 40:56] = True  # frames 4-19 of 24, columns 40-55
    veil[:, 24:, :] = False  # the veil's bottom edge
    frames = np.clip(frames + 7 * veil[..., None], 0, 255).astype(np.uint8)
    place = (slice(4, 20), slice(42, 54))
    plain = estimate_plate(frames)
    assert np.abs(plain.plate[place].astype(int) - ROOM[place]).mean() > 4
    calls = []

    def covered(plate):
        calls.append(plate.shape)
        return veil

    masked = estimate_plate(frames, covered=covered)
    assert calls == [ROOM.shape]
    assert np.abs(masked.plate[place].astype(int) - ROOM[place]).mean() < 2
    assert masked.seen_share == 1.0


def test_masks_that_cover_most_of_what_was_seen_are_not_trusted():
    """A model that mattes something else than this take (random or foreign weights) covers
    everything: its round is dropped, not taken for a take that shows no background."""
    frames = walk()
    plain = estimate_plate(frames)
    doubted = estimate_plate(frames, covered=lambda plate: np.ones(frames.shape[:3], bool))
    assert np.array_equal(doubted.plate, plain.plate)
    assert doubted.seen_share == plain.seen_share == 1.0
