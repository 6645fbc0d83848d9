"""`bgm matte` as a user runs it: a summary line on success; for every bad input one line on
stderr, exit code 2, and nothing under a final output name."""

import pytest

from bgmcli.engine import sinks
from tests.cli_helpers import assert_one_line_error, run_bgm
from tests.engine.media import final_names


def matte(capsys, media, out, *args, clip=None):
    base = ["matte", clip or media.short, "--bg", media.plate, "-o", out]
    return run_bgm(capsys, *base, "--checkpoint", media.checkpoint, "--k", "100", *args)


def test_matte_writes_outputs_and_a_summary_line(capsys, media, tmp_path):
    code, out, err = matte(capsys, media, tmp_path)
    assert code == 0, err
    assert final_names(tmp_path) == ["short.com.mp4", "short.pha.mp4"]
    summary = out.strip().splitlines()
    assert len(summary) == 2 and "8 frames (160x120)" in summary[0] and "fps" in summary[0]
    # --align auto by default: what it measured, and that the plate was left as it is
    assert summary[1].startswith("background off by 0.") and "rotation" in summary[1]
    assert (" scale 0.99" in summary[1] or " scale 1.00" in summary[1]) and summary[1].endswith(
        "used as it is (--align auto warps beyond 0.3 px); 1 estimate"
    )


def test_align_takes_auto_on_or_off(capsys, media, tmp_path):
    code, out, _ = matte(capsys, media, tmp_path, "--align", "off")
    assert code == 0 and len(out.strip().splitlines()) == 1  # nothing measured, nothing said
    code, _, err = matte(capsys, media, tmp_path, "--align", "true")
    assert code == 2 and err == "bgm: error: --align must be one of auto, on, off, got 'true'\n"


def test_quiet_prints_nothing(capsys, media, tmp_path):
    code, out, err = matte(capsys, media, tmp_path, "--quiet", "--output-types", "pha")
    assert (code, out, err) == (0, "", "")


@pytest.mark.slow
def test_warnings_are_one_line_each(capsys, media, tmp_path):
    code, _, err = run_bgm(
        capsys, "matte", media.short, "--bg", media.small_plate, "-o", tmp_path, "-q",
        "--checkpoint", media.checkpoint, "--k", "100",
    )  # fmt: skip
    assert code == 0
    # the resize, then --align auto on the upscaled 80x60 JPEG: first failure, then all named
    lines = err.splitlines()
    assert lines[0].startswith("bgm: warning: background") and "80x60" in lines[0]
    assert len(lines) == err.count("\n") == 3
    assert all(line.startswith("bgm: warning: ") for line in lines)


def bad_inputs(media, tmp_path):
    """name -> (arguments replacing the good ones, what the message must say)."""
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "a_file").write_text("")
    return {
        "missing input": (["--clip", tmp_path / "nope.mp4"], "input not found"),
        "not a video": (["--clip", media.not_media], "not a video or image"),
        "truncated video": (["--clip", media.truncated], "truncated"),
        "corrupt video": (["--clip", media.corrupt], "corrupt|decode"),
        "missing background": (["--bg", tmp_path / "nope.png"], "background not found"),
        "unreadable background": (["--bg", tmp_path / "bad.png"], "background .* not an image"),
        "unknown output type": (["--output-types", "com,alpha"], "unknown output type 'alpha'"),
        "unknown format": (["--output-format", "avi"], "unknown output format 'avi'"),
        "unwritable destination": (["-o", tmp_path / "a_file" / "out"], "cannot create output"),
        "cuda without a gpu": (["--device", "cuda"], "no CUDA GPU"),
        "bad time": (["--start", "ten"], "--start 'ten' is not a time"),
        "bad scale": (["--backbone-scale", "1/0"], "--backbone-scale"),
        "zero k": (["--k", "0"], "k must be a positive integer, got 0"),
        "negative k": (["--k", "-5"], "k must be a positive integer, got -5"),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "missing input", "not a video", "truncated video", "corrupt video",
        "missing background", "unreadable background", "unknown output type", "unknown format",
        "unwritable destination", "cuda without a gpu", "bad time", "bad scale", "zero k",
        "negative k",
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_no_final_output(capsys, media, tmp_path, case):
    import re

    if case == "cuda without a gpu":
        import torch

        if torch.cuda.is_available():
            pytest.skip("a CUDA GPU is present")
    out = tmp_path / "out"
    out.mkdir()
    changes, message = bad_inputs(media, tmp_path)[case]
    options = {"--clip": media.short, "--bg": media.plate, "-o": out}
    extra = []
    for flag, value in zip(changes[::2], changes[1::2], strict=True):
        if flag in options:
            options[flag] = value
        else:
            extra += [flag, value]
    code, stdout, err = run_bgm(
        capsys, "matte", options["--clip"], "--bg", options["--bg"], "-o", options["-o"],
        "--checkpoint", media.checkpoint, "--k", "100", "-q", *extra,
    )  # fmt: skip
    assert code == 2, err
    assert err.startswith("bgm: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert final_names(out) == []


def test_a_codec_this_pyav_lacks_is_one_line(capsys, media, tmp_path, monkeypatch):
    def only_some(name, mode="r"):
        raise ValueError(f"unknown codec {name}")

    monkeypatch.setattr(sinks.av.codec, "Codec", only_some)
    code, _, err = matte(capsys, media, tmp_path, "--output-format", "mov")
    assert code == 2 and err.count("\n") == 1
    assert "no prores_ks encoder" in err and list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(capsys, media, tmp_path):
    (tmp_path / "short.pha.mp4").write_bytes(b"keep me")
    code, _, err = matte(capsys, media, tmp_path, "-q")
    assert code == 2 and "--overwrite" in err
    assert (tmp_path / "short.pha.mp4").read_bytes() == b"keep me"
    code, _, err = matte(capsys, media, tmp_path, "-q", "--overwrite")
    assert code == 0, err
    assert (tmp_path / "short.pha.mp4").read_bytes() != b"keep me"


def test_missing_background_option_is_a_usage_error(capsys, media):
    code, _, err = run_bgm(capsys, "matte", media.short)
    assert code == 2 and "--bg" in err and err.count("\n") == 1


def test_another_backbone_with_the_bundled_model_says_what_to_do(capsys, media, tmp_path):
    code, _, err = run_bgm(
        capsys, "matte", media.short, "--bg", media.plate, "-o", tmp_path, "--backbone", "resnet50"
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("bgm: error: the bundled model is mobilenetv2")
    assert "--checkpoint pytorch_resnet50.pth" in err and "BackgroundMattingV2" in err
    assert "missing" not in err and "default.pt" not in err
    assert final_names(tmp_path) == []


def test_the_api_and_the_cli_give_the_same_matte(capsys, media, tmp_path):
    """load_model's defaults are `bgm matte`'s: k and the base scale follow the frame size."""
    import numpy as np
    import torch
    from PIL import Image

    from bgmcli import load_model

    image = media.images / "002.png"
    code, _, err = run_bgm(
        capsys, "matte", image, "--bg", media.plate, "-o", tmp_path, "-q",
        "--checkpoint", media.checkpoint, "--output-types", "pha,ref",
    )  # fmt: skip
    assert code == 0, err
    model = load_model(media.checkpoint)

    def tensor(path):
        return torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)[None]

    with torch.inference_mode():
        out = model(tensor(image) / 255, tensor(media.plate) / 255)
    cli_pha = np.asarray(Image.open(tmp_path / "002.pha.png")).astype(int)
    api_pha = (out.pha[0, 0].numpy() * 255).round().astype(int)
    assert np.abs(cli_pha - api_pha).max() <= 1
    cli_ref = np.asarray(Image.open(tmp_path / "002.ref.png"))
    assert (cli_ref > 127).sum() == 16 * out.ref_sm.sum().item()  # the same refined patches


@pytest.mark.slow
def test_temporal_reports_flicker_and_refuses_a_single_image(capsys, media, tmp_path):
    code, out, err = matte(capsys, media, tmp_path, "--temporal", "--align", "off", "-q")
    assert (code, out, err) == (0, "", "")
    code, out, _ = matte(capsys, media, tmp_path / "b", "--temporal", "--align", "off")
    assert code == 0 and "; flicker " in out and "temporal filter on" in out
    image = sorted(media.images.iterdir())[0]
    code, _, err = matte(capsys, media, tmp_path / "c", "--temporal", clip=image)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("bgm: error: --temporal needs frames in sequence")


def test_bg_auto_says_how_much_background_it_saw(capsys, media, tmp_path):
    code, out, err = matte(capsys, media, tmp_path, "--bg", "auto", "--align", "off")
    assert code == 0, err
    (line,) = [line for line in out.splitlines() if line.startswith("background built")]
    assert "from 8 frames" in line and "% of the frame -> " in line
    assert str(tmp_path / "short.plate.png") in line and "short.plate-coverage.png" in line


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--bg", "frame:99"], ["--bg frame:99 is past the end of", "short.mp4"]),
        (["--bg", "frame:-2"], ["or -1 for the last frame"]),
        (["--clip", "PLATE", "--bg", "auto"], ["is one image: give its plate with --bg FILE"]),
        (
            ["--clip", "/dev/video9", "--bg", "auto"],
            ["a device can be read only once: use --bg capture"],
        ),  # fmt: skip
        (["--clip", "-", "--bg", "frame:0"], ["standard input can be read only once"]),
    ],
)
def test_bg_from_the_footage_bad_inputs_are_one_line(capsys, media, tmp_path, args, needles):
    args = [media.plate if a == "PLATE" else a for a in args]
    if args[0] == "--clip":
        clip, args = args[1], args[2:]
        code, _, err = matte(capsys, media, tmp_path / "out", *args, clip=clip)
    else:
        code, _, err = matte(capsys, media, tmp_path / "out", *args)
    assert_one_line_error(code, err, *needles)
    assert not (tmp_path / "out").exists()
