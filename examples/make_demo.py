"""Makes the demo: `demo.mp4` (a person moving through a garage, with sound) and its clean
background plate `demo_plate.jpg`, from real photographs shipped with scikit-image.

    python examples/make_demo.py
    bgm matte examples/demo.mp4 --bg examples/demo_plate.jpg -o out/

The garage is the Middlebury stereo 'motorcycle' photograph; the person is the NASA portrait
of astronaut Eileen Collins (`skimage.data.astronaut`), cut out with a hand-drawn soft matte.
Both are public domain or free to redistribute (see skimage's data README). Camera noise is
added to every frame and, independently, to the plate, as a real camera would.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

HERE = Path(__file__).parent
WIDTH, HEIGHT, FRAMES, RATE = 640, 360, 48, Fraction(24)
SUBJECT_HEIGHT = 300  # pixels of the frame the person takes up


def garage() -> np.ndarray:
    """The background, cropped to 16:9 and sized to the clip."""
    left, _, _ = data.stereo_motorcycle()  # 500x741
    top = (left.shape[0] - 417) // 2
    crop = Image.fromarray(left[top : top + 417])
    return np.asarray(crop.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS), np.float32)


def person() -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) of the astronaut portrait's subject: head, collar ring and torso."""
    image = data.astronaut()[:, :380]  # the helmet on the right stays in the cut-out
    size = (image.shape[1], image.shape[0])
    face = Image.new("L", size, 0)
    ImageDraw.Draw(face).ellipse((178, 60, 264, 186), fill=255)  # face and chin
    mask = face.copy()
    draw = ImageDraw.Draw(mask)
    draw.ellipse((152, 14, 300, 140), fill=255)  # hair
    draw.polygon([(192, 160), (258, 160), (268, 200), (182, 200)], fill=255)  # neck
    draw.ellipse((112, 147, 307, 297), fill=255)  # collar ring
    draw.polygon([(100, 250), (330, 250), (362, 330), (375, 512), (18, 512), (28, 330)], 255)
    # The studio backdrop (light and colourless) shows around the hair and beside the face:
    # out of the cut-out, so that no piece of it travels with the person over the garage.
    backdrop = (image.min(axis=-1) > 150) & (np.ptp(image, axis=-1) < 45)
    y, x = np.mgrid[0 : size[1], 0 : size[0]]
    # beside the head and the collar's top, not the collar's light lining inside it
    around_head = (y < 150) | ((y < 205) & (x > 262)) | ((y < 240) & (x > 288))
    cut = np.asarray(mask) > 0
    cut &= ~(backdrop & around_head & (np.asarray(face) == 0))
    alpha = Image.fromarray(cut.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(1.5))
    scale = SUBJECT_HEIGHT / image.shape[0]
    size = (round(image.shape[1] * scale), SUBJECT_HEIGHT)
    rgb = Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)
    alpha = alpha.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb, np.float32), np.asarray(alpha, np.float32)[..., None] / 255


def frame(index: int, background, subject, rng) -> np.ndarray:
    """The person walks in from the right and bobs slightly, over the garage."""
    rgb, alpha = subject
    height, width = alpha.shape[:2]
    progress = index / (FRAMES - 1)
    x = round(WIDTH - width * 0.35 - progress * (WIDTH * 0.55))
    y = HEIGHT - height + round(4 * np.sin(progress * 6 * np.pi))
    out = background.copy()
    x0, x1 = max(x, 0), min(x + width, WIDTH)
    y0, y1 = max(y, 0), min(y + height, HEIGHT)
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    out[y0:y1, x0:x1] = a * rgb[y0 - y : y1 - y, x0 - x : x1 - x] + (1 - a) * out[y0:y1, x0:x1]
    return noisy(out, rng)


def noisy(image: np.ndarray, rng) -> np.ndarray:
    return (image + rng.normal(0, 2.0, image.shape)).clip(0, 255).round().astype(np.uint8)


def write_clip(path: Path, background, subject, rng) -> None:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "20", "preset": "slow"}
        sound = container.add_stream("aac", rate=48_000)
        sound.layout = "stereo"
        for index in range(FRAMES):
            picture = av.VideoFrame.from_ndarray(frame(index, background, subject, rng), "rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        write_sound(container, sound, FRAMES / RATE)


def write_sound(container, stream, seconds) -> None:
    """A soft two-note chime, so that the copied audio track can be heard in the composite."""
    count = int(seconds * 48_000)
    t = np.arange(count) / 48_000
    envelope = np.minimum(1, t / 0.05) * np.exp(-2.5 * (t % 1.0))
    tone = 0.15 * envelope * np.sin(2 * np.pi * np.where(t < 1.0, 523.25, 659.25) * t)
    stereo = np.stack([tone, tone]).astype(np.float32)
    for begin in range(0, count, 1024):
        chunk = np.ascontiguousarray(stereo[:, begin : begin + 1024])
        block = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        block.sample_rate, block.pts = 48_000, begin
        container.mux(stream.encode(block))
    container.mux(stream.encode(None))


def main() -> None:
    rng = np.random.default_rng(2021)
    background = garage()
    write_clip(HERE / "demo.mp4", background, person(), rng)
    plate = Image.fromarray(noisy(background, rng))
    plate.save(HERE / "demo_plate.jpg", quality=92)  # as a phone would save it
    for name in ("demo.mp4", "demo_plate.jpg"):
        print(f"{HERE / name}: {(HERE / name).stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
