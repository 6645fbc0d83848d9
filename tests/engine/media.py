"""Small generated media for the engine tests: clips (with audio, odd sizes, variable frame
rate, damaged), plates, image folders and a random-weight checkpoint; written with PyAV
directly, independently of the engine's own writers."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

NTSC_FILM = Fraction(24000, 1001)


def plate(height: int, width: int) -> np.ndarray:
    """A smooth, textured 'room': something the model has to tell apart from the subject, with
    enough fine texture (a seeded rough wall) for --align to find where the plate sits."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 120 + 60 * np.sin(x / 9.0)
    green = 100 + 50 * np.cos(y / 7.0)
    blue = 90 + 40 * np.sin((x + y) / 13.0)
    rough = ndimage.gaussian_filter(np.random.default_rng(7).normal(0, 1, (height, width)), 1.2)
    wall = 40 * rough / rough.std()
    return (np.stack([red, green, blue], -1) + wall[..., None]).clip(0, 255).astype(np.uint8)


def frame(index: int, bgr: np.ndarray) -> np.ndarray:
    """The plate with a 'subject' (a disc) moving across it."""
    height, width = bgr.shape[:2]
    y, x = np.mgrid[0:height, 0:width]
    cx, cy, r = (index * 3) % width, height // 2, max(4, height // 4)
    image = bgr.copy()
    image[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = (230, 200, 170)
    return image


def write_video(
    path: Path,
    count: int,
    height: int,
    width: int,
    *,
    rate: Fraction = NTSC_FILM,
    audio: bool = False,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int = 0,
    muxer: str | None = None,
) -> Path:
    """An H.264 clip of the moving subject; `pts`/`time_base` give variable frame rate."""
    container = av.open(str(path), "w", format=muxer)
    video = container.add_stream("libx264", rate=rate)
    video.width, video.height = width, height
    video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    # A fine time base (1/24000 for 24000/1001), as cameras and muxers use.
    video.time_base = time_base or Fraction(1, rate.numerator)
    video.codec_context.time_base = video.time_base
    step = 1 if pts else round(1 / (rate * video.time_base))
    if rotation:
        video.set_display_rotation(rotation)
    sound = _add_audio(container) if audio else None
    bgr = plate(height, width)
    for index in range(count):
        picture = av.VideoFrame.from_ndarray(frame(index, bgr), format="rgb24")
        picture.pts = pts[index] if pts else index * step
        picture.time_base = video.time_base
        container.mux(video.encode(picture))
    container.mux(video.encode(None))
    if sound is not None:
        seconds = float((pts[-1] * video.time_base) if pts else count / rate)
        _write_tone(container, sound, seconds)
    container.close()
    return path


def _add_audio(container):
    stream = container.add_stream("aac", rate=48_000)
    stream.layout = "stereo"
    return stream


def _write_tone(container, stream, seconds: float) -> None:
    samples = int(seconds * 48_000)
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48_000)).astype(np.float32)
    stereo = np.stack([tone, tone])
    for begin in range(0, samples, 1024):
        chunk = np.ascontiguousarray(stereo[:, begin : begin + 1024])
        block = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        block.sample_rate, block.pts = 48_000, begin
        container.mux(stream.encode(block))
    container.mux(stream.encode(None))


def write_image(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path)
    return path


def truncate(source: Path, path: Path) -> Path:
    """The first half of a 'fast start' copy (index first): opens, then ends early."""
    faststart = path.with_name("faststart_" + source.name)
    with (
        av.open(str(source)) as inp,
        av.open(str(faststart), "w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    with av.open(str(faststart)) as inp:  # cut between packets: the demuxer just stops early
        cuts = sorted(p.pos for p in inp.demux() if p.pos is not None and p.pos > 0)
    path.write_bytes(faststart.read_bytes()[: cuts[len(cuts) // 2]])
    return path


def corrupt(source: Path, path: Path) -> Path:
    """Garbage over the middle of the video data."""
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    garbage = np.random.default_rng(0).integers(0, 256, 3000, np.uint8)
    data[middle : middle + 3000] = garbage.tobytes()
    path.write_bytes(bytes(data))
    return path


def random_checkpoint(path: Path) -> Path:
    """Seeded random weights whose coarse alpha and error sit mid-range (not clamped to 0 or
    1), so mattes vary across the frame and the refiner has something to do."""
    import torch

    from bgmcli.loading import build_model
    from bgmcli.model.checkpoint import save_checkpoint
    from bgmcli.model.config import ModelConfig

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model(ModelConfig(backbone="mobilenetv2"))
    with torch.no_grad():
        model.decoder.conv4.bias[:5] = 0.5  # alpha, foreground residual, error
    save_checkpoint(path, model)
    return path


class Media:
    """Paths of the generated files (see `media` below)."""

    def __init__(self, root: Path):
        self.root = root
        self.checkpoint = random_checkpoint(root / "random.pt")
        self.clip = write_video(root / "clip.mp4", 48, 120, 160, audio=True)
        self.short = write_video(root / "short.mp4", 8, 120, 160, audio=True)
        self.odd = write_video(root / "odd.mp4", 6, 101, 157)
        vfr = [0, 40, 100, 130, 200, 260, 270, 330]
        self.vfr = write_video(root / "vfr.mp4", 8, 120, 160, pts=vfr, time_base=Fraction(1, 1000))
        self.vfr_pts = vfr
        self.rotated = write_video(root / "rotated.mp4", 4, 120, 160, rotation=-90)
        self.plate = write_image(root / "plate.png", plate(120, 160))
        self.odd_plate = write_image(root / "odd_plate.png", plate(101, 157))
        self.small_plate = write_image(root / "small_plate.jpg", plate(60, 80))
        self.plate_video = write_video(root / "plate_video.mp4", 5, 120, 160)
        self.truncated = truncate(self.clip, root / "truncated.mp4")
        self.corrupt = corrupt(self.clip, root / "corrupt.mp4")
        self.not_media = root / "notes.mp4"
        self.not_media.write_text("not a video\n")
        self.images = root / "shots"
        self.images.mkdir()
        for index in range(5):
            write_image(self.images / f"{index:03d}.png", frame(index * 9, plate(120, 160)))


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Media:
    return Media(tmp_path_factory.mktemp("media"))


class Recorder:
    """A Reporter that keeps what the engine reports."""

    def __init__(self):
        self.total, self.done, self.warnings = None, 0, []

    def start(self, total):
        self.total = total

    def advance(self, frames):
        self.done += frames

    def warn(self, message):
        self.warnings.append(message)


def decode(path: Path, codec: str | None = None):
    """(frames, video stream, audio codec names) of a written video; `codec` picks a decoder
    (FFmpeg's own VP9 decoder drops alpha; libvpx-vp9 keeps it)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        audio = [s.codec_context.name for s in container.streams.audio]
        if codec is None:
            frames = list(container.decode(stream))
        else:
            context = av.codec.CodecContext.create(codec, "r")
            frames = [f for packet in container.demux(stream) for f in context.decode(packet)]
        return frames, stream, audio


def final_names(folder: Path) -> list[str]:
    """What a user would take for finished outputs: everything but .partial leftovers."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".partial"))
