"""The training loop: stage base, then stage refine, with checkpoints, exact resume, validation
logged to DIR/metrics.jsonl, progress through a callback, and DIR/model.pt at the end."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from bgmcli.atomic import atomic_write, output_lock, write_error
from bgmcli.config import to_dict
from bgmcli.devices import check_memory, frame_bytes
from bgmcli.errors import BgmError, Interrupted, Terminated
from bgmcli.loading import build_model
from bgmcli.model.checkpoint import (
    first_non_finite,
    load_weights,
    read_checkpoint,
    save_checkpoint,
    split_checkpoint,
)
from bgmcli.model.selection import SELECTORS
from bgmcli.model.start_weights import load_start_weights
from bgmcli.train import distributed
from bgmcli.train.batches import (
    VAL_SEED_OFFSET,
    StepBatches,
    crop_with,
    default_dataset_fn,
    one_line_worker_errors,
    random_crop,
)
from bgmcli.train.config import StageConfig, TrainConfig
from bgmcli.train.events import TrainEvent, TrainResult
from bgmcli.train.recalibrate import calibration_batches, recalibrate_batchnorm
from bgmcli.train.resume import resume_run
from bgmcli.train.stagenet import StageNet, param_groups
from bgmcli.train.state import rng_state, save_state, seed_everything
from bgmcli.train.validate import validate


@dataclass
class _Run:
    """What every stage shares: config, places, the model, and the resumed state if any."""

    config: TrainConfig
    out: Path
    dist: distributed.Dist
    model: torch.nn.Module
    workers: int
    dataset_fn: Callable
    progress: Callable[[TrainEvent], None]
    step: int = 0
    resumed: dict | None = None
    history: list = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    meta: dict = field(default_factory=dict)  # extra facts for model.pt (e.g. the preset)
    step_s: float | None = None  # moving average of a step's wall time, for the ETA
    start_weights: dict | None = None  # origin of pretrained weights, kept in the checkpoints
    done: dict[str, int] = field(default_factory=dict)  # steps done within each stage
    stage_index: int = 0  # the stage being trained (those before it are complete)
    saved_step: int | None = None  # the step DIR/last.pt holds
    trained: int = 0  # steps trained by this call
    # the RNG states as they were when the state last matched run.step (None: while the weights
    # are being updated): what a checkpoint saved on Ctrl-C holds, so its resume is exact
    clean_rng: dict | None = None


def train(
    config: TrainConfig,
    out: str | Path,
    *,
    device: str | torch.device = "auto",
    workers: int = 0,
    resume: bool = False,
    progress: Callable[[TrainEvent], None] | None = None,
    dataset_fn: Callable | None = None,
    meta: dict[str, Any] | None = None,
) -> TrainResult:
    """Run (or resume) the stages of `config`, writing checkpoints and logs under `out`."""
    out = Path(out)
    dist = distributed.setup(device)
    try:
        # one run per folder: a second would mix its log rows and checkpoints with this one's
        with output_lock(out) if dist.is_main else nullcontext():
            run = _start(config, out, dist, resume, workers, dataset_fn, progress)
            run.meta = dict(meta or {})
            try:
                for index, stage in enumerate(config.stages()):
                    cfg = getattr(config, stage)
                    if index >= run.stage_index and run.done[stage] < cfg.steps:
                        run.stage_index = index
                        _train_stage(run, stage, cfg)
                model_path = _finish(run)
            except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through the CLI's handler
                raise Interrupted(_stopped(run), terminated=isinstance(exc, Terminated)) from None
        return TrainResult(steps=run.step, history=run.history, model_path=model_path,
                           trained=run.trained)  # fmt: skip
    finally:
        distributed.shutdown(dist)


def _stopped(run: _Run) -> str:
    """How far an interrupted run got, and how to continue it."""
    got = f"stopped at step {run.step} of {_total_steps(run)}"
    if run.saved_step is None:
        return f"{got}; nothing saved yet: run the same command again to start over"
    return (f"{got}; {run.out / 'last.pt'} holds step {run.saved_step}: run the same "
            "command with --resume to continue from there")  # fmt: skip


def _start(config, out, dist, resume, workers, dataset_fn, progress) -> _Run:
    last = out / "last.pt"
    if resume and not last.exists():
        raise BgmError(f"--resume: no checkpoint to resume in {out} (expected {last.name})")
    if not resume and last.exists():
        raise BgmError(f"{out} already holds a training run; pass --resume or another --out")
    _check_stages(config, dist)
    seed_everything(config.seed)  # the initial weights are part of the run's recipe
    model = build_model(config.model).to(dist.device)
    run = _Run(config, out, dist, model, workers, dataset_fn, progress or (lambda event: None))
    run.done = {stage: 0 for stage in config.stages()}
    if resume:
        run.resumed = resume_run(run, last)
    elif config.init:
        state, _, meta = split_checkpoint(read_checkpoint(config.init), config.init)
        load_weights(model, state, config.init)
        run.start_weights = meta.get("start_weights")  # derived weights keep naming their source
    elif config.backbone_weights:
        run.start_weights = load_start_weights(model, config.backbone_weights)
    run.dataset_fn = dataset_fn or default_dataset_fn()  # after the checks on DIR and resume
    if dist.is_main and not resume:
        atomic_write(out / "metrics.jsonl", lambda tmp: tmp.write_text(""))
    return run


def _check_stages(config: TrainConfig, dist: distributed.Dist) -> None:
    """What the device decides, for every stage before the first step (the config checked the
    rest): batches that BatchNorm can use, and frames that fit in memory."""
    for stage in config.stages():
        cfg = getattr(config, stage)
        if cfg.batch < 2 * dist.world:  # BatchNorm (ASPP's pooling branch) needs 2 per process
            raise BgmError(
                f"{stage}.batch {cfg.batch} is too small for {dist.world} process(es): "
                f"each needs at least 2 samples"
            )
        share = -(-cfg.batch // dist.world)
        check_memory(frame_bytes(share, cfg.size, cfg.size), dist.device,
                     f"stage {stage} (batch {cfg.batch} of size {cfg.size})")  # fmt: skip


@dataclass
class _Stage:
    """One stage's moving parts: the trained module (DDP-wrapped or not), Adam and its scaler."""

    name: str
    cfg: StageConfig
    net: StageNet
    ddp_net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    amp: bool
    start_lrs: list[float]  # each parameter group's rate before any schedule scales it


def _train_stage(run: _Run, stage: str, cfg: StageConfig) -> None:
    st = _setup_stage(run, stage, cfg)
    start = run.done[stage]
    loader = _loader(run, stage, cfg, start=start)  # bad data fails here, early
    val_set = _val_set(run, cfg) if run.dist.is_main else []
    if start == 0:
        _validate(run, st.net, stage, val_set, float("nan"))
    losses, tick = [], time.perf_counter()
    run.clean_rng = rng_state()
    try:
        batches = one_line_worker_errors(loader)
        for local, batch in zip(range(start, cfg.steps), batches, strict=True):
            _set_learning_rates(st, cfg.lr_factor(local))
            crop = random_crop(batch, cfg.crop, run.config.seed, stage, local)
            losses.append(_step(run, st, crop))
            tick = _report_step(run, stage, cfg, losses[-1], tick)
            if local + 1 == cfg.steps or (local + 1) % run.config.val_every == 0:
                _validate(run, st.net, stage, val_set, sum(losses) / len(losses))
                if local + 1 < cfg.steps or not cfg.bn_batches:  # else saved once recalibrated
                    _save(run, st, run.out / "last.pt")
                losses = []
            if run.config.ckpt_every and run.step % run.config.ckpt_every == 0:
                _save(run, st, run.out / f"step-{run.step}.pt")
            run.clean_rng = rng_state()
    except KeyboardInterrupt:
        _save_on_interrupt(run, st)
        raise
    if cfg.bn_batches:
        _recalibrate(run, st, loader.dataset, val_set)
    distributed.barrier(run.dist)


def _setup_stage(run: _Run, stage: str, cfg: StageConfig) -> _Stage:
    config, dist, model = run.config, run.dist, run.model
    settings = config.settings(cfg)  # the refiner trains with the stage's k
    net = StageNet(
        model,
        stage,
        settings,
        cfg.freeze_batchnorm,
        cfg.input_scale,
        cfg.partial_weight,
        cfg.hedge_share,
    ).train()
    optimizer = torch.optim.Adam(param_groups(model, stage, cfg))
    start_lrs = [group["lr"] for group in optimizer.param_groups]  # before a resume scales them
    amp = config.amp and dist.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    if run.resumed is not None and run.resumed["stage"] == stage:
        optimizer.load_state_dict(run.resumed["optimizer"])
        scaler.load_state_dict(run.resumed["scaler"])
    # a data-dependent selection may pick no patch, and "none" never runs the refiner: DDP must
    # not wait for its gradients
    strategy = SELECTORS[settings.mode]
    unused = stage == "refine" and not (strategy.static and strategy.refines)
    ddp_net = distributed.wrap(net, dist, find_unused=unused)
    return _Stage(stage, cfg, net, ddp_net, optimizer, scaler, amp, start_lrs)


def _set_learning_rates(st: _Stage, factor: float) -> None:
    # set from the step index, not stepped like a torch scheduler: resuming needs no extra state
    for group, start in zip(st.optimizer.param_groups, st.start_lrs, strict=True):
        group["lr"] = start * factor


def _recalibrate(run: _Run, st: _Stage, dataset, val_set: list) -> None:
    """Precise BatchNorm statistics for the stage's final weights, validated and saved. A
    resume that lands here again recomputes the same statistics: they depend on the weights
    and on their own batches only."""
    cfg = st.cfg
    batches = calibration_batches(
        dataset, seed=run.config.seed, stage=st.name, count=cfg.bn_batches,
        batch=cfg.batch, crop=cfg.crop,
    )  # fmt: skip
    recalibrate_batchnorm(st.net, batches, run.dist.device)
    _validate(run, st.net, st.name, val_set, float("nan"), note="bn_recalibrated")
    _save(run, st, run.out / "last.pt")


def _step(run: _Run, st: _Stage, batch: dict) -> float:
    """One optimisation step on this process's share of the global batch; returns its loss."""
    x = {k: v.to(run.dist.device, non_blocking=True) for k, v in batch.items()}
    with torch.autocast("cuda", torch.float16) if st.amp else nullcontext():
        loss = st.ddp_net(x["src"], x["bgr"], x["true_pha"], x["true_fgr"])
    value = float(loss.detach())
    if not math.isfinite(value) and not st.amp:  # (AMP's scaler skips such steps by design)
        raise BgmError(
            f"stage {st.name} step {run.done[st.name] + 1}: the loss is {value}, not a finite "
            f"number (learning rates too high?); stopped before the weights took it, "
            f"{_kept(run)}"
        )
    st.optimizer.zero_grad(set_to_none=True)
    st.scaler.scale(loss).backward()
    run.clean_rng = None  # from here until the step is counted, no state is consistent
    st.scaler.step(st.optimizer)
    st.scaler.update()
    run.step += 1
    run.done[st.name] += 1
    run.trained += 1
    return value


def _kept(run: _Run) -> str:
    last = run.out / "last.pt"
    return f"{last} keeps step {run.saved_step}" if run.saved_step is not None else "nothing saved"


def _save(run: _Run, st: _Stage, path: Path, rng: dict | None = None) -> None:
    """A training checkpoint, refused (never written) if any weight is not finite."""
    if not run.dist.is_main:
        return
    bad = first_non_finite(run.model.state_dict())
    if bad is not None:
        raise BgmError(f"stage {st.name} step {run.done[st.name]}: weight {bad!r} is not finite "
                       f"(learning rates too high?); not saved, {_kept(run)}")  # fmt: skip
    save_state(path, model=run.model, optimizer=st.optimizer, scaler=st.scaler,
               step=run.step, stage=st.name, config=run.config, meta=_origin(run),
               stage_step=run.done[st.name], log_rows=len(run.history), rng=rng)  # fmt: skip
    if path.name == "last.pt":
        run.saved_step = run.step


def _save_on_interrupt(run: _Run, st: _Stage) -> None:
    """On Ctrl-C or SIGTERM, keep the steps done since the last checkpoint, where the state is
    consistent (not caught inside a weight update) and no validation of it is pending."""
    if run.clean_rng is not None and run.step > (run.saved_step or 0):
        _save(run, st, run.out / "last.pt", rng=run.clean_rng)


def _loader(run: _Run, stage: str, cfg: StageConfig, start: int) -> DataLoader:
    config = run.config
    dataset = run.dataset_fn(
        config.data, size=(cfg.size, cfg.size), length=config.data_length, seed=config.seed,
        root=config.data_root, backgrounds=config.backgrounds, augment=True,
        recipe=config.recipe(),
    )  # fmt: skip
    sampler = StepBatches(
        seed=config.seed, stage=stage, start=start, stop=cfg.steps, batch=cfg.batch,
        length=config.data_length, shard=lambda idx: distributed.shard(idx, run.dist),
    )  # fmt: skip
    # its own generator: creating the iterator must not draw from the global RNG (dropout's)
    generator = torch.Generator().manual_seed(config.seed)
    return DataLoader(
        dataset, batch_sampler=sampler, num_workers=run.workers, generator=generator,
        pin_memory=run.dist.device.type == "cuda",
    )  # fmt: skip


def _val_set(run: _Run, cfg: StageConfig) -> list[dict]:
    """Held-out samples drawn like the stage's training samples: augmented (plates misaligned,
    recoloured, noisy), at `size`, randomly cropped to `crop` from a fixed generator. Centre
    crops of clean samples scored the refined patches worse than bilinear upsampling (L1 0.406
    vs 0.368) where crops drawn like the training ones scored them better (0.210 vs 0.218)."""
    config = run.config
    dataset = run.dataset_fn(
        "synthetic", size=(cfg.size, cfg.size), length=config.val_samples,
        seed=config.seed + VAL_SEED_OFFSET, augment=True, recipe=config.recipe(),
    )  # fmt: skip
    gen = torch.Generator().manual_seed(config.seed + VAL_SEED_OFFSET)
    samples = [dataset[i] for i in range(len(dataset))]
    return [crop_with(sample, cfg.crop, gen) for sample in samples] if cfg.crop else samples


def _total_steps(run: _Run) -> int:
    """All steps of the run: those done in the stages before the current one (a resumed run may
    have changed their count), and every step of the others."""
    steps = [run.done[s] if i < run.stage_index else max(run.done[s], getattr(run.config, s).steps)
             for i, s in enumerate(run.config.stages())]  # fmt: skip
    return sum(steps)


def _report_step(run: _Run, stage: str, cfg: StageConfig, loss: float, tick: float) -> float:
    now = time.perf_counter()
    total = _total_steps(run)
    seconds = max(now - tick, 1e-9)
    run.step_s = seconds if run.step_s is None else 0.9 * run.step_s + 0.1 * seconds
    run.progress(TrainEvent("step", stage, run.step, total, loss, cfg.batch / seconds,
                            eta_s=run.step_s * (total - run.step)))  # fmt: skip
    return now


def _validate(
    run: _Run, net: StageNet, stage: str, val_set: list, train_loss: float, note: str = ""
) -> None:
    if not run.dist.is_main:
        return
    row = {"step": run.step, "stage": stage, "train_loss": train_loss}
    if note:
        row["note"] = note
    row |= validate(net, val_set, run.dist.device)
    row["elapsed_s"] = round(time.perf_counter() - run.started, 3)
    log = run.out / "metrics.jsonl"
    try:
        with open(log, "a") as f:
            f.write(json.dumps(_jsonable(row)) + "\n")
    except OSError as exc:
        raise write_error(log, exc) from None
    run.history.append(row)
    run.progress(TrainEvent("val", stage, run.step, _total_steps(run), metrics=row))


def _jsonable(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


def _finish(run: _Run) -> Path | None:
    if not run.dist.is_main:
        return None
    path = run.out / "model.pt"
    meta = {"source": "bgm train", "steps": run.step, "train": to_dict(run.config)}
    meta |= run.meta | _origin(run)
    if run.history:
        meta["validation"] = _jsonable(run.history[-1])
    save_checkpoint(path, run.model, meta=meta)
    return path


def _origin(run: _Run) -> dict:
    """The checkpoints' record of where pretrained start weights came from (their licence asks
    that derived weights name their source)."""
    return {"start_weights": run.start_weights} if run.start_weights else {}
