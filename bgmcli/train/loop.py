"""The training loop: stage base, then stage refine, with checkpoints, exact resume, validation
logged to DIR/metrics.jsonl, progress through a callback, and DIR/model.pt at the end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch.utils.data import DataLoader

from bgmcli.config import to_dict
from bgmcli.errors import BgmError
from bgmcli.loading import build_model
from bgmcli.model.checkpoint import load_weights, read_checkpoint, save_checkpoint, split_checkpoint
from bgmcli.model.selection import SELECTORS
from bgmcli.model.start_weights import load_start_weights
from bgmcli.train import distributed
from bgmcli.train.batches import (
    VAL_SEED_OFFSET,
    StepBatches,
    crop_with,
    default_dataset_fn,
    random_crop,
)
from bgmcli.train.config import StageConfig, TrainConfig, config_from_checkpoint
from bgmcli.train.recalibrate import calibration_batches, recalibrate_batchnorm
from bgmcli.train.stagenet import StageNet, param_groups
from bgmcli.train.state import load_state, restore_rng, save_state, seed_everything
from bgmcli.train.validate import validate


class TrainEvent(NamedTuple):
    """A progress report: kind "step" (loss, speed, ETA) or "val" (metrics)."""

    kind: str
    stage: str
    step: int  # global steps done
    total: int
    loss: float = float("nan")
    samples_per_s: float = 0.0
    eta_s: float | None = None
    metrics: dict[str, float] | None = None


@dataclass
class TrainResult:
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)  # the validation rows
    model_path: Path | None = None

    def summary(self) -> str:
        """Validation MAD over the run, and val loss over the last stage (stages' losses differ)."""
        rows = self.history
        if not rows:
            return f"{self.steps} steps, nothing left to train -> {self.model_path}"
        stage = [r for r in rows if r["stage"] == rows[-1]["stage"]]
        return (
            f"{self.steps} steps; val MAD {rows[0]['mad']:.4f} -> {rows[-1]['mad']:.4f}, "
            f"{rows[-1]['stage']} val loss {stage[0]['val_loss']:.4f} -> "
            f"{stage[-1]['val_loss']:.4f} -> {self.model_path}"
        )


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
        run = _start(config, out, dist, resume, workers, dataset_fn, progress)
        run.meta = dict(meta or {})
        offset = 0
        for stage in config.stages():
            cfg = getattr(config, stage)
            if run.step < offset + cfg.steps:
                _train_stage(run, stage, cfg, offset)
            offset += cfg.steps
        model_path = _finish(run)
        return TrainResult(steps=run.step, history=run.history, model_path=model_path)
    finally:
        distributed.shutdown(dist)


def _start(config, out, dist, resume, workers, dataset_fn, progress) -> _Run:
    last = out / "last.pt"
    if resume and not last.exists():
        raise BgmError(f"--resume: no checkpoint to resume in {out} (expected {last.name})")
    if not resume and last.exists():
        raise BgmError(f"{out} already holds a training run; pass --resume or another --out")
    seed_everything(config.seed)  # the initial weights are part of the run's recipe
    model = build_model(config.model).to(dist.device)
    run = _Run(config, out, dist, model, workers, dataset_fn, progress or (lambda event: None))
    if resume:
        run.resumed = _resume(run, last)
    elif config.init:
        state, _, meta = split_checkpoint(read_checkpoint(config.init), config.init)
        load_weights(model, state, config.init)
        run.start_weights = meta.get("start_weights")  # derived weights keep naming their source
    elif config.backbone_weights:
        run.start_weights = load_start_weights(model, config.backbone_weights)
    run.dataset_fn = dataset_fn or default_dataset_fn()  # after the checks on DIR and resume
    if dist.is_main and not resume:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
    return run


def _resume(run: _Run, last: Path) -> dict:
    state = load_state(last)
    saved = config_from_checkpoint(state["train_config"])
    if saved.model.architecture() != run.config.model.architecture():
        raise BgmError(
            f"{last} holds a model of another architecture ({saved.model.architecture()}) "
            f"than asked for ({run.config.model.architecture()})"
        )
    load_weights(run.model, state["model"], last)
    restore_rng(state["rng"])
    run.step = int(state["step"])
    run.start_weights = state.get("meta", {}).get("start_weights")
    return state


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


def _train_stage(run: _Run, stage: str, cfg: StageConfig, offset: int) -> None:
    st = _setup_stage(run, stage, cfg)
    loader = _loader(run, stage, cfg, start=run.step - offset)  # bad data fails here, early
    val_set = _val_set(run, cfg) if run.dist.is_main else []
    if run.step == offset:
        _validate(run, st.net, stage, val_set, float("nan"))
    losses, tick = [], time.perf_counter()
    for local, batch in zip(range(run.step - offset, cfg.steps), loader, strict=True):
        _set_learning_rates(st, cfg.lr_factor(local))
        losses.append(_step(run, st, random_crop(batch, cfg.crop, run.config.seed, stage, local)))
        tick = _report_step(run, stage, cfg, losses[-1], tick)
        if local + 1 == cfg.steps or (local + 1) % run.config.val_every == 0:
            _validate(run, st.net, stage, val_set, sum(losses) / len(losses))
            if local + 1 < cfg.steps or not cfg.bn_batches:  # else saved once recalibrated
                _save(run, st, run.out / "last.pt")
            losses = []
        if run.config.ckpt_every and run.step % run.config.ckpt_every == 0:
            _save(run, st, run.out / f"step-{run.step}.pt")
    if cfg.bn_batches:
        _recalibrate(run, st, loader.dataset, val_set)
    distributed.barrier(run.dist)


def _setup_stage(run: _Run, stage: str, cfg: StageConfig) -> _Stage:
    config, dist, model = run.config, run.dist, run.model
    if cfg.batch < 2 * dist.world:  # BatchNorm (ASPP's pooling branch) needs 2 per process
        raise BgmError(
            f"{stage}.batch {cfg.batch} is too small for {dist.world} process(es): "
            f"each needs at least 2 samples"
        )
    settings = config.settings(cfg)  # the refiner trains with the stage's k
    net = StageNet(model, stage, settings, cfg.freeze_batchnorm).train()
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
    st.optimizer.zero_grad(set_to_none=True)
    st.scaler.scale(loss).backward()
    st.scaler.step(st.optimizer)
    st.scaler.update()
    run.step += 1
    return float(loss.detach())


def _save(run: _Run, st: _Stage, path: Path) -> None:
    if run.dist.is_main:
        save_state(path, model=run.model, optimizer=st.optimizer, scaler=st.scaler,
                   step=run.step, stage=st.name, config=run.config, meta=_origin(run))  # fmt: skip


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


def _total_steps(config: TrainConfig) -> int:
    return sum(getattr(config, s).steps for s in config.stages())


def _report_step(run: _Run, stage: str, cfg: StageConfig, loss: float, tick: float) -> float:
    now = time.perf_counter()
    total = _total_steps(run.config)
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
    run.history.append(row)
    with open(run.out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(_jsonable(row)) + "\n")
    run.progress(TrainEvent("val", stage, run.step, _total_steps(run.config), metrics=row))


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
