"""The Sink seam: what every kind of output implements. File outputs (`sinks.py`), network
streams (`stream_sink.py`) and the virtual camera (`camera_sink.py`) run on an EncoderThread;
the preview window (`window_sink.py`) runs on the model's thread, where GUI toolkits want it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Picture:
    """Which picture a sink takes: an output kind (com, pha, fgr, err, ref) and its channels."""

    kind: str
    channels: int


class Sink(Protocol):
    """Frames out, on an EncoderThread. `output` says which picture it takes (a file's Output
    or a Picture); `write` gets uint8 (B, C, H, W) planes with their pts in the run's time base;
    `close` finishes the output; `abort` closes it as it is (what was written stays usable)."""

    output: Picture

    def write(self, planes: np.ndarray, pts: list[int]) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...
