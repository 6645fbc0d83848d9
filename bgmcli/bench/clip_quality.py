"""`bgm bench --clip`: the configuration's quality on a moving clip with true alpha at its
resolution (bgmcli.data.moving_clip: still camera, a synthetic subject with strands and a veil,
sensor noise), frame by frame in order: MAD and dtSSD, with the temporal filter if asked."""

from __future__ import annotations

import numpy as np
import torch

from bgmcli.data.moving_clip import ClipSpec, moving_clip
from bgmcli.metrics import dtssd
from bgmcli.model.temporal import TemporalFilter, TemporalSettings

CLIP_FRAMES = 8
CLIP_SEED = 20_210_612  # not a training seed


def clip_quality(model, width: int, height: int, device, dtype,
                 temporal: TemporalSettings | None) -> dict[str, float]:  # fmt: skip
    """{"clip_mad", "clip_dtssd"} of `model` over the clip (raw units; dtSSD as metrics.dtssd)."""
    clip = moving_clip(ClipSpec(width=width, height=height, frames=CLIP_FRAMES, seed=CLIP_SEED))
    bgr = clip.captured_plate[None].to(device, dtype)
    filt = TemporalFilter(temporal) if temporal is not None else None
    preds = []
    with torch.inference_mode():
        for t in range(CLIP_FRAMES):
            src = clip.src[t : t + 1].to(device, dtype)
            out = model(src, bgr)
            if filt is None:
                preds.append(out.pha[0, 0].float().cpu().numpy())
                continue
            done = filt.push(src, bgr, out.pha.float(), out.fgr.float())
            preds += [pha[0, 0].float().cpu().numpy() for pha, _, _ in done]
        if filt is not None:
            preds += [pha[0, 0].cpu().numpy() for pha, _, _ in filt.flush()]
    pred, true = np.stack(preds), clip.pha[:, 0].numpy()
    return {"clip_mad": float(np.abs(pred - true).mean()), "clip_dtssd": dtssd(pred, true)}


def temporal_step(run, src: torch.Tensor, bgr: torch.Tensor, settings: TemporalSettings):
    """A timed step of the model and the filter over its batch, frame by frame; returns the
    model's output. The filter's past and future fill up in the warm-up calls."""
    filt = TemporalFilter(settings)

    def step():
        out = run(src, bgr)
        for i in range(src.shape[0]):
            one = slice(i, i + 1)
            filt.push(src[one], bgr[one], out.pha[one].float(), out.fgr[one].float())
        return out

    return step
