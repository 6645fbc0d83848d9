"""Composites: what `com` is laid over (--target: a colour, an image or a video), and the model's
outputs turned into the pictures each output type writes, as uint8 NHWC tensors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from bgmcli.engine.backgrounds import Plate
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError

GREEN = (120, 255, 155)  # the original project's composite green: easy to key again
COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass
class Target:
    """What `com` goes over: a colour, a Plate (image or video), or nothing (transparent)."""

    colour: tuple[int, int, int] | None = None
    plate: Plate | None = None

    @property
    def transparent(self) -> bool:
        return self.colour is None and self.plate is None

    @property
    def per_frame(self) -> bool:
        return self.plate is not None and self.plate.still is None

    def close(self) -> None:
        if self.plate is not None:
            self.plate.close()


def open_target(spec: str | None, info: SourceInfo, *, alpha_format: bool, warn) -> Target:
    """--target: None means transparent where the format keeps alpha, else green."""
    if spec is None:
        return Target() if alpha_format else Target(colour=GREEN)
    if spec.lower() == "green":
        return Target(colour=GREEN)
    match = COLOUR.fullmatch(spec)
    if match and (spec.startswith("#") or not Path(spec).exists()):
        value = match.group(1)
        return Target(colour=tuple(int(value[i : i + 2], 16) for i in (0, 2, 4)))
    if spec.startswith("#") or not Path(spec).exists():
        raise BgmError(f"--target {spec!r} is not green, a #RRGGBB colour, or an existing file")
    return Target(plate=Plate(Path(spec), info, what="target", warn=warn))


def target_tensor(target: Target, device: torch.device) -> torch.Tensor | None:
    """The constant target on the device, (1, 3, 1 | H, 1 | W) in [0, 1]; None if per frame."""
    if target.colour is not None:
        colour = torch.tensor(target.colour, device=device, dtype=torch.float32)
        return colour.view(1, 3, 1, 1) / 255
    if target.plate is not None and target.plate.still is not None:
        return to_float(torch.from_numpy(target.plate.still)[None].to(device))
    return None


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W, C) -> float (B, C, H, W) in [0, 1], on the tensor's device."""
    return images.permute(0, 3, 1, 2).float().div_(255)


def to_uint8(pictures: torch.Tensor) -> torch.Tensor:
    """float (B, C, H, W) in [0, 1] -> uint8 (B, C, H, W), rounded, on the same device.

    Planes stay planar: the encoder threads interleave them, off the model's thread."""
    return pictures.float().mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)


def picture(kind: str, out, tgt: torch.Tensor | None, *, rgba: bool) -> torch.Tensor:
    """The float (B, C, H, W) picture of output `kind` from a MattingOutput.

    `com` is the composite over `tgt`, or the RGBA cut-out when `tgt` is None; `fgr` carries
    alpha when `rgba`; `err` and `ref` are the coarse maps brought to the frame's size.
    """
    pha, fgr = out.pha.float(), out.fgr.float()
    if kind == "pha":
        return pha
    if kind == "fgr":
        return torch.cat([fgr, pha], 1) if rgba else fgr
    if kind == "com":
        return torch.cat([fgr, pha], 1) if tgt is None else torch.lerp(tgt.float(), fgr, pha)
    height, width = pha.shape[2:]
    padded = (-(-height // 4) * 4, -(-width // 4) * 4)  # the model's internal padded size
    if kind == "err":
        err = F.interpolate(out.err_sm.float(), padded, mode="bilinear", align_corners=False)
        return err[:, :, :height, :width]
    if kind == "ref":
        ref = F.interpolate(out.ref_sm.float(), padded, mode="nearest")
        return ref[:, :, :height, :width]
    raise ValueError(f"unknown output kind {kind!r}")
