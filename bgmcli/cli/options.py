"""The model and run options that several commands take, each declared once: its name, type,
parser and help. A command uses the single form (`BackboneScale`); `bgm bench` the sweep form
(`BackboneScales`: the same parser over repeated or comma-separated values, one list)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from bgmcli.model.frame_size import parse_scale  # torch-free: options parse without torch

CHECKPOINT_HELP = "Ours or an official BackgroundMattingV2 .pth."
# The names live in the registries (bgmcli.model.backbones, bgmcli.model.selection), which
# import torch: help stays fast by giving examples; an unknown name is an error listing them all.
BACKBONE_HELP = (
    "Encoder, e.g. mobilenetv2 or resnet50 (an unknown name lists all). "
    "(default: the checkpoint's, inferred from an official file's keys; else mobilenetv2)"
)
SCALE_HELP = (
    "Base network input scale, e.g. 1/4 or 0.25. "
    "(default: 480 / the longer side, at most 1/2: 1/4 at HD, 1/8 at 4K)"
)
REFINE_HELP = "Refine mode, e.g. error (the paper's), full or none (an unknown one lists all)."
K_HELP = "Refined 4x4 patches per frame. (default: by area, 5000 at HD and 20000 at 4K)"
DEVICE_HELP = "auto, cpu, cuda or cuda:N."
PRECISION_HELP = "fp32, fp16 (CUDA only) or bf16."
BATCH_HELP = "Frames per model call."
RESOLUTION_HELP = "Frame size: hd (1920x1080), 4k (3840x2160) or WxH."
THREADS_HELP = "CPU threads (torch.set_num_threads). (default: torch's)"
TEMPORAL_HELP = (
    "Temporal filter: alpha and foreground smoothed over neighbouring frames where the input "
    "holds still, each frame's own matte where it moves (files look one frame ahead, live "
    "sources back only). An error on a single image. (default: off; docs/temporal.md)"
)


def parse_count(text: str) -> int:
    """A whole number, as an option's value."""
    try:
        return int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number") from None


def _scale(text: str) -> float | None:
    return parse_scale(text)


def _sweep(name: str, metavar: str, help: str, parse: Callable[[str], object], *short: str):
    """A sweep option: each occurrence 'a,b' parses to [parse(a), parse(b)], so the value is one
    list per occurrence, whatever the annotation says (Typer declares no nested lists): `flat`."""

    def parse_list(text: str) -> list:
        return [parse(part.strip()) for part in text.split(",") if part.strip()]

    return typer.Option(
        name, *short, metavar=f"{metavar},...", parser=parse_list, help=f"{help} Several: a sweep."
    )


def flat(occurrences: Iterable[list] | None) -> list:
    """A sweep option's value (one list per occurrence) as one list; [] where not given."""
    return [value for values in occurrences or () for value in values]


def flag(name: str, help: str, short: str | None = None):
    """An on/off flag in Typer's convention, --name/--no-name (no type shown in the help)."""
    names = (f"--{name}/--no-{name}", short) if short else (f"--{name}/--no-{name}",)
    return typer.Option(*names, metavar="", help=help)


Resolution = Annotated[str, typer.Option("--resolution", "-r", metavar="RES", help=RESOLUTION_HELP)]
Resolutions = Annotated[
    list[str] | None,
    _sweep("--resolution", "RES", f"{RESOLUTION_HELP} (default: hd)", str, "-r"),
]
Checkpoint = Annotated[
    Path | None, typer.Option(help=f"{CHECKPOINT_HELP} (default: the bundled model)")
]
Checkpoints = Annotated[
    list[str] | None,
    _sweep("--checkpoint", "PATH", f"{CHECKPOINT_HELP} (default: random weights)", str),
]
Backbone = Annotated[str | None, typer.Option(metavar="NAME", help=BACKBONE_HELP)]
Backbones = Annotated[list[str] | None, _sweep("--backbone", "NAME", BACKBONE_HELP, str)]
BackboneScale = Annotated[float | None, typer.Option(metavar="S", parser=_scale, help=SCALE_HELP)]
BackboneScales = Annotated[list[float] | None, _sweep("--backbone-scale", "S", SCALE_HELP, _scale)]
Refine = Annotated[str, typer.Option(metavar="MODE", help=REFINE_HELP)]
Refines = Annotated[list[str] | None, _sweep("--refine", "MODE", REFINE_HELP, str)]
K = Annotated[int | None, typer.Option("--k", metavar="N", parser=parse_count, help=K_HELP)]
Ks = Annotated[list[int] | None, _sweep("--k", "N", K_HELP, parse_count)]
Threshold = Annotated[
    float, typer.Option(metavar="T", help="Error threshold of --refine threshold, in [0, 1].")
]
Device = Annotated[str, typer.Option(metavar="DEV", help=DEVICE_HELP)]
Devices = Annotated[list[str] | None, _sweep("--device", "DEV", DEVICE_HELP, str)]
Precision = Annotated[str, typer.Option(metavar="P", help=PRECISION_HELP)]
Precisions = Annotated[list[str] | None, _sweep("--precision", "P", PRECISION_HELP, str)]
Batch = Annotated[int, typer.Option(metavar="N", parser=parse_count, help=BATCH_HELP)]
Batches = Annotated[list[int] | None, _sweep("--batch", "N", BATCH_HELP, parse_count)]
Threads = Annotated[list[int] | None, _sweep("--threads", "N", THREADS_HELP, parse_count)]
Quiet = Annotated[bool, flag("quiet", "No progress display or summary.", "-q")]
Temporal = Annotated[bool | None, flag("temporal", TEMPORAL_HELP)]
Json = Annotated[bool, flag("json", "Print the results as JSON instead of tables.")]
