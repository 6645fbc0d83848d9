"""Writing files so that nothing half-written ever stands under a final name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` with tmp = `<path>.partial`, then rename it onto `path`: a reader (or a
    crash mid-write) never sees a truncated file, and a failed write keeps any previous file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
