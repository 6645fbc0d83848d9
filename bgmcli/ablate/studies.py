"""Studies as data: YAML files shipped in `studies/` (users may pass their own file). A study is a
list of variants; a variant is a model architecture plus the inference settings it changes. An
`inference` study changes only settings and runs on one given model (the bundled one unless
--checkpoint); an `architecture` study trains each variant (with seeds). `paper:` holds the
paper's claim and the orderings that test it (bgmcli/ablate/paper.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgmcli.ablate.paper import Claim, parse_claim
from bgmcli.atomic import check_file_name
from bgmcli.config import coerce_field, load_yaml
from bgmcli.errors import BgmError
from bgmcli.model.config import ModelConfig
from bgmcli.model.frame_size import PAPER_K_HD
from bgmcli.model.selection import SELECTORS
from bgmcli.model.settings import InferenceSettings

STUDIES_DIR = Path(__file__).parent / "studies"
# the plan's order, then the studies added since
ORDER = ("refinement", "patch-selection", "patch-count", "backbone", "aspp", "temporal")
METRICS = ("mad", "sad", "mse", "grad", "conn", "fgr_l1", "fgr_mse", "dtssd", "fps")
KINDS = ("inference", "architecture")
STUDY_FIELDS = {"name", "description", "kind", "reference", "columns", "variants", "paper"}
VARIANT_FIELDS = {"name", "backbone", "aspp", "kernel_size", "refine", "k", "threshold",
                  "temporal"}  # fmt: skip


@dataclass(frozen=True)
class Variant:
    name: str
    backbone: str = "mobilenetv2"
    aspp: bool = True
    kernel_size: int = 3
    refine: str = "error"
    k: int = PAPER_K_HD  # at HD; scaled with the frame's area elsewhere
    threshold: float = 0.1
    temporal: bool = False  # the temporal filter of bgm matte --temporal, over each clip

    def model_config(self) -> ModelConfig:
        return ModelConfig(backbone=self.backbone, aspp=self.aspp, kernel_size=self.kernel_size)

    def architecture(self) -> dict[str, Any]:
        """What decides the parameter set: variants that share it share one checkpoint."""
        return self.model_config().architecture()

    @property
    def counts_k(self) -> bool:
        """Whether k decides what is refined (not for none, full or threshold)."""
        return SELECTORS[self.refine].uses_k


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    reference: str
    columns: tuple[str, ...]
    variants: tuple[Variant, ...]
    kind: str = "inference"
    paper: Claim | None = None

    @property
    def trains(self) -> bool:
        """Architecture studies train each variant (with seeds); inference studies share one."""
        return self.kind == "architecture"

    def summary(self) -> dict[str, Any]:
        """The plain form the report and plots take."""
        return {
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "reference": self.reference,
            "columns": list(self.columns),
            "variants": [v.name for v in self.variants],
            "paper": self.paper.summary() if self.paper else None,
        }


def study_names() -> list[str]:
    shipped = {p.stem for p in STUDIES_DIR.glob("*.yaml")}
    return [n for n in ORDER if n in shipped] + sorted(shipped - set(ORDER))


def load_studies(name: str) -> list[Study]:
    """`all`, a shipped study's name, or a path to a study YAML file; several comma-separated."""
    if name == "all":
        return [load_study(n) for n in study_names()]
    return [load_study(part.strip()) for part in name.split(",") if part.strip()]


def load_study(name: str) -> Study:
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = STUDIES_DIR / f"{name}.yaml"
        if not path.is_file():
            raise BgmError(f"unknown study {name!r}; known: all, {', '.join(study_names())}")
    elif not path.is_file():
        raise BgmError(f"study file not found: {path}")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise BgmError(f"{path}: expected a mapping with name, reference, columns, variants")
    return parse_study(data, str(path))


def parse_study(data: dict[str, Any], where: str) -> Study:
    unknown = set(data) - STUDY_FIELDS
    if unknown:
        raise BgmError(f"{where}: unknown study field {sorted(unknown)[0]!r}")
    variants = tuple(_variant(v, where) for v in _list(data, "variants", where))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise BgmError(f"{where}: variant names must be unique, got {names}")
    reference = data.get("reference", names[0])
    if reference not in names:
        raise BgmError(f"{where}: reference {reference!r} is not one of the variants {names}")
    columns = tuple(_list(data, "columns", where)) if "columns" in data else ("mad", "sad", "fps")
    bad = [c for c in columns if c not in METRICS]
    if bad:
        raise BgmError(f"{where}: unknown column {bad[0]!r}; known: {', '.join(METRICS)}")
    name = check_file_name(str(data.get("name") or Path(where).stem), f"{where}: study name")
    kind = data.get("kind") or _kind_of(variants)
    if kind not in KINDS:
        raise BgmError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "inference" and len({_arch_key(v) for v in variants}) > 1:
        raise BgmError(f"{where}: an inference study's variants must share one architecture "
                       "(backbone, aspp, kernel_size); use kind: architecture")  # fmt: skip
    paper = parse_claim(data["paper"], names, where) if data.get("paper") is not None else None
    return Study(str(name), str(data.get("description", "")), reference, columns, variants,
                 kind=kind, paper=paper)  # fmt: skip


def _arch_key(variant: Variant) -> str:
    return repr(sorted(variant.architecture().items()))


def _kind_of(variants: tuple[Variant, ...]) -> str:
    """Variants of one architecture: an inference study; of several: an architecture study."""
    return "inference" if len({_arch_key(v) for v in variants}) == 1 else "architecture"


def _list(data: dict, key: str, where: str) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise BgmError(f"{where}: {key} must be a non-empty list")
    return value


def _variant(data: Any, where: str) -> Variant:
    if not isinstance(data, dict) or "name" not in data:
        raise BgmError(f"{where}: each variant must be a mapping with a name")
    unknown = set(data) - VARIANT_FIELDS
    if unknown:
        raise BgmError(
            f"{where}: variant {data['name']!r} has unknown field {sorted(unknown)[0]!r}"
        )
    name = check_file_name(str(data["name"]), f"{where}: variant name")  # names a result file
    fields = {f.name: f for f in dataclasses.fields(Variant)}
    values = {key: coerce_field(fields[key], value, f"{where}: variant {name!r}: {key}")
              for key, value in data.items() if key != "name"}  # fmt: skip
    variant = Variant(name=name, **values)
    try:  # the model's and the settings' own checks, names from their registries
        variant.model_config()
        InferenceSettings(mode=variant.refine, k_hd=variant.k, threshold=variant.threshold)
    except BgmError as exc:
        raise BgmError(f"{where}: variant {variant.name!r}: {exc}") from None
    return variant
