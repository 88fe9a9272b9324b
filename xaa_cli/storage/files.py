"""Small file helpers: atomic private writes, so a crash never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from xaa_cli.errors import StorageError

PRIVATE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) and its parents if missing."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create directory {path}: {exc.strerror}") from exc


def write_atomic(path: Path, data: bytes, *, mode: int = PRIVATE_MODE) -> None:
    """Write ``data`` to a temp file beside ``path`` with ``mode``, fsync, then rename over ``path``."""
    import tempfile  # lazy: read-only commands never pay for it

    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc


def append_private(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path``, creating it with mode 0600."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
        with os.fdopen(fd, "ab") as handle:
            handle.write(data)
    except OSError as exc:
        raise StorageError(f"cannot append to {path}: {exc.strerror}") from exc


def read_limited(path: Path, limit: int) -> bytes | None:
    """Read at most ``limit`` bytes; ``None`` when the file does not exist. Larger files raise."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise StorageError(f"{path} is larger than {limit} bytes; refusing to read it")
    return data
