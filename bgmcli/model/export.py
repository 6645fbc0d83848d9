"""TorchScript / ONNX export of a MattingModel by tracing, at one fixed input shape.

Tracing bakes shapes (padding, the number of patches, the patch grid), so an exported file is
valid for exactly the (batch, 3, H, W) it was traced at; the TorchScript file checks this.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from bgmcli.atomic import atomic_write_bytes, check_writable
from bgmcli.config import to_dict
from bgmcli.devices import check_memory, frame_bytes
from bgmcli.errors import BgmError
from bgmcli.model.matting import MattingModel, MattingOutput
from bgmcli.model.traceable import TraceableMatting

FORMATS = ("torchscript", "onnx")
INPUT_NAMES = ("src", "bgr")
OUTPUT_NAMES = MattingOutput._fields
DEFAULT_OPSET = 17
OPSETS = range(13, 21)  # 13: repeat_interleave on traced sizes; 20: the TorchScript exporter's max
TOLERANCE = 1e-4


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What was written, the one input shape it accepts, and how far it is from eager."""

    path: Path
    format: str
    input_shape: tuple[int, int, int, int]
    max_abs_diff: float | None  # exported vs eager on a random input; None if not checked
    notes: tuple[str, ...] = ()


def export_model(
    model: MattingModel,
    path: str | Path,
    *,
    format: str,
    resolution: tuple[int, int] = (1920, 1080),
    batch_size: int = 1,
    opset: int = DEFAULT_OPSET,
    verify: bool = True,
    overwrite: bool = False,
) -> ExportResult:
    """Trace `model` at `resolution` (W, H), with its settings decided for that size (for
    example k None: 5000 per HD area), and write it atomically. The file is built in memory
    and written in one go: torch's own writers abort the process on a full disk."""
    path = Path(path)
    check_output(path, overwrite)
    if format not in FORMATS:
        raise BgmError(f"unknown export format {format!r}; known: {', '.join(FORMATS)}")
    if format == "onnx" and opset not in OPSETS:
        raise BgmError(f"ONNX opset {opset} is not supported; use {OPSETS[0]} to {OPSETS[-1]}")
    if batch_size < 1:
        raise BgmError(f"batch size must be at least 1, got {batch_size}")
    width, height = resolution
    shape = (batch_size, 3, height, width)
    device = next(model.parameters()).device
    check_memory(frame_bytes(batch_size, height, width), device, f"{width}x{height} export")
    core = TraceableMatting(model, shape)
    src, bgr = (x.to(device) for x in example_inputs(shape))
    writer = _write_torchscript if format == "torchscript" else _write_onnx
    meta = {"config": to_dict(model.config), "settings": to_dict(core.settings),
            "input_shape": list(shape), "outputs": OUTPUT_NAMES}  # fmt: skip
    with torch.no_grad():
        atomic_write_bytes(path, writer(core, (src, bgr), meta, opset))
        diff = _verify(model, path, format, (src, bgr)) if verify else None
    if diff is not None and not math.isfinite(diff):  # NaN > tolerance is False: ask directly
        path.unlink(missing_ok=True)
        raise BgmError(f"the exported model's outputs are not finite (NaN or infinite) on a "
                       f"random input; {path} removed")  # fmt: skip
    return ExportResult(
        path=path, format=format, input_shape=shape, max_abs_diff=diff, notes=core.notes
    )


def check_output(path: Path, overwrite: bool) -> None:
    """Before any work: the output is a file name, new unless `overwrite`, in a folder that
    takes files."""
    if path.is_dir():
        raise BgmError(f"output {path} is a directory; give a file name")
    if path.exists() and not overwrite:
        raise BgmError(f"{path} exists; pass --overwrite to replace it")
    check_writable(path.parent, "output folder")


def example_inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A reproducible random (src, bgr) pair in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=generator), torch.rand(shape, generator=generator)


@contextmanager
def quiet():
    """Silence TracerWarnings (shapes are baked on purpose) and torch.jit/ONNX deprecations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _trace(core: nn.Module, inputs: tuple[torch.Tensor, ...]) -> torch.jit.ScriptModule:
    with quiet():
        return torch.jit.trace(core, inputs, check_trace=False)


class ShapeGuard(nn.Module):
    """Scripted front of the traced model: refuses inputs of another shape with a clear error."""

    def __init__(self, traced: torch.jit.ScriptModule, shape: tuple[int, ...]):
        super().__init__()
        self.traced = traced
        self.shape = list(shape)
        self.message = f"this bgm model was exported for src and bgr of shape {tuple(shape)}, got "

    def forward(
        self, src: torch.Tensor, bgr: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if list(src.shape) != self.shape or list(bgr.shape) != self.shape:
            raise RuntimeError(self.message + str(src.shape) + " and " + str(bgr.shape))
        return self.traced(src, bgr)


def _write_torchscript(core, inputs, meta: dict, opset: int) -> bytes:
    traced = _trace(core, inputs)
    buffer = io.BytesIO()
    with quiet():
        guarded = torch.jit.script(ShapeGuard(traced, inputs[0].shape))
        torch.jit.save(guarded, buffer, _extra_files={"bgm.json": json.dumps(meta)})
    return buffer.getvalue()


def _write_onnx(core, inputs, meta: dict, opset: int) -> bytes:
    try:
        import onnx  # the [onnx] extra: only ONNX export needs it
    except ImportError:
        raise BgmError("ONNX export needs the onnx package: pip install 'bgmcli[onnx]'") from None
    buffer = io.BytesIO()
    with quiet():
        try:
            torch.onnx.export(
                core,
                inputs,
                buffer,
                dynamo=False,  # the TorchScript-based exporter: no onnxscript dependency
                opset_version=opset,
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
            )
        except (ValueError, RuntimeError) as exc:  # an op without an ONNX form at this opset
            lines = str(exc).split("[Caused by")[0].strip().splitlines() or [type(exc).__name__]
            reason = lines[0]
            raise BgmError(f"ONNX export at opset {opset} failed: {reason}") from None
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, {"bgm": json.dumps(meta)})
    return proto.SerializeToString()


def _verify(model: MattingModel, path: Path, format: str, inputs) -> float | None:
    """Largest |exported - eager| over all outputs on `inputs` (None without onnxruntime)."""
    expected = model(*inputs)
    if format == "torchscript":
        with quiet():
            loaded = torch.jit.load(str(path))
        got = [t.cpu().numpy() for t in loaded(*inputs)]
    else:
        got = run_onnx(path, inputs)
        if got is None:
            return None
    return max(float(abs(e.cpu().numpy() - g).max()) for e, g in zip(expected, got, strict=True))


def run_onnx(path: Path, inputs) -> list | None:
    """The ONNX model's outputs on CPU as numpy arrays (None when onnxruntime is missing)."""
    try:
        import onnxruntime  # the [onnx] extra: only checking an ONNX file needs it
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: t.cpu().numpy() for name, t in zip(INPUT_NAMES, inputs, strict=True)}
    return session.run(None, feed)
