"""The outputs of a live run, in any combination: recordings (-o DIR, as for files), network
streams (-o URL), the virtual camera and the preview window; planned and checked before the
model loads, opened together, and finished together (what was recorded stays playable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bgmcli.engine import sinks
from bgmcli.engine.pipeline import EncoderThread
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError


@dataclass
class LiveOutputs:
    recordings: list  # sinks.Output: files, committed when complete
    outdir: Path | None
    plate_path: Path | None  # where a captured plate is saved
    encoders: list[EncoderThread] = field(default_factory=list)
    window: object = None  # window_sink.WindowSink

    def open(self, config, info: SourceInfo, on_written) -> None:
        """Opens every threaded sink (recordings, streams, camera), each on an EncoderThread."""
        from bgmcli.engine.camera_sink import open_camera_sink
        from bgmcli.engine.stream_sink import StreamSink

        fmt = _format(config, info)
        if self.recordings:
            sinks.prepare_outdir(self.outdir)
        try:
            for output in self.recordings:
                self._add(sinks.open_sink(output, fmt, info, None), on_written)
            for url in config.streams:
                self._add(StreamSink(url, info, timeout=config.timeout), on_written)
            if config.virtual_camera:
                device = None if config.virtual_camera == "auto" else config.virtual_camera
                self._add(open_camera_sink(device, info), on_written)
        except BaseException:
            self.abort()
            raise

    def _add(self, sink, on_written) -> None:
        self.encoders.append(EncoderThread(sink, on_written=on_written))

    def put(self, matted) -> None:
        for encoder in self.encoders:
            encoder.put(matted)

    def finish(self) -> list[str]:
        """Closes every output and commits the recordings; returns what could not be finished
        (an output that had failed), so that the others are finished all the same."""
        failed = []
        for encoder in self.encoders:
            try:
                encoder.close()
            except Exception as exc:  # noqa: BLE001 - reported, the others still close
                encoder.abort()
                failed.append(f"{getattr(encoder.sink, 'url', 'output')}: {exc}")
        for output in self.recordings:
            if output.partial.exists():
                sinks.commit(output)
        if self.window is not None:
            self.window.close()
        return failed

    def abort(self) -> None:
        for encoder in self.encoders:
            encoder.abort()
        if self.window is not None:
            self.window.close()


def plan_live_outputs(config, info: SourceInfo, *, live: bool) -> LiveOutputs:
    """Checks every output before anything is opened. A live input records only with -o DIR;
    other inputs record next to themselves as `bgm matte` does for files."""
    outdir = Path(config.outdir) if config.outdir else (None if live else info.path.parent)
    recordings = []
    if outdir is not None:
        fmt = _format(config, info)
        sinks.check_encoder(fmt)
        recordings = sinks.plan_outputs(info, config.output_types, fmt, outdir, transparent=False)
        sinks.check_outputs(recordings, overwrite=config.overwrite)
    if not (recordings or config.streams or config.preview or config.virtual_camera):
        raise BgmError(
            "a live input needs an output: -o DIR (recordings), -o URL (a stream), --preview "
            "or --virtual-camera"
        )
    plate_path = None
    if config.capture_s is not None or config.preview:
        plate_path = (outdir or Path.cwd()) / f"{info.name}.plate.png"
        if config.capture_s is not None and plate_path.exists() and not config.overwrite:
            raise BgmError(f"output exists: {plate_path} (use --overwrite to replace it)")
    for url in config.streams:
        from bgmcli.engine.stream_sink import muxer_for

        muxer_for(url)  # an unknown scheme fails now, not after the model has loaded
    window = None
    if config.preview:
        from bgmcli.engine.window_sink import WindowSink

        window = WindowSink(info.width, info.height, title=f"bgm {info.name}")
    return LiveOutputs(recordings, outdir, plate_path, window=window)


def _format(config, info: SourceInfo):
    """Recordings of a live run: mp4 unless asked (the composite goes over green unless
    --target: streams, windows and cameras show no transparency)."""
    return sinks.FORMATS[config.output_format or ("mp4" if info.kind == "video" else "png")]
