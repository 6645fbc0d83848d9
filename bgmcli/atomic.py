"""Writing files so that nothing half-written ever stands under a final name: unique temporary
names, one wording for every failed write (a full disk, a read-only folder), a probe that an
output folder takes files before the work starts, and a lock that keeps two runs out of one
folder."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bgmcli.errors import BgmError

LOCK_NAME = ".bgm.lock"

_HINTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up"}


def write_error(path: str | Path, exc: OSError) -> BgmError:
    """The one-line error for a failed write of `path` (every command words it alike)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _HINTS.get(exc.errno)
    return BgmError(f"cannot write {path}: {reason}" + (f" ({hint})" if hint else ""))


def check_file_name(name: str, what: str) -> str:
    """`name` if it can be a single file name inside an output folder: not empty, no folder
    separators, no leading dot (nor `..`), no control characters; a one-line error otherwise."""
    bad = (
        not name or name.startswith(".") or any(c in name for c in "/\\")
        or any(ord(c) < 32 for c in name)
    )  # fmt: skip
    if bad:
        raise BgmError(f"{what} {name!r} cannot be a file name (no '/', '\\', leading '.' or "
                       "control characters)")  # fmt: skip
    return name


def temporary_name(path: Path) -> Path:
    """`<name>.<pid>-<random>.partial<suffix>` beside `path`: two processes never share one (so
    neither can rename the other's half-written file into place), and the suffix stays last for
    writers that choose a format by it."""
    token = f"{os.getpid()}-{secrets.token_hex(3)}"
    return path.with_name(f"{path.stem}.{token}.partial{path.suffix}")


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` with a temporary name beside `path`, then rename it onto `path`: a
    reader (or a crash mid-write) never sees a truncated file, a failed write keeps any previous
    file, and an OSError (e.g. a full disk) becomes a one-line BgmError."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """`data` to `path` through `atomic_write`, flushed to the disk before the rename."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    atomic_write(path, write)


def check_writable(folder: str | Path, what: str = "--out") -> Path:
    """Make `folder` (and its parents) and write a probe file in it, so that an output that
    cannot be written fails before the work starts, in one line."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BgmError(f"{what} {folder}: is a file, not a folder")
    probe = folder / f".write-test.{os.getpid()}-{secrets.token_hex(3)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BgmError(f"{what} {folder}: cannot write there ({exc.strerror or exc})") from None
    return folder


@contextmanager
def output_lock(folder: str | Path, what: str = "--out") -> Iterator[None]:
    """Hold an exclusive lock on FOLDER/.bgm.lock while a command writes into FOLDER: a second
    run into the same folder is refused at once instead of mixing its files with the first's.
    The kernel drops the lock when the process ends, however it ends (no stale locks)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (the unique temporary names still hold)
        yield
        return
    folder = check_writable(folder, what)
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise BgmError(
                f"{what} {folder}: another bgm process (pid {holder}) is writing there; "
                "wait for it to finish or choose another folder"
            ) from None
        try:  # the holder's pid, for the message a second run gets; not needed to lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # closing releases the lock
