"""Frames out: PyAV encoders (H.264; ProRes 4444 and VP9 with real alpha) and PNG files. Each
output is written to `<name>.partial` and renamed to its final name only when complete.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from bgmcli.engine.audio import AudioCopy
from bgmcli.engine.formats import FORMATS as FORMATS  # re-exported for run_matte
from bgmcli.engine.formats import Format
from bgmcli.engine.images import write_png
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError


@dataclass(frozen=True)
class Output:
    kind: str  # com, pha, fgr, err or ref
    path: Path  # the final name
    channels: int  # 1 (grey), 3 (RGB) or 4 (RGBA)
    folder: bool = False  # a PNG sequence

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")


def plan_outputs(info: SourceInfo, kinds, fmt: Format, outdir: Path, *, transparent: bool):
    """Where each output goes and how many channels it has."""
    single_png = fmt.name == "png" and info.kind == "image"
    outputs = []
    for kind in kinds:
        channels = 1 if kind in ("pha", "err", "ref") else 3
        if (kind == "com" and transparent) or (kind == "fgr" and fmt.alpha):
            channels = 4
        name = f"{info.name}.{kind}"
        if fmt.name == "png" and not single_png:
            outputs.append(Output(kind, outdir / name, channels, folder=True))
        else:
            outputs.append(Output(kind, outdir / f"{name}.{fmt.name}", channels))
    return outputs


def check_outputs(outputs: list[Output], *, overwrite: bool) -> None:
    """Before any work: existing outputs are an error unless --overwrite."""
    for output in outputs:
        if output.path.exists() and not overwrite:
            raise BgmError(f"output exists: {output.path} (use --overwrite to replace it)")
        if output.path.is_dir() != output.folder and output.path.exists():
            kind = "folder" if output.path.is_dir() else "file"
            raise BgmError(f"cannot replace the {kind} {output.path} with this output")


def check_encoder(fmt: Format) -> None:
    if fmt.codec is None:
        return
    try:
        av.codec.Codec(fmt.codec, "w")
    except Exception:  # UnknownCodecError and friends, depending on the PyAV version
        raise BgmError(
            f"this PyAV build has no {fmt.codec} encoder, needed for --output-format "
            f"{fmt.name}; choose another format"
        ) from None


def prepare_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BgmError(f"cannot create output folder {outdir}: {exc.strerror or exc}") from None
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise BgmError(f"cannot write to output folder {outdir}: permission denied")


class VideoSink:
    """One output video; `audio` (com only) is copied in as the frames go in."""

    def __init__(
        self, output: Output, fmt: Format, info: SourceInfo, audio: AudioCopy | None, *,
        container=None,  # already open (a network stream); None: `output.partial`
    ):  # fmt: skip
        self.output, self.info = output, info
        self.container = container or _open_writer(output.partial, fmt.name)
        try:
            self.stream = _add_video_stream(self.container, output, fmt, info)
            self.audio = audio if audio is not None and audio.attach(self.container) else None
        except BaseException:
            self.container.close()
            raise
        # RGB goes in as planar GBR: PyAV then copies whole planes, where interleaving to rgb24
        # first cost a transposing copy (docs/results/cpu-speed.md; the YUV pixels are
        # identical). RGBA stays interleaved (gbrap converts differently).
        self.frame_format = {1: "gray", 3: "gbrp", 4: "rgba"}[output.channels]
        self.time_base = info.time_base
        self.even_sides = info.width % 2 == 0 and info.height % 2 == 0  # what grey_yuv420p takes

    def write(self, planes: np.ndarray, pts: list[int]) -> None:
        """Encodes uint8 (B, C, H, W) frames with their timestamps."""
        stream = self.stream
        for image, stamp in zip(planes, pts, strict=True):
            if image.shape[0] == 1 and stream.pix_fmt == "yuv420p" and self.even_sides:
                frame = grey_yuv420p(image[0])
            else:
                pixels = image.transpose(1, 2, 0) if image.shape[0] == 3 else interleaved(image)
                frame = av.VideoFrame.from_ndarray(pixels, format=self.frame_format)
                # BT.709, limited range, tagged: players show the colours the frames had.
                frame = frame.reformat(
                    format=stream.pix_fmt,
                    dst_colorspace=Colorspace.ITU709,
                    dst_color_range=ColorRange.MPEG,
                )
            frame.pts, frame.time_base = stamp, self.time_base
            self.container.mux(stream.encode(frame))
        if self.audio is not None:
            self.audio.mux_until(self.container, float((pts[-1] + 1) * self.time_base))

    def close(self) -> None:
        self.container.mux(self.stream.encode(None))
        if self.audio is not None:
            self.audio.mux_until(self.container, None)
        self.container.close()

    def abort(self) -> None:
        self.container.close()  # the trailer makes the .partial playable up to where it stopped


class PngSink:
    """A PNG sequence `<name>/000000.png ...`, or `<name>/a.png ...` named after the input
    images (`names`); one PNG for a single image input."""

    def __init__(self, output: Output, names: tuple[str, ...] = ()):
        self.output, self.index, self.names = output, 0, names
        partial = output.partial
        try:
            if partial.is_dir():
                shutil.rmtree(partial)  # left by an earlier interrupted run
            if output.folder:
                partial.mkdir()
        except OSError as exc:
            raise BgmError(f"cannot write {partial}: {exc.strerror or exc}") from None

    def write(self, planes: np.ndarray, pts: list[int]) -> None:
        """Writes uint8 (B, C, H, W) frames as the next PNG files."""
        for image in planes:
            path = self.output.partial
            if self.output.folder:
                name = self.names[self.index] if self.names else f"{self.index:06d}"
                path = path / f"{name}.png"
            write_png(path, interleaved(image))
            self.index += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


_LIMITED_RANGE_LUMA = np.round(16 + np.arange(256) * 219 / 255).astype(np.uint8)


def grey_yuv420p(grey: np.ndarray) -> av.VideoFrame:
    """A grey (H, W) uint8 picture (even sides) as a tagged BT.709 limited-range yuv420p frame:
    luma scaled to 16-235, chroma neutral. Built here, it costs a third of swscale's time."""
    height, width = grey.shape
    planes = np.empty((height * 3 // 2, width), np.uint8)
    np.take(_LIMITED_RANGE_LUMA, grey, out=planes[:height])
    planes[height:] = 128
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.colorspace, frame.color_range = Colorspace.ITU709, ColorRange.MPEG
    return frame


def interleaved(planes: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W) for grey, else a contiguous (H, W, C), as PyAV and Pillow take."""
    if planes.shape[0] == 1:
        return planes[0]
    return np.ascontiguousarray(planes.transpose(1, 2, 0))


def open_sink(output: Output, fmt: Format, info: SourceInfo, audio: AudioCopy | None):
    if fmt.codec is None:
        return PngSink(output, info.frame_names)
    return VideoSink(output, fmt, info, audio)


def commit(output: Output) -> None:
    """Gives a complete output its final name (replacing an old one under --overwrite)."""
    if output.folder and output.path.is_dir():
        shutil.rmtree(output.path)
    os.replace(output.partial, output.path)


def _open_writer(path: Path, muxer: str):
    try:
        return av.open(str(path), "w", format=muxer)
    except (OSError, av.error.FFmpegError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BgmError(f"cannot write {path}: {reason}") from None


def _add_video_stream(container, output: Output, fmt: Format, info: SourceInfo):
    stream = container.add_stream(fmt.codec, rate=info.rate)
    stream.width, stream.height = info.width, info.height
    pix_fmt = fmt.pix_fmt_alpha if output.channels == 4 else fmt.pix_fmt
    if fmt.codec == "libx264" and (info.width % 2 or info.height % 2):
        pix_fmt = "yuv444p"  # 4:2:0 needs even sides; 4:4:4 keeps odd sizes exact
    stream.pix_fmt = pix_fmt
    # The input's time base, so that every timestamp (variable frame rate too) is kept exactly.
    stream.time_base = info.time_base
    stream.codec_context.time_base = info.time_base
    context = stream.codec_context
    context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG
    context.color_primaries = context.color_trc = 1  # BT.709, as sRGB uses
    grey = output.channels == 1 and fmt.grey_options is not None
    stream.options = dict(fmt.grey_options if grey else fmt.options)
    return stream
