"""Compositing and the size-dependent defaults: pure functions a user's output depends on."""

import pytest
import torch

from bgmcli.engine.compose import GREEN, open_target, picture, to_uint8
from bgmcli.engine.matte_config import MatteConfig, parse_output_types, parse_time
from bgmcli.engine.sources import open_source
from bgmcli.errors import BgmError
from bgmcli.model.frame_size import base_scale, default_k, parse_scale
from bgmcli.model.matting import MattingOutput


def fake_output(height=6, width=10):
    pha = torch.zeros(1, 1, height, width)
    pha[..., :, width // 2 :] = 1.0  # right half is subject
    fgr = torch.full((1, 3, height, width), 0.5)
    err_sm = torch.rand(1, 1, 2, 3)
    ref_sm = torch.zeros(1, 1, -(-height // 4), -(-width // 4))
    ref_sm[..., 0, 0] = 1
    return MattingOutput(pha, fgr, pha, fgr, err_sm, ref_sm)


def test_com_over_a_colour_keeps_the_subject_and_replaces_the_rest():
    out = fake_output()
    red = torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1)
    com = to_uint8(picture("com", out, red, rgba=False))[0].permute(1, 2, 0)
    assert com.shape == (6, 10, 3)
    assert com[0, 0].tolist() == [255, 0, 0] and com[0, 9].tolist() == [128, 128, 128]


def test_transparent_com_and_rgba_fgr_carry_the_matte_as_alpha():
    out = fake_output()
    for kind in ("com", "fgr"):
        rgba = to_uint8(picture(kind, out, None, rgba=True))[0]
        assert rgba.shape == (4, 6, 10)
        assert rgba[3].tolist() == to_uint8(out.pha)[0, 0].tolist()
    assert picture("fgr", out, None, rgba=False).shape[1] == 3


def test_err_and_ref_maps_come_back_at_the_frame_size_even_when_odd():
    out = fake_output(7, 9)
    assert picture("err", out, None, rgba=False).shape == (1, 1, 7, 9)
    ref = picture("ref", out, None, rgba=False)
    assert ref.shape == (1, 1, 7, 9)
    assert ref[0, 0, :4, :4].eq(1).all() and ref[0, 0, 4:, 4:].eq(0).all()


def test_targets(media):
    info = open_source(media.plate).info
    assert open_target(None, info, alpha_format=False, warn=print).colour == GREEN
    assert open_target(None, info, alpha_format=True, warn=print).transparent
    assert open_target("#00ff80", info, alpha_format=True, warn=print).colour == (0, 255, 128)
    image = open_target(str(media.plate), info, alpha_format=False, warn=print)
    assert image.plate is not None and not image.per_frame
    with pytest.raises(BgmError, match="not green, a #RRGGBB colour"):
        open_target("blue", info, alpha_format=False, warn=print)


def test_paper_defaults_by_resolution():
    assert default_k(1920, 1080) == 5_000 and default_k(3840, 2160) == 20_000
    assert default_k(2560, 1440) == round(5_000 * 2560 * 1440 / (1920 * 1080))
    assert default_k(640, 360) == 556  # the same refined share of the frame as at HD
    assert base_scale(1920, 1080) == 0.25
    assert base_scale(3840, 2160) == 0.125


def test_option_parsing():
    assert parse_time("12.5", "--start") == 12.5
    assert parse_time("1:02.5", "--start") == 62.5
    assert parse_time("1:00:00", "--start") == 3600
    assert parse_scale("1/8") == 0.125
    assert parse_output_types("com, pha,com") == ("com", "pha")
    with pytest.raises(BgmError, match="unknown output type"):
        MatteConfig(input="a", background="b", output_types=("com", "alpha"))
    with pytest.raises(BgmError, match="--batch"):
        MatteConfig(input="a", background="b", batch=0)
