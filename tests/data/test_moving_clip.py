"""Moving clips with true alpha: the truth composes the frames, the subject moves, the camera
holds still or shakes, empty frames are empty, and the files `bgm matte` reads round-trip."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
from PIL import Image

from bgmcli.data.clip_files import read_truth, write_clip
from bgmcli.data.moving_clip import ClipSpec, moving_clip
from bgmcli.errors import BgmError

TINY = dict(width=64, height=36, frames=6)


def _centre_x(pha: torch.Tensor) -> float:
    xs = torch.arange(pha.shape[-1], dtype=torch.float32)
    return float((pha[0].sum(0) * xs).sum() / pha[0].sum())


def test_the_truth_composes_the_frames_and_the_subject_moves():
    clip = moving_clip(ClipSpec(**TINY, noise=0.0, seed=3))
    assert clip.src.shape == (6, 3, 36, 64) and clip.pha.shape == (6, 1, 36, 64)
    composed = clip.fgr * clip.pha + clip.bgr * (1 - clip.pha)
    assert torch.allclose(clip.src, composed, atol=1e-6)
    partial = ((clip.pha > 0.02) & (clip.pha < 0.98)).float().mean()
    assert partial > 0.005  # strands and the veil, not a hard cut-out
    travel = abs(_centre_x(clip.pha[-1]) - _centre_x(clip.pha[0]))
    assert travel > 0.2 * 64
    assert clip.present.all()


def test_a_larger_subject_that_walks_less_covers_more_of_the_frame_for_longer():
    usual = moving_clip(ClipSpec(**TINY, noise=0.0, seed=3))
    large = moving_clip(ClipSpec(**TINY, noise=0.0, seed=3, subject_scale=1.5, walk=0.2))
    assert (large.pha[0] > 0).float().mean() > 1.3 * (usual.pha[0] > 0).float().mean()
    travel = abs(_centre_x(large.pha[-1]) - _centre_x(large.pha[0]))
    assert 0.1 * 64 < travel < 0.3 * 64  # a fifth of the width, the usual walk three fifths
    always = (large.pha > 0).all(0).float().mean()
    assert always > (usual.pha > 0).all(0).float().mean() + 0.1  # covered in every frame


def test_a_spec_is_a_recipe():
    a, b = moving_clip(ClipSpec(**TINY, seed=5)), moving_clip(ClipSpec(**TINY, seed=5))
    assert torch.equal(a.src, b.src) and torch.equal(a.pha, b.pha)
    assert not torch.equal(a.pha, moving_clip(ClipSpec(**TINY, seed=6)).pha)


def test_a_still_camera_sees_the_plate_and_a_hand_held_one_moves_around_it():
    still = moving_clip(ClipSpec(**TINY, seed=1))
    assert all(torch.equal(bgr, still.plate) for bgr in still.bgr)
    shaky = moving_clip(ClipSpec(**TINY, seed=1, camera="handheld"))
    assert torch.allclose(shaky.bgr[0], shaky.plate, atol=1e-5)  # the first frame: the reference
    assert all(float((bgr - shaky.plate).abs().mean()) > 1e-3 for bgr in shaky.bgr[1:])
    assert not np.allclose(shaky.poses[1:], np.eye(3))
    # the sensor noise is fresh in every frame, and the captured plate has its own
    assert float((still.src[0] - still.src[1]).abs()[:, :, :4].mean()) > 0.002
    assert 0.002 < float((still.captured_plate - still.plate).abs().mean()) < 0.02


def test_empty_frames_before_it_walks_in_and_after_it_leaves():
    clip = moving_clip(ClipSpec(width=64, height=36, frames=9, empty_before=2, empty_after=2))
    assert list(clip.present) == [False] * 2 + [True] * 5 + [False] * 2
    assert float(clip.pha[:2].abs().max()) == 0 and float(clip.pha[-2:].abs().max()) == 0
    assert torch.equal(clip.bgr[0], clip.plate)


def _photo_folder(root):
    """An alphamatting.com-layout folder with one photograph: a soft disc on a striped image."""
    (root / "input").mkdir(parents=True)
    (root / "alpha").mkdir()
    y, x = np.mgrid[0:80, 0:60]
    alpha = np.clip(20 - np.hypot(x - 30, y - 40), 0, 1)
    image = np.stack([128 + 100 * np.sin(x / 3), 90 + 0 * x, 200 - y], -1)
    Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(root / "input" / "GT01.png")
    Image.fromarray((alpha * 255).astype(np.uint8)).save(root / "alpha" / "GT01.png")
    return root


def test_a_real_alpha_photograph_moves_over_the_background(tmp_path):
    photos = _photo_folder(tmp_path / "photos")
    clip = moving_clip(ClipSpec(**TINY, subject="photo", photos=photos, noise=0.0))
    assert float(clip.pha.max()) == 1.0
    assert abs(_centre_x(clip.pha[-1]) - _centre_x(clip.pha[0])) > 0.2 * 64
    with pytest.raises(BgmError, match="needs its folder"):
        ClipSpec(**TINY, subject="photo")
    with pytest.raises(BgmError, match="no image GT99"):
        moving_clip(ClipSpec(**TINY, subject="photo", photos=photos, photo="GT99"))


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(camera="drone"), "unknown camera 'drone'"),
        (dict(subject="cat"), "unknown subject"),
        (dict(frames=3, empty_before=1, empty_after=1), "fewer than 2"),
        (dict(width=8), "at least 16x16"),
        (dict(walk=1.5), "walk in"),
        (dict(subject_scale=0), "subject_scale"),
    ],
)
def test_bad_specs_fail_in_one_line(bad, message):
    with pytest.raises(BgmError, match=message):
        ClipSpec(**{**TINY, **bad})


def test_a_written_clip_plays_with_its_truth_beside_it(tmp_path):
    clip = moving_clip(ClipSpec(**TINY, camera="handheld", seed=2))
    files = write_clip(clip, tmp_path, "walk")
    with av.open(str(files.video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 6 and frames[0].shape == (36, 64, 3)
    decoded = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255
    assert float((decoded - clip.src).abs().mean()) < 0.03  # H.264 at crf 18
    truth = read_truth(files.truth)
    assert np.abs(truth["pha"] - clip.pha[:, 0].numpy()).max() < 1e-3
    assert truth["bgr"].shape == (6, 36, 64, 3) and truth["poses"].shape == (6, 3, 3)
    assert np.asarray(Image.open(files.plate)).shape == (36, 64, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "walk.mp4", "walk.truth.npz", "walk_plate.png"
    ]  # fmt: skip
    with pytest.raises(BgmError, match="even frame size"):
        write_clip(moving_clip(ClipSpec(width=63, height=36, frames=3)), tmp_path, "odd")
