"""The validation log: every scoring of a hold-out forecast, appended by the code that scores it.

A hold-out score means something only the first time the forecast meets the held-out
data. Each later scoring after a change of the model is a look at the answer; the log
keeps them all so that nobody (including us) can report the best of several looks as
the forecast's skill.

``mtsim calibrate --holdout --note "what changed"`` appends one row per series and
method of its out-of-sample table (the model's predictive mean and point estimate and
every baseline) to the calibration file's ``holdout.log`` (experiments/calibrate_cnnic.yaml
writes docs/validation_log.csv). Every row of one scoring carries:

========================  ==========================================================
column                    meaning
========================  ==========================================================
``date``                  when it was scored (UTC, ISO 8601)
``commit``                the repository's commit (``-dirty`` with uncommitted changes;
                          ``unknown`` outside git)
``scoring``               1, 2, ...: the how-many-th scoring of this calibration in the log
``status``                ``development`` (the specification was not frozen:
                          ``holdout.frozen`` unset or later), ``headline`` (the first
                          scoring on or after the freeze: the number to report) or
                          ``later`` (any scoring after the headline: label it as such)
``what_changed``          the ``--note``
``calibration``           the calibration's name, ``fit_until`` and the events switched
                          off after the cut
``series``, ``method``    as in ``out_of_sample.csv``
``observations``          held-out observations scored
``rmse_points``           RMSE, points
``coverage_50``, ``coverage_90``  share of held-out observations inside the 50% / 90% band
``source``                ``mtsim calibrate`` for rows the code wrote; rows reconstructed
                          from the history before the log existed say where they come from
========================  ==========================================================

The file is rewritten atomically (the old rows and the new ones), so an interrupted
write leaves the log as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

COLUMNS: tuple[str, ...] = (
    "date",
    "commit",
    "scoring",
    "status",
    "what_changed",
    "calibration",
    "series",
    "method",
    "observations",
    "rmse_points",
    "coverage_50",
    "coverage_90",
    "source",
)
"""The log's columns, in order."""

STATUSES = ("development", "headline", "later", "audit")
"""Row statuses: ``audit`` marks scorings by a reviewer reconstructed from an audit."""


def read_log(path: Path) -> list[dict[str, str]]:
    """Return the log's rows (none when the file does not exist)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def repository_commit(where: Path) -> str:
    """Return the git commit of the repository holding ``where`` (``unknown`` outside git).

    ``model.experiment.manifest.git_commit``: the full hash, ``-dirty`` with changes.
    """
    from model.experiment.manifest import git_commit

    return git_commit(where if where.is_dir() else where.parent) or "unknown"


def next_status(
    rows: Iterable[Mapping[str, str]], calibration: str, frozen: dt.date | None, today: dt.date
) -> str:
    """Return the status of a new scoring of ``calibration`` (see the module docstring)."""
    if frozen is None or today < frozen:
        return "development"
    mine = [r for r in rows if r.get("calibration", "").split(";")[0] == calibration]
    if any(r.get("status") in ("headline", "later") for r in mine):
        return "later"
    return "headline"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.4f}"
    return str(value)


def append_scoring(
    path: Path,
    table: Iterable[Mapping[str, Any]],
    *,
    calibration: str,
    what_changed: str,
    frozen: dt.date | None,
    commit: str,
    now: dt.datetime | None = None,
) -> tuple[int, str]:
    """Append one scoring (the rows of an out-of-sample table) to the log.

    Args:
        path: the log (CSV; created with its header when missing).
        table: rows with ``series``, ``method``, ``observations``, ``rmse_points``,
            ``coverage_50``, ``coverage_90``.
        calibration: the calibration's name first, then ``;``-separated details.
        what_changed: what changed since the last scoring (``--note``).
        frozen: the date the specification was frozen (``holdout.frozen``).
        commit: the repository's commit (:func:`repository_commit`).
        now: the time of scoring (default: now, UTC).

    Returns:
        The scoring's number and status.
    """
    from model.atomic_files import write_bytes_atomic

    now = now or dt.datetime.now(dt.UTC)
    rows = read_log(path)
    name = calibration.split(";")[0]
    mine = {r.get("scoring") for r in rows if r.get("calibration", "").split(";")[0] == name}
    scoring = len(mine) + 1
    status = next_status(rows, name, frozen, now.date())
    for r in table:
        rows.append(
            {
                "date": now.replace(microsecond=0).isoformat(),
                "commit": commit,
                "scoring": str(scoring),
                "status": status,
                "what_changed": what_changed,
                "calibration": calibration,
                "series": _cell(r.get("series")),
                "method": _cell(r.get("method")),
                "observations": _cell(r.get("observations")),
                "rmse_points": _cell(r.get("rmse_points")),
                "coverage_50": _cell(r.get("coverage_50")),
                "coverage_90": _cell(r.get("coverage_90")),
                "source": "mtsim calibrate",
            }
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue().encode("utf-8"))
    return scoring, status


__all__ = [
    "COLUMNS",
    "STATUSES",
    "append_scoring",
    "next_status",
    "read_log",
    "repository_commit",
]
