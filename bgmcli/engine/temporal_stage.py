"""The step after the model in `bgm matte`: --temporal's filter (model.temporal) over the frames
in order, holding back `ahead` frames for offline input (a small delay buffer; a live run looks
back only), and the flicker figure of the mattes written, which needs no truth."""

from __future__ import annotations

from dataclasses import replace

import torch

from bgmcli.engine.pipeline import Matted
from bgmcli.model.temporal import FlickerMeter, TemporalFilter, TemporalSettings


class TemporalStage:
    """Matted batches in (with their model inputs), Matted batches out: the same frames in the
    same order, filtered when `settings` is given, some of them one call later."""

    def __init__(self, settings: TemporalSettings | None):
        self.filter = TemporalFilter(settings) if settings is not None else None
        self.meter = FlickerMeter()

    def __call__(self, matted: Matted) -> list[Matted]:
        src, bgr = matted.inputs
        if self.filter is None:
            for i in range(len(matted.pts)):
                self.meter.add(src[i : i + 1], bgr[i : i + 1], matted.out.pha[i : i + 1].float())
            return [replace(matted, inputs=None)]
        done = []
        for i, pts in enumerate(matted.pts):
            frame = _frame(matted.out, i)
            tgt = matted.tgt[i : i + 1] if _per_frame(matted) else matted.tgt
            tag = (frame, tgt, pts, src[i : i + 1], bgr[i : i + 1])
            done += self.filter.push(src[i : i + 1], bgr[i : i + 1], frame.pha.float(),
                                     frame.fgr.float(), tag)  # fmt: skip
        return self._batch(done)

    def finish(self) -> list[Matted]:
        """The frames held back for their future: at the end of the input."""
        return [] if self.filter is None else self._batch(self.filter.flush())

    def reset(self) -> None:
        """A new plate: the past no longer compares with what comes."""
        if self.filter is not None:
            self.filter.reset()
        self.meter.reset()

    @property
    def flicker(self) -> float | None:
        return self.meter.flicker

    def _batch(self, done: list[tuple]) -> list[Matted]:
        if not done:
            return []
        outs, tgts, pts = [], [], []
        for pha, fgr, (frame, tgt, stamp, src, bgr) in done:
            self.meter.add(src, bgr, pha)
            outs.append(frame._replace(pha=pha.to(frame.pha.dtype), fgr=fgr.to(frame.fgr.dtype)))
            tgts.append(tgt)
            pts.append(stamp)
        out = type(outs[0])(*(torch.cat(parts) for parts in zip(*outs, strict=True)))
        tgt = None if tgts[0] is None else torch.cat(tgts)  # one per frame, as the frames
        return [Matted(out, tgt, pts)]


def _frame(out, i: int):
    return type(out)(*(field[i : i + 1] for field in out))


def _per_frame(matted: Matted) -> bool:
    """Whether the target is a picture per frame (a video target), not one for all (with one
    frame a batch, either is sliced alike)."""
    return matted.tgt is not None and matted.tgt.shape[0] == len(matted.pts)
