"""Which shots a rerun can skip: those whose every output stands under its final name (outputs
get final names only when complete; an interrupted shot leaves only `.partial` files)."""

from __future__ import annotations

from pathlib import Path

from bgmcli.engine.matte_config import MatteConfig
from bgmcli.engine.sinks import FORMATS, plan_outputs
from bgmcli.engine.sources import open_source
from bgmcli.errors import BgmError


def expected_outputs(config: MatteConfig) -> tuple[list[Path], int | None] | None:
    """(the final output paths, the frame count) of a shot; None where only running it can tell
    (a stream, or an input that does not open: the run then reports why)."""
    if isinstance(config.input, str):
        return None
    try:
        source = open_source(config.input, start=config.start, duration=config.duration)
    except BgmError:
        return None
    try:
        info = source.info
    finally:
        source.close()
    fmt = FORMATS[config.output_format or ("mp4" if info.kind == "video" else "png")]
    outdir = Path(config.outdir) if config.outdir else info.path.parent
    outputs = plan_outputs(info, config.output_types, fmt, outdir, transparent=False)
    return [output.path for output in outputs], info.frames


def outputs_state(config: MatteConfig) -> tuple[str, int | None]:
    """('complete' | 'some' | 'none' | 'unknown', frames): 'some' is a run stopped between
    renames or asked for more output types; it is done again over what is there."""
    expected = expected_outputs(config)
    if expected is None:
        return "unknown", None
    paths, frames = expected
    present = sum(path.exists() for path in paths)
    state = "complete" if present == len(paths) else "some" if present else "none"
    return state, frames
