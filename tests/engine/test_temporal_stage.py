"""--temporal in bgm matte: the stage after the model keeps every frame, its order, timestamps
and per-frame target while holding one frame back; runs report their flicker; asking for the
filter on a single picture is a one-line error."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from bgmcli.engine.matte import run_matte
from bgmcli.engine.matte_config import MatteConfig
from bgmcli.engine.pipeline import Matted
from bgmcli.engine.temporal_stage import TemporalStage
from bgmcli.errors import BgmError
from bgmcli.model.matting import MattingOutput
from bgmcli.model.temporal import TemporalSettings
from tests.engine.media import final_names


def _matted(first: int, count: int = 2) -> Matted:
    """`count` frames of a still scene whose alpha flickers; pha_sm etc. tag the frame index."""
    gen = torch.Generator().manual_seed(first)
    src = torch.full((count, 3, 8, 8), 0.5)
    bgr = torch.full((count, 3, 8, 8), 0.2)
    pha = 0.5 + 0.1 * torch.rand(count, 1, 8, 8, generator=gen)
    index = torch.arange(first, first + count, dtype=torch.float32).view(count, 1, 1, 1)
    out = MattingOutput(pha, src, index.expand(-1, 1, 2, 2), src[:, :, :2, :2], index,
                        index.expand(-1, 1, 2, 2))  # fmt: skip
    tgt = index.expand(-1, 3, 8, 8)  # a video target: one picture per frame
    return Matted(out, tgt, list(range(10 * first, 10 * (first + count), 10)), (src, bgr))


def test_frames_come_out_in_order_with_their_timestamps_and_targets():
    stage = TemporalStage(TemporalSettings())
    batches = [stage(_matted(first)) for first in (0, 2, 4)]
    batches.append(stage.finish())
    out = [m for ready in batches for m in ready]
    assert [len(m.pts) for m in out] == [1, 2, 2, 1]  # one frame held back, then given
    pts = [p for m in out for p in m.pts]
    assert pts == [0, 10, 20, 30, 40, 50]
    for m in out:  # each frame's target and coarse outputs travel with it
        frames = [p // 10 for p in m.pts]
        assert m.tgt[:, 0, 0, 0].tolist() == frames
        assert m.out.err_sm.flatten().tolist() == frames
        assert m.inputs is None
    raw = torch.cat([_matted(first).out.pha for first in (0, 2, 4)])
    filtered = torch.cat([m.out.pha for m in out])
    assert filtered.diff(dim=0).abs().mean() < 0.7 * raw.diff(dim=0).abs().mean()
    assert stage.flicker is not None


def test_without_the_filter_frames_pass_at_once_and_flicker_is_measured():
    stage = TemporalStage(None)
    (out,) = stage(_matted(0))
    assert out.pts == [0, 10] and torch.equal(out.out.pha, _matted(0).out.pha)
    assert stage.finish() == [] and stage.flicker > 0


def _config(media, outdir, clip, **options) -> MatteConfig:
    return MatteConfig(input=clip, background=media.plate, outdir=outdir,
                       checkpoint=media.checkpoint, device="cpu", k=100,
                       output_types=("pha",), **options)  # fmt: skip


@pytest.mark.slow
def test_a_filtered_run_writes_every_frame_and_reports_its_flicker(media, tmp_path):
    result = run_matte(_config(media, tmp_path, media.short, temporal=True, batch=3))
    assert result.frames == 8 and result.temporal and result.flicker is not None
    assert final_names(tmp_path) == ["short.pha.mp4"]
    plain = run_matte(_config(media, tmp_path / "plain", media.short))
    assert not plain.temporal and plain.flicker is not None


def test_the_filter_asked_for_on_a_single_image_is_an_error(media, tmp_path):
    image = sorted(media.images.iterdir())[0]
    with pytest.raises(BgmError, match="--temporal needs frames in sequence"):
        run_matte(_config(media, tmp_path, image, temporal=True))
    assert not tmp_path.exists() or final_names(tmp_path) == []
    run_matte(_config(media, tmp_path, image))  # the default does not apply: no error
    assert final_names(tmp_path) == [f"{image.stem}.pha.png"]


@pytest.mark.slow
def test_the_live_loop_filters_looking_back_only(media, tmp_path):
    """A plate captured from a file's first frames: the rest go through the live loop (none
    dropped), where the filter looks back only: one frame in, one out."""
    config = replace(_config(media, tmp_path, media.clip, temporal=True), background=None,
                     capture_s=0.5)  # fmt: skip
    result = run_matte(config)
    assert result.temporal and result.live is not None
    assert result.frames == 36 and result.flicker is not None
    assert final_names(tmp_path) == ["clip.pha.mp4", "clip.plate.png"]
