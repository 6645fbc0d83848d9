"""Runs studies: resolves each variant's model (the inference studies' one model, or per seed a
trained and cached one: models.py), evaluates it on every evaluation set, and writes
OUT/<study>/<variant>[-seedN].json as soon as that run is done; then each study's FPS at HD and
4K (speed.py) into OUT/<study>/fps.json. An interrupted run resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgmcli.ablate.evalsets import EvalSet, open_eval_set
from bgmcli.ablate.evaluate import crop_box, evaluate, predict_alpha
from bgmcli.ablate.models import INFERENCE_MODEL, model_spec, resolve_spec, seeds_of
from bgmcli.ablate.speed import DEFAULT_RESOLUTIONS, alternated_fps
from bgmcli.ablate.studies import Study, Variant
from bgmcli.atomic import atomic_write, check_file_name
from bgmcli.errors import BgmError
from bgmcli.loading import load_model
from bgmcli.model.checkpoint import model_config_from, read_checkpoint, split_checkpoint
from bgmcli.model.settings import InferenceSettings
from bgmcli.model.temporal import TemporalSettings

RESULT_VERSION = 3  # bump when a variant file's meaning changes: old files are recomputed
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
    seeds: int = 1  # models per architecture variant (seeds 0 .. seeds-1)
    fps_resolutions: list[str] = field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    fps_iters: int = 3  # timed runs per variant and resolution


Log = Callable[[str], None]
Step = Callable[[int, int, str], None]  # (runs done, runs in all, the run starting now)


class Runner:
    """Evaluation sets are opened once and their frames cached across studies and variants."""

    def __init__(
        self,
        options: AblateOptions,
        log: Log,
        train_progress: Callable | None = None,
        step: Step | None = None,
    ):
        self.opts, self.log, self.train_progress = options, log, train_progress
        self.step = step or (lambda done, total, label: None)
        self.sets: list[EvalSet] | None = None
        self.timings: dict[str, float] = {}  # variant -> seconds spent evaluating it this run
        self.spent = {"eval": 0.0, "fps": 0.0}  # seconds over all invocations (from the files)
        self.crop_boxes: dict[str, tuple[int, int, int, int]] = {}  # per set: found once
        self.fps_info: dict[str, dict] = {}  # study -> how its FPS at HD / 4K was measured

    def eval_sets(self) -> list[EvalSet]:
        if self.sets is None:
            o = self.opts
            self.sets = [open_eval_set(s, o.width, o.height, o.frames) for s in o.eval_data]
        return self.sets

    def run(self, studies: list[Study]) -> list[dict]:
        """One row per study, variant, seed (None: a single run) and evaluation set."""
        o = self.opts
        check_checkpoint_keys(o.checkpoints, studies)
        runs = {
            study.name: [(v, seed) for v in study.variants
                         for seed in seeds_of(o.checkpoints, study, v, o.seeds)]
            for study in studies
        }  # fmt: skip
        total = sum(map(len, runs.values())) + (len(studies) if o.fps_resolutions else 0)
        done, rows = 0, []
        for study in studies:
            study_rows = []
            for variant, seed in runs[study.name]:
                self.step(done, total, _label(study, variant, seed))
                study_rows += self.run_variant(study, variant, seed)
                done += 1
            if o.fps_resolutions:
                self.step(done, total, f"{study.name}: speed")
                done += 1
            fps = self.run_fps(study)
            rows += [row | fps.get(row["variant"], {}) for row in study_rows]
        self.step(total, total, "done")
        return rows

    def run_variant(self, study: Study, variant: Variant, seed: int | None) -> list[dict]:
        label = _label(study, variant, seed)
        path = self.opts.out / study.name / f"{label.split('/', 1)[1]}.json"
        spec = self.spec(study, variant, seed)
        key = self.result_key(variant, spec, seed)
        saved = _read_json(path)
        if saved and saved.get("key") == key and not self.opts.rerun:
            self.log(f"{label}: done before, skipped ({path})")
            self.spent["eval"] += saved.get("eval_s", 0.0)
            return saved["rows"]
        if saved and saved.get("key") != key and not self.opts.rerun:
            self.log(f"{label}: settings changed since {path}; recomputing")
        model_path = self.resolve(spec, variant, seed)
        started = time.perf_counter()
        rows = self.evaluate_variant(study, variant, model_path, seed)
        seconds = time.perf_counter() - started
        self.timings[label] = seconds
        self.spent["eval"] += seconds
        _write_json(path, {"key": key, "eval_s": round(seconds, 1), "rows": rows})
        return rows

    def spec(self, study: Study, variant: Variant, seed: int | None) -> dict[str, Any]:
        o = self.opts
        return model_spec(o.checkpoints, o.preset, o.out, study, variant, seed)

    def resolve(self, spec: dict[str, Any], variant: Variant, seed: int | None) -> Path:
        o = self.opts
        return resolve_spec(spec, o.preset, o.out, variant, seed, device=str(o.device),
                            log=self.log, progress=self.train_progress)  # fmt: skip

    def result_key(self, variant: Variant, checkpoint: dict[str, Any], seed=None) -> str:
        o = self.opts
        facts = {
            "version": RESULT_VERSION, "variant": variant.__dict__, "checkpoint": checkpoint,
            "eval": [o.eval_data, o.width, o.height, o.frames], "device": str(o.device),
        } | ({"seed": seed} if seed else {})  # fmt: skip
        return _digest(facts)

    def run_fps(self, study: Study) -> dict[str, dict[str, float]]:
        """FPS of each variant at --fps-resolutions, alternated in one process (seed 0's model
        of a trained variant); read back from OUT/<study>/fps.json when nothing changed."""
        o = self.opts
        if not o.fps_resolutions:
            return {}
        first = {v.name: seeds_of(o.checkpoints, study, v, o.seeds)[0] for v in study.variants}
        specs = {v.name: self.spec(study, v, first[v.name]) for v in study.variants}
        info = {"device": str(o.device), "threads": torch.get_num_threads(),
                "iters": o.fps_iters, "resolutions": list(o.fps_resolutions)}  # fmt: skip
        key = _digest({"specs": specs, "variants": [v.__dict__ for v in study.variants], **info})
        path = o.out / study.name / "fps.json"
        saved = _read_json(path)
        if saved and saved.get("key") == key and not o.rerun:
            self.fps_info[study.name] = saved["info"]
            self.spent["fps"] += saved.get("seconds", 0.0)
            return saved["fps"]

        loaded, models = {}, {}
        for v in study.variants:
            model_path = self.resolve(specs[v.name], v, first[v.name])
            if model_path not in loaded:
                loaded[model_path] = load_model(model_path, device=o.device)
            models[v.name] = (loaded[model_path], v)
        self.log(f"{study.name}: FPS at {', '.join(o.fps_resolutions)}, {o.fps_iters} runs "
                 "per variant, variants alternated")  # fmt: skip
        started = time.perf_counter()
        fps = alternated_fps(models, o.fps_resolutions, o.device, o.fps_iters)
        seconds = time.perf_counter() - started
        self.fps_info[study.name] = info
        self.spent["fps"] += seconds
        _write_json(path, {"key": key, "info": info, "seconds": round(seconds, 1), "fps": fps})
        return fps

    def evaluate_variant(
        self, study: Study, variant: Variant, model_path: Path, seed: int | None = None
    ) -> list[dict]:
        # the variant's k is given at HD (k_hd), for each frame scaled with its area
        settings = InferenceSettings(
            mode=variant.refine, k_hd=variant.k, threshold=variant.threshold
        )
        model = load_model(model_path, settings=settings, device=self.opts.device)
        arch = model.config.architecture()
        if study.trains and arch != variant.architecture():
            needs = _describe(variant.architecture())
            raise BgmError(f"{model_path} holds a {_describe(arch)} model; variant "
                           f"{study.name}/{variant.name} needs {needs}")  # fmt: skip
        rows = []
        for data in self.eval_sets():
            label = _label(study, variant, seed)
            self.log(f"{label}: evaluating on {data.name} ({len(data)} frames)")
            temporal = TemporalSettings() if variant.temporal else None
            result = evaluate(model, data, variant.k, self.opts.device, self.opts.iters,
                              temporal=temporal)  # fmt: skip
            rows.append(_row(study, variant, data, result, model_path, model) | {"seed": seed})
            if not seed:  # the crop figure shows seed 0's (or the one model's) alpha
                self.save_crop(study, variant, data, model)
        return rows

    def save_crop(self, study: Study, variant: Variant, data: EvalSet, model) -> None:
        """The hair-crop figure's inputs: truth and source once, each variant's alpha."""
        from skimage import io  # scikit-image, slow to import: only when crops are saved

        if data.name not in self.crop_boxes:
            self.crop_boxes[data.name] = crop_box(data)
        index, top, left, side = self.crop_boxes[data.name]
        frame = data[index]
        folder = self.opts.out / study.name / "crops" / data.name
        window = (slice(top, top + side), slice(left, left + side))
        pha = predict_alpha(model, frame, variant.k, self.opts.device)[window]
        images = {
            variant.name: pha,
            "truth": frame["true_pha"][0].numpy()[window],
            "src": frame["src"].permute(1, 2, 0).numpy()[window],
        }
        for name, image in images.items():
            pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
            atomic_write(folder / f"{check_file_name(name, 'variant')}.png",
                         lambda tmp, x=pixels: io.imsave(tmp, x, check_contrast=False))  # fmt: skip


def _label(study: Study, variant: Variant, seed: int | None) -> str:
    return f"{study.name}/{variant.name}" + (f"-seed{seed}" if seed else "")


def _row(study: Study, variant: Variant, data: EvalSet, result: dict, model_path: Path,
         model) -> dict:  # fmt: skip
    arch = model.config.architecture()  # the inference studies' model is whatever was given
    return {
        "study": study.name,
        "variant": variant.name,
        "reference": variant.name == study.reference,
        "eval_set": data.name,
        "k": variant.k if variant.counts_k else None,
        "backbone": arch["backbone"],
        "aspp": arch["aspp"],
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
    not go unused), its file exists and, in an architecture study, holds the architecture that
    variant needs (an inference study runs on whatever model it is given)."""
    variants = {v.name: (s, v) for s in studies for v in s.variants}
    variants |= {f"{s.name}/{v.name}": (s, v) for s in studies for v in s.variants}
    for key, path in checkpoints.items():
        if key == INFERENCE_MODEL:
            if all(s.trains for s in studies):
                raise BgmError(f"--checkpoint {path}: a file without VARIANT= is the model of "
                               "the inference studies, and none is run; give VARIANT=PATH for "
                               "a variant of an architecture study")  # fmt: skip
        elif key not in variants:
            raise BgmError(f"--checkpoint {key}=...: no variant {key!r} in the studies run; "
                           f"known: {', '.join(sorted(variants))}")  # fmt: skip
        if not Path(path).is_file():
            raise BgmError(f"--checkpoint {key if key != INFERENCE_MODEL else path}: "
                           f"file not found: {path}")  # fmt: skip
        if key == INFERENCE_MODEL or not variants[key][0].trains:
            continue
        arch, needs = checkpoint_architecture(path), variants[key][1].architecture()
        if any(arch[field] != needs[field] for field in ("backbone", "aspp")):
            raise BgmError(f"--checkpoint {key}: {path} holds a {_describe(arch)} model; "
                           f"variant {key} needs {_describe(needs)}")  # fmt: skip


def checkpoint_architecture(path: str | Path) -> dict[str, Any]:
    """Backbone and ASPP of a checkpoint, ours (its config) or official (from its keys)."""
    state, config, _ = split_checkpoint(read_checkpoint(path), path)
    return model_config_from(config, state, {}).architecture()


def parse_checkpoint_options(values: list[str]) -> dict[str, str]:
    """VARIANT=PATH or STUDY/VARIANT=PATH; a bare PATH is the inference studies' model."""
    out = {}
    for value in values:
        key, sep, path = value.partition("=")
        if not sep:
            key, path = INFERENCE_MODEL, value
        if not (key and path):
            raise BgmError(f"--checkpoint expects PATH or VARIANT=PATH, got {value!r}")
        if key in out:
            raise BgmError(f"--checkpoint {value}: a second file for the same model")
        out[key] = path
    return out


def _describe(arch: dict[str, Any]) -> str:
    head = "ASPP" if arch["aspp"] else "no-ASPP"
    return f"{arch['backbone']} ({head}, refiner kernel {arch['kernel_size']})"


def _digest(facts: dict) -> str:
    text = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1)))
