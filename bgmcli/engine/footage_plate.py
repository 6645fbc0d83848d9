"""The plate taken from the footage itself, before any frame is matted: `--bg frame:TIME` (one
frame) or `--bg auto` (built from a sample of the take, written as `<name>.plate.png` with
`<name>.plate-coverage.png`, and refused when too little of the background was ever seen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bgmcli.atomic import atomic_write
from bgmcli.engine.footage import frame_at, sample_frames
from bgmcli.engine.images import write_png
from bgmcli.engine.plate_forms import describe_time
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError

WARN_SEEN = 0.98  # below this share of the frame seen as background: a warning
MIN_SEEN = 0.80  # below this: no plate (exit 2), and what to shoot instead
MIN_FRAMES = 3  # a take of fewer frames has no motion to build a plate from
SHOOT = ("shoot a few seconds of the empty scene (before the subject walks in, or after it "
         "leaves) and give it with --bg FILE or --bg frame:TIME")  # fmt: skip


@dataclass(frozen=True)
class Coverage:
    """What --bg auto found: how much of the background it saw, from how many frames."""

    seen_share: float
    frames: int  # sampled (and registered) frames the plate was built from
    empty: int  # of them, frames with no subject
    warped: int  # frames moved onto the reference (hand-held)
    failed: int  # frames that could not be registered (left out)
    reference_s: float  # the frame the plate is in register with (seconds from the run's start)
    plate_path: Path
    coverage_path: Path


@dataclass(frozen=True)
class FootagePlate:
    image: np.ndarray  # uint8 (H, W, 3) at the input's size
    form: str  # "frame:12.5", "frame:-1" or "auto"
    seconds: float  # the extra pass, wall time
    coverage: Coverage | None = None  # --bg auto only


def plate_paths(info: SourceInfo, outdir: Path) -> tuple[Path, Path]:
    return outdir / f"{info.name}.plate.png", outdir / f"{info.name}.plate-coverage.png"


def check_plate_outputs(config, info: SourceInfo, outdir: Path) -> None:
    """Before any work: --bg auto's pictures must not replace files unless --overwrite."""
    if not config.plate_auto or config.overwrite:
        return
    for path in plate_paths(info, outdir):
        if path.exists():
            raise BgmError(f"output exists: {path} (use --overwrite to replace it)")


def plate_from_footage(config, info: SourceInfo, outdir: Path, warn,
                       model=None, device="cpu") -> FootagePlate | None:  # fmt: skip
    """The plate for `config` when --bg asks for one from the input; None otherwise. `model`
    (on `device`): --bg auto's last round masks each frame's subject with its mattes."""
    began = time.perf_counter()
    if config.plate_time is not None:
        image = frame_at(config.input, config.plate_time)
        form = "frame:-1" if config.plate_time < 0 else f"frame:{config.plate_time:g}"
        if image.shape[:2] != (info.height, info.width):
            raise BgmError(f"--bg {form}: {describe_time(config.plate_time)} is "
                           f"{image.shape[1]}x{image.shape[0]}, the input {info.width}x"
                           f"{info.height}")  # fmt: skip
        return FootagePlate(image, form, time.perf_counter() - began)
    if not config.plate_auto:
        return None
    image, coverage = _auto(config, info, outdir, model, device)
    if coverage.seen_share < WARN_SEEN:
        share = 100 * coverage.seen_share
        warn(f"--bg auto saw the background over {share:.1f}% of the frame only; the rest of "
             f"the plate is a guess (where: {coverage.coverage_path})")  # fmt: skip
    return FootagePlate(image, "auto", time.perf_counter() - began, coverage)


def _auto(config, info: SourceInfo, outdir: Path, model, device) -> tuple[np.ndarray, Coverage]:
    # scikit-image and scipy take about a second to import: only for runs that need them
    from bgmcli.engine.footage_align import align_to_reference
    from bgmcli.engine.plate_estimate import (
        MIN_MOVED,
        coverage_picture,
        estimate_plate,
        subject_reach,
    )
    from bgmcli.engine.plate_mattes import has_base_network, matte_masks

    if info.kind == "image":
        raise BgmError(f"--bg auto builds the plate from a take's frames; {info.path} is one "
                       f"image: give its plate with --bg FILE")  # fmt: skip
    sample = sample_frames(config.input, start=config.start, duration=config.duration)
    if len(sample.images) < MIN_FRAMES:
        raise BgmError(f"--bg auto: {info.path} has {sample.read} frame(s), too few to tell the "
                       f"subject from the background; {SHOOT}")  # fmt: skip
    aligned = align_to_reference(sample.images)
    if len(aligned.kept) < MIN_FRAMES:
        raise BgmError(f"--bg auto: the frames of {info.path} could not be registered to one "
                       f"another (a camera moving too far or fast); {SHOOT}")  # fmt: skip
    covered = None
    if config.plate_mattes and has_base_network(model):
        widen = subject_reach(aligned.images.shape[1:3])
        covered = lambda plate: matte_masks(model, aligned.images, plate, widen, device)  # noqa: E731
    estimate = estimate_plate(aligned.images, aligned.valid, covered)
    if estimate.moved_share < MIN_MOVED:
        raise BgmError(f"--bg auto: nothing moves in {info.path}, so the subject cannot be told "
                       f"from the background; {SHOOT}")  # fmt: skip
    if estimate.seen_share < MIN_SEEN:
        raise BgmError(f"--bg auto saw the background over {100 * estimate.seen_share:.1f}% of "
                       f"the frame only (the subject hardly moves); {SHOOT}")  # fmt: skip
    plate_path, coverage_path = plate_paths(info, outdir)
    atomic_write(plate_path, lambda tmp: write_png(tmp, estimate.plate))
    atomic_write(coverage_path, lambda tmp: write_png(tmp, coverage_picture(estimate)))
    coverage = Coverage(
        seen_share=estimate.seen_share, frames=estimate.frames, empty=len(estimate.empty),
        warped=aligned.warped, failed=aligned.failed,
        reference_s=sample.times[aligned.reference], plate_path=plate_path,
        coverage_path=coverage_path,
    )  # fmt: skip
    return estimate.plate, coverage
