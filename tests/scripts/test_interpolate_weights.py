"""scripts/interpolate_weights.py: the base network mixed, the refiner taken whole."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "interpolate_weights.py"


def _module():
    spec = importlib.util.spec_from_file_location("interpolate_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checkpoint(value: float) -> dict:
    model = {
        "backbone.conv.weight": torch.full((2, 2), value),
        "backbone.bn.running_mean": torch.full((2,), value),
        "backbone.bn.num_batches_tracked": torch.tensor(int(value * 10)),
        "refiner.conv.weight": torch.full((3,), value),
    }
    return {"format": "bgm", "model": model, "meta": {"steps": int(value)}}


def test_base_network_is_mixed_and_refiner_taken_whole():
    interpolate = _module().interpolate
    a, b = _checkpoint(1.0), _checkpoint(3.0)
    soup = interpolate(a, b, 0.25, "a")
    assert torch.allclose(soup["model"]["backbone.conv.weight"], torch.full((2, 2), 1.5))
    assert torch.allclose(soup["model"]["backbone.bn.running_mean"], torch.full((2,), 1.5))
    assert int(soup["model"]["backbone.bn.num_batches_tracked"]) == 30  # B's counter
    assert torch.equal(soup["model"]["refiner.conv.weight"], a["model"]["refiner.conv.weight"])
    assert soup["meta"] == {"steps": 3, "interpolation": {"t": 0.25, "refiner": "a"}}
    ends = interpolate(a, b, 1.0, "b")["model"]
    assert all(torch.equal(ends[k], b["model"][k]) for k in b["model"])


def test_different_architectures_are_refused():
    a, b = _checkpoint(1.0), _checkpoint(2.0)
    del b["model"]["refiner.conv.weight"]
    with pytest.raises(SystemExit, match="different architectures"):
        _module().interpolate(a, b, 0.5, "a")
