"""Device and precision choice: `auto` picks CUDA when present; asking for absent CUDA fails."""

from __future__ import annotations

import torch

from bgmcli.errors import BgmError

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BgmError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise BgmError(f"device {name!r} asked for, but no CUDA GPU is available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise BgmError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s) here")
    elif device.type not in ("cpu", "mps"):
        raise BgmError(f"unsupported device {name!r}; use auto, cpu, cuda or cuda:N")
    return device


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    if precision not in PRECISIONS:
        raise BgmError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type == "cpu":
        raise BgmError("fp16 is not supported on the CPU here; use fp32 or bf16")
    return PRECISIONS[precision]
