"""Temporal stability of mattes: a per-pixel filter over consecutive frames that smooths alpha
and foreground where the scene holds still and keeps each frame's own matte where it changes,
and the flicker figure that needs no truth. Pure tensor code, frames in order, one at a time.

"Changes" is read on the plate difference D = frame - plate (the plate aligned to the frame):
with a hand-held camera the frame moves but D of the background stays near zero, so camera
shake is not mistaken for a moving subject.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

GATE_COLOURS = ("rgb", "luma-chroma")  # what the plate gate reads the match on
LIVE_GATE_SHARE = 0.75  # the live RGB gate's noise multiple, as a share of the offline one


@dataclass(frozen=True, kw_only=True)
class TemporalSettings:
    """`ahead`: future frames looked at (offline 1; a live source 0: it looks back only).
    `past_weight` / `next_weight`: the weights of the filtered past and of the next frame against
    the frame's own matte (1) where nothing changed. A neighbour's weight falls as a Gaussian of
    the change of D (box-averaged over `radius`, largest channel; scale `change_sigma`) and of
    the alpha difference (scale `alpha_sigma`), so moving edges keep their own matte.
    `plate_gate`: before filtering, a low alpha (scale `gate_alpha`) is driven toward 0 where
    the frame matches its plate within the frame's noise (plate_gate), read on `gate_colour`:
    "rgb", the largest channel of D at each pixel, within `gate_noise` noise levels; or
    "luma-chroma", the Rec.709 luma of D at each pixel within `gate_luma_noise` levels and its
    chroma on 2x2 blocks (as 4:2:0 video carries it) within `gate_chroma_noise` levels."""

    ahead: int = 1
    past_weight: float = 3.0
    next_weight: float = 1.0
    change_sigma: float = 0.03
    alpha_sigma: float = 0.3
    radius: int = 1
    plate_gate: bool = True
    gate_noise: float = 4.0
    gate_alpha: float = 0.5
    gate_radius: int = 0
    gate_colour: str = "rgb"
    gate_luma_noise: float = 15.0
    gate_chroma_noise: float = 7.0

    def __post_init__(self):
        if self.gate_colour not in GATE_COLOURS:
            raise ValueError(f"gate_colour must be one of {GATE_COLOURS}, not {self.gate_colour!r}")

    def live(self) -> TemporalSettings:
        """The same filter looking back only, the past keeping its share of the weight (with
        the offline weight on it, the matte lagged: MAD rose by 2-4% on moving clips), and the
        RGB plate gate narrower (the luma-chroma option's was not measured live): what it cuts
        from a moving strand is not averaged with the next frame, and at the offline width it
        put the moving-edge error above per-frame's (docs/temporal.md)."""
        past = self.past_weight / (1 + self.next_weight)
        return replace(self, ahead=0, next_weight=0.0, past_weight=past,
                       gate_noise=self.gate_noise * LIVE_GATE_SHARE)  # fmt: skip


STILL_CHANGE = 3 / 255  # the box-averaged change of D below which a pixel "does not change"


def d_change(d_prev: torch.Tensor, d: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, 1, H, W): how much the plate difference changed, box-averaged over (2r+1)^2 pixels
    per channel (signed, so that sensor noise averages out), largest channel."""
    return box_mean(d - d_prev, radius).abs().amax(dim=1, keepdim=True)


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """The mean over a (2r+1)^2 box around each pixel, edges replicated: sums of shifted slices
    (on a CPU several times faster than avg_pool2d with stride 1)."""
    if radius == 0:
        return x
    h, w = x.shape[-2:]
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    side = 2 * radius + 1
    rows = sum(padded[..., :, i : i + w] for i in range(1, side)) + padded[..., :, 0:w]
    return (sum(rows[..., i : i + h, :] for i in range(1, side)) + rows[..., 0:h, :]) / side**2


GATE_NOISE_FLOOR = 1 / 255  # the noise taken for a frame that matches its plate exactly
GATE_STRIDE = 7  # the noise is read on every 7th pixel: a quarter-million values cost too much


def plate_gate(pha: torch.Tensor, d: torch.Tensor, settings: TemporalSettings) -> torch.Tensor:
    """`pha` (B, 1, H, W) with its low values driven toward 0 where the plate difference `d`
    (B, 3, H, W; box-averaged over `gate_radius`, signed) is within the frame's noise in every
    measure of `settings.gate_colour`: the model's halo over background that shows as it is.
    A soft weight, not a threshold. A veil within a few noise levels of the plate's colour
    loses part of its alpha, the more the lower it is."""
    # float32: a half-precision run's quantile and exponentials lose the small values here
    mismatch = gate_mismatch(box_mean(d.float(), settings.gate_radius), settings)
    low = torch.exp(-((pha.float() / settings.gate_alpha) ** 2))
    return (pha * (1 - torch.exp(-mismatch) * low)).to(pha.dtype)


REC709_LUMA = (0.2126, 0.7152, 0.0722)


def gate_mismatch(d: torch.Tensor, settings: TemporalSettings) -> torch.Tensor:
    """(B, 1, H, W): how far the frame is from its plate, squared multiples of the allowed noise
    summed over the measures: the largest channel of D; or its luma at each pixel and its
    chroma (the larger of Cb, Cr) on the 2x2 blocks of 4:2:0 video, which carries chroma at
    half resolution: per pixel, a codec's chroma of the subject spills a pixel or two onto
    background that otherwise matches."""
    if settings.gate_colour == "rgb":
        return _in_noise(d.abs().amax(dim=1, keepdim=True), settings.gate_noise)
    luma = _in_noise(_luma(d).abs(), settings.gate_luma_noise)
    blocks = _half(d)  # chroma is linear in RGB: that of the blocks' mean is the blocks' mean
    blocks_luma = _luma(blocks)
    cb = (blocks[:, 2:3] - blocks_luma) / 1.8556  # Rec.709
    cr = (blocks[:, 0:1] - blocks_luma) / 1.5748
    chroma = _in_noise(torch.maximum(cb.abs(), cr.abs()), settings.gate_chroma_noise)
    h, w = d.shape[-2:]
    return luma + F.interpolate(chroma, scale_factor=2.0, mode="nearest")[..., :h, :w]


def _luma(rgb: torch.Tensor) -> torch.Tensor:
    return sum(weight * rgb[:, i : i + 1] for i, weight in enumerate(REC709_LUMA))


def _in_noise(level: torch.Tensor, multiple: float) -> torch.Tensor:
    return (level / (multiple * frame_noise(level))) ** 2


def frame_noise(level: torch.Tensor) -> torch.Tensor:
    """(B, 1, 1, 1): the frame's noise in `level`: its 25th percentile (the quietest quarter is
    background, however large the subject), at least GATE_NOISE_FLOOR."""
    sample = level.flatten(1)[:, ::GATE_STRIDE]
    noise = sample.kthvalue(max(1, sample.shape[1] // 4), dim=1).values
    return noise.clamp(min=GATE_NOISE_FLOOR)[:, None, None, None]


def _half(x: torch.Tensor) -> torch.Tensor:
    """The mean of each 2x2 block (an odd last row or column: of its own pixels), as
    avg_pool2d(x, 2, ceil_mode=True) gives it; strided sums: on a CPU several times faster."""
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    return (x[..., ::2, ::2] + x[..., 1::2, ::2] + x[..., ::2, 1::2] + x[..., 1::2, 1::2]) / 4


@dataclass
class _Frame:
    pha: torch.Tensor  # (1, 1, H, W)
    fgr: torch.Tensor  # (1, 3, H, W)
    change: torch.Tensor | None  # (d_change from the frame before / change_sigma)^2; None: first
    tag: object  # what the caller hands through with the frame


class TemporalFilter:
    """Frames in with `push`, filtered frames out `settings.ahead` frames later (then `flush`).
    out_t = (a_t + w_p P + w_n a_{t+1}) / (1 + w_p + w_n) for alpha and foreground alike, where P
    is the filtered frame before (a recursive filter: still areas keep smoothing) and each w
    vanishes where D or alpha changed."""

    def __init__(self, settings: TemporalSettings):
        self.settings = settings
        self._waiting: deque[_Frame] = deque()
        self._past: _Frame | None = None  # the last frame given out, filtered
        self._last_d: torch.Tensor | None = None  # the plate difference of the last frame in

    def push(self, src, bgr, pha, fgr, tag=None) -> list[tuple]:
        """One frame ((1, C, H, W) each, floats); returns the (pha, fgr, tag) now final."""
        d, change = src - bgr, None
        if self.settings.plate_gate:
            pha = plate_gate(pha, d, self.settings)
        if self._last_d is not None:  # each pair of frames compared once, past or next alike
            change = d_change(self._last_d, d, self.settings.radius) / self.settings.change_sigma
            change = change * change
        self._last_d = d
        self._waiting.append(_Frame(pha, fgr, change, tag))
        done = []
        while len(self._waiting) > self.settings.ahead:
            done.append(self._finish())
        return done

    def flush(self) -> list[tuple]:
        """The frames still waiting for their future (the end of the input)."""
        return [self._finish() for _ in range(len(self._waiting))]

    def reset(self) -> None:
        """Forget the past (a new shot, a recaptured plate)."""
        self._past = self._last_d = None

    def _finish(self) -> tuple:
        s = self.settings
        now = self._waiting.popleft()
        pha_sum, fgr_sum, total = now.pha, now.fgr, torch.ones_like(now.pha)
        neighbours = []
        if self._past is not None and now.change is not None and s.past_weight > 0:
            neighbours.append((self._past, now.change, s.past_weight))
        if self._waiting and self._waiting[0].change is not None and s.next_weight > 0:
            neighbours.append((self._waiting[0], self._waiting[0].change, s.next_weight))
        for other, change, weight in neighbours:
            alpha = (other.pha - now.pha) / s.alpha_sigma
            w = weight * torch.exp(-change - alpha * alpha)
            pha_sum = pha_sum + w * other.pha
            fgr_sum = fgr_sum + w * other.fgr
            total = total + w
        self._past = _Frame(pha_sum / total, fgr_sum / total, now.change, now.tag)
        return self._past.pha, self._past.fgr, now.tag


class FlickerMeter:
    """The flicker figure without truth: the mean alpha change from frame to frame where the
    input does not change (D's box-averaged change under STILL_CHANGE: the frame less its
    aligned plate, so that a hand-held camera's shake does not count as change)."""

    def __init__(self):
        self._prev: tuple[torch.Tensor, torch.Tensor] | None = None
        self._total = self._pixels = None  # on the frames' device: no wait for it per frame
        self._compared = 0  # pixels compared, still or not

    def reset(self) -> None:
        """A new plate: the next frame is not compared with the last."""
        self._prev = None

    def add(self, src, bgr, pha) -> None:
        """One frame's input, plate and alpha ((1, C, H, W) floats). Measured on 2x2 blocks (a
        still block: D's change over 3x3 blocks, i.e. about 6x6 pixels, under STILL_CHANGE; its
        alpha change: the mean over its pixels), a quarter of the work on every run."""
        d = _half(src - bgr)
        if self._prev is not None and self._prev[0].shape == d.shape:
            still = d_change(self._prev[0], d, 1) < STILL_CHANGE
            moved = (_half((pha - self._prev[1]).abs()) * still).double().sum()
            counted = still.sum()
            self._compared += still.numel()
            if self._total is None:
                self._total, self._pixels = moved, counted
            else:
                self._total, self._pixels = self._total + moved, self._pixels + counted
        self._prev = d, pha

    @property
    def still_share(self) -> float | None:
        """The share of the pixels compared that held still."""
        return int(self._pixels) / self._compared if self._compared else None

    @property
    def flicker(self) -> float | None:
        """Mean |alpha_t - alpha_(t-1)| over the still pixels; None before two frames."""
        if self._total is None or int(self._pixels) == 0:
            return None
        return float(self._total) / int(self._pixels)
