"""Runs that stop part-way (a crash in the model, a bad frame, Ctrl-C, a failing encoder) leave
nothing under a final name, and say so; existing outputs are refused before any work."""

import dataclasses

import pytest

from bgmcli.engine import matte as matte_module
from bgmcli.engine import sinks
from bgmcli.engine.matte import MatteInterrupted, run_matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.errors import BgmError
from bgmcli.loading import load_model
from tests.engine.media import final_names


def config(media, outdir, **options) -> MatteConfig:
    settings = dict(
        input=media.clip, background=media.plate, outdir=outdir,
        checkpoint=media.checkpoint, device="cpu", k=100,
        output_types=("com", "pha", "fgr"),
    )  # fmt: skip
    settings.update(options)
    return MatteConfig(**settings)


class FailingModel:
    """The real model for `good` calls, then `error`."""

    def __init__(self, media, error: BaseException, good: int = 3):
        self.model = load_model(media.checkpoint, k=100)
        self.error, self.good = error, good

    def __call__(self, src, bgr):
        if self.good == 0:
            raise self.error
        self.good -= 1
        return self.model(src, bgr)


def assert_only_partials(folder):
    assert final_names(folder) == []
    assert all(p.name.endswith(".partial") for p in folder.iterdir())


def test_a_crashing_model_leaves_only_partial_files(media, tmp_path):
    model = FailingModel(media, RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom") as error:
        run_matte(config(media, tmp_path), model=model)
    assert "stopped after 3 frames" in " ".join(getattr(error.value, "__notes__", []))
    assert_only_partials(tmp_path)
    assert any(tmp_path.iterdir())  # the partial com (with audio) is there to inspect


def test_ctrl_c_leaves_only_partial_files_and_says_so(media, tmp_path):
    model = FailingModel(media, KeyboardInterrupt())
    with pytest.raises(MatteInterrupted, match="interrupted: stopped after 3 frames"):
        run_matte(config(media, tmp_path), model=model)
    assert_only_partials(tmp_path)


def test_a_source_failing_mid_stream_leaves_only_partial_files(media, tmp_path, monkeypatch):
    real_open = matte_module.open_source

    def flaky_open(*args, **kwargs):
        source = real_open(*args, **kwargs)
        frames = source.frames

        def failing_frames():
            for index, frame in enumerate(frames()):
                if index == 5:
                    raise BgmError("input clip.mp4: cannot decode frame 5: I/O error")
                yield frame

        source.frames = failing_frames
        return source

    monkeypatch.setattr(matte_module, "open_source", flaky_open)
    with pytest.raises(BgmError, match="frame 5.*stopped after 5 frames") as error:
        run_matte(config(media, tmp_path))
    assert "\n" not in str(error.value)
    assert_only_partials(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["truncated", "corrupt"])
def test_damaged_videos_fail_and_leave_no_final_output(media, tmp_path, clip):
    with pytest.raises(BgmError, match="truncated|corrupt|decode"):
        run_matte(config(media, tmp_path, input=getattr(media, clip)))
    assert_only_partials(tmp_path)


def test_a_failing_encoder_stops_the_run(media, tmp_path, monkeypatch):
    def full_disk(self, images, pts):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sinks.VideoSink, "write", full_disk)
    with pytest.raises(BgmError, match="No space left on device"):
        run_matte(config(media, tmp_path))
    assert_only_partials(tmp_path)


def test_existing_output_is_refused_before_any_work(media, tmp_path, monkeypatch):
    existing = tmp_path / "clip.pha.mp4"
    existing.write_bytes(b"earlier result")
    monkeypatch.setattr(matte_module, "_load_model", lambda *a: pytest.fail("model loaded"))
    with pytest.raises(BgmError, match="output exists.*--overwrite"):
        run_matte(config(media, tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.pha.mp4"]
    assert existing.read_bytes() == b"earlier result"


@pytest.mark.slow
def test_overwrite_replaces_files_and_folders(media, tmp_path):
    (tmp_path / "clip.pha.mp4").write_bytes(b"earlier result")
    (tmp_path / "short.pha").mkdir()
    (tmp_path / "short.pha" / "999999.png").write_bytes(b"stale")
    run_matte(config(media, tmp_path, input=media.short, output_types=("pha",), overwrite=True))
    run_matte(config(media, tmp_path, output_types=("pha",), overwrite=True))
    assert (tmp_path / "clip.pha.mp4").stat().st_size > 1000
    png = config(media, tmp_path, input=media.short, output_types=("pha",), overwrite=True)
    run_matte(dataclasses.replace(png, output_format="png"))
    assert len(list((tmp_path / "short.pha").iterdir())) == 8  # the stale frame is gone


def test_a_missing_codec_is_an_error_before_any_work(media, tmp_path, monkeypatch):
    def no_codec(name, mode="r"):
        raise ValueError(name)

    monkeypatch.setattr(sinks.av.codec, "Codec", no_codec)
    with pytest.raises(BgmError, match="no libvpx-vp9 encoder"):
        run_matte(config(media, tmp_path, output_format="webm"))
    assert list(tmp_path.iterdir()) == []
