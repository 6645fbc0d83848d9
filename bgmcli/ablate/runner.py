"""Runs studies: resolves each variant's model (given, or trained once and cached), evaluates it
on every evaluation set, and writes OUT/<study>/<variant>.json as soon as the variant is done, so
an interrupted run resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgmcli.ablate.checkpoints import cache_dir, trained_checkpoint, variant_train_config
from bgmcli.ablate.evalsets import EvalSet, open_eval_set
from bgmcli.ablate.evaluate import crop_box, evaluate, predict_alpha
from bgmcli.ablate.studies import Study, Variant
from bgmcli.atomic import atomic_write
from bgmcli.errors import BgmError

RESULT_VERSION = 2  # bump when a variant file's meaning changes: old files are recomputed
# 2: the base scale follows the frame size (bgmcli.model.settings), 1/2 on ~800 px images


@dataclass
class AblateOptions:
    out: Path
    preset: str = "quick"
    checkpoints: dict[str, str] = field(default_factory=dict)  # VARIANT or STUDY/VARIANT -> path
    eval_data: list[str] = field(default_factory=lambda: ["synthetic"])
    width: int = 1920
    height: int = 1080
    frames: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rerun: bool = False
    iters: int = 3


Log = Callable[[str], None]


class Runner:
    """Evaluation sets are opened once and their frames cached across studies and variants."""

    def __init__(self, options: AblateOptions, log: Log, train_progress: Callable | None = None):
        self.opts, self.log, self.train_progress = options, log, train_progress
        self.sets: list[EvalSet] | None = None
        self.timings: dict[str, float] = {}  # variant -> seconds spent evaluating it this run
        self.crop_boxes: dict[str, tuple[int, int, int, int]] = {}  # per set: found once

    def eval_sets(self) -> list[EvalSet]:
        if self.sets is None:
            o = self.opts
            self.sets = [open_eval_set(s, o.width, o.height, o.frames) for s in o.eval_data]
        return self.sets

    def run(self, studies: list[Study]) -> list[dict]:
        check_checkpoint_keys(self.opts.checkpoints, studies)
        rows: list[dict] = []
        for study in studies:
            for variant in study.variants:
                rows += self.run_variant(study, variant)
        return rows

    def run_variant(self, study: Study, variant: Variant) -> list[dict]:
        path = self.opts.out / study.name / f"{variant.name}.json"
        checkpoint = self.checkpoint_spec(study, variant)
        key = self.result_key(variant, checkpoint)
        saved = _read_json(path)
        if saved and saved.get("key") == key and not self.opts.rerun:
            self.log(f"{study.name}/{variant.name}: done before, skipped ({path})")
            return saved["rows"]
        if saved and saved.get("key") != key and not self.opts.rerun:
            self.log(f"{study.name}/{variant.name}: settings changed since {path}; recomputing")
        model_path = self.resolve_checkpoint(variant, checkpoint)
        started = time.perf_counter()
        rows = self.evaluate_variant(study, variant, model_path)
        seconds = time.perf_counter() - started
        self.timings[f"{study.name}/{variant.name}"] = seconds
        _write_json(path, {"key": key, "eval_s": round(seconds, 1), "rows": rows})
        return rows

    def checkpoint_spec(self, study: Study, variant: Variant) -> dict[str, Any]:
        """What decides the weights: a given file, or the preset's training recipe."""
        given = self.opts.checkpoints.get(f"{study.name}/{variant.name}")
        given = given or self.opts.checkpoints.get(variant.name)
        if given:
            if not Path(given).is_file():
                raise BgmError(f"--checkpoint {variant.name}: file not found: {given}")
            stat = Path(given).stat()
            return {"path": str(Path(given).resolve()), "size": stat.st_size}
        config = variant_train_config(self.opts.preset, variant.architecture())
        return {"cache": str(cache_dir(self.opts.out, config)), "preset": self.opts.preset}

    def resolve_checkpoint(self, variant: Variant, spec: dict[str, Any]) -> Path:
        if "path" in spec:
            return Path(spec["path"])
        config = variant_train_config(self.opts.preset, variant.architecture())
        run_dir = cache_dir(self.opts.out, config)
        if not (run_dir / "model.pt").is_file():
            self.log(f"training {run_dir.name} with preset {self.opts.preset} (cached for reuse)")
        device = str(self.opts.device)
        return trained_checkpoint(self.opts.out, config, device=device,
                                  progress=self.train_progress)  # fmt: skip

    def result_key(self, variant: Variant, checkpoint: dict[str, Any]) -> str:
        o = self.opts
        facts = {
            "version": RESULT_VERSION, "variant": variant.__dict__, "checkpoint": checkpoint,
            "eval": [o.eval_data, o.width, o.height, o.frames], "device": str(o.device),
        }  # fmt: skip
        text = json.dumps(facts, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def evaluate_variant(self, study: Study, variant: Variant, model_path: Path) -> list[dict]:
        from bgmcli.loading import load_model

        model = load_model(model_path, refine=variant.refine, k=variant.k,
                           threshold=variant.threshold, device=self.opts.device)  # fmt: skip
        arch = model.config.architecture()
        if arch != variant.architecture():
            needs = _describe(variant.architecture())
            raise BgmError(f"{model_path} holds a {_describe(arch)} model; variant "
                           f"{study.name}/{variant.name} needs {needs}")  # fmt: skip
        rows = []
        for data in self.eval_sets():
            self.log(f"{study.name}/{variant.name}: evaluating on {data.name} ({len(data)} frames)")
            result = evaluate(model, data, variant.k, self.opts.device, self.opts.iters)
            rows.append(_row(study, variant, data, result, model_path))
            self.save_crop(study, variant, data, model)
        return rows

    def save_crop(self, study: Study, variant: Variant, data: EvalSet, model) -> None:
        """The hair-crop figure's inputs: truth and source once, each variant's alpha."""
        from skimage import io

        if data.name not in self.crop_boxes:
            self.crop_boxes[data.name] = crop_box(data)
        index, top, left, side = self.crop_boxes[data.name]
        frame = data[index]
        folder = self.opts.out / study.name / "crops" / data.name
        folder.mkdir(parents=True, exist_ok=True)
        window = (slice(top, top + side), slice(left, left + side))
        pha = predict_alpha(model, frame, variant.k, self.opts.device)[window]
        images = {
            variant.name: pha,
            "truth": frame["true_pha"][0].numpy()[window],
            "src": frame["src"].permute(1, 2, 0).numpy()[window],
        }
        for name, image in images.items():
            path = folder / f"{name}.png"
            partial = path.with_name(f"{name}.partial.png")
            io.imsave(partial, (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8),
                      check_contrast=False)  # fmt: skip
            os.replace(partial, path)


def _row(study: Study, variant: Variant, data: EvalSet, result: dict, model_path: Path) -> dict:
    return {
        "study": study.name,
        "variant": variant.name,
        "reference": variant.name == study.reference,
        "eval_set": data.name,
        "k": variant.k if variant.counts_k else None,
        "backbone": variant.backbone,
        "aspp": variant.aspp,
        "refine": variant.refine,
        "checkpoint": str(model_path),
        **{key: _finite(value) for key, value in result.items()},
    } | ({} if variant.counts_k else {"k_effective": None})


def _finite(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return int(value) if isinstance(value, np.integer) else value


def check_checkpoint_keys(checkpoints: dict[str, str], studies: list[Study]) -> None:
    """Before any work: every --checkpoint key names a variant of the studies run (a typo must
    not go unused), its file exists and holds the architecture that variant needs."""
    variants = {v.name: v for s in studies for v in s.variants}
    variants |= {f"{s.name}/{v.name}": v for s in studies for v in s.variants}
    for key, path in checkpoints.items():
        if key not in variants:
            raise BgmError(f"--checkpoint {key}=...: no variant {key!r} in the studies run; "
                           f"known: {', '.join(sorted(variants))}")  # fmt: skip
        if not Path(path).is_file():
            raise BgmError(f"--checkpoint {key}: file not found: {path}")
        arch, needs = checkpoint_architecture(path), variants[key].architecture()
        if any(arch[field] != needs[field] for field in ("backbone", "aspp")):
            raise BgmError(f"--checkpoint {key}: {path} holds a {_describe(arch)} model; "
                           f"variant {key} needs {_describe(needs)}")  # fmt: skip


def checkpoint_architecture(path: str | Path) -> dict[str, Any]:
    """Backbone and ASPP of a checkpoint, ours (its config) or official (from its keys)."""
    from bgmcli.model.checkpoint import model_config_from, read_checkpoint, split_checkpoint

    state, config, _ = split_checkpoint(read_checkpoint(path), path)
    return model_config_from(config, state, {}).architecture()


def parse_checkpoint_options(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, path = value.partition("=")
        if not (sep and key and path):
            raise BgmError(f"--checkpoint expects VARIANT=PATH, got {value!r}")
        out[key] = path
    return out


def _describe(arch: dict[str, Any]) -> str:
    head = "ASPP" if arch["aspp"] else "no-ASPP"
    return f"{arch['backbone']} ({head}, refiner kernel {arch['kernel_size']})"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1)))
