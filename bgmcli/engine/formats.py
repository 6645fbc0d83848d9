"""The output formats of `bgm matte` (`--output-format`): FORMATS is the one list, with each
format's encoder settings and its help line. Plain data, so `bgm matte --help` needs no PyAV."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Format:
    """An output format (`--output-format`): FORMATS is the one list, help text included."""

    name: str
    codec: str | None  # the PyAV encoder; None for PNG files
    alpha: bool  # com and fgr are written as RGBA
    summary: str  # for `bgm matte --help`
    pix_fmt: str = ""
    pix_fmt_alpha: str = ""
    options: dict = field(default_factory=dict)
    grey_options: dict | None = None  # for one-channel outputs (pha, err, ref); None: `options`


FORMATS = {
    "mp4": Format(
        "mp4",
        "libx264",
        False,
        "H.264; alpha as grey",
        "yuv420p",
        # veryfast: less CPU than "fast" for the same size (it competes with the model)
        options={"crf": "18", "preset": "veryfast"},
        # ultrafast for mattes: less CPU, and thin strands stay closer to the true alpha
        # (veryfast's psychovisual tuning smears them); figures: docs/results/cpu-speed.md
        grey_options={"crf": "18", "preset": "ultrafast"},
    ),  # fmt: skip
    "mov": Format(
        "mov",
        "prores_ks",
        True,
        "ProRes 4444 with alpha",
        "yuv444p10le",
        "yuva444p10le",
        {"profile": "4444"},
    ),  # fmt: skip
    "webm": Format(
        "webm",
        "libvpx-vp9",
        True,
        "VP9 with alpha",
        "yuv420p",
        "yuva420p",
        {"crf": "30", "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"},
    ),  # fmt: skip
    "png": Format("png", None, True, "sequences; RGBA com/fgr"),
}
