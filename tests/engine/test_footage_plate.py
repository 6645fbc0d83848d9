"""--bg frame:TIME and --bg auto in a whole run: the plate from the footage, its pictures beside
the outputs, the coverage warned about or refused; every bad input one line, nothing written."""

import numpy as np
import pytest
from PIL import Image

from bgmcli.engine.matte import run_matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.errors import BgmError
from tests.engine.media import Recorder, final_names, plate, write_image
from tests.engine.test_plate_estimate import disc, noisy


def config(media, source, outdir, **options) -> MatteConfig:
    # random weights matte noise: the model's round (tested with the bundled model) is left out
    settings = dict(input=source, background=None, outdir=outdir, checkpoint=media.checkpoint,
                    device="cpu", k=100, output_types=("pha",), plate_mattes=False)  # fmt: skip
    return MatteConfig(**settings | options)


def image_take(folder, images):
    folder.mkdir()
    for index, image in enumerate(images):
        write_image(folder / f"{index:03d}.png", image)
    return folder


@pytest.mark.slow
def test_auto_builds_the_plate_and_writes_it_with_its_coverage(media, tmp_path):
    report = Recorder()
    result = run_matte(config(media, media.clip, tmp_path, plate_auto=True), report)
    cover = result.plate.coverage
    assert final_names(tmp_path) == ["clip.pha.mp4", "clip.plate-coverage.png", "clip.plate.png"]
    assert cover.plate_path == tmp_path / "clip.plate.png" and cover.seen_share == 1.0
    assert cover.frames >= 24 and report.warnings == []
    built = np.asarray(Image.open(cover.plate_path), np.float64)
    # the room without the subject; this small H.264 clip's own frames are 3.4 levels off it
    assert np.abs(built - plate(120, 160)).mean() < 4


@pytest.mark.slow
def test_frame_time_takes_one_frame_and_writes_nothing_more(media, tmp_path):
    result = run_matte(config(media, media.clip, tmp_path, plate_time=-1.0))
    assert result.plate.form == "frame:-1" and result.plate.coverage is None
    assert final_names(tmp_path) == ["clip.pha.mp4"]


def test_a_time_past_the_end_is_refused_before_any_output(media, tmp_path):
    with pytest.raises(BgmError, match=r"frame:30 is past the end of .*clip.mp4"):
        run_matte(config(media, media.clip, tmp_path, plate_time=30.0))
    assert not tmp_path.exists() or final_names(tmp_path) == []


def test_auto_on_one_image_is_refused(media, tmp_path):
    with pytest.raises(BgmError, match=r"plate.png is one image: give its plate with --bg FILE"):
        run_matte(config(media, media.plate, tmp_path / "out", plate_auto=True))
    assert not (tmp_path / "out").exists()


def test_a_subject_that_never_moves_is_refused_with_what_to_shoot(media, tmp_path):
    rng = np.random.default_rng(0)
    room = plate(36, 64)
    take = image_take(tmp_path / "still", [noisy(disc(room, 32, 18, 9), rng) for _ in range(8)])
    with pytest.raises(BgmError, match=r"nothing moves in .*still.* shoot a few seconds of the "
                                       r"empty scene"):  # fmt: skip
        run_matte(config(media, take, tmp_path / "out", plate_auto=True))
    assert not (tmp_path / "out").exists()


def test_too_little_background_seen_is_refused(media, tmp_path):
    rng = np.random.default_rng(1)
    room = plate(36, 64)
    sway = [noisy(disc(room, 32 + (i % 3 - 1), 18 + (i // 3 % 3 - 1), 17), rng) for i in range(9)]
    with pytest.raises(BgmError, match=r"saw the background over \d+\.\d% of the frame only .*"
                                       r"empty scene"):  # fmt: skip
        run_matte(config(media, image_take(tmp_path / "sway", sway), tmp_path / "out",
                         plate_auto=True))  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_some_background_unseen_is_a_warning_naming_the_coverage_picture(media, tmp_path):
    rng = np.random.default_rng(2)
    room = plate(36, 64)
    sway = [noisy(disc(room, 32 + (i % 3 - 1), 18 + (i // 3 % 3 - 1), 11), rng) for i in range(9)]
    report = Recorder()
    take = image_take(tmp_path / "sway", sway)
    result = run_matte(config(media, take, tmp_path / "out", plate_auto=True, align="off"), report)
    assert 0.8 <= result.plate.coverage.seen_share < 0.98
    (warning,) = report.warnings
    assert "saw the background over" in warning and "sway.plate-coverage.png" in warning


def test_an_existing_plate_picture_is_kept_unless_overwrite(media, tmp_path):
    (tmp_path / "clip.plate.png").write_bytes(b"mine")
    with pytest.raises(BgmError, match=r"output exists: .*clip.plate.png"):
        run_matte(config(media, media.clip, tmp_path, plate_auto=True))
    assert (tmp_path / "clip.plate.png").read_bytes() == b"mine"


@pytest.mark.slow
def test_the_model_round_with_the_bundled_model_keeps_a_clean_take_whole(media, tmp_path):
    """The round mattes the sample with the run's own model (loaded once, before the plate)."""
    from bgmcli.loading import load_model

    model, calls = load_model(None, device="cpu"), []
    base = model.base
    model.base = lambda *inputs: calls.append(inputs[0].shape) or base(*inputs)
    report = Recorder()
    result = run_matte(config(media, media.clip, tmp_path, plate_auto=True, checkpoint=None,
                              plate_mattes=True), report, model=model)  # fmt: skip
    cover = result.plate.coverage
    assert sum(shape[0] for shape in calls) >= cover.frames + result.frames  # sample + run
    # a margin may be taken out of the count where the model errs on "covered": no warning
    assert cover.seen_share >= 0.98 and report.warnings == []
    built = np.asarray(Image.open(cover.plate_path), np.float64)
    assert np.abs(built - plate(120, 160)).mean() < 4
