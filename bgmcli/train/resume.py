"""Resuming a training run: the saved settings against the asked ones, how far each stage got,
and the run's log (DIR/metrics.jsonl) cut back to the rows its checkpoint had written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bgmcli.atomic import atomic_write
from bgmcli.config import to_dict
from bgmcli.errors import BgmError
from bgmcli.model.checkpoint import load_weights
from bgmcli.train.config import TrainConfig, config_from_checkpoint
from bgmcli.train.state import load_state, restore_rng

# What a resumed run may change: how long each stage runs, and how often it reports and keeps
# checkpoints. Everything else decides the result and must stay as the run began.
ADJUSTABLE = frozenset({"base.steps", "refine.steps", "val_every", "ckpt_every"})
SHOWN = 3  # differences named in the error


def check_same_recipe(saved: TrainConfig, asked: TrainConfig, last: Path) -> None:
    """Refuse a resume whose settings differ from the run's in anything but ADJUSTABLE."""
    before, now = _flat(to_dict(saved)), _flat(to_dict(asked))
    changed = [k for k in sorted(before.keys() | now.keys())
               if k not in ADJUSTABLE and before.get(k) != now.get(k)]  # fmt: skip
    if not changed:
        return
    parts = [f"{k} {before.get(k)!r} (asked {now.get(k)!r})" for k in changed[:SHOWN]]
    more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    raise BgmError(
        f"--resume: {last} was trained with other settings: {'; '.join(parts)}{more}; resume "
        "with the run's own options (only --steps may change) or start another --out"
    )


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def stage_progress(state: dict[str, Any], saved: TrainConfig) -> tuple[str, int]:
    """(stage, steps done within it) of a training checkpoint. Older checkpoints kept only the
    global step: the steps of the stages before theirs, as the run was saved, are taken off."""
    stage = state.get("stage")
    if stage not in saved.stages():
        raise BgmError(f"training checkpoint of stage {stage!r}, not one of its run's stages")
    local = state.get("stage_step")
    if local is None:
        before = saved.stages()[: saved.stages().index(stage)]
        local = int(state["step"]) - sum(getattr(saved, s).steps for s in before)
    return stage, int(local)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The rows of DIR/metrics.jsonl (a last line cut short by a crash is left out)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise BgmError(f"cannot read the run's log {path}: {exc}") from None
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:
            break
    return rows


def restore_log(path: Path, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Cut DIR/metrics.jsonl back to the rows written when the checkpoint was saved (a crash
    between a row and its checkpoint would log that row twice), and return them."""
    rows = read_log(path)
    kept = state.get("log_rows")
    if kept is None:  # older checkpoints: the rows up to their step
        kept = sum(1 for row in rows if row.get("step", 0) <= int(state["step"]))
    rows = rows[:kept]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return rows


def resume_run(run, last: Path) -> dict[str, Any]:
    """Load DIR/last.pt into `run` (the training loop's state): weights, RNG states, steps done
    in each stage and the log, after checking that the run is asked for as it began."""
    state = load_state(last)
    saved = config_from_checkpoint(state["train_config"])
    if saved.model.architecture() != run.config.model.architecture():
        raise BgmError(
            f"{last} holds a model of another architecture ({saved.model.architecture()}) "
            f"than asked for ({run.config.model.architecture()})"
        )
    check_same_recipe(saved, run.config, last)
    stage, local = stage_progress(state, saved)
    load_weights(run.model, state["model"], last)
    restore_rng(state["rng"])
    stages = run.config.stages()
    run.stage_index = stages.index(stage)
    run.done |= {s: getattr(saved, s).steps for s in stages[: run.stage_index]} | {stage: local}
    run.step = run.saved_step = int(state["step"])
    run.start_weights = state.get("meta", {}).get("start_weights")
    if run.dist.is_main:  # the log as the checkpoint left it: the summary and model.pt use it
        run.history = restore_log(run.out / "metrics.jsonl", state)
    return state
