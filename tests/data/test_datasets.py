"""Training data: deterministic synthetic samples, folder layouts and their bad-input errors."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
from PIL import Image

from bgmcli.data import SampleRecipe, build_dataset
from bgmcli.data.augment import perturb_plate
from bgmcli.errors import BgmError

SIZE = (64, 64)
KEYS = {"src": 3, "bgr": 3, "true_pha": 1, "true_fgr": 3}


def _check_item(item: dict[str, torch.Tensor], size=SIZE) -> None:
    assert set(item) == set(KEYS)
    for key, channels in KEYS.items():
        t = item[key]
        assert t.dtype == torch.float32 and t.shape == (channels, *size), key
        assert float(t.min()) >= 0 and float(t.max()) <= 1, key


def _synthetic(seed=0, length=16, augment=True):
    return build_dataset("synthetic", size=SIZE, length=length, seed=seed, augment=augment)


def test_synthetic_is_deterministic_per_seed_and_index():
    a, b = _synthetic(), _synthetic()
    for i in (0, 5):
        for key in KEYS:
            assert torch.equal(a[i][key], b[i][key])
    assert not torch.equal(a[0]["src"], a[1]["src"])
    assert not torch.equal(a[0]["src"], _synthetic(seed=1)[0]["src"])


def test_synthetic_does_not_depend_on_thread_count():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _synthetic()[3]
        torch.set_num_threads(2)
        two = _synthetic()[3]
    finally:
        torch.set_num_threads(before)
    for key in KEYS:
        assert torch.equal(one[key], two[key])


def test_synthetic_shapes_ranges_and_soft_alpha():
    ds = _synthetic(length=8)
    assert len(ds) == 8
    with pytest.raises(IndexError):
        ds[8]
    for i in range(8):
        item = ds[i]
        _check_item(item)
        pha = item["true_pha"]
        assert (pha == 0).any() and (pha == 1).any()
        assert ((pha > 0.05) & (pha < 0.95)).any()  # soft edges, hair, veils


def test_plate_differs_from_live_background_only_slightly():
    ds = _synthetic(length=6)
    plain = _synthetic(length=6, augment=False)
    diffs = []
    for i in range(6):
        item = ds[i]
        bg = item["true_pha"] < 1e-3  # where src shows only the (live) background
        diff = (item["src"] - item["bgr"]).abs()[bg.expand(3, -1, -1)].mean()
        diffs.append(float(diff))
        p = plain[i]  # without augmentation the plate is the live background exactly
        bg = p["true_pha"] == 0
        assert torch.equal(p["src"][bg.expand(3, -1, -1)], p["bgr"][bg.expand(3, -1, -1)])
    assert all(d < 0.25 for d in diffs)
    assert np.mean(diffs) > 0.005


def test_perturb_plate_is_a_small_change():
    live = torch.rand(3, 1, 1).expand(3, 64, 64).clone()
    plate = perturb_plate(live, np.random.default_rng(0))
    assert plate.shape == live.shape and not torch.equal(plate, live)
    assert float((plate - live).abs().mean()) < 0.2


def _solidity(pha: torch.Tensor) -> float:
    """Area over convex-hull area of the opaque part: 1 for convex outlines, low for ragged."""
    from skimage.measure import regionprops

    mask = (pha[0] > 0.5).numpy().astype(np.uint8)
    return regionprops(mask)[0].solidity


def test_ragged_shapes_are_deterministic_alphas_with_concave_outlines():
    from bgmcli.data import outlines, synthetic

    gray = synthetic.photo_crop(np.random.default_rng(3), (96, 96))[0].mean(0)
    for make in (
        lambda rng: outlines.foliage(rng, (96, 96)),
        lambda rng: outlines.photo_shape(rng, gray),
    ):
        solidities = []
        for seed in range(6):
            a, b = make(np.random.default_rng(seed)), make(np.random.default_rng(seed))
            assert torch.equal(a, b) and a.shape == (1, 96, 96) and a.dtype == torch.float32
            assert float(a.min()) == 0 and float(a.max()) > 0.9
            assert ((a > 0.05) & (a < 0.95)).any()  # anti-aliased outline
            solidities.append(_solidity(a))
        assert np.median(solidities) < 0.8  # ellipses unions are nearly convex (> 0.9)


@pytest.mark.slow
def test_mixed_shape_set_keeps_the_blobs_set_unchanged():
    # the held-out evaluation sets are drawn with "blobs": it must draw exactly as before
    blobs = build_dataset(
        "synthetic", size=SIZE, length=8, seed=0, recipe=SampleRecipe(shapes="blobs")
    )
    plain, mixed = (
        _synthetic(length=8),
        build_dataset(
            "synthetic", size=SIZE, length=8, seed=0, recipe=SampleRecipe(shapes="mixed")
        ),
    )
    assert all(torch.equal(blobs[i]["true_pha"], plain[i]["true_pha"]) for i in range(8))
    assert any(not torch.equal(mixed[i]["true_pha"], plain[i]["true_pha"]) for i in range(8))
    for i in range(8):
        _check_item(mixed[i])


@pytest.mark.slow
def test_tangles_are_opaque_where_they_are_dark_and_leave_mixed_unchanged():
    from bgmcli.data import synthetic

    for seed in range(4):
        rng = np.random.default_rng(seed)
        fgr = torch.rand(3, 96, 96) * 0.5 + 0.5  # a bright texture: darkness comes from depth
        colour, pha = synthetic.tangle(rng, (96, 96), fgr)
        again = synthetic.tangle(np.random.default_rng(seed), (96, 96), fgr)
        assert torch.equal(colour, again[0]) and torch.equal(pha, again[1])
        opaque = pha[0] > 0.98
        dark = colour.mean(0) < 0.25
        assert float((dark & opaque).float().sum()) > 0.05 * float(opaque.float().sum())
        assert float(colour.min()) >= 0 and float(colour.max()) <= 1
    mixed = build_dataset("synthetic", size=SIZE, length=8, seed=0,
                          recipe=SampleRecipe(shapes="mixed"))  # fmt: skip
    tangled = build_dataset("synthetic", size=SIZE, length=8, seed=0,
                            recipe=SampleRecipe(shapes="tangled"))  # fmt: skip
    for i in range(8):
        _check_item(tangled[i])
    assert any(not torch.equal(mixed[i]["src"], tangled[i]["src"]) for i in range(8))


@pytest.mark.slow
def test_shading_darkens_foregrounds_and_leaves_unshaded_recipes_unchanged():
    plain = _synthetic(length=6)
    unshaded = _drawn_with(shading=0.0)
    assert all(torch.equal(plain[i]["src"], unshaded[i]["src"]) for i in range(6))
    shaded = _drawn_with(shading=1.0)

    def dark_share(data) -> float:  # opaque pixels darker than 0.25 (the real photographs: 43%)
        fgr = torch.stack([data[i]["true_fgr"].mean(0) for i in range(6)])
        opaque = torch.stack([data[i]["true_pha"][0] for i in range(6)]) > 0.98
        return float((fgr[opaque] < 0.25).float().mean())

    assert dark_share(shaded) > dark_share(plain) + 0.1
    for i in range(6):
        _check_item(shaded[i])


@pytest.mark.slow
def test_skin_and_veil_shares_change_samples_only_when_moved_from_their_defaults():
    plain = _synthetic(length=6)
    same = build_dataset("synthetic", size=SIZE, length=6, seed=0,
                         recipe=SampleRecipe(veil_share=0.3, skin_share=0.0))  # fmt: skip
    assert all(torch.equal(plain[i]["src"], same[i]["src"]) for i in range(6))
    skin = build_dataset("synthetic", size=SIZE, length=6, seed=0,
                         recipe=SampleRecipe(skin_share=1.0, veil_share=0.0))  # fmt: skip

    def texture(data) -> float:  # mean local variation of the opaque foreground
        total = []
        for i in range(6):
            fgr, pha = data[i]["true_fgr"], data[i]["true_pha"][0]
            step = (fgr[:, 1:, :] - fgr[:, :-1, :]).abs().mean(0)
            total.append(step[(pha[1:] > 0.98) & (pha[:-1] > 0.98)])
        return float(torch.cat(total).mean())

    assert texture(skin) < 0.5 * texture(plain)
    for i in range(6):
        _check_item(skin[i])
        assert float(skin[i]["true_pha"].max()) == 1.0  # smooth subjects are opaque


def test_shade_only_darkens_down_to_its_floor():
    from bgmcli.data import synthetic

    fgr = torch.rand(3, 48, 48)
    for seed in range(6):
        out = synthetic.shade(np.random.default_rng(seed), fgr)
        assert out.shape == fgr.shape
        assert bool((out <= fgr + 1e-6).all()) and bool((out >= 0.03 * fgr - 1e-6).all())
        assert float((out / fgr.clamp(min=1e-3)).min()) < 0.45  # the floor is reached somewhere


def _dot_shift(plate: torch.Tensor, live: torch.Tensor) -> float:
    """How far the centroid of a bright dot moved between live background and plate."""
    ys, xs = torch.meshgrid(torch.arange(65.0), torch.arange(65.0), indexing="ij")

    def centroid(img):
        grey = img.mean(0)  # weights above the midpoint: the background's noise does not count
        w = (grey - (grey.median() + grey.max()) / 2).clamp(min=0)
        return torch.stack([(w * ys).sum(), (w * xs).sum()]) / w.sum()

    return float((centroid(plate) - centroid(live)).norm())


def test_plate_misalignment_scales_with_misalign():
    live = torch.full((3, 65, 65), 0.2)
    live[:, 30:35, 30:35] = 0.9  # at the centre: rotation, scale and shear leave it in place
    moved = 0
    for seed in range(8):
        shifts = [
            _dot_shift(perturb_plate(live, np.random.default_rng(seed), m), live)
            for m in (0.0, 1.0, 3.0)
        ]
        assert shifts[0] < 0.05
        if shifts[1] > 0.05:  # this seed misaligned the plate (70% do)
            moved += 1
            assert shifts[2] == pytest.approx(3 * shifts[1], rel=0.15)
    assert moved >= 3


def test_unknown_kind_lists_known():
    with pytest.raises(BgmError, match="synthetic, folders"):
        build_dataset("nope", size=SIZE, length=1, seed=0)


# --- folder layouts -------------------------------------------------------------------------


def _rgb(seed: int, h=40, w=48) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _alpha(h=40, w=48) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    return np.clip((12 - r) * 40 + 128, 0, 255).astype(np.uint8)


def _frames(folder, n, kind):
    folder.mkdir(parents=True)
    for k in range(n):
        img = _rgb(k) if kind == "fgr" else _alpha()
        Image.fromarray(img).save(folder / f"{k:04d}.png")


def _video(path, n, kind):
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 40, "yuv420p"
        for k in range(n):
            img = _rgb(k) if kind == "fgr" else np.repeat(_alpha()[..., None], 3, 2)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())


def _folders(root, **kw):
    return build_dataset("folders", size=SIZE, length=4, seed=0, root=str(root), **kw)


def _check_dataset(ds):
    items = [ds[i] for i in range(len(ds))]
    for item in items:
        _check_item(item)
    again = ds[1]
    assert all(torch.equal(items[1][k], again[k]) for k in KEYS)


def test_videomatte_frame_folders(tmp_path):
    for clip, n in (("a", 3), ("b", 2)):
        _frames(tmp_path / "fgr" / clip, n, "fgr")
        _frames(tmp_path / "pha" / clip, n, "pha")
    ds = _folders(tmp_path)
    _check_dataset(ds)
    assert any(((ds[i]["true_pha"] > 0.05) & (ds[i]["true_pha"] < 0.95)).any() for i in range(4))


def test_videomatte_videos_with_background_folder(tmp_path):
    _video(tmp_path / "fgr" / "clip.mp4", 4, "fgr")
    _video(tmp_path / "pha" / "clip.mp4", 4, "pha")
    bgs = tmp_path / "bgs"
    bgs.mkdir()
    Image.fromarray(_rgb(9, 80, 80)).save(bgs / "room.jpg")
    _video(bgs / "street.mp4", 3, "fgr")
    _check_dataset(_folders(tmp_path, backgrounds=str(bgs)))


def test_photomatte_rgba_pngs(tmp_path):
    for k in range(2):
        rgba = np.dstack([_rgb(k), _alpha()])
        Image.fromarray(rgba, "RGBA").save(tmp_path / f"p{k}.png")
    _check_dataset(_folders(tmp_path))
    _check_dataset(_folders(tmp_path, augment=False))


@pytest.mark.parametrize(
    "make, named",
    [
        (lambda r: None, "missing"),
        (lambda r: r.mkdir(), "r"),
        (lambda r: _frames(r / "fgr" / "a", 2, "fgr"), "pha"),
        (lambda r: (_frames(r / "fgr" / "a", 2, "fgr"), _frames(r / "pha" / "b", 2, "pha")), "a"),
        (lambda r: (_frames(r / "fgr" / "a", 3, "fgr"), _frames(r / "pha" / "a", 2, "pha")), "a"),
        (lambda r: (r.mkdir(), Image.fromarray(_rgb(0)).save(r / "x.png")), "x.png"),
    ],
    ids=["missing", "empty", "no-pha", "name-mismatch", "count-mismatch", "png-without-alpha"],
)
def test_bad_dataset_folder_is_one_line_error_naming_it(tmp_path, make, named):
    root = tmp_path / ("missing" if named == "missing" else "r")
    make(root)
    with pytest.raises(BgmError) as err:
        _folders(root)
    msg = str(err.value)
    assert "\n" not in msg and named in msg


def test_videos_with_different_frame_counts(tmp_path):
    _video(tmp_path / "fgr" / "clip.mp4", 4, "fgr")
    _video(tmp_path / "pha" / "clip.mp4", 3, "pha")
    with pytest.raises(BgmError, match="clip.mp4"):
        _folders(tmp_path)


def test_bad_backgrounds_folder(tmp_path):
    Image.fromarray(np.dstack([_rgb(0), _alpha()]), "RGBA").save(tmp_path / "p.png")
    with pytest.raises(BgmError, match="nowhere"):
        _folders(tmp_path, backgrounds=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BgmError, match="empty"):
        _folders(tmp_path, backgrounds=str(tmp_path / "empty"))


@pytest.mark.slow
def test_plate_jitter_sets_how_far_the_plate_colour_strays_from_the_live_background():
    default, same = _synthetic(length=6), _drawn_with(plate_jitter=0.18)
    assert all(torch.equal(a["bgr"], b["bgr"]) for a, b in zip(default, same, strict=True))
    aligned = _drawn_with(misalign_share=0.0)
    calm = _drawn_with(plate_jitter=0.0, misalign_share=0.0)

    def stray(data) -> float:  # the plate against the frame where the frame shows background
        total = []
        for i in range(6):
            item = data[i]
            clear = item["true_pha"][0] == 0
            total.append((item["src"] - item["bgr"]).abs().mean(0)[clear])
        return float(torch.cat(total).mean())

    assert stray(calm) < 0.5 * stray(aligned)


def _drawn_with(**recipe):
    """Six synthetic samples drawn as the default ones, with some recipe fields changed."""
    return build_dataset("synthetic", size=SIZE, length=6, seed=0, recipe=SampleRecipe(**recipe))


def test_camouflage_brings_opaque_subjects_close_to_the_backdrop_behind_them():
    def gap(data) -> float:  # opaque subject against the plate, plates in register and calm
        return float(torch.cat([
            (item["src"] - item["bgr"]).abs().mean(0)[item["true_pha"][0] == 1]
            for item in (data[i] for i in range(6))
        ]).mean())  # fmt: skip

    calm = {"plate_jitter": 0.0, "misalign_share": 0.0}
    assert gap(_drawn_with(camouflage_share=1.0, **calm)) < 0.8 * gap(_drawn_with(**calm))
