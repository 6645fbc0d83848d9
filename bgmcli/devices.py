"""Device and precision choice: `auto` picks CUDA when present; asking for absent CUDA fails."""

from __future__ import annotations

import os

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


def available_memory(device: torch.device) -> int | None:
    """Bytes free for new tensors on `device` (CPU: the kernel's MemAvailable), or None where
    that cannot be known."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(nbytes: float, device: torch.device, what: str) -> None:
    """Refuse, before allocating, work that needs more memory than `device` has free (a
    traceback, or the machine swapping, otherwise)."""
    free = available_memory(device)
    if free is not None and nbytes > free:
        raise BgmError(
            f"{what} needs more than {nbytes / 2**30:,.1f} GiB of memory, and "
            f"{device} has {free / 2**30:,.1f} GiB free: choose a smaller size or batch"
        )


# A forward pass's peak memory is several times its frames' bytes (docs/faults.md has the
# multiples `bgm bench` measured); the check takes the low end, so it refuses only what cannot fit.
WORKING_MULTIPLE = 6


def frame_bytes(batch: int, height: int, width: int, dtype: torch.dtype = torch.float32) -> int:
    """Bytes a batch needs at least to run: its matting tensors at full size (src, bgr, pha,
    fgr: 10 channels) times WORKING_MULTIPLE for the network's own tensors."""
    size = torch.empty((), dtype=dtype).element_size()
    return WORKING_MULTIPLE * batch * 10 * height * width * size
