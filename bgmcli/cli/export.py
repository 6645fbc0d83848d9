"""`bgm export`: a checkpoint -> TorchScript or ONNX at one input shape (bgmcli.model.export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bgmcli.cli.app import app, console, err_console
from bgmcli.cli.options import (
    CHECKPOINT_HELP,
    BackboneScale,
    K,
    Refine,
    Resolution,
    Threshold,
    flag,
)
from bgmcli.model.frame_size import parse_resolution


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help=CHECKPOINT_HELP, show_default=False)],
    format: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="torchscript or onnx.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    resolution: Resolution = "1920x1080",
    batch_size: Annotated[int, typer.Option(help="The one batch size it accepts.")] = 1,
    backbone_scale: BackboneScale = None,
    refine: Refine = "error",
    k: K = None,
    threshold: Threshold = 0.1,
    opset: Annotated[int, typer.Option(help="ONNX opset, 13 to 20.")] = 17,
    verify: Annotated[
        bool, flag("verify", "Run the exported file once and compare it with eager.")
    ] = True,
    overwrite: Annotated[bool, flag("overwrite", "Replace an existing file.")] = False,
) -> None:
    """Export a checkpoint to TorchScript or ONNX, with its refine settings baked in.

    Tracing fixes the input shape: the file accepts src and bgr of shape exactly
    (batch size, 3, H, W) for --resolution WxH (default 1920x1080); export again for others.
    """
    # here, not at the top: `bgm --help` imports every command, and the library imports torch
    from bgmcli.loading import load_model
    from bgmcli.model.export import TOLERANCE, check_output, export_model

    size = parse_resolution(resolution)
    check_output(output, overwrite)  # before the model loads: fail fast
    # settings left None are decided for --resolution (bgmcli.model.settings), as `bgm matte`
    # decides them for a frame of that size
    model = load_model(checkpoint, backbone_scale=backbone_scale, refine=refine, k=k,
                       threshold=threshold)  # fmt: skip
    result = export_model(
        model, output, format=format, resolution=size, batch_size=batch_size, opset=opset,
        verify=verify, overwrite=overwrite,
    )  # fmt: skip
    megabytes = result.path.stat().st_size / 1e6
    lines = [
        f"wrote {result.path} ({result.format}, {megabytes:.1f} MB)",
        f"valid only for src and bgr of shape {tuple(result.input_shape)} "
        f"({size[0]}x{size[1]}, batch {batch_size}): export again for another size",
        *(f"note: {note}" for note in result.notes),
    ]
    if result.max_abs_diff is not None:
        lines.append(f"max |exported - eager| on a random input: {result.max_abs_diff:.2e}")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    if result.max_abs_diff is not None and result.max_abs_diff > TOLERANCE:
        err_console.print(f"bgm: warning: the exported model differs from eager by > {TOLERANCE}")
