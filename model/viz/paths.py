"""Where the page finds its scenarios; light (no Solara, no model), so ``mtsim viz`` checks fast.

Environment variables (set by ``mtsim viz``):
    MTSIM_VIZ_SCENARIO: the scenario shown first (default ``baseline.yaml``).
    MTSIM_VIZ_SCENARIO_DIR: the folder the picker lists (default: the project's
        ``scenarios/``).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_SCENARIO = "MTSIM_VIZ_SCENARIO"
ENV_SCENARIO_DIR = "MTSIM_VIZ_SCENARIO_DIR"
DEFAULT_SCENARIO = "baseline.yaml"


def scenario_dir() -> Path:
    """Return the folder the scenario picker lists (``MTSIM_VIZ_SCENARIO_DIR`` or scenarios/)."""
    env = os.environ.get(ENV_SCENARIO_DIR)
    if env:
        return Path(env)
    project = Path(__file__).resolve().parents[2] / "scenarios"
    if project.is_dir():
        return project
    return Path.cwd() / "scenarios"


def resolve_scenario(choice: str, folder: Path | None = None) -> Path:
    """Return the file of a picker choice: a name in ``folder`` (or scenario_dir()), or a path."""
    path = Path(choice)
    if path.is_absolute() or path.parent != Path("."):
        return path
    return (folder or scenario_dir()) / choice


def picker_choice(scenario: str | os.PathLike | None, folder: Path | None = None) -> str:
    """Return the picker value for a scenario: its name when it lives in the folder, else its path.

    Args:
        scenario: a scenario file (path), a name in the folder, or None for
            ``MTSIM_VIZ_SCENARIO`` (default ``baseline.yaml``).
        folder: the picker's folder (default :func:`scenario_dir`).
    """
    if scenario is None:
        scenario = os.environ.get(ENV_SCENARIO) or DEFAULT_SCENARIO
    text = os.fspath(scenario)
    path = Path(text)
    if not path.is_absolute() and path.parent == Path("."):
        return text
    folder = (folder or scenario_dir()).resolve()
    path = path.resolve()
    return path.name if path.parent == folder else str(path)


def initial_scenario() -> str:
    """Return the picker choice shown first (``MTSIM_VIZ_SCENARIO`` or ``baseline.yaml``)."""
    return picker_choice(None)
