"""Every output type in every format, checked by decoding what was written: frame count, size,
exact frame rate and timestamps, audio copied into com, alpha that survives."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgmcli.engine.matte import run_matte
from bgmcli.engine.matte_config import OUTPUT_TYPES, MatteConfig
from tests.engine.media import Recorder, decode, final_names

ALL = tuple(OUTPUT_TYPES)


def matte(media, outdir: Path, **options):
    settings = dict(
        input=media.clip, background=media.plate, outdir=outdir,
        checkpoint=media.checkpoint, device="cpu", k=100,
    )  # fmt: skip
    settings.update(options)
    recorder = Recorder()
    result = run_matte(MatteConfig(**settings), recorder)
    return result, recorder


@pytest.fixture(scope="module")
def videos(media, tmp_path_factory):
    """All five outputs of the 48-frame clip as mp4, mov and webm (one run per format)."""
    out = tmp_path_factory.mktemp("videos")
    warnings = {}
    for fmt in ("mp4", "mov", "webm"):
        _, recorder = matte(media, out, output_types=ALL, output_format=fmt)
        warnings[fmt] = recorder.warnings
    return out, warnings


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm"])
@pytest.mark.parametrize("kind", ALL)
def test_video_outputs_keep_count_size_rate_and_timestamps(videos, media, fmt, kind):
    out, _ = videos
    frames, stream, _ = decode(out / f"clip.{kind}.{fmt}")
    assert len(frames) == 48
    assert (frames[0].width, frames[0].height) == (160, 120)
    assert stream.average_rate == Fraction(24000, 1001)
    times = [f.pts * f.time_base for f in frames[:5]]
    expected = [Fraction(i * 1001, 24000) for i in range(5)]
    tolerance = Fraction(1, 1000) if fmt == "webm" else 0  # WebM counts in milliseconds
    assert all(abs(t - e) <= tolerance for t, e in zip(times, expected, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm"])
def test_audio_is_copied_into_com_where_the_container_allows(videos, fmt):
    out, warnings = videos
    _, _, com_audio = decode(out / f"clip.com.{fmt}")
    _, _, pha_audio = decode(out / f"clip.pha.{fmt}")
    assert pha_audio == []
    if fmt == "webm":  # WebM takes Opus or Vorbis, not the clip's AAC: said, not hidden
        assert com_audio == [] and any("audio" in w for w in warnings[fmt])
    else:
        assert com_audio == ["aac"] and warnings[fmt] == []


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mov", "webm"])
@pytest.mark.parametrize("kind", ["com", "fgr"])
def test_alpha_survives_in_mov_and_webm(videos, fmt, kind):
    out, _ = videos
    codec = "libvpx-vp9" if fmt == "webm" else None
    frames, _, _ = decode(out / f"clip.{kind}.{fmt}", codec)
    mattes, _, _ = decode(out / f"clip.pha.{fmt}")
    assert "a" in frames[0].format.name  # yuva444p12le / yuva420p
    alpha = frames[10].to_ndarray(format="rgba")[:, :, 3].astype(int)
    pha = mattes[10].to_ndarray(format="gray").astype(int)
    assert alpha.std() > 1  # a real matte, not a constant plane
    assert np.abs(alpha - pha).mean() < (6 if fmt == "webm" else 2)


@pytest.mark.slow
def test_mp4_com_is_opaque_over_green(videos):
    out, _ = videos
    frames, _, _ = decode(out / "clip.com.mp4")
    assert frames[0].format.name == "yuv420p"


@pytest.mark.slow
def test_png_sequences_rgba_for_com_and_fgr(media, tmp_path):
    matte(media, tmp_path, input=media.short, output_types=ALL, output_format="png")
    modes = {}
    for kind in ALL:
        files = sorted((tmp_path / f"short.{kind}").iterdir())
        assert [f.name for f in files[:2]] == ["000000.png", "000001.png"] and len(files) == 8
        with Image.open(files[3]) as image:
            modes[kind] = image.mode
            assert image.size == (160, 120)
    assert modes == {"com": "RGBA", "fgr": "RGBA", "pha": "L", "err": "L", "ref": "L"}
    alpha = np.asarray(Image.open(tmp_path / "short.com" / "000003.png"))[:, :, 3]
    pha = np.asarray(Image.open(tmp_path / "short.pha" / "000003.png"))
    assert np.array_equal(alpha, pha)


@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm", "png"])
def test_odd_sizes_come_back_at_their_own_size(media, tmp_path, fmt):
    matte(media, tmp_path, input=media.odd, background=media.odd_plate, output_format=fmt)
    if fmt == "png":
        with Image.open(tmp_path / "odd.com" / "000005.png") as image:
            assert image.size == (157, 101)
        return
    for kind in ("com", "pha"):
        frames, _, _ = decode(tmp_path / f"odd.{kind}.{fmt}")
        assert len(frames) == 6 and (frames[0].width, frames[0].height) == (157, 101)


def test_variable_frame_rate_timestamps_are_kept(media, tmp_path):
    matte(media, tmp_path, input=media.vfr, output_types=("pha",))
    frames, _, _ = decode(tmp_path / "vfr.pha.mp4")
    assert [f.pts * f.time_base for f in frames] == [Fraction(p, 1000) for p in media.vfr_pts]


def test_start_and_duration_trim_video_and_audio(media, tmp_path):
    result, _ = matte(media, tmp_path, output_types=("com",), start=0.5, duration=0.5)
    frames, _, audio = decode(tmp_path / "clip.com.mp4")
    assert result.frames == len(frames) == 12 and audio == ["aac"]
    import av

    with av.open(str(tmp_path / "clip.com.mp4")) as container:
        sound = container.streams.audio[0]
        seconds = float(sound.duration * sound.time_base)
    assert 0.4 < seconds < 0.6


def test_background_of_another_size_is_resized_with_a_warning(media, tmp_path):
    result, recorder = matte(media, tmp_path, input=media.short, background=media.small_plate,
                             align="off")  # fmt: skip
    assert result.frames == 8
    assert len(recorder.warnings) == 1 and "80x60" in recorder.warnings[0]


def test_background_video_is_played_in_step_and_held(media, tmp_path):
    result, recorder = matte(media, tmp_path, input=media.short, background=media.plate_video)
    assert result.frames == 8
    assert any("last frame is held" in w for w in recorder.warnings)


def test_image_folder_to_png_sequences_by_default(media, tmp_path):
    result, _ = matte(media, tmp_path, input=media.images)
    assert result.frames == 5
    assert final_names(tmp_path) == ["shots.com", "shots.pha"]
    names = ["000.png", "001.png", "002.png", "003.png", "004.png"]  # the inputs' own names
    assert final_names(tmp_path / "shots.pha") == names


def test_glob_inputs_keep_their_names(media, tmp_path):
    matte(media, tmp_path, input=media.images / "00[13].png", output_types=("pha",))
    assert final_names(tmp_path / "shots.pha") == ["001.png", "003.png"]


def test_frame_names_fall_back_when_they_repeat():
    from pathlib import Path

    from bgmcli.engine.sources import frame_names

    assert frame_names([Path("x/a.jpg"), Path("x/b.png")]) == ("a", "b")
    assert frame_names([Path("x/a.jpg"), Path("x/a.png")]) == ("a.jpg", "a.png")
    assert frame_names([Path("x/a.jpg"), Path("y/a.jpg")]) == ()  # numbered 000000.png ...


def test_image_folder_to_video_at_the_image_rate(media, tmp_path):
    matte(media, tmp_path, input=media.images, output_format="mp4", output_types=("pha",))
    frames, stream, _ = decode(tmp_path / "shots.pha.mp4")
    assert len(frames) == 5 and stream.average_rate == 24


def test_single_image_gives_single_pngs(media, tmp_path):
    matte(media, tmp_path, input=media.images / "002.png", output_types=("com", "pha"))
    assert final_names(tmp_path) == ["002.com.png", "002.pha.png"]


@pytest.mark.parametrize("target", ["#ff0000", "plate", "plate_video"])
def test_targets_colour_image_and_video(media, tmp_path, target):
    spec = target if target.startswith("#") else str(getattr(media, target))
    result, _ = matte(media, tmp_path, input=media.short, output_types=("com",), target=spec)
    frames, _, _ = decode(tmp_path / "short.com.mp4")
    assert result.frames == len(frames) == 8


def test_outputs_default_next_to_the_input(media, tmp_path):
    import shutil

    clip = Path(shutil.copy(media.short, tmp_path / "take1.mp4"))
    result, _ = matte(media, None, input=clip, output_types=("pha",))
    assert result.outputs == [tmp_path / "take1.pha.mp4"] and result.outputs[0].exists()


def test_batches_keep_every_frame_in_order(media, tmp_path):
    result, _ = matte(media, tmp_path, input=media.short, output_types=("pha",), batch=3)
    frames, _, _ = decode(tmp_path / "short.pha.mp4")
    assert result.frames == len(frames) == 8  # 3 + 3 + a short batch of 2
    assert [f.pts * f.time_base for f in frames] == [Fraction(i * 1001, 24000) for i in range(8)]


def test_bf16_runs_under_autocast_on_the_cpu(media, tmp_path):
    result, _ = matte(media, tmp_path, input=media.odd, background=media.odd_plate,
                      output_types=("pha",), precision="bf16")  # fmt: skip
    assert result.frames == 6


@pytest.mark.parametrize("align", ["auto", "on"])
def test_align_measures_the_plate_and_reports_it(media, tmp_path, align):
    result, recorder = matte(media, tmp_path, input=media.short, output_types=("pha",), align=align)
    report = result.alignment
    assert result.frames == report.frames == 8 and recorder.warnings == []
    assert report.estimates == 1 and report.first.offset_px < report.threshold_px  # its own plate
    assert report.aligned == (8 if align == "on" else 0)


def test_align_off_leaves_the_plate_alone(media, tmp_path):
    result, _ = matte(media, tmp_path, input=media.short, output_types=("pha",), align="off")
    assert result.alignment is None


@pytest.mark.parametrize("fmt_name", ["mp4", "mov", "webm"])
def test_rgb_outputs_keep_their_colours(tmp_path, fmt_name):
    """Planes written by a video sink decode to the colours they had (channel order, range)."""
    from bgmcli.engine.formats import FORMATS
    from bgmcli.engine.sinks import Output, open_sink
    from bgmcli.engine.sources import SourceInfo

    info = SourceInfo(path=tmp_path / "in.mp4", name="in", kind="video", width=64, height=48,
                      rate=Fraction(24), time_base=Fraction(1, 24), frames=2, has_audio=False,
                      offset=0.0)  # fmt: skip
    output = Output("com", tmp_path / f"in.com.{fmt_name}", 3)
    sink = open_sink(output, FORMATS[fmt_name], info, None)
    colours = [(230, 30, 30), (30, 230, 30), (30, 30, 230), (200, 180, 40)]
    planes = np.zeros((2, 3, 48, 64), np.uint8)
    for i, colour in enumerate(colours):  # four quadrants of flat colour
        top, left = (i // 2) * 24, (i % 2) * 32
        planes[:, :, top : top + 24, left : left + 32] = np.array(colour)[:, None, None]
    sink.write(planes, [0, 1])
    sink.close()
    output.partial.rename(output.path)
    frames, _, _ = decode(output.path)
    image = frames[0].to_ndarray(format="rgb24").astype(int)
    for i, colour in enumerate(colours):
        top, left = (i // 2) * 24 + 12, (i % 2) * 32 + 16
        assert np.abs(image[top, left] - np.array(colour)).max() <= 6, (i, image[top, left])


@pytest.mark.parametrize("fmt_name", ["mp4", "mov", "webm"])
def test_grey_outputs_decode_to_the_alpha_written(tmp_path, fmt_name):
    """A matte with 1 px strands of partial alpha survives encoding: full range in, full range
    out, edges kept (mp4 builds its limited-range frames itself; the others go via swscale)."""
    from bgmcli.engine.formats import FORMATS
    from bgmcli.engine.sinks import Output, open_sink
    from bgmcli.engine.sources import SourceInfo

    info = SourceInfo(path=tmp_path / "in.mp4", name="in", kind="video", width=96, height=64,
                      rate=Fraction(24), time_base=Fraction(1, 24), frames=2, has_audio=False,
                      offset=0.0)  # fmt: skip
    output = Output("pha", tmp_path / f"in.pha.{fmt_name}", 1)
    y, x = np.mgrid[0:64, 0:96]
    alpha = np.clip((40 - np.hypot(x - 48, y - 40)) / 6, 0, 1)
    alpha[(x % 4 == 0) & (y < 20)] = 0.5  # strands
    alpha[60:, :] = np.linspace(0, 1, 96)  # a ramp through every level
    planes = np.repeat((alpha * 255).round().astype(np.uint8)[None, None], 2, axis=0)
    sink = open_sink(output, FORMATS[fmt_name], info, None)
    sink.write(planes, [0, 1])
    sink.close()
    output.partial.rename(output.path)
    frames, _, _ = decode(output.path)
    back = frames[0].to_ndarray(format="gray").astype(int)  # back to full range
    error = np.abs(back - planes[0, 0])
    assert error.mean() < 1.5 and error.max() <= 16, (error.mean(), error.max())
    assert back[30, 2] <= 2 and back[40, 48] >= 253  # black stays black, white stays white


def test_grey_frames_are_built_with_exact_limited_range_rounding():
    import av
    from av.video.reformatter import ColorRange, Colorspace

    from bgmcli.engine.sinks import grey_yuv420p

    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    ours = grey_yuv420p(grey)
    assert (ours.colorspace, ours.color_range) == (Colorspace.ITU709, ColorRange.MPEG)
    planes = ours.to_ndarray(format="yuv420p")
    assert np.array_equal(planes[:16], np.round(16 + grey.astype(int) * 219 / 255))
    assert (planes[16:] == 128).all()
    swscale = av.VideoFrame.from_ndarray(grey, format="gray").reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    assert np.abs(swscale.to_ndarray(format="yuv420p").astype(int) - planes).max() <= 1
