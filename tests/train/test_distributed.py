"""Two CPU processes under torchrun (gloo): one run, one writer, the global batch split."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

TORCHRUN = Path(sys.executable).with_name("torchrun")
FIXTURES = Path(__file__).parents[1] / "train_fixtures.py"


@pytest.mark.slow
def test_two_process_gloo_run_on_the_smoke_preset(tmp_path):
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(FIXTURES.parent.parent)}
    args = [str(TORCHRUN), "--standalone", "--nproc_per_node=2", str(FIXTURES), "train",
            "--preset", "smoke", "--out", str(tmp_path), "--device", "cpu", "--quiet"]  # fmt: skip
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["step"]) for r in rows] == [
        ("base", 0),
        ("base", 4),
        ("refine", 4),
        ("refine", 8),
    ]  # fmt: skip  (one writer: no row twice)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert state["step"] == 8 and (tmp_path / "model.pt").exists()
    assert not list(tmp_path.glob("*.partial"))
