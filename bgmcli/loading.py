"""The stable Python API: `load_model` turns a checkpoint (or the bundled model) into a network
ready for inference."""

from __future__ import annotations

from pathlib import Path

import torch

from bgmcli.devices import resolve_device
from bgmcli.errors import BgmError
from bgmcli.model.checkpoint import (
    load_weights,
    model_config_from,
    read_checkpoint,
    split_checkpoint,
)
from bgmcli.model.config import ModelConfig
from bgmcli.model.difference_key import NAME as DIFFERENCE_KEY
from bgmcli.model.difference_key import DifferenceKey
from bgmcli.model.inference import InferenceMattingModel
from bgmcli.model.matting import MattingModel
from bgmcli.model.settings import InferenceSettings

BUNDLED_MODEL = Path(__file__).parent / "weights" / "default.pt"


def load_model(
    checkpoint: str | Path | None = None,
    *,
    backbone: str | None = None,
    settings: InferenceSettings | None = None,
    backbone_scale: float | None = None,
    refine: str = "error",
    k: int | None = None,
    threshold: float = 0.1,
    kernel_size: int = 3,
    device: str | torch.device = "cpu",
    fast: bool = True,
) -> MattingModel | DifferenceKey:
    """A MattingModel in eval mode on `device`, built from `checkpoint`.

    `checkpoint` is one of ours (it carries its config) or an official BackgroundMattingV2
    `.pth` (backbone inferred from its keys when `backbone` is None); None means the bundled
    default model. `k` counts refined 4x4 patches on every frame (the official
    `refine_sample_pixels` / 16); None (the default) scales the paper's 5000 at HD with each
    frame's area, as `bgm matte` does, so both give the same matte for the same input.
    `checkpoint="difference-key"` gives the classic difference-key baseline instead.
    `fast=False` returns the training form (the readable refiner of the paper).

    `backbone_scale` is the base network's input scale. None (the default) chooses it for each
    frame the model sees, from that frame's size (`bgmcli.model.frame_size.base_scale`:
    480 / the longer side, at most 1/2, so 1/4 at HD and 1/8 at 4K as in the paper), as
    `bgm matte` does. It is a call-time setting: the scale a checkpoint was trained at is not
    used unless given here, e.g. `backbone_scale=0.25` for the fixed 1/4.

    These settings become the model's `settings`, what `model(src, bgr)` runs with; a call may
    give others: `model(src, bgr, InferenceSettings(...))` (`bgmcli.model.settings`). They come
    whole as `settings`, or one by one (backbone_scale, refine, k, threshold), not both.
    """
    loose = InferenceSettings(backbone_scale=backbone_scale, mode=refine, k=k, threshold=threshold)
    if settings is not None and loose != InferenceSettings():
        raise BgmError("load_model: give settings, or backbone_scale/refine/k/threshold, not both")
    settings = settings or loose
    if str(checkpoint) == DIFFERENCE_KEY:
        scale = settings.backbone_scale
        return DifferenceKey(backbone_scale=scale).to(resolve_device(device)).eval()
    path = Path(checkpoint) if checkpoint is not None else bundled_model_path()
    state, config, meta = split_checkpoint(read_checkpoint(path), path)
    if checkpoint is None:
        _check_bundled_backbone(config, backbone)
    if config is None:  # official files: the caller's kernel size applies, as in the reference
        overrides = {"backbone": backbone, "kernel_size": kernel_size}
    else:
        overrides = {"backbone": backbone}
    model = MattingModel(model_config_from(config, state, overrides), settings)
    load_weights(model, state, path)
    model = prepare_for_inference(model, resolve_device(device), fast=fast)
    model.source = meta | {"path": str(path)}
    return model


def build_model(config: ModelConfig, settings: InferenceSettings | None = None) -> MattingModel:
    """The one place where a config becomes a (randomly initialised) network; `settings` are
    what it runs with when a call gives none (default: all chosen from the frame's size)."""
    return MattingModel(config, settings)


def prepare_for_inference(
    model: MattingModel, device: torch.device, fast: bool = True
) -> MattingModel:
    """Eval mode, no gradients, on `device`; `fast` converts to the optimised inference form."""
    model.eval().requires_grad_(False)
    if fast:
        model = InferenceMattingModel.from_model(model)
    return model.to(device)


OFFICIAL_WEIGHTS = "https://github.com/PeterL1n/BackgroundMattingV2 (Download: PyTorch)"


def _check_bundled_backbone(config: dict, backbone: str | None) -> None:
    """--backbone with the bundled model: only its own fits; say where other weights come from."""
    own = config["backbone"]
    if backbone is not None and backbone != own:
        raise BgmError(
            f"the bundled model is {own}, so --backbone {backbone} does not fit it; for "
            f"{backbone}, pass its weights: --checkpoint pytorch_{backbone}.pth, from the official "
            f"BackgroundMattingV2 release at {OFFICIAL_WEIGHTS}"
        )


def bundled_model_path() -> Path:
    """The bundled model's file; a one-line error where this version has none."""
    if not BUNDLED_MODEL.exists():
        raise BgmError(
            "no bundled model in this version yet: pass --checkpoint with an official "
            "BackgroundMattingV2 file (e.g. pytorch_mobilenetv2.pth) or one from `bgm train`"
        )
    return BUNDLED_MODEL
