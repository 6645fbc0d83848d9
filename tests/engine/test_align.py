"""--align: a plate shot from a slightly different spot is registered to the frame; a frame
that cannot be registered is reported (once, then counted), not silently mis-matted."""

import numpy as np
from skimage import data
from skimage.transform import AffineTransform, warp

from bgmcli.engine.align import Aligner


def shifted(image: np.ndarray, dx: float, dy: float, angle: float = 0.0) -> np.ndarray:
    move = AffineTransform(translation=(dx, dy), rotation=angle)
    out = warp(image, move.inverse, order=1, mode="edge", preserve_range=True)
    return out.round().astype(np.uint8)


def test_a_moved_plate_is_registered_to_the_frame():
    plate = data.astronaut()[::2, ::2]  # a real photograph, 256x256
    frame = shifted(plate, 6, -4, 0.02)  # the camera moved a little
    messages = []
    aligned = Aligner(messages.append)(plate, frame)
    inner = (slice(20, -20), slice(20, -20))
    before = np.abs(plate[inner].astype(int) - frame[inner]).mean()
    after = np.abs(aligned[inner].astype(int) - frame[inner]).mean()
    assert messages == [] and after < before / 3


def test_frames_that_cannot_be_aligned_are_reported_once_then_counted():
    plate = data.astronaut()[::2, ::2]
    flat = np.full_like(plate, 128)  # no features at all
    messages = []
    aligner = Aligner(messages.append)
    for _ in range(3):
        out = aligner(plate, flat)
    assert np.array_equal(out, plate)  # used unaligned: there was no earlier alignment
    assert len(messages) == 1 and "cannot align the background to frame 0" in messages[0]
    assert aligner.summary() == "background alignment failed on 3 of 3 frames"
