"""Whether a result folder holds the study of an experiment file (light: JSON and the schema).

``mtsim sweep --resume`` continues a sweep only into a folder made from the same
study: the experiment's spec stored in the folder's ``study.json`` must equal the
file's, apart from :data:`FREE_SPEC_KEYS`. This module reads ``study.json`` with the
standard library and compares the specs with the experiment schema alone, so the
command refuses a changed file in a moment, before NumPy's tables, pandas, PyArrow or
the model are imported (``model.workflows.sweep`` checks the same again, with the
design table, once it runs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model.errors import UserError
from model.yamlio import describe_value

FREE_SPEC_KEYS = ("name", "description", "base")
"""Keys of an experiment file that may change between a sweep and its ``--resume``.

(The base scenario's content is checked through the design table's run ids.)"""

SHOWN_CHANGES = 3
"""Changes named in the one line that refuses a resume."""

STUDY_FILE = "study.json"
"""The file of a result folder that describes its study."""

DESIGN_FILE = "design.parquet"
"""The file of a result folder that holds its design table (a sweep exists when it does)."""


class StoreError(UserError):
    """A result folder that cannot be used as asked (wrong study, not a store, ...)."""


def read_study(root: str | Path) -> dict[str, Any]:
    """Read a result folder's study description (``study.json``).

    Raises:
        StoreError: it is missing, cannot be read or is not a study description.
    """
    path = Path(root) / STUDY_FILE
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        raise StoreError(f"{path}: cannot be read ({reason})") from None
    if not isinstance(study, dict) or not isinstance(study.get("spec"), dict):
        raise StoreError(f"{path}: not a study description")
    return study


def read_spec(experiment_path: str | Path) -> Any:
    """Read an experiment file's spec alone (no design); None when it is invalid.

    ``load_experiment`` then reports the file's problems.
    """
    from model.experiment.spec import ExperimentError, ExperimentSpec
    from model.yamlio import read_yaml_mapping

    try:
        return ExperimentSpec.model_validate(
            read_yaml_mapping(experiment_path, "experiment", ExperimentError)
        )
    except ValueError:  # pydantic's ValidationError
        return None


def spec_data(spec: Any) -> dict[str, Any]:
    """Return a spec as plain JSON data, a stored one with the defaults of today's schema.

    (A study stored by an earlier mtsim lacks the fields added since; a stored spec
    that today's schema refuses is compared as it is.)
    """
    from model.experiment.spec import ExperimentSpec

    if isinstance(spec, dict):
        try:
            spec = ExperimentSpec.model_validate(spec)
        except ValueError:
            return spec
    return json.loads(json.dumps(spec.model_dump(mode="json")))


def differences(old: Any, new: Any, path: str) -> list[str]:
    """List ``path old -> new`` for each value that differs, descending into mappings and lists."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in [*new, *(k for k in old if k not in new)]:
            found += differences(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found += differences(a, b, f"{path}.{i}")
        return found
    if old == new:
        return []
    return [f"{path} {describe_value(old, 30)} -> {describe_value(new, 30)}"]


def check_same_study(root: str | Path, experiment_path: str | Path, spec: Any = None) -> None:
    """Refuse to resume a sweep whose stored study differs from the experiment file's.

    Args:
        root: the result folder (nothing is checked unless it holds a sweep).
        experiment_path: the experiment file.
        spec: its ``ExperimentSpec``, when already read.

    Raises:
        StoreError: the stored study cannot be read, or the spec changed (named in one line).
    """
    root = Path(root)
    try:
        if not (root / DESIGN_FILE).exists():
            return
    except OSError:  # the sweep says why
        return
    stored = read_study(root)
    spec = spec if spec is not None else read_spec(experiment_path)
    if spec is None:  # an invalid file: load_experiment says why
        return
    current, before = spec_data(spec), spec_data(stored["spec"])
    changes = [
        change
        for key in dict.fromkeys([*current, *before])
        if key not in FREE_SPEC_KEYS
        for change in differences(before.get(key), current.get(key), key)
    ]
    if changes:
        more = len(changes) - SHOWN_CHANGES
        shown = "; ".join(changes[:SHOWN_CHANGES]) + (f"; and {more} more" if more > 0 else "")
        raise StoreError(
            f"{root}: holds a different study than {experiment_path} (changed: {shown}); "
            "use a new --out folder, or the experiment file this folder was made with"
        )


__all__ = [
    "FREE_SPEC_KEYS",
    "StoreError",
    "check_same_study",
    "differences",
    "read_spec",
    "read_study",
    "spec_data",
]
