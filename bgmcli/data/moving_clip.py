"""Video clips with true alpha: a subject (synthetic hair and a veil, or a real-alpha photograph)
moving across a background photograph, seen by a still or a hand-held camera, with sensor noise;
for measuring temporal stability and plates built from footage. Pure functions of a ClipSpec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bgmcli.data import augment, outlines, synthetic
from bgmcli.data.foreground import estimate_foreground
from bgmcli.data.image_files import read_image_array
from bgmcli.errors import BgmError

CAMERAS = ("static", "handheld")
SUBJECTS = ("synthetic", "photo")
MARGIN = 0.08  # the background photograph is this much larger than the frame: room to shake
BELOW = 0.08  # a subject cut by the frame's bottom reaches this far below it (of the height)
SUBJECT_WIDTH = 0.45  # of the frame: the synthetic subject's canvas


@dataclass(frozen=True, kw_only=True)
class ClipSpec:
    """What clip to make. `photos`: an alphamatting.com-layout folder (input/, alpha/), needed
    for subject "photo"; `photo`: which image (its stem), None: one chosen by the seed.
    `empty_before` / `empty_after`: frames without the subject before it walks in and after it
    has left. `noise`: the sensor noise's standard deviation, fresh in every frame.
    `subject_scale`: the subject's size against the usual (1: about half the frame's width);
    `walk`: the share of the frame's width it walks across (without empty frames), centred: a
    large subject that walks a short way covers the middle of the frame in every frame."""

    width: int = 640
    height: int = 360
    frames: int = 48
    fps: float = 24.0
    camera: str = "static"
    subject: str = "synthetic"
    photos: Path | None = None
    photo: str | None = None
    empty_before: int = 0
    empty_after: int = 0
    noise: float = 0.01
    subject_scale: float = 1.0
    walk: float = 0.6
    seed: int = 0

    def __post_init__(self) -> None:
        if self.camera not in CAMERAS:
            raise BgmError(f"unknown camera {self.camera!r}; known: {', '.join(CAMERAS)}")
        if self.subject not in SUBJECTS:
            raise BgmError(f"unknown subject {self.subject!r}; known: {', '.join(SUBJECTS)}")
        if self.width < 16 or self.height < 16:
            raise BgmError(f"a clip must be at least 16x16, got {self.width}x{self.height}")
        if self.fps <= 0 or self.noise < 0 or min(self.empty_before, self.empty_after) < 0:
            raise BgmError("a clip's fps must be positive, its noise and empty frames not negative")
        if not 0 < self.subject_scale <= 2 or not 0 <= self.walk <= 1:
            raise BgmError("a clip's subject_scale must be in (0, 2], its walk in [0, 1]")
        if self.subject == "photo" and self.photos is None:
            raise BgmError("a clip of a real-alpha photograph needs its folder (photos)")
        if self.frames < 2 + self.empty_before + self.empty_after:
            raise BgmError(f"{self.frames} frames leave fewer than 2 with the subject")


@dataclass
class MovingClip:
    """Frames and their truth as float32 tensors in [0, 1]: src (T, 3, H, W) what the camera
    recorded (with noise), pha (T, 1, H, W), fgr (T, 3, H, W), bgr (T, 3, H, W) the background
    as each frame sees it (noise-free), plate (3, H, W) the background from the reference pose
    (the first frame's, of a still camera), captured_plate: the plate as a camera records it (with
    its own noise); poses (T, 3, 3): frame pixel -> reference pixel; subject_maps (T, 3, 3): frame
    pixel -> subject pixel (the true motion: subject_maps[t-1]^-1 @ subject_maps[t] takes a pixel of
    frame t to where that point of the subject was in frame t-1); present (T,) bool."""

    spec: ClipSpec
    src: torch.Tensor
    pha: torch.Tensor
    fgr: torch.Tensor
    bgr: torch.Tensor
    plate: torch.Tensor
    captured_plate: torch.Tensor
    poses: np.ndarray
    subject_maps: np.ndarray
    present: np.ndarray

    def __len__(self) -> int:
        return self.src.shape[0]


def moving_clip(spec: ClipSpec) -> MovingClip:
    """The clip `spec` describes; the same spec gives the same clip."""
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 22]))
    h, w = spec.height, spec.width
    canvas_hw = (round(h * (1 + MARGIN)), round(w * (1 + MARGIN)))
    canvas, photo_index = synthetic.photo_crop(rng, canvas_hw)
    if spec.subject == "synthetic":
        canvas_w = min(w, round(w * SUBJECT_WIDTH * spec.subject_scale))
        fgr, pha = synthetic_subject(rng, (round(h * (1 + BELOW)), canvas_w), canvas,
                                     photo_index)  # fmt: skip
        grounded = True
    else:
        fgr, pha, grounded = photo_subject(spec, rng)
    poses = camera_poses(spec, rng)
    to_canvas = _translation((canvas_hw[1] - w) / 2, (canvas_hw[0] - h) / 2)
    places, present = subject_path(spec, rng, pha, grounded)
    layers = torch.cat([fgr, pha])
    out = {key: [] for key in ("src", "pha", "fgr", "bgr")}
    for t in range(spec.frames):
        bgr = augment.warp(canvas, to_canvas @ poses[t], (h, w), padding="reflection")
        if present[t]:
            both = augment.warp(layers, places[t] @ poses[t], (h, w))
            frame_fgr, frame_pha = both[:3].clamp(0, 1), _snap(both[3:])
            present[t] = bool(frame_pha.any())
        else:
            frame_fgr, frame_pha = torch.zeros(3, h, w), torch.zeros(1, h, w)
        src = frame_fgr * frame_pha + bgr * (1 - frame_pha)
        out["src"].append(_noisy(src, rng, spec.noise))
        out["pha"].append(frame_pha)
        out["fgr"].append(frame_fgr)
        out["bgr"].append(bgr)
    plate = augment.warp(canvas, to_canvas, (h, w), padding="reflection")
    stacked = {key: torch.stack(frames) for key, frames in out.items()}
    return MovingClip(spec=spec, **stacked, plate=plate,
                      captured_plate=_noisy(plate, rng, spec.noise), poses=poses,
                      subject_maps=np.stack([p @ q for p, q in zip(places, poses, strict=True)]),
                      present=present)  # fmt: skip


def synthetic_subject(rng, hw, live: torch.Tensor, photo_index: int):
    """(fgr, pha) of a subject with hair-like strands and a semi-transparent veil (a scarf) on a
    canvas of `hw`, its body cut by the canvas's bottom and faded out at its sides."""
    fgr = synthetic.foreground(rng, hw, live, exclude=photo_index, shading=0.5)
    body = synthetic.subject(rng, hw, "mixed")
    if rng.random() < synthetic.TANGLE_SHARE:
        fgr, body = synthetic.tangle(rng, hw, fgr)
    hair = outlines.strands(rng, body, int(rng.integers(80, 200)))
    only_hair = hair * (1 - body)
    hair_colour = torch.from_numpy(rng.uniform(0.05, 0.6, (3, 1, 1)).astype(np.float32))
    fgr = fgr * (1 - only_hair) + hair_colour * only_hair
    scarf = outlines.veil(rng, hw)
    scarf_colour = torch.from_numpy(rng.uniform(0.2, 1.0, (3, 1, 1)).astype(np.float32))
    pha = outlines.over(outlines.over(body, hair), scarf)
    fgr = (fgr * (pha - scarf) + scarf_colour * scarf) / pha.clamp(min=1e-3)
    xs = torch.arange(hw[1], dtype=torch.float32) + 0.5
    sides = ((hw[1] / 2 - 2 - (xs - hw[1] / 2).abs()) / 2).clamp(0, 1)  # no cut at the sides
    return fgr.clamp(0, 1), _snap(pha * sides)


def photo_subject(spec: ClipSpec, rng) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(fgr, pha, grounded) of a real-alpha photograph's subject cut to its alpha's bounding box
    and scaled to the frame; `grounded`: its alpha touches the photograph's bottom, so it stands
    on the frame's bottom edge (and reaches below it)."""
    root = Path(spec.photos)
    name = spec.photo or _pick_photo(root, rng)
    image = read_image_array(_image_path(root / "input", name), "RGB").astype(np.float64) / 255
    alpha = read_image_array(_image_path(root / "alpha", name), "L").astype(np.float64) / 255
    if image.shape[:2] != alpha.shape:
        raise BgmError(f"{root}: input and alpha of {name} differ in size")
    ys, xs = np.nonzero(alpha > 0.01)
    if len(ys) == 0:
        raise BgmError(f"{root}: the alpha of {name} is empty")
    fgr = estimate_foreground(image, alpha)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    grounded = bool(alpha[-1].mean() > 0.02)
    both = np.concatenate([fgr, alpha[..., None]], 2)[top:bottom, left:right]
    both = torch.from_numpy(both.astype(np.float32)).permute(2, 0, 1)
    tall = spec.height * (0.85 if grounded else 0.7)
    scale = min(tall / both.shape[1], 0.5 * spec.width / both.shape[2]) * spec.subject_scale
    size = (max(2, round(both.shape[1] * scale)), max(2, round(both.shape[2] * scale)))
    both = F.interpolate(both[None], size=size, mode="bilinear", antialias=True)[0]
    if grounded:  # the cut at the bottom continues below the frame: no edge shows when it bobs
        below = round(spec.height * BELOW)
        both = F.pad(both[None], (0, 0, 0, below), mode="replicate")[0]
    return both[:3].clamp(0, 1), _snap(both[3:]), grounded


def _pick_photo(root: Path, rng) -> str:
    """A photograph whose alpha stays clear of the image's sides and top (a clean subject)."""
    folder = root / "alpha"
    if not folder.is_dir():
        raise BgmError(f"no real-alpha photographs at {root} (expected input/ and alpha/)")
    clean = []
    for path in sorted(folder.glob("*.png")):
        alpha = read_image_array(path, "L")
        if max(alpha[0].mean(), alpha[:, 0].mean(), alpha[:, -1].mean()) < 0.02 * 255:
            clean.append(path.stem)
    if not clean:
        raise BgmError(f"{folder}: no alpha clear of the image's sides")
    return clean[int(rng.integers(len(clean)))]


def _image_path(folder: Path, stem: str) -> Path:
    paths = sorted(folder.glob(f"{stem}.*"))
    if not paths:
        raise BgmError(f"no image {stem} in {folder}")
    return paths[0]


def subject_path(spec: ClipSpec, rng, pha: torch.Tensor, grounded: bool):
    """Per frame, the 3x3 map from reference pixels to subject-canvas pixels (a walk across the
    frame with a gentle sway and, when not grounded, a bob), and whether the subject is there.
    With empty frames before (after), it walks in from (out over) the frame's edge: a tenth of
    its width in view on its first (last) frame."""
    h, w = spec.height, spec.width
    sh, sw = pha.shape[-2:]
    columns = torch.nonzero(pha[0].amax(0) > 0)[:, 0]
    left, right = float(columns.min()) - (sw - 1) / 2, float(columns.max()) - (sw - 1) / 2
    peek = 0.1 * (right - left)
    forward = rng.random() < 0.5  # left to right, or back
    near, far = (1 - spec.walk) / 2 * w, (1 + spec.walk) / 2 * w
    start = (peek - right if forward else w - peek - left) if spec.empty_before else near
    end = (w - peek - left if forward else peek - right) if spec.empty_after else far
    if not forward and not spec.empty_before and not spec.empty_after:
        start, end = end, start
    first, last = spec.empty_before, spec.frames - spec.empty_after - 1
    phase, period = rng.uniform(0, 2 * math.pi), rng.uniform(1.5, 3.0) * spec.fps
    places, present = [], np.zeros(spec.frames, bool)
    for t in range(spec.frames):
        present[t] = first <= t <= last
        s = (min(max(t, first), last) - first) / max(1, last - first)
        sway = math.sin(2 * math.pi * t / period + phase)
        x = start + (end - start) * s
        y = h + BELOW * h - sh / 2 if grounded else h / 2 + 0.02 * h * sway
        m = augment.affine_matrix((x, y), ((sw - 1) / 2, (sh - 1) / 2), rot_deg=1.5 * sway)
        places.append(m)
    return places, present


def camera_poses(spec: ClipSpec, rng) -> np.ndarray:
    """(T, 3, 3) frame pixel -> reference pixel: the identity for a still camera; for a hand-held
    one a slow sway (two sinusoids per axis, 0.2-1.5 Hz) plus a tremor: shifts up to ~1.5% of the
    height, roll up to ~0.4 degrees, zoom within ~0.5%."""
    count = spec.frames
    if spec.camera == "static":
        return np.repeat(np.eye(3)[None], count, axis=0)
    t = np.arange(count) / spec.fps

    def wander(amplitude: float) -> np.ndarray:
        freq = rng.uniform(0.2, 1.5, 2)
        phase = rng.uniform(0, 2 * math.pi, 2)
        slow = sum(np.sin(2 * math.pi * f * t + p) for f, p in zip(freq, phase, strict=True)) / 2
        wave = slow + 0.1 * rng.normal(0, 1, count)
        return amplitude * (wave - wave[0])  # the first frame is the reference pose

    dx, dy = wander(0.015 * spec.height), wander(0.015 * spec.height)
    roll, zoom = wander(0.4), wander(0.005)
    c = ((spec.width - 1) / 2, (spec.height - 1) / 2)
    return np.stack([
        augment.affine_matrix(c, c, rot_deg=roll[i], scale=1 + zoom[i], shift=(dx[i], dy[i]))
        for i in range(count)
    ])  # fmt: skip


def _translation(dx: float, dy: float) -> np.ndarray:
    m = np.eye(3)
    m[:2, 2] = dx, dy
    return m


def _snap(pha: torch.Tensor) -> torch.Tensor:
    """Float round-off snapped so that opaque and empty regions are exactly 1 and 0."""
    pha = pha.clamp(0, 1)
    return torch.where(pha > 1 - 1e-4, 1.0, torch.where(pha < 1e-4, 0.0, pha))


def _noisy(img: torch.Tensor, rng, sigma: float) -> torch.Tensor:
    """Fresh Gaussian sensor noise (augment's noise bank repeats itself from frame to frame)."""
    if sigma == 0:
        return img.clone()
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    return (img + sigma * torch.randn(img.shape, generator=generator)).clamp(0, 1)
