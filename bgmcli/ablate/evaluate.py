"""One variant on one evaluation set: the metrics module's errors averaged over frames, the
fraction of pixels refined, and model throughput measured with the bench harness."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from scipy.ndimage import uniform_filter

from bgmcli.ablate.evalsets import EvalSet
from bgmcli.bench.contention import CpuWatch, cpu_threads, distrust
from bgmcli.bench.measure import measure, percentile
from bgmcli.metrics import compute_all, dtssd, fgr_l1, fgr_mse, holes, leak, refined_fraction
from bgmcli.model.settings import InferenceSettings
from bgmcli.model.temporal import TemporalFilter, TemporalSettings

ALPHA_METRICS = ("sad", "mse", "mad", "grad", "conn")
CROP_SIDE = 192  # the hair-crop figure's window, in pixels of the evaluation frame


def variant_settings(model, k_hd: int, backbone_scale: float | None = None) -> InferenceSettings:
    """The model's own settings (refine mode, threshold) with k given at HD, so that the model
    scales it with each frame's area, and the base network's scale as given (None: the
    frame-size rule), as `bgm matte` decides them (`bgmcli.model.settings`)."""
    return dataclasses.replace(model.settings, k=None, k_hd=k_hd, backbone_scale=backbone_scale)


def evaluate(
    model,
    data: EvalSet,
    k_hd: int,
    device: torch.device,
    iters: int = 3,
    backbone_scale: float | None = None,
    temporal: TemporalSettings | None = None,
) -> dict:
    """Mean errors over the set's frames (inside each frame's mask, if any), refined fraction,
    dtSSD (the mean over the set's clips; nan for a set of single pictures), and the median FPS
    of the model on the set's first frame (batch 1, after one warm-up). `backbone_scale` None:
    chosen for each frame's size, as `bgm matte` chooses it. `temporal`: the temporal filter runs
    over each clip's frames in order (its time is counted in the FPS)."""
    settings = variant_settings(model, k_hd, backbone_scale)
    sums: dict[str, float] = {}
    counted: dict[str, int] = {}
    clips: dict[str, tuple[list, list]] = {}
    for frame, out in _outputs(model, data, settings, device, temporal):
        for key, value in frame_metrics(out, frame).items():
            if not math.isnan(value):
                sums[key] = sums.get(key, 0.0) + value
                counted[key] = counted.get(key, 0) + 1
        if frame.get("sequence") is not None:
            pred, true = clips.setdefault(frame["sequence"], ([], []))
            pred.append(out.pha[0, 0].float().cpu().numpy())
            true.append(frame["true_pha"][0].numpy().astype(np.float32))
    row = {key: sums[key] / counted[key] if key in sums else math.nan for key in _KEYS}
    row |= {key: sums[key] / counted[key] for key in CERTAIN_REGION_KEYS if key in sums}
    scores = [dtssd(np.stack(p), np.stack(t)) for p, t in clips.values() if len(p) > 1]
    row["dtssd"] = float(np.mean(scores)) if scores else math.nan
    first = data[0]
    height, width = first["src"].shape[-2:]
    k = settings.for_frame(width, height).k
    row |= {"frames": len(data), "width": width, "height": height, "k_effective": k}
    row["fps"], row["warning_fps"] = throughput(model, first, settings, device, iters, temporal)
    return row


def _outputs(model, data: EvalSet, settings, device, temporal: TemporalSettings | None):
    """(frame, MattingOutput) in the set's order; with `temporal`, filtered clip by clip (the
    filter starts afresh at each clip and gives its last frames at the clip's end)."""
    filt, clip = None, object()
    for frame in data:
        src, bgr = _inputs(frame, device)
        with torch.inference_mode():
            out = model(src, bgr, settings)
        if temporal is None:
            yield frame, out
            continue
        if frame.get("sequence", frame["id"]) != clip:
            yield from _filtered(filt.flush() if filt else [])
            filt, clip = TemporalFilter(temporal), frame.get("sequence", frame["id"])
        with torch.inference_mode():
            yield from _filtered(filt.push(src, bgr, out.pha, out.fgr, (frame, out)))
    yield from _filtered(filt.flush() if filt else [])


def _filtered(done: list):
    for pha, fgr, (frame, out) in done:
        yield frame, out._replace(pha=pha, fgr=fgr)


_KEYS = (*ALPHA_METRICS, "fgr_l1", "fgr_mse", "refined_fraction")
CERTAIN_REGION_KEYS = ("holes", "leak")  # only on sets that know where alpha is certain


def frame_metrics(out, frame: dict) -> dict[str, float]:
    pha = out.pha[0, 0].float().cpu().numpy()
    true_pha = frame["true_pha"][0].numpy().astype(np.float32)
    mask = frame["mask"]
    row = compute_all(pha, true_pha, mask)
    fgr = out.fgr[0].float().permute(1, 2, 0).cpu().numpy()
    true_fgr = frame["true_fgr"].permute(1, 2, 0).numpy().astype(np.float32)
    row["fgr_l1"] = fgr_l1(fgr, true_fgr, true_pha, mask)
    row["fgr_mse"] = fgr_mse(fgr, true_fgr, true_pha, mask)
    row["refined_fraction"] = refined_fraction(out.ref_sm, pha.shape[0], pha.shape[1])
    if "interior" in frame:  # the people set: where the answer is certain
        row["holes"], row["leak"] = holes(pha, frame["interior"]), leak(pha, frame["far"])
    return row


def throughput(model, frame: dict, settings, device: torch.device, iters: int,
               temporal: TemporalSettings | None = None):  # fmt: skip
    """(FPS, why it cannot be trusted or None) on one frame; with `temporal`, the model and the
    temporal filter (a frame in, one out: it has a past and a future to weigh)."""
    src, bgr = _inputs(frame, device)
    filt = TemporalFilter(temporal) if temporal is not None else None

    def step():  # after the warm-up call the filter has a past (and offline, a future) to weigh
        out = model(src, bgr, settings)
        return out if filt is None else filt.push(src, bgr, out.pha, out.fgr)

    with torch.inference_mode(), CpuWatch() as watch:
        timing = measure(step, device, iters=iters, warmup=1)
    warning = distrust(watch.other_cpus, cpu_threads(device), timing.latencies_ms)
    return 1000.0 / percentile(timing.latencies_ms, 50), warning


def predict_alpha(model, frame: dict, k_hd: int, device: torch.device) -> np.ndarray:
    src, bgr = _inputs(frame, device)
    with torch.inference_mode():
        return model(src, bgr, variant_settings(model, k_hd)).pha[0, 0].float().cpu().numpy()


def crop_box(data: EvalSet, scan: int = 8) -> tuple[int, int, int, int]:
    """(frame, top, left, side): the window with the most partial alpha (hair, strands, veils)
    among the first frames, inside the mask where there is one."""
    best = (-1.0, 0, 0, 0, CROP_SIDE)
    for i in range(min(scan, len(data))):
        frame = data[i]
        pha = frame["true_pha"][0].numpy()
        side = min(CROP_SIDE, *pha.shape)
        partial = ((pha > 0.02) & (pha < 0.98)).astype(np.float32)
        if frame["mask"] is not None:
            partial *= frame["mask"]
        density = uniform_filter(partial, size=side, mode="constant")
        half = side // 2
        inner = density[
            half : pha.shape[0] - side + half + 1, half : pha.shape[1] - side + half + 1
        ]
        top, left = np.unravel_index(int(np.argmax(inner)), inner.shape)
        if inner[top, left] > best[0]:
            best = (float(inner[top, left]), i, int(top), int(left), side)
    return best[1:]


def _inputs(frame: dict, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return frame["src"][None].to(device), frame["bgr"][None].to(device)
