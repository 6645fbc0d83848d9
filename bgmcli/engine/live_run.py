"""`bgm matte` on a live source or into live outputs: frames are matted as they come (stale ones
dropped when the model is slower than the source), one at a time, into every output at once.
Ctrl-C, --duration, the end of the input and `q` in the window end a live run normally; a fault
(a stream that stops) ends it with a one-line error, and what was recorded is kept, playable.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import torch

from bgmcli.devices import resolve_device, resolve_dtype
from bgmcli.engine.backgrounds import Background
from bgmcli.engine.compose import open_target, target_tensor
from bgmcli.engine.footage_plate import check_plate_outputs, plate_from_footage
from bgmcli.engine.keep_up import LiveChoice, choose
from bgmcli.engine.live import LatencyLog, LiveFeed
from bgmcli.engine.live_loop import LiveLoop
from bgmcli.engine.live_outputs import plan_live_outputs
from bgmcli.engine.live_stop import StopSignals
from bgmcli.engine.matte import MatteResult, _load_model, _on_device, _stopped, _warn_all
from bgmcli.engine.pipeline import Matter
from bgmcli.engine.plate_capture import capture_plate, save_plate
from bgmcli.engine.source import open_input
from bgmcli.engine.temporal_stage import TemporalStage
from bgmcli.errors import BgmError

LIVE_TIME_BASE = Fraction(1, 90_000)  # live outputs are stamped with arrival times (MPEG-TS's)


@dataclass(frozen=True)
class LiveStats:
    """What the summary of a live run reports."""

    live: bool
    received: int  # frames that arrived while matting ran
    matted: int
    dropped: int
    latency_p50_ms: float | None  # arrival to output, over the matted frames
    latency_p90_ms: float | None
    stopped_by: str  # "end of input", "--duration", "Ctrl-C", "q"
    choice: LiveChoice | None  # the settings chosen to keep up (live runs)
    plate: str | None  # the saved captured plate


def run_live(config, report, *, model=None) -> MatteResult:
    began = time.perf_counter()
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.precision, device)
    live = config.is_live()
    with ExitStack() as stack:
        feed, info = _open_feed(config, live, stack)
        target = open_target(config.target or "green", info, alpha_format=False, warn=report.warn)
        stack.callback(target.close)
        outputs = plan_live_outputs(config, info, live=live)
        stack.callback(outputs.abort)  # a no-op once finished
        tell = getattr(report, "info", None) or (lambda message: None)
        plate = _capture(feed, config, info, outputs, tell) if config.capture_s else None
        stack.callback(torch.set_num_threads, torch.get_num_threads())
        model, choice = _model(model, config, info, device, live)
        footage = _footage(config, info, outputs, report, model, device)
        plate_image = footage.image if footage is not None else plate
        background = Background(
            plate_image if plate_image is not None else config.background, info,
            align=config.align, warn=report.warn,
        )  # fmt: skip
        stack.callback(lambda: _warn_all(report, background.close()))
        matter = Matter(
            model, device, dtype,
            bgr=_on_device(background.static, device), tgt=target_tensor(target, device),
        )  # fmt: skip
        latency = LatencyLog()
        outputs.open(config, info, latency.written)
        recapture = _recapture_plate(feed, config, info, outputs, background, matter, tell)
        stage = TemporalStage(config.temporal_settings(live=True))
        loop = LiveLoop(feed, matter, background, target, outputs, latency, recapture, stage)
        run_began = time.perf_counter()
        report.start(None)
        stopped_by, fault = _drive(loop, config, live, report, outputs)
        p50, p90 = latency.percentiles()
        stats = LiveStats(
            live=live, received=feed.received, matted=loop.matted, dropped=feed.dropped,
            latency_p50_ms=p50, latency_p90_ms=p90, stopped_by=stopped_by, choice=choice,
            plate=str(outputs.plate_path) if plate is not None else None,
        )  # fmt: skip
        failed = outputs.finish()
        if fault is not None or failed:
            raise BgmError(_fault_message(fault, failed, loop.matted, outputs.recordings))
        return MatteResult(
            frames=loop.matted, wall_s=time.perf_counter() - began,
            run_s=time.perf_counter() - run_began, model_s=matter.seconds,
            outputs=[o.path for o in outputs.recordings], width=info.width, height=info.height,
            live=stats, flicker=stage.flicker, temporal=stage.filter is not None, plate=footage,
        )  # fmt: skip


def _open_feed(config, live: bool, stack: ExitStack):
    """The input, read on its own thread from now on (a socket must never wait)."""
    source = open_input(
        config.input, options=config.input_options(), start=config.start,
        duration=None if live else config.duration,  # live: wall-clock time, in the loop
    )  # fmt: skip
    info = replace(source.info, time_base=LIVE_TIME_BASE) if live else source.info
    feed = LiveFeed(source, drop=live)
    stack.callback(_close_input, feed, source)
    return feed, info


def _model(model, config, info, device, live: bool):
    """The model and, for a live run, the settings chosen to keep up: given to the engine's own
    loading as the config's backbone_scale and k (a model passed in is used as it is)."""
    if model is not None:
        return model, None
    model = _load_model(config, device)
    if not live:
        return model, None
    choice = _keep_up(model, config, info, device)
    chosen = replace(config, backbone_scale=choice.backbone_scale, k=choice.k)
    return _load_model(chosen, device), choice


def _drive(loop: LiveLoop, config, live: bool, report, outputs) -> tuple[str, BgmError | None]:
    """Runs the loop; returns why it stopped and, for a live fault, the error to raise once
    the recordings are finished. A fault of a non-live input is an error as for files."""
    feed = loop.feed
    try:
        with StopSignals(enabled=live) as stop:  # a file cut short stays an error (below)
            stopped_by = loop.run(duration=config.duration if live else None, report=report,
                                  stop=stop)  # fmt: skip
    except KeyboardInterrupt as exc:  # a second Ctrl-C, or not on the main thread
        if not live:
            outputs.abort()
            raise _stopped(exc, loop.matted, outputs.recordings) from None
        stopped_by = "Ctrl-C"
    except (BgmError, OSError, av.error.FFmpegError, RuntimeError) as exc:
        if not live:
            outputs.abort()
            raise _stopped(exc, loop.matted, outputs.recordings) from None
        feed.stop()  # an output that failed (a stream refused) is a fault of the run too
        fault = exc if isinstance(exc, BgmError) else BgmError(f"an output failed: {exc}")
        return "fault", fault
    feed.stop()
    return stopped_by, None


def _fault_message(fault, failed: list[str], frames: int, recordings) -> str:
    causes = ([str(fault)] if fault is not None else []) + [f"output {f}" for f in failed]
    kept = ", ".join(str(o.path) for o in recordings if o.path.exists())
    return "; ".join(causes) + (f"; {frames} frames recorded, kept in {kept}" if kept else "")


def _keep_up(model, config, info, device) -> LiveChoice:
    """Times the model on a grey frame (the model's time does not depend on the content: k
    patches are refined whatever the picture)."""
    grey = torch.full((1, 3, info.height, info.width), 0.5, device=device)
    return choose(
        model, grey, grey, target=config.latency_target, rate=float(info.rate), device=device,
        scale=config.backbone_scale, k=config.k, threads=config.threads,
    )  # fmt: skip


def _footage(config, info, outputs, report, model, device):
    """--bg frame:TIME or auto with a file input and live outputs (a window, a stream)."""
    outdir = outputs.outdir or info.path.parent
    check_plate_outputs(config, info, outdir)
    return plate_from_footage(config, info, outdir, report.warn, model, device)


def _capture(feed, config, info, outputs, tell, show=None):
    plate = capture_plate(
        feed, seconds=config.capture_s, rate=float(info.rate),
        countdown=config.capture_countdown if feed.drop else 0,  # a recording needs none
        tell=tell, show=show,
    )  # fmt: skip
    save_plate(plate, outputs.plate_path)
    tell(f"background plate saved: {outputs.plate_path}")
    return plate


def _recapture_plate(feed, config, info, outputs, background, matter, tell):
    """What `b` in the window does: capture the plate again and use it from the next frame."""

    def recapture() -> None:
        capture = replace(config, capture_s=config.capture_s or 2.0)
        plate = _capture(feed, capture, info, outputs, tell, show=outputs.window.show)
        background.plate.still = plate
        if matter.bgr is not None:
            matter.bgr = _on_device(plate, matter.device)

    return recapture


def _close_input(feed: LiveFeed, source) -> None:
    """Stops the reader, then closes the input, unless the reader is still blocked in it
    (closing a container under a reading thread would crash; the process ends soon)."""
    feed.stop()
    if not feed.reading:
        source.close()
