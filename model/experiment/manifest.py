"""Manifests for result folders (the atomic writers are model/atomic_files.py).

Every result folder carries a ``manifest.json``: the resolved scenario(s), the
seeds, the versions of mtsim, Mesa, NumPy and Python, the git commit (if the code
runs from a git checkout) and the start and end times.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 (manifests only; never inside a model step)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_commit(start: Path | None = None) -> str | None:
    """Return the git commit of the mtsim source tree.

    With '-dirty' if it has changes; None outside git.

    Runs git with ``--no-optional-locks`` (and ``GIT_OPTIONAL_LOCKS=0``): reading the
    state never creates ``.git/index.lock``, so a manifest write cannot get in the
    way of a ``git commit`` in the same checkout.
    """
    where = start or Path(__file__).resolve().parents[2]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        commit = subprocess.run(
            ["git", "--no-optional-locks", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            env=env,
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            env=env,
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
    """Build the manifest of a result folder.

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
