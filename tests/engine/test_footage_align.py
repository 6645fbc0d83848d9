"""Hand-held takes for --bg auto: frames moved by the camera are put back in the reference
frame's place, with where each has picture; a still camera's frames are left untouched."""

import numpy as np

from bgmcli.engine.footage_align import align_to_reference
from tests.engine.media import plate

ROOM = plate(160, 240)


def view(dx: int, dy: int) -> np.ndarray:
    """The camera moved by whole pixels: the room shifted, its edge repeated."""
    return np.roll(ROOM, (dy, dx), axis=(0, 1))[16:-16, 16:-16]


def test_moved_frames_are_put_back_in_the_reference_place():
    shifts = [(0, 0), (3, -2), (0, 0), (-4, 1), (2, 3)]
    images = [view(dx, dy) for dx, dy in shifts]
    aligned = align_to_reference(images)
    assert aligned.reference == 2 and aligned.failed == 0 and aligned.warped == 3
    reference = images[2].astype(int)
    for image, before, valid in zip(aligned.images, images, aligned.valid, strict=True):
        after = np.abs(image.astype(int) - reference)[valid].mean()
        assert after < 2.0  # a tenth-of-a-pixel fit, resampled
        assert after <= np.abs(before.astype(int) - reference)[valid].mean()
    moved = aligned.valid[1]  # the view moved 3 px right, 2 up: no picture at the right, top
    assert not moved[:, -2:].any() and not moved[:2].any() and moved[4:, :-5].all()


def test_a_still_camera_is_left_as_it_is():
    images = [view(0, 0)] * 4
    aligned = align_to_reference(images)
    assert aligned.warped == 0 and aligned.valid is None
    assert all(np.array_equal(a, b) for a, b in zip(aligned.images, images, strict=True))
