"""What a training run reports: progress events (to the callback) and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple


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
    history: list[dict[str, Any]] = field(default_factory=list)  # the run's validation rows
    model_path: Path | None = None
    trained: int | None = None  # steps trained by this call (None: all of them)

    def summary(self) -> str:
        """Validation MAD over the run, and val loss over the last stage (stages' losses differ)."""
        rows = self.history
        if not rows or self.trained == 0:
            return f"{self.steps} steps, nothing left to train -> {self.model_path}"
        stage = [r for r in rows if r["stage"] == rows[-1]["stage"]]
        return (
            f"{self.steps} steps; val MAD {rows[0]['mad']:.4f} -> {rows[-1]['mad']:.4f}, "
            f"{rows[-1]['stage']} val loss {stage[0]['val_loss']:.4f} -> "
            f"{stage[-1]['val_loss']:.4f} -> {self.model_path}"
        )
