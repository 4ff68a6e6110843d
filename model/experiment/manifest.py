"""Manifests and atomic writes for result folders.

Every result folder carries a ``manifest.json``: the resolved scenario(s), the
seeds, the versions of mtsim, Mesa, NumPy and Python, the git commit (if the code
runs from a git checkout) and the start and end times.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd


def now_iso() -> str:
    """The current UTC time in ISO 8601 (manifests only; never inside a model step)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_commit(start: Path | None = None) -> str | None:
    """The git commit of the mtsim source tree, with '-dirty' if it has changes; None outside git."""
    where = start or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
        )
        dirty = "-dirty" if status.stdout.strip() else ""
        return commit.stdout.strip() + dirty
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    """Versions of mtsim and the libraries that decide its numbers."""
    import mesa
    import networkx
    import numpy
    import scipy

    from model import __version__

    return {
        "mtsim": __version__,
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "networkx": networkx.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }


def build_manifest(
    scenarios: Mapping[str, Mapping[str, Any]],
    seeds: Iterable[int],
    started: str,
    finished: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """The manifest of a result folder.

    Args:
        scenarios: scenario name -> resolved scenario (``Scenario.resolved()``).
        seeds: the seeds used (one per replication).
        started: ISO start time.
        finished: ISO end time (None while running).
        **extra: anything else worth keeping (command line, steps, replications, ...).
    """
    return {
        "tool": "mtsim",
        "started": started,
        "finished": finished,
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
        "seeds": [int(s) for s in seeds],
        **extra,
        "scenarios": {name: dict(data) for name, data in scenarios.items()},
    }


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to ``path`` atomically (temporary file in the same folder, then rename)."""
    data = json.dumps(obj, indent=2, sort_keys=False, default=str).encode()
    _atomic_write(Path(path), lambda h: h.write(data))


def write_csv_atomic(path: str | Path, table: pd.DataFrame) -> None:
    """Write a CSV atomically (floats in shortest round-trip form, so reruns compare byte for byte)."""
    data = table.to_csv(index=False, lineterminator="\n").encode()
    _atomic_write(Path(path), lambda h: h.write(data))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes atomically."""
    _atomic_write(Path(path), lambda h: h.write(data))
