"""Shared pieces of the fault suite: the promise each case checks (exit 2, one line, no
traceback, nothing lost or half written), a full disk, and hostile files."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

import torch

from tests.cli_helpers import run_bgm


def refused(capsys, *args) -> str:
    """Run `bgm ARGS`; assert the promise (exit 2, one `bgm: error:` line, no traceback);
    return that line."""
    code, out, err = run_bgm(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("bgm: error: "), err
    assert "Traceback" not in err + out
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a digest of its bytes (the lock file aside)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".bgm.lock"
    }


def half_written(folder: Path) -> list[str]:
    """Temporary files a failed or stopped write left behind (there must be none)."""
    return [str(p) for p in folder.rglob("*") if ".partial" in p.name or ".write-test" in p.name]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, side: int = 100_000) -> Path:
    """A PNG a few hundred bytes long that claims side x side pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)  # RGBA
    body = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
                     + png_chunk(b"IEND", b""))  # fmt: skip
    return path


def bad_png(path: Path, kind: str, good: Path | None = None) -> Path:
    """An image file that cannot be decoded: empty, random bytes, truncated or a bomb."""
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(512))
    elif kind == "truncated":
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "bomb":
        bomb_png(path)
    return path


def odd_checkpoint(path: Path, kind: str, state: dict[str, torch.Tensor]) -> Path:
    """A file that loads safely (weights_only) but holds contents no model can use."""
    config = {"backbone": "mobilenetv2"}
    contents = {
        "non-tensor value": {"format": "bgm", "config": config, "model": {**state, "x": "text"}},
        "model is a list": {"format": "bgm", "config": config, "model": [1, 2]},
        "meta is a list": {"format": "bgm", "config": config, "model": state, "meta": [1]},
        "config is a list": {"format": "bgm", "config": [1], "model": state},
        "nan weights": {
            k: v.clone().fill_(float("nan")) if v.is_floating_point() else v
            for k, v in state.items()
        },  # fmt: skip
        "inf weights": {
            "format": "bgm",
            "config": config,
            "model": {
                k: v.clone().fill_(float("inf")) if v.is_floating_point() else v
                for k, v in state.items()
            },
        },  # fmt: skip
        "list": [torch.zeros(2)],
        "empty dict": {},
    }[kind]
    torch.save(contents, path)
    return path


ODD_CHECKPOINTS = {
    "non-tensor value": "not a tensor",
    "model is a list": "not a mapping",
    "meta is a list": "not a mapping",
    "config is a list": "not a mapping",
    "nan weights": "NaN or infinite",
    "inf weights": "NaN or infinite",
    "list": "no weights inside",
    "empty dict": "no weights inside",
}
