"""`run_matte`: one whole `bgm matte` job. Every check that can fail on the user's input runs
before any output exists; outputs get their final names only when all of them are complete.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from bgmcli.devices import resolve_device, resolve_dtype
from bgmcli.engine.audio import AudioCopy
from bgmcli.engine.backgrounds import Background
from bgmcli.engine.compose import open_target, target_tensor, to_float
from bgmcli.engine.footage_plate import check_plate_outputs, plate_from_footage
from bgmcli.engine.matte_config import MatteConfig, Reporter, SilentReporter
from bgmcli.engine.pipeline import EncoderThread, Matter, Prefetch, batches, run_pipeline
from bgmcli.engine.sinks import (
    FORMATS,
    check_encoder,
    check_outputs,
    commit,
    open_sink,
    plan_outputs,
    prepare_outdir,
)
from bgmcli.engine.source import open_input, parse_input
from bgmcli.engine.sources import SourceInfo, open_source
from bgmcli.engine.temporal_stage import TemporalStage
from bgmcli.errors import BgmError
from bgmcli.loading import load_model

if TYPE_CHECKING:
    from bgmcli.engine.align import AlignmentReport
    from bgmcli.engine.footage_plate import FootagePlate


@dataclass(frozen=True)
class MatteResult:
    frames: int
    wall_s: float  # the whole job, model loading included
    run_s: float  # from the first frame decoded to the last frame written
    model_s: float  # time in the model step (transfers, model, output conversion)
    outputs: list[Path]
    width: int
    height: int
    live: object = None  # live_run.LiveStats for runs through the live loop
    alignment: AlignmentReport | None = None  # what --align found; None when it was off
    # mean |alpha change| a frame where the input does not change (model.temporal.FlickerMeter)
    flicker: float | None = None
    temporal: bool = False  # whether the temporal filter ran
    plate: FootagePlate | None = None  # --bg frame:TIME or auto: the plate and how it was made

    @property
    def fps(self) -> float:
        return self.frames / self.run_s if self.run_s > 0 else 0.0

    @property
    def model_fps(self) -> float:
        return self.frames / self.model_s if self.model_s > 0 else 0.0


class MatteInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; str() says what was done and what was left."""


def run_matte(config: MatteConfig, report: Reporter | None = None, *, model=None) -> MatteResult:
    """Mattes `config.input` against `config.background`; `model` overrides loading one.
    Live runs (a live input or output, a captured plate) go through `live_run.run_live`."""
    report = report or SilentReporter()
    if config.runs_live():
        from bgmcli.engine.live_run import run_live

        return run_live(config, report, model=model)
    began = time.perf_counter()
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.precision, device)
    with ExitStack() as stack:
        source = _open_input(config)
        stack.callback(source.close)
        info = source.info
        _check_temporal(config, info)
        fmt = FORMATS[config.output_format or ("mp4" if info.kind == "video" else "png")]
        check_encoder(fmt)
        target = open_target(config.target, info, alpha_format=fmt.alpha, warn=report.warn)
        stack.callback(target.close)
        outdir = Path(config.outdir) if config.outdir else info.path.parent
        outputs = plan_outputs(
            info, config.output_types, fmt, outdir, transparent=target.transparent
        )
        check_outputs(outputs, overwrite=config.overwrite)
        check_plate_outputs(config, info, outdir)
        model = model if model is not None else _load_model(config, device)
        footage = plate_from_footage(config, info, outdir, report.warn, model, device)
        background = Background(
            config.background if footage is None else footage.image, info, align=config.align,
            warn=report.warn,
        )  # fmt: skip
        stack.callback(lambda: _warn_all(report, background.close()))
        matter = Matter(
            model, device, dtype,
            bgr=_on_device(background.static, device), tgt=target_tensor(target, device),
        )  # fmt: skip
        prepare_outdir(outdir)
        audio = _audio(config, info, fmt, outputs, stack)
        encoders = _open_encoders(outputs, fmt, info, audio)
        if audio is not None and audio.out is None:
            report.warn(
                f"the input's {audio.codec} audio cannot go into {fmt.name} without re-encoding; "
                f"the com output has no sound"
            )
        run_began = time.perf_counter()
        stage = TemporalStage(config.temporal_settings())
        frames = _run(source, background, target, config, matter, stage, encoders, outputs,
                      report)  # fmt: skip
        return MatteResult(
            frames=frames,
            wall_s=time.perf_counter() - began,
            run_s=time.perf_counter() - run_began,
            model_s=matter.seconds,
            outputs=[o.path for o in outputs],
            width=info.width,
            height=info.height,
            alignment=background.alignment(),
            flicker=stage.flicker,
            temporal=stage.filter is not None,
            plate=footage,
        )


def _check_temporal(config: MatteConfig, info: SourceInfo) -> None:
    """--temporal asked for on one picture: an error (nothing to compare it with); the default
    simply does not apply there."""
    if config.temporal and info.kind == "image":
        raise BgmError(f"--temporal needs frames in sequence (a video or images); {info.path} "
                       "is a single image: leave --temporal out")  # fmt: skip


def _open_input(config: MatteConfig):
    spec = parse_input(config.input)
    if spec.kind == "file":
        return open_source(Path(spec.target), start=config.start, duration=config.duration)
    return open_input(config.input, options=config.input_options(), duration=config.duration)


def _on_device(image, device: torch.device) -> torch.Tensor | None:
    """A constant plate goes to the device once, as (1, 3, H, W) floats."""
    return None if image is None else to_float(torch.from_numpy(image)[None].to(device))


def _run(source, background, target, config, matter, stage, encoders, outputs, report) -> int:
    done = [0]

    def progress(total: int, step: int) -> None:
        done[0] = total
        report.advance(step)

    prefetch = Prefetch(batches(source, background, target, config.batch, matter.device))
    report.start(source.info.frames)
    try:
        frames = run_pipeline(prefetch, matter, stage, encoders, progress)
        for encoder in encoders:
            encoder.close()
    except BaseException as exc:
        prefetch.stop()
        for encoder in encoders:
            encoder.abort()
        stopped = _stopped(exc, done[0], outputs)
        if stopped is exc:
            raise
        raise stopped from None
    prefetch.stop()
    for output in outputs:
        commit(output)
    return frames


def _stopped(exc: BaseException, frames: int, outputs) -> BaseException:
    """The error to raise: the cause, what was done, and that only .partial files exist."""
    left = [o.partial.name for o in outputs if o.partial.exists()]
    where = f" in {outputs[0].partial.parent}" if left else ""
    tail = f"stopped after {frames} frame{'s' * (frames != 1)}; no output was given its final " + (
        f"name (incomplete: {', '.join(left)}{where})" if left else "name"
    )
    if isinstance(exc, KeyboardInterrupt):
        return MatteInterrupted(f"interrupted: {tail}")
    if isinstance(exc, BgmError):
        return BgmError(f"{exc}; {tail}")
    if isinstance(exc, torch.OutOfMemoryError):
        return BgmError(f"out of memory on the device ({tail}); try a smaller --batch")
    if isinstance(exc, OSError):
        return BgmError(f"cannot write the outputs: {exc.strerror or exc}; {tail}")
    exc.add_note(tail)
    return exc


def _load_model(config: MatteConfig, device: torch.device):
    """The run's model with its settings whole; those left None are decided for each frame."""
    return load_model(
        config.checkpoint, backbone=config.backbone, settings=config.settings, device=device
    )


def _open_encoders(outputs, fmt, info, audio) -> list[EncoderThread]:
    encoders = []
    try:
        for output in outputs:
            sink = open_sink(output, fmt, info, audio if output.kind == "com" else None)
            encoders.append(EncoderThread(sink))
    except BaseException:
        for encoder in encoders:
            encoder.abort()
        raise
    return encoders


def _audio(config: MatteConfig, info: SourceInfo, fmt, outputs, stack: ExitStack):
    if not info.has_audio or fmt.codec is None or not any(o.kind == "com" for o in outputs):
        return None
    end = None if config.duration is None else info.offset + config.duration
    audio = AudioCopy(info.path, start=info.offset, end=end)
    stack.callback(audio.close)
    return audio


def _warn_all(report: Reporter, messages: list[str]) -> None:
    for message in messages:
        report.warn(message)
