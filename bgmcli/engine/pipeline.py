"""Decode -> batch -> infer -> encode, overlapped: a thread decodes and batches frames, the
caller's thread runs the model, and every output has its own encoder thread. All queues are
bounded, so memory stays flat and the model never waits on I/O that is faster than it.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from bgmcli.engine.compose import picture, to_float, to_uint8
from bgmcli.errors import BgmError

_DONE, _ABORT = object(), object()
POLL_S = 0.1  # how often a blocked thread looks whether the other side has failed
IO_NICENESS = 5  # decode/encode threads yield the CPU to the model's threads


def lower_priority() -> None:
    """Lowers the calling thread's CPU priority (on Linux nice is per thread, and inherited by
    the threads FFmpeg starts from it). When the CPU is the bottleneck, the model's threads then
    run undisturbed and decoding and encoding fill their idle moments instead of preempting
    them in the middle of a parallel region."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + IO_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


@dataclass
class Batch:
    """Frames on the CPU: uint8 (B, H, W, 3), pinned, for a CUDA model (it converts them on the
    device); already float (B, 3, H, W) in [0, 1] for a CPU model (converted on this thread)."""

    src: torch.Tensor
    bgr: torch.Tensor | None  # like src, or None when the plate is constant
    tgt: torch.Tensor | None  # like src, or None when the target is constant
    pts: list[int]


def batches(source, background, target, size: int, device: torch.device) -> Iterator[Batch]:
    """Frames of `source` with their plates, `size` at a time (the last batch may be short)."""
    info, group = source.info, []
    for frame in source.frames():
        if frame.image.shape != (info.height, info.width, 3):
            raise BgmError(
                f"frame {frame.pts} of the input changes size to "
                f"{frame.image.shape[1]}x{frame.image.shape[0]} (was {info.width}x{info.height})"
            )
        bgr = None if background.static is not None else background.for_frame(frame.image)
        tgt = target.plate.next() if target.per_frame else None
        group.append((frame.image, bgr, tgt, frame.pts))
        if len(group) == size:
            yield _stack(group, device)
            group = []
    if group:
        yield _stack(group, device)


def _stack(group, device: torch.device) -> Batch:
    def tensor(arrays):
        if arrays[0] is None:
            return None
        stacked = torch.from_numpy(np.stack(arrays))
        if device.type == "cuda":
            return stacked.pin_memory()  # uint8 travels: a quarter of the bytes of floats
        return to_float(stacked) if device.type == "cpu" else stacked

    images, bgrs, tgts, pts = zip(*group, strict=True)
    return Batch(tensor(images), tensor(bgrs), tensor(tgts), list(pts))


class Prefetch:
    """Runs an iterator on its own thread and hands its items over through a bounded queue;
    an exception on that thread is raised on the consuming side."""

    def __init__(self, items: Iterable, depth: int = 2, name: str = "bgm-decode"):
        self._items, self._queue = items, queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lower_priority()
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # noqa: B036 - handed to the consumer, which re-raises
            self._put(exc)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class EncoderThread:
    """One sink fed with Matted batches through a bounded queue, on its own thread, where the
    batch's pictures for this output are made and encoded. close() finishes the output;
    abort() drops what is queued and closes the .partial as it is."""

    def __init__(self, sink, depth: int = 2, on_written: Callable | None = None):
        self.sink, self.error, self.on_written = sink, None, on_written
        self._queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="bgm-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lower_priority()
        try:
            while (item := self._queue.get()) is not _ABORT:
                if item is _DONE:
                    self.sink.close()
                    return
                self.sink.write(item.pictures(self.sink.output), item.pts)
                if self.on_written is not None:
                    self.on_written(item.pts)
        except BaseException as exc:  # noqa: B036 - surfaced by put() / close()
            self.error = exc
        try:
            self.sink.abort()
        except Exception:  # a broken sink (disk full) may fail again on closing
            pass

    def put(self, item) -> None:
        while True:
            self._raise_error()
            try:
                self._queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error
        if not self._thread.is_alive():
            raise RuntimeError("an encoder thread stopped unexpectedly")

    def close(self) -> None:
        self.put(_DONE)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        while True:  # make room for the marker: the queued frames are not wanted any more
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(_ABORT)
        except queue.Full:
            pass
        self._thread.join(timeout=60)


@dataclass
class Matted:
    """One batch through the model. Each output's pictures are made from it on that output's
    encoder thread, so the model's thread goes straight on to the next batch."""

    out: object  # MattingOutput, on the model's device
    tgt: torch.Tensor | None  # what com goes over; None for the transparent cut-out
    pts: list[int]
    inputs: tuple | None = None  # (src, bgr) floats on the device, for the temporal stage

    def pictures(self, output) -> np.ndarray:
        """uint8 planes (B, C, H, W) of `output` on the CPU, converted on the model's device
        (so a quarter of the bytes of floats travel back)."""
        with torch.inference_mode():
            rendered = picture(output.kind, self.out, self.tgt, rgba=output.channels == 4)
            return to_uint8(rendered).cpu().numpy()


class Matter:
    """The model step: a batch to the device once, and the model. `seconds` is the time spent
    in it (measured with CUDA events on a GPU, so nothing waits for the timing)."""

    def __init__(self, model, device, dtype, bgr=None, tgt=None):
        self.model, self.device, self.dtype = model, device, dtype
        self.bgr, self.tgt = bgr, tgt  # constant plate / target, already on the device
        self._cpu_seconds, self._events = 0.0, []

    def __call__(self, batch: Batch) -> Matted:
        timer = self._start()
        src = self._to_device(batch.src)
        bgr = self.bgr if batch.bgr is None else self._to_device(batch.bgr)
        bgr = bgr.expand(src.shape[0], -1, -1, -1)
        tgt = self.tgt if batch.tgt is None else self._to_device(batch.tgt)
        autocast = torch.autocast(self.device.type, self.dtype, enabled=self.dtype != torch.float32)
        with torch.inference_mode(), autocast:
            out = self.model(src, bgr)
        self._stop(timer)
        return Matted(out, tgt, batch.pts, (src, bgr))

    def _to_device(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, non_blocking=True)
        return to_float(images) if images.dtype == torch.uint8 else images

    def _start(self):
        if self.device.type != "cuda":
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def _stop(self, began) -> None:
        if self.device.type != "cuda":
            self._cpu_seconds += time.perf_counter() - began
            return
        ended = torch.cuda.Event(enable_timing=True)
        ended.record()
        self._events.append((began, ended))

    @property
    def seconds(self) -> float:
        for began, ended in self._events:
            ended.synchronize()
            self._cpu_seconds += began.elapsed_time(ended) / 1000
        self._events.clear()
        return self._cpu_seconds


def run_pipeline(prefetch: Prefetch, matter: Matter, stage, encoders: list, progress) -> int:
    """Drives the batches through the model and `stage` (the temporal stage: it may hold frames
    back until their future has come) into the encoders; returns the frame count. The caller
    closes or aborts the encoders."""
    frames = 0

    def write(ready: list[Matted]) -> None:
        nonlocal frames
        for matted in ready:
            for encoder in encoders:
                encoder.put(matted)
            frames += len(matted.pts)
            progress(frames, len(matted.pts))

    for batch in prefetch:
        write(stage(matter(batch)))
    write(stage.finish())
    return frames
