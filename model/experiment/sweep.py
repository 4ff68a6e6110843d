"""A sweep's runs: the design table (one row per run) and each design point's scenario.

Run r of a study is replication ``r % R`` of design point ``r // R`` (R
replications). Its seed is ``design.run_seed(master, point, replication)``, a
pure function of the master seed and the run's index, so the stored tables are
the same with one worker, many workers or a cluster, and whatever the order in
which runs finish. Its ``run_id`` hashes its resolved scenario with its seed.
Running the design into a result store is ``model.workflows.sweep.run_sweep``
(``mtsim sweep``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.experiment.design import run_seed
from model.experiment.spec import Experiment, _overlay, _value_at
from model.experiment.store import ID_COLUMNS


class PointScenarios(Sequence):
    """The resolved scenario of each design point, built when asked for (not held in memory).

    ``scenarios[point]`` is ``experiment.scenario_at(point).resolved()``; the last
    few are cached, since replications of a point run one after the other.
    """

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self._cache: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.experiment.design)

    def __getitem__(self, point):  # type: ignore[override]
        if isinstance(point, slice):
            return [self[i] for i in range(*point.indices(len(self)))]
        point = int(point)
        if point < 0:
            point += len(self)
        if not 0 <= point < len(self):
            raise IndexError(point)
        found = self._cache.get(point)
        if found is None:
            found = self.experiment.scenario_at(point).resolved()
            if len(self._cache) >= 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[point] = found
        return found


DESIGN_WARN_RUNS = 100_000
"""Above this many runs, ``mtsim sweep`` warns with an estimate before it starts."""

DESIGN_SECONDS_PER_POINT = 3e-4
"""Measured cost of preparing one design point (checking its scenario, hashing its runs).

Measured on a 2-core VM shared with other work; see docs/robustness.md.
"""


def build_design_table(
    experiment: Experiment, progress: bool = False
) -> tuple[pd.DataFrame, PointScenarios]:
    """Expand design points into runs: the design table and each point's resolved scenario.

    Every design point's scenario is validated once and serialised once; the run
    ids of its replications hash that text with each seed. The table itself is
    built column by column with NumPy.

    Args:
        experiment: the loaded study.
        progress: show a progress bar while the points are checked (large designs).

    Returns:
        (design table with ID_COLUMNS then one column per parameter, resolved scenario
        of each design point, built on demand)
    """
    from tqdm.auto import tqdm

    spec = experiment.spec
    reps = spec.replications
    common = spec.seeds == "common"
    points = experiment.design.points
    n_points = len(points)
    point_index = np.repeat(np.arange(n_points, dtype=np.int64), reps)
    replication = np.tile(np.arange(reps, dtype=np.int64), n_points)
    if common:
        per_rep = [run_seed(spec.seed, 0, r, common=True) for r in range(reps)]
        seeds = np.tile(np.asarray(per_rep, dtype=np.int64), n_points)
    else:
        seeds = np.fromiter(
            (run_seed(spec.seed, p, r, common=False) for p in range(n_points) for r in range(reps)),
            dtype=np.int64,
            count=n_points * reps,
        )
    run_ids_: list[str] = []
    bar = tqdm(
        total=n_points,
        desc="checking design points",
        unit="point",
        disable=not progress or n_points < 2000,
        delay=1.0,
    )
    texts = _ScenarioTexts(experiment)
    try:
        for point in range(n_points):
            prefix = b'{"scenario":' + texts.text(point) + b',"seed":'
            for seed in seeds[point * reps : (point + 1) * reps].tolist():
                run_ids_.append(hashlib.sha256(prefix + b"%d}" % seed).hexdigest()[:16])
            bar.update(1)
    finally:
        bar.close()
    ids = pd.DataFrame(
        {
            "run": np.arange(n_points * reps, dtype=np.int64),
            "point": point_index,
            "replication": replication,
            "seed": seeds,
            "run_id": pd.Series(run_ids_, dtype=object),
        },
        columns=list(ID_COLUMNS),
    )
    params = points.drop(columns="point").iloc[point_index].reset_index(drop=True)
    return pd.concat([ids, params], axis=1), PointScenarios(experiment)


class _ScenarioTexts:
    """The canonical JSON text of each design point's resolved scenario (as ``run_id`` hashes it).

    Every point's scenario is validated. Its text is then assembled from a template
    (the resolved base with a placeholder at each parameter's path) and the
    point's resolved values at those paths, instead of serialising the whole
    scenario again. The first points are also serialised in full and compared;
    if the two ever differ (a validator that changes other keys), every point is
    serialised in full.
    """

    CHECKED_POINTS = 32

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self.paths = [p.path for p in experiment.parameters]
        self.pieces: list[str] | None = None
        self.order: list[int] = []
        self.exact = True

    def _template(self, resolved: dict[str, Any]) -> None:
        marks = {path: f"\x00mtsim-parameter-{i}\x00" for i, path in enumerate(self.paths)}
        try:
            data = _overlay(resolved, marks)
        except (KeyError, IndexError, ValueError, TypeError):
            self.exact = False
            return
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        parts = re.split(r'"\\u0000mtsim-parameter-(\d+)\\u0000"', text)
        self.pieces = parts[0::2]
        self.order = [int(i) for i in parts[1::2]]
        if sorted(self.order) != list(range(len(self.paths))):
            self.exact = False

    def text(self, point: int) -> bytes:
        """Return the JSON text (UTF-8) of design point ``point``'s resolved scenario."""
        resolved = self.experiment.scenario_at(point).resolved()
        if self.pieces is None and self.exact:
            self._template(resolved)
        full = None
        if not self.exact or point < self.CHECKED_POINTS:
            full = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
            if not self.exact:
                return full.encode()
        values = [_value_at(resolved, path) for path in self.paths]
        assert self.pieces is not None
        out = [self.pieces[0]]
        for index, piece in zip(self.order, self.pieces[1:], strict=True):
            out.append(json.dumps(values[index], sort_keys=True, separators=(",", ":")))
            out.append(piece)
        text = "".join(out)
        if full is not None and text != full:
            self.exact = False
            return full.encode()
        return text.encode()


def design_estimate(experiment: Experiment) -> str | None:
    """Return a warning with the cost of a very large design (None up to ``DESIGN_WARN_RUNS``)."""
    runs = experiment.n_runs
    if runs <= DESIGN_WARN_RUNS:
        return None
    points = len(experiment.design)
    prepare = points * DESIGN_SECONDS_PER_POINT
    # a summary part measured 15.5 kB (Parquet metadata of ~50 columns dominates)
    per_run_bytes = 16_000
    if experiment.spec.outcomes != "summary":
        per_run_bytes += 200 * experiment.steps
    design_bytes = runs * 200
    return (
        f"{runs:,} runs ({points:,} design points x {experiment.spec.replications} "
        f"replications): checking the design takes about {_duration(prepare)} before the "
        f"first run; the design table needs about {_size(design_bytes)} and the results "
        f"about {_size(runs * per_run_bytes)} on disk (one file per run)"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _size(count: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}"
        count /= 1000
    return f"{count:.0f} TB"
