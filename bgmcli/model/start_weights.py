"""Pretrained start weights for `bgm train --backbone-weights`: a torchvision state dict (.pth) or
a TFLite MobileNetV2 / DeepLabV3 file, loaded into the model, and the record of their origin that
the run's checkpoints carry (meta "start_weights", shown by `bgm info`)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from torch import nn

from bgmcli.errors import BgmError
from bgmcli.model.backbones import load_imagenet_weights
from bgmcli.model.tflite_weights import is_tflite_file, load_tflite_weights

CORAL = "Coral test_data, Apache-2.0"
KNOWN_FILES = {  # sha256 -> what the file is (google-coral/test_data, commit 104342d2)
    "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398":
        f"DeepLabV3-MobileNetV2 Pascal VOC ({CORAL})",
    "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776":
        f"MobileNetV2 1.0 ImageNet classifier ({CORAL})",
}  # fmt: skip


def load_start_weights(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load `path` into `model` (a MattingModel) by its kind; returns the origin record:
    file name, sha256, kind and what was loaded."""
    path = Path(path)
    if not path.is_file():
        raise BgmError(f"backbone weights not found: {path}")
    digest = sha256_of(path)
    if is_tflite_file(path):
        loaded = load_tflite_weights(model, path)
        kind = "TFLite MobileNetV2"
    else:
        count = load_imagenet_weights(model.backbone, path)
        loaded, kind = f"backbone ({count} tensors)", "torchvision state dict"
    return {"file": path.name, "sha256": digest, "kind": KNOWN_FILES.get(digest, kind),
            "loaded": loaded}  # fmt: skip


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
