"""Atomic file writes: a result file is either whole or absent.

Every file mtsim writes into a result folder goes through these functions: the data
is written to a hidden temporary file in the same folder, flushed to disk, then
renamed over the target (``os.replace``), so a crash or Ctrl-C never leaves half a
file. A low-level utility with no model logic: every layer may use it (it is outside
the model's step, which does no I/O).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import pandas as pd


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """Create a new hidden temporary file in ``folder`` with ordinary permissions.

    ``os.open`` with mode 0o666 lets the kernel apply the process umask, so results
    get the same permissions as any file the user makes, without ever changing the
    process-wide umask (which another thread could observe).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(folder / f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: cannot create a temporary file")


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to ``path`` atomically (temporary file in the same folder, then rename)."""
    data = json.dumps(obj, indent=2, sort_keys=False, default=str).encode()
    _atomic_write(Path(path), lambda h: h.write(data))


def write_csv_atomic(path: str | Path, table: pd.DataFrame) -> None:
    """Write a CSV atomically.

    Floats in shortest round-trip form, so reruns compare byte for byte.
    """
    data = table.to_csv(index=False, lineterminator="\n").encode()
    _atomic_write(Path(path), lambda h: h.write(data))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes atomically."""
    _atomic_write(Path(path), lambda h: h.write(data))
