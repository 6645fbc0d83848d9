"""Which model each variant of a study runs on. Inference studies (refinement, patch selection,
patch count) run on one strong model: the bundled one, or the file given with a bare
`--checkpoint PATH` (an official .pth too). Architecture studies (backbone, ASPP) train each
variant with the preset, once per seed, cached by the training config's hash
(`checkpoints.py`), unless `--checkpoint VARIANT=PATH` gives one file (then one run)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgmcli.ablate.checkpoints import cache_dir, trained_checkpoint, variant_train_config
from bgmcli.ablate.studies import Study, Variant
from bgmcli.errors import BgmError
from bgmcli.loading import bundled_model_path

INFERENCE_MODEL = "*"  # the key of a bare --checkpoint PATH: the inference studies' model


def given_checkpoint(checkpoints: dict[str, str], study: Study, variant: Variant) -> str | None:
    """A file the user gave for this variant (STUDY/VARIANT, then VARIANT), or for an inference
    study the bare --checkpoint."""
    given = checkpoints.get(f"{study.name}/{variant.name}") or checkpoints.get(variant.name)
    if given is None and not study.trains:
        given = checkpoints.get(INFERENCE_MODEL)
    return given


def seeds_of(checkpoints: dict[str, str], study: Study, variant: Variant, seeds: int) -> list:
    """[None]: one run (inference studies, given files); [0, 1, ...]: one model per seed."""
    if not study.trains or given_checkpoint(checkpoints, study, variant):
        return [None]
    return list(range(seeds))


def model_spec(
    checkpoints: dict[str, str], preset: str, out: Path, study: Study, variant: Variant, seed
) -> dict[str, Any]:
    """What decides the weights: a given file, the bundled model (by its content, so a new
    bundled model is evaluated anew), or the preset's training recipe with the seed."""
    given = given_checkpoint(checkpoints, study, variant)
    if given:
        if not Path(given).is_file():
            raise BgmError(f"--checkpoint {variant.name}: file not found: {given}")
        return {"path": str(Path(given).resolve()), "size": Path(given).stat().st_size}
    if not study.trains:
        return {"bundled": bundled_digest()}
    config = variant_train_config(preset, variant.architecture(), seed or 0)
    return {"cache": str(cache_dir(out, config)), "preset": preset}


def resolve_spec(
    spec: dict[str, Any], preset: str, out: Path, variant: Variant, seed, *, device: str,
    log: Callable[[str], None], progress: Callable | None = None,
) -> Path:  # fmt: skip
    """The model file of a spec, training (or resuming) the variant's model if needed."""
    if "path" in spec:
        return Path(spec["path"])
    if "bundled" in spec:
        return bundled_model_path()
    config = variant_train_config(preset, variant.architecture(), seed or 0)
    run_dir = cache_dir(out, config)
    if not (run_dir / "model.pt").is_file():
        log(f"training {run_dir.name} with preset {preset}, seed {config.seed} (cached for reuse)")
    return trained_checkpoint(out, config, device=device, progress=progress)


_DIGESTS: dict[tuple, str] = {}


def bundled_digest() -> str:
    """sha256 (16 hex) of the bundled model's file, computed once per file version."""
    path = bundled_model_path()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return _DIGESTS[key]
