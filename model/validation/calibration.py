"""``mtsim calibrate CALIBRATION.yaml``: fit scenario parameters to an observed time series.

A calibration file names a base scenario, the parameters to fit (dotted scenario
paths with bounds), an observed series (a CSV with a date column and a value
column), the model metric it corresponds to, and how dates map to model steps
(the date of step 0 and the days per step). The fit minimises the root mean
square error (RMSE) between the observed values and the mean of the simulated
metric over a fixed set of replications, at the steps the observation dates
map to.

Common random numbers: every evaluation runs replications with the *same*
seeds (``seed``, ``seed + 1``, ...), so the objective is a deterministic
function of the parameters and differences between parameter points are not
drowned in seed noise. After the fit, the best point is re-run with fresh
seeds (``seed + 100000 + i``) to show the fit does not hinge on those seeds.

Optimisers (``optimiser.method``), all with a hard budget of model evaluations
(one evaluation = one parameter point = ``replications`` runs; repeated points
are served from a cache and not counted twice). Parameters are searched on
the unit cube (linear, or logarithmic with ``log: true``):

- ``lhs_nelder_mead`` (default): a seeded Latin hypercube of ``initial_points``
  points, then Nelder-Mead (bounded) from the best of them with the rest of
  the budget.
- ``differential_evolution``: ``scipy.optimize.differential_evolution``
  (seeded, Latin hypercube initial population of ``popsize`` x dimensions,
  no gradient polish), stopped at the budget.
- ``nelder_mead``: Nelder-Mead from the middle of the box (or ``start``).

Hold-out mode (``--holdout``): fit only on observations dated up to
``holdout.fit_until`` and report the prediction error (RMSE) on the later ones.

Outputs (in ``output`` or ``--out``): ``calibration.json`` (fitted values, RMSE,
per-observation table, every evaluation, manifest), ``evaluations.csv``,
``simulated.csv`` (mean and replication range per step), ``fit.png`` (observed
against simulated with the band) and ``fitted_scenario.yaml`` (``extends:`` the
base scenario, with the fixed overrides and the fitted values).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.errors import UserError

# --------------------------------------------------------------------------- configuration


class CalibrationError(UserError, ValueError):
    """A calibration file or option that cannot be used, with a one-line reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterBounds(_Strict):
    """Search range of one fitted parameter.

    Attributes:
        low: lower bound.
        high: upper bound (> low).
        log: search on a logarithmic scale (needs low > 0); good for rates spanning decades.
        start: starting value for ``nelder_mead`` (default: the middle of the range).
    """

    low: float
    high: float
    log: bool = False
    start: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParameterBounds:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"log: true needs low > 0 (got low={self.low})")
        if self.start is not None and not self.low <= self.start <= self.high:
            raise ValueError(f"start ({self.start}) must lie within [{self.low}, {self.high}]")
        return self


class Observed(_Strict):
    """The observed series.

    Attributes:
        path: CSV file (relative to the calibration file).
        date_column: column of dates (ISO ``YYYY-MM-DD``).
        value_column: column of observed values.
        scale: multiply observed values by this (e.g. 0.01 for percentages).
    """

    path: str
    date_column: str = "date"
    value_column: str
    scale: Annotated[float, Field(gt=0)] = 1.0


class TimeMapping(_Strict):
    """How observation dates map to model steps: ``step = round((date - origin) / days_per_step)``.

    Attributes:
        origin: date of step 0 (the model's initial state).
        days_per_step: days per model step (7: a step is a week).
    """

    origin: dt.date
    days_per_step: Annotated[float, Field(gt=0)] = 7.0


class Window(_Strict):
    """A date window (both ends inclusive; missing end: open).

    Attributes:
        start: first date used.
        end: last date used.
    """

    start: dt.date | None = None
    end: dt.date | None = None


class Holdout(_Strict):
    """Hold-out mode (``--holdout``).

    Attributes:
        fit_until: fit on observations dated up to this day; predict the later ones.
    """

    fit_until: dt.date


class Optimiser(_Strict):
    """The optimiser and its budget.

    Attributes:
        method: ``lhs_nelder_mead``, ``differential_evolution`` or ``nelder_mead``.
        budget: maximum number of distinct parameter points evaluated.
        initial_points: Latin hypercube points before the local search (lhs_nelder_mead;
            default: a third of the budget, at least dimensions + 1).
        popsize: differential evolution population per dimension.
        seed: seed of the optimiser's own randomness (sampling, mutation).
    """

    method: Literal["lhs_nelder_mead", "differential_evolution", "nelder_mead"] = "lhs_nelder_mead"
    budget: Annotated[int, Field(ge=1, le=100_000)] = 60
    initial_points: Annotated[int, Field(ge=1)] | None = None
    popsize: Annotated[int, Field(ge=2, le=100)] = 5
    seed: Annotated[int, Field(ge=0)] = 0


class CalibrationConfig(_Strict):
    """A calibration file (see the module docstring).

    Attributes:
        name: identifier used in outputs.
        description: what is fitted to what.
        scenario: base scenario file (relative to the calibration file).
        overrides: fixed ``dotted.path: value`` changes to the base scenario for every run.
        observed: the observed series.
        metric: run-table column compared with the observations.
        denominator: optional run-table column; the simulated value is metric / denominator.
        time: date-to-step mapping.
        fit: window of observations used for the fit (all by default).
        holdout: hold-out mode settings.
        parameters: dotted scenario path -> search bounds.
        optimiser: method and budget.
        replications: runs per evaluation (the same seeds at every evaluation).
        seed: seed of replication 0 (replication i uses seed + i).
        workers: processes running replications in parallel (1: in this process).
        output: output folder (relative to the calibration file).
    """

    name: str = "calibration"
    description: str = ""
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    observed: Observed
    metric: str
    denominator: str | None = None
    time: TimeMapping
    fit: Window = Window()
    holdout: Holdout | None = None
    parameters: dict[str, ParameterBounds]
    optimiser: Optimiser = Optimiser()
    replications: Annotated[int, Field(ge=1, le=10_000)] = 4
    seed: Annotated[int, Field(ge=0)] = 0
    workers: Annotated[int, Field(ge=1, le=1024)] = 1
    output: str = "results/calibration"

    @field_validator("parameters")
    @classmethod
    def _some_parameters(cls, value: dict[str, ParameterBounds]) -> dict[str, ParameterBounds]:
        if not value:
            raise ValueError("name at least one parameter to fit")
        return value


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required key is missing"
        value = err.get("input")
        shown = ""
        if kind not in ("missing", "extra_forbidden") and not isinstance(value, dict):
            text = repr(value)
            shown = f" {text if len(text) <= 60 else text[:57] + '...'}:"
        lines.append(f"{source}: {loc or '(top level)'}:{shown} {msg}")
    return "\n".join(dict.fromkeys(lines))


@dataclass
class Calibration:
    """A loaded, checked calibration: the config plus what it refers to.

    Attributes:
        config: the validated calibration file.
        source: the calibration file.
        base_data: the base scenario's merged data (``extends`` resolved, overrides applied).
        scenario_path: the base scenario file.
        observations: table with columns date, step, observed.
        steps: number of steps to simulate (up to the last observation).
        output: output folder.
    """

    config: CalibrationConfig
    source: Path
    base_data: dict[str, Any]
    scenario_path: Path
    observations: pd.DataFrame
    steps: int
    output: Path

    @property
    def parameter_names(self) -> list[str]:
        """The fitted parameters' dotted paths, in order."""
        return list(self.config.parameters)

    def seeds(self, fresh: bool = False) -> list[int]:
        """Replication seeds: the fit seeds, or fresh ones for the out-of-sample re-run."""
        offset = 100_000 if fresh else 0
        return [self.config.seed + offset + i for i in range(self.config.replications)]

    def to_values(self, unit: np.ndarray) -> dict[str, float]:
        """Map a point of the unit cube to parameter values."""
        out = {}
        for u, (name, b) in zip(
            np.clip(unit, 0.0, 1.0), self.config.parameters.items(), strict=True
        ):
            if b.log:
                value = math.exp(math.log(b.low) + float(u) * (math.log(b.high) - math.log(b.low)))
            else:
                value = b.low + float(u) * (b.high - b.low)
            out[name] = float(min(max(value, b.low), b.high))
        return out

    def to_unit(self, values: Mapping[str, float]) -> np.ndarray:
        """Map parameter values to the unit cube."""
        out = []
        for name, b in self.config.parameters.items():
            v = float(values[name])
            if b.log:
                out.append((math.log(v) - math.log(b.low)) / (math.log(b.high) - math.log(b.low)))
            else:
                out.append((v - b.low) / (b.high - b.low))
        return np.clip(np.array(out, dtype=float), 0.0, 1.0)

    def scenario_data(self, values: Mapping[str, float]) -> dict[str, Any]:
        """Return the base scenario data with the parameter values set (not yet validated)."""
        from model.scenario import apply_overrides

        return apply_overrides(self.base_data, dict(values), source=str(self.source))

    def resolved_scenario(self, values: Mapping[str, float]) -> dict[str, Any]:
        """Validate and resolve the scenario for these parameter values."""
        from model.scenario import ScenarioError, scenario_from_dict

        try:
            scenario = scenario_from_dict(
                self.scenario_data(values), source=str(self.scenario_path)
            )
        except ScenarioError as exc:
            raise CalibrationError(f"{self.source}: parameters: {exc}") from None
        return scenario.resolved()

    def fit_mask(self, holdout: bool) -> np.ndarray:
        """Which observations the fit uses."""
        dates = self.observations["date"]
        mask = np.ones(len(dates), dtype=bool)
        if self.config.fit.start is not None:
            mask &= (dates >= pd.Timestamp(self.config.fit.start)).to_numpy()
        if self.config.fit.end is not None:
            mask &= (dates <= pd.Timestamp(self.config.fit.end)).to_numpy()
        if holdout:
            assert self.config.holdout is not None
            mask &= (dates <= pd.Timestamp(self.config.holdout.fit_until)).to_numpy()
        return mask

    def predict_mask(self, holdout: bool) -> np.ndarray:
        """Observations predicted, not fitted (hold-out mode: those after ``fit_until``)."""
        if not holdout:
            return np.zeros(len(self.observations), dtype=bool)
        assert self.config.holdout is not None
        return (self.observations["date"] > pd.Timestamp(self.config.holdout.fit_until)).to_numpy()


def _read_config_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CalibrationError(f"{path}: file not found")
    if path.is_dir():
        raise CalibrationError(f"{path}: is a folder, not a calibration file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CalibrationError(f"{path}: invalid YAML{where}: {problem}") from None
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: the top level must be a mapping of keys")
    return data


def _relative(base: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else Path(os.path.normpath(base.parent / p))


def load_calibration(path: str | Path, holdout: bool = False) -> Calibration:
    """Read, validate and cross-check a calibration file.

    Checks the base scenario (with the fixed overrides and with every parameter at
    both bounds), the observed CSV (file, columns, dates, numbers), the date
    mapping (no observation before step 0) and the fit and hold-out windows.

    Raises:
        CalibrationError: one line per problem, naming the file and the key.
    """
    from model.scenario import (
        ScenarioError,
        apply_overrides,
        read_scenario_data,
        scenario_from_dict,
    )

    source = Path(path)
    raw = _read_config_yaml(source)
    try:
        config = CalibrationConfig.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationError(_format_errors(exc, str(source))) from None

    scenario_path = _relative(source, config.scenario)
    if not scenario_path.exists():
        raise CalibrationError(
            f"{source}: scenario: {config.scenario!r}: file not found ({scenario_path})"
        )
    base = read_scenario_data(scenario_path)
    base.setdefault("name", scenario_path.stem)
    if config.overrides:
        base = apply_overrides(base, config.overrides, source=f"{source}: overrides")
    try:
        resolved = scenario_from_dict(base, source=f"{source}: overrides").resolved()
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None

    for name, bounds in config.parameters.items():
        node: Any = resolved
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                raise CalibrationError(
                    f"{source}: parameters.{name}: not a key of the scenario "
                    f"(use a dotted path such as payment.peer_influence)"
                )
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise CalibrationError(f"{source}: parameters.{name}: is not a number in the scenario")
        for end in ("low", "high"):
            value = getattr(bounds, end)
            try:
                scenario_from_dict(apply_overrides(base, {name: value}), source="<bounds>")
            except ScenarioError as exc:
                reason = str(exc).splitlines()[0].split(": ", 1)[-1]
                raise CalibrationError(
                    f"{source}: parameters.{name}.{end}: {value}: "
                    f"the scenario rejects it ({reason})"
                ) from None

    from model.metrics import REPORTERS

    for key in ("metric", "denominator"):
        column = getattr(config, key)
        if column is not None and column not in REPORTERS:
            raise CalibrationError(
                f"{source}: {key}: {column!r}: not a metric of the run table "
                f"(allowed: {', '.join(REPORTERS)})"
            )

    observations = _read_observed(source, config)
    cal = Calibration(
        config=config,
        source=source,
        base_data=base,
        scenario_path=scenario_path,
        observations=observations,
        steps=max(1, int(observations["step"].max())),
        output=_relative(source, config.output),
    )
    if not cal.fit_mask(holdout=False).any():
        raise CalibrationError(f"{source}: fit: no observation falls in the fit window")
    if holdout:
        if config.holdout is None:
            raise CalibrationError(
                f"{source}: holdout: --holdout needs a 'holdout: {{fit_until: DATE}}' section"
            )
        if not cal.fit_mask(True).any():
            raise CalibrationError(
                f"{source}: holdout.fit_until: {config.holdout.fit_until}: no observation to fit on"
            )
        if not cal.predict_mask(True).any():
            raise CalibrationError(
                f"{source}: holdout.fit_until: {config.holdout.fit_until}: "
                "no later observation to predict"
            )
    return cal


def _read_observed(source: Path, config: CalibrationConfig) -> pd.DataFrame:
    obs = config.observed
    csv = _relative(source, obs.path)
    if not csv.exists():
        raise CalibrationError(f"{source}: observed.path: {obs.path!r}: file not found ({csv})")
    try:
        table = pd.read_csv(csv)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CalibrationError(f"{csv}: cannot read as CSV ({first})") from None
    for key, column in (("date_column", obs.date_column), ("value_column", obs.value_column)):
        if column not in table.columns:
            raise CalibrationError(
                f"{source}: observed.{key}: {column!r}: no such column in {csv.name} "
                f"(columns: {', '.join(map(str, table.columns))})"
            )
    dates = pd.to_datetime(table[obs.date_column], errors="coerce", format="ISO8601")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise CalibrationError(
            f"{csv}: row {row + 2}: {obs.date_column}: {table[obs.date_column].iloc[row]!r}: "
            "not a date (use YYYY-MM-DD)"
        )
    values = pd.to_numeric(table[obs.value_column], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise CalibrationError(
            f"{csv}: row {row + 2}: {obs.value_column}: {table[obs.value_column].iloc[row]!r}: "
            "not a number"
        )
    origin = pd.Timestamp(config.time.origin)
    days = (dates - origin).dt.days.to_numpy(dtype=float)
    if (days < 0).any():
        row = int(np.flatnonzero(days < 0)[0])
        raise CalibrationError(
            f"{source}: time.origin: {config.time.origin}: observation dated "
            f"{dates.iloc[row].date()} comes before step 0"
        )
    steps = np.rint(days / config.time.days_per_step).astype(int)
    out = pd.DataFrame(
        {"date": dates, "step": steps, "observed": values.to_numpy(dtype=float) * obs.scale}
    )
    return out.sort_values("date", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- simulation


def simulated_metric(table: pd.DataFrame, metric: str, denominator: str | None) -> np.ndarray:
    """Return the simulated series to compare with the observations: a column or a ratio."""
    for column in (metric, denominator):
        if column is not None and column not in table.columns:
            raise CalibrationError(
                f"metric: {column!r}: not a column of the run table "
                f"(columns: {', '.join(c for c in table.columns if c != 'step')})"
            )
    values = table[metric].to_numpy(dtype=float)
    if denominator is None:
        return values
    denom = table[denominator].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, values / np.where(denom > 0, denom, 1.0), np.nan)


@dataclass
class Evaluation:
    """One evaluated parameter point.

    Attributes:
        index: evaluation number (0-based).
        values: parameter values.
        rmse: RMSE on the fitted observations.
        series: simulated metric, replications x (steps + 1).
    """

    index: int
    values: dict[str, float]
    rmse: float
    series: np.ndarray = field(repr=False)


class _BudgetExhausted(Exception):
    pass


class Objective:
    """The calibration objective with common random numbers, a cache and a budget.

    Attributes:
        calibration: the loaded calibration.
        fit_mask: observations used in the RMSE.
        budget: maximum number of distinct points.
        history: every evaluation, in order.
    """

    def __init__(
        self,
        calibration: Calibration,
        fit_mask: np.ndarray,
        budget: int,
        executor: Executor | None = None,
        progress: Callable[[Evaluation, Evaluation], None] | None = None,
    ) -> None:
        self.calibration = calibration
        self.fit_mask = fit_mask
        self.budget = budget
        self.history: list[Evaluation] = []
        self._cache: dict[tuple[float, ...], float] = {}
        self._executor = executor
        self._progress = progress
        self._observed = calibration.observations["observed"].to_numpy(dtype=float)
        self._steps = calibration.observations["step"].to_numpy(dtype=int)

    @property
    def best(self) -> Evaluation:
        """The evaluation with the lowest RMSE so far."""
        return min(self.history, key=lambda e: (e.rmse, e.index))

    def simulate(self, values: Mapping[str, float], seeds: Sequence[int]) -> np.ndarray:
        """Run the replications at a parameter point: array replications x (steps + 1)."""
        from model.experiment.runner import RunTask, run_tasks

        resolved = self.calibration.resolved_scenario(values)
        tasks = [
            RunTask(key=str(i), scenario=resolved, seed=int(s), steps=self.calibration.steps)
            for i, s in enumerate(seeds)
        ]
        out = np.full((len(seeds), self.calibration.steps + 1), np.nan)
        cfg = self.calibration.config
        for result in run_tasks(tasks, executor=self._executor, workers=1, progress=False):
            if not result.ok or result.table is None:
                raise CalibrationError(
                    f"{self.calibration.source}: run with {values} (seed {result.seed}) failed: "
                    f"{result.error}"
                )
            out[int(result.key)] = simulated_metric(result.table, cfg.metric, cfg.denominator)
        return out

    def rmse(self, series: np.ndarray, mask: np.ndarray) -> float:
        """RMSE between the replication mean and the observations selected by ``mask``."""
        if not mask.any():
            return float("nan")
        mean = np.nanmean(series, axis=0)[self._steps[mask]]
        err = mean - self._observed[mask]
        if np.isnan(err).any():
            return float("inf")
        return float(np.sqrt(np.mean(err**2)))

    def __call__(self, unit: np.ndarray) -> float:
        """Objective value at a point of the unit cube."""
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        key = tuple(np.round(unit, 12))
        if key in self._cache:
            return self._cache[key]
        if len(self.history) >= self.budget:
            raise _BudgetExhausted
        values = self.calibration.to_values(unit)
        series = self.simulate(values, self.calibration.seeds())
        value = self.rmse(series, self.fit_mask)
        evaluation = Evaluation(len(self.history), values, value, series)
        self.history.append(evaluation)
        self._cache[key] = value
        if self._progress is not None:
            self._progress(evaluation, self.best)
        return value


def optimise(objective: Objective, config: Optimiser, calibration: Calibration) -> None:
    """Minimise the objective within its budget; results are in ``objective.history``."""
    from scipy import optimize
    from scipy.stats import qmc

    dim = len(calibration.parameter_names)
    bounds = [(0.0, 1.0)] * dim
    try:
        if config.method == "differential_evolution":
            optimize.differential_evolution(
                objective,
                bounds,
                popsize=config.popsize,
                maxiter=100_000,
                tol=0.0,
                atol=0.0,
                seed=config.seed,
                init="latinhypercube",
                polish=False,
                updating="immediate",
            )
        else:
            if config.method == "lhs_nelder_mead":
                n_init = config.initial_points or max(dim + 1, objective.budget // 3)
                n_init = min(n_init, objective.budget)
                sampler = qmc.LatinHypercube(d=dim, seed=config.seed)
                for point in sampler.random(n_init):
                    objective(point)
                start = calibration.to_unit(objective.best.values)
            else:
                start = calibration.to_unit(
                    {
                        name: (b.start if b.start is not None else _middle(b))
                        for name, b in calibration.config.parameters.items()
                    }
                )
            simplex = _initial_simplex(start, 0.15 if config.method == "lhs_nelder_mead" else 0.25)
            while len(objective.history) < objective.budget:
                before = len(objective.history)
                result = optimize.minimize(
                    objective,
                    start,
                    method="Nelder-Mead",
                    bounds=bounds,
                    options={
                        "initial_simplex": simplex,
                        "maxfev": 10 * objective.budget,
                        "xatol": 1e-3,
                        "fatol": 1e-6,
                    },
                )
                if len(objective.history) == before:
                    break  # converged onto cached points only
                # restart from the optimum with a smaller simplex (helps on noisy plateaus)
                start = np.clip(result.x, 0.0, 1.0)
                simplex = _initial_simplex(start, 0.05)
    except _BudgetExhausted:
        pass


def _middle(b: ParameterBounds) -> float:
    return math.sqrt(b.low * b.high) if b.log else (b.low + b.high) / 2


def _initial_simplex(start: np.ndarray, size: float) -> np.ndarray:
    dim = start.size
    simplex = np.tile(start, (dim + 1, 1))
    for i in range(dim):
        step = size if start[i] + size <= 1.0 else -size
        simplex[i + 1, i] = np.clip(start[i] + step, 0.0, 1.0)
    return simplex


# --------------------------------------------------------------------------- outputs


@dataclass
class CalibrationResult:
    """What a calibration found.

    Attributes:
        calibration: the calibration that was run.
        holdout: True in hold-out mode.
        best: the best evaluation (fit seeds).
        history: all evaluations.
        fresh_series: the best point re-run with fresh seeds.
        fit_mask: observations fitted.
        predict_mask: observations predicted (hold-out mode).
        rmse_fit: RMSE on the fitted observations (fit seeds).
        rmse_fit_fresh: RMSE on the fitted observations with fresh seeds.
        rmse_predict: RMSE on the predicted observations (fresh seeds; NaN if none).
        seconds: wall time.
    """

    calibration: Calibration
    holdout: bool
    best: Evaluation
    history: list[Evaluation]
    fresh_series: np.ndarray
    fit_mask: np.ndarray
    predict_mask: np.ndarray
    rmse_fit: float
    rmse_fit_fresh: float
    rmse_predict: float
    seconds: float

    def observation_table(self) -> pd.DataFrame:
        """Per observation: date, step, observed, simulated mean and range, role."""
        obs = self.calibration.observations
        steps = obs["step"].to_numpy()
        series = self.best.series
        table = obs.copy()
        table["date"] = table["date"].dt.strftime("%Y-%m-%d")
        table["simulated"] = np.nanmean(series, axis=0)[steps]
        table["simulated_low"] = np.nanmin(series, axis=0)[steps]
        table["simulated_high"] = np.nanmax(series, axis=0)[steps]
        table["simulated_fresh_seeds"] = np.nanmean(self.fresh_series, axis=0)[steps]
        table["role"] = np.where(
            self.fit_mask, "fit", np.where(self.predict_mask, "predict", "not fitted")
        )
        return table


def run_calibration(
    calibration: Calibration,
    holdout: bool = False,
    budget: int | None = None,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit the calibration's parameters and re-run the best point with fresh seeds.

    Args:
        calibration: from :func:`load_calibration`.
        holdout: fit only up to ``holdout.fit_until``; report the prediction error after it.
        budget: override the optimiser's budget.
        workers: override the number of worker processes.
        log: called with a progress line after each evaluation.
    """
    cfg = calibration.config
    started = time.perf_counter()
    n_workers = workers if workers is not None else cfg.workers
    fit_mask = calibration.fit_mask(holdout)
    predict_mask = calibration.predict_mask(holdout)

    def progress(evaluation: Evaluation, best: Evaluation) -> None:
        if log is None:
            return
        shown = ", ".join(f"{k}={v:.4g}" for k, v in evaluation.values.items())
        log(
            f"  eval {evaluation.index + 1:>4}: rmse {100 * evaluation.rmse:7.3f} pts"
            f"  (best {100 * best.rmse:.3f})  {shown}"
        )

    executor: Executor | None = None
    if n_workers > 1:
        executor = ProcessPoolExecutor(max_workers=n_workers)
    try:
        objective = Objective(
            calibration, fit_mask, budget or cfg.optimiser.budget, executor, progress
        )
        optimise(objective, cfg.optimiser, calibration)
        best = objective.best
        fresh = objective.simulate(best.values, calibration.seeds(fresh=True))
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return CalibrationResult(
        calibration=calibration,
        holdout=holdout,
        best=best,
        history=objective.history,
        fresh_series=fresh,
        fit_mask=fit_mask,
        predict_mask=predict_mask,
        rmse_fit=best.rmse,
        rmse_fit_fresh=objective.rmse(fresh, fit_mask),
        rmse_predict=objective.rmse(fresh, predict_mask),
        seconds=time.perf_counter() - started,
    )


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in values.items():
        node = out
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return out


def fitted_scenario_yaml(result: CalibrationResult, out_dir: Path) -> str:
    """Write a scenario file: ``extends:`` the base, with the fixed overrides and fitted values."""
    from model.scenario import deep_merge

    cal = result.calibration
    cfg = cal.config
    base_rel = os.path.relpath(cal.scenario_path.resolve(), out_dir.resolve())
    body: dict[str, Any] = {
        "extends": base_rel,
        "name": f"{cfg.name}_fitted" + ("_holdout" if result.holdout else ""),
        "description": (
            f"{cfg.description or cfg.name}: parameters fitted by mtsim calibrate "
            f"({cfg.optimiser.method}, {len(result.history)} evaluations x {cfg.replications} "
            f"replications); RMSE {100 * result.rmse_fit:.2f} share points on the fitted "
            "observations"
        ),
    }
    merged = deep_merge(_nest(dict(cfg.overrides)), _nest(result.best.values))
    body.update(merged)
    header = (
        f"# Written by `mtsim calibrate {cal.source}`"
        + (" --holdout" if result.holdout else "")
        + f" on {dt.date.today().isoformat()}.\n"
        "# Fixed overrides of the calibration and the fitted values, on top of the base scenario.\n"
    )
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def plot_fit(result: CalibrationResult, path: Path) -> None:
    """Observed points against the simulated mean with the replication range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = result.calibration
    cfg = cal.config
    steps = np.arange(cal.steps + 1)
    dates = pd.Timestamp(cfg.time.origin) + pd.to_timedelta(
        steps * cfg.time.days_per_step, unit="D"
    )
    series = result.best.series
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(
        dates,
        np.nanmin(series, axis=0),
        np.nanmax(series, axis=0),
        color="tab:blue",
        alpha=0.25,
        label=f"simulated, range of {series.shape[0]} replications",
    )
    ax.plot(dates, np.nanmean(series, axis=0), color="tab:blue", lw=2, label="simulated mean")
    ax.plot(
        dates,
        np.nanmean(result.fresh_series, axis=0),
        color="tab:blue",
        lw=1,
        ls="--",
        label="simulated mean, fresh seeds",
    )
    obs = cal.observations
    ax.plot(
        obs["date"][result.fit_mask],
        obs["observed"][result.fit_mask],
        "o",
        color="black",
        label="observed (fitted)",
    )
    if result.predict_mask.any():
        ax.plot(
            obs["date"][result.predict_mask],
            obs["observed"][result.predict_mask],
            "o",
            mfc="white",
            color="tab:red",
            label="observed (held out)",
        )
        assert cfg.holdout is not None
        ax.axvline(pd.Timestamp(cfg.holdout.fit_until), color="gray", ls=":", lw=1)
    other = ~(result.fit_mask | result.predict_mask)
    if other.any():
        ax.plot(
            obs["date"][other],
            obs["observed"][other],
            "x",
            color="gray",
            label="observed (not fitted)",
        )
    label = cfg.metric + (f" / {cfg.denominator}" if cfg.denominator else "")
    title = f"{cfg.name}: RMSE {100 * result.rmse_fit:.2f} pts (fit)"
    if result.predict_mask.any():
        title += f", {100 * result.rmse_predict:.2f} pts (hold-out)"
    ax.set_title(title)
    ax.set_ylabel(label)
    ax.set_xlabel("date")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def write_outputs(result: CalibrationResult, out_dir: Path) -> dict[str, Path]:
    """Write calibration.json, evaluations.csv, simulated.csv, fit.png, fitted_scenario.yaml."""
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_bytes_atomic,
        write_csv_atomic,
        write_json_atomic,
    )

    cal = result.calibration
    cfg = cal.config
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "calibration.json",
        "evaluations": out_dir / "evaluations.csv",
        "simulated": out_dir / "simulated.csv",
        "figure": out_dir / "fit.png",
        "scenario": out_dir / "fitted_scenario.yaml",
    }
    evaluations = pd.DataFrame(
        [{"evaluation": e.index, **e.values, "rmse": e.rmse} for e in result.history]
    )
    write_csv_atomic(paths["evaluations"], evaluations)
    steps = np.arange(cal.steps + 1)
    series = result.best.series
    simulated = pd.DataFrame(
        {
            "step": steps,
            "date": (
                pd.Timestamp(cfg.time.origin)
                + pd.to_timedelta(steps * cfg.time.days_per_step, unit="D")
            ).strftime("%Y-%m-%d"),
            "mean": np.nanmean(series, axis=0),
            "low": np.nanmin(series, axis=0),
            "high": np.nanmax(series, axis=0),
            "mean_fresh_seeds": np.nanmean(result.fresh_series, axis=0),
        }
    )
    write_csv_atomic(paths["simulated"], simulated)
    write_bytes_atomic(paths["scenario"], fitted_scenario_yaml(result, out_dir).encode())
    plot_fit(result, paths["figure"])
    fitted_resolved = cal.resolved_scenario(result.best.values)
    payload = {
        "name": cfg.name,
        "mode": "holdout" if result.holdout else "full",
        "calibration_file": str(cal.source),
        "config": cfg.model_dump(mode="json"),
        "fitted": result.best.values,
        "rmse_fit": result.rmse_fit,
        "rmse_fit_share_points": 100 * result.rmse_fit,
        "rmse_fit_fresh_seeds": result.rmse_fit_fresh,
        "rmse_predict": None if math.isnan(result.rmse_predict) else result.rmse_predict,
        "rmse_predict_share_points": (
            None if math.isnan(result.rmse_predict) else 100 * result.rmse_predict
        ),
        "evaluations": len(result.history),
        "budget": cfg.optimiser.budget,
        "replications": cfg.replications,
        "seeds": cal.seeds(),
        "fresh_seeds": cal.seeds(fresh=True),
        "steps": cal.steps,
        "seconds": result.seconds,
        "observations": result.observation_table().to_dict(orient="records"),
        "files": {k: p.name for k, p in paths.items()},
        "manifest": build_manifest(
            {f"{cfg.name}_fitted": fitted_resolved},
            cal.seeds(),
            started=now_iso(),
            finished=now_iso(),
            command=" ".join(sys.argv),
        ),
    }
    write_json_atomic(paths["json"], payload)
    return paths


# --------------------------------------------------------------------------- CLI


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim calibrate`` to the CLI."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit scenario parameters to an observed time series",
        description=(
            "Fit scenario parameters (dotted paths with bounds) to an observed series "
            "(CSV of date and value) with common random numbers and a budget of evaluations. "
            "Writes calibration.json, evaluations.csv, simulated.csv, fit.png and "
            "fitted_scenario.yaml."
        ),
    )
    parser.add_argument(
        "config", help="calibration file (YAML), e.g. experiments/calibrate_cnnic.yaml"
    )
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="fit only up to holdout.fit_until and report the prediction error after it",
    )
    parser.add_argument("--out", help="output folder (default: the file's 'output', + /holdout)")
    parser.add_argument("--budget", type=int, help="override optimiser.budget (evaluations)")
    parser.add_argument("--workers", type=int, help="override workers (processes)")
    parser.add_argument("--quiet", action="store_true", help="no per-evaluation progress lines")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Run ``mtsim calibrate``."""
    if args.budget is not None and args.budget < 1:
        raise CalibrationError(f"--budget: {args.budget}: must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise CalibrationError(f"--workers: {args.workers}: must be at least 1")
    calibration = load_calibration(args.config, holdout=args.holdout)
    cfg = calibration.config
    out_dir = (
        Path(args.out) if args.out else calibration.output / ("holdout" if args.holdout else "")
    )

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    fit_n = int(calibration.fit_mask(args.holdout).sum())
    print(
        f"calibrating {cfg.name}: {len(cfg.parameters)} parameters, {fit_n} observations, "
        f"{cfg.optimiser.method}, budget {args.budget or cfg.optimiser.budget} x "
        f"{cfg.replications} replications of {calibration.steps} steps",
        file=sys.stderr,
    )
    result = run_calibration(calibration, args.holdout, args.budget, args.workers, log)
    paths = write_outputs(result, out_dir)
    print(f"{'parameter':<40} {'fitted':>12}   bounds")
    for name, value in result.best.values.items():
        b = cfg.parameters[name]
        print(f"{name:<40} {value:>12.6g}   [{b.low:g}, {b.high:g}]{' log' if b.log else ''}")
    print(
        f"RMSE on the fitted observations: {result.rmse_fit:.4g} "
        f"(x100: {100 * result.rmse_fit:.2f} points); with fresh seeds {result.rmse_fit_fresh:.4g}"
    )
    if result.predict_mask.any():
        print(
            f"RMSE on the held-out observations (fresh seeds): {result.rmse_predict:.4g} "
            f"(x100: {100 * result.rmse_predict:.2f} points)"
        )
    table = result.observation_table()
    print(table[["date", "step", "observed", "simulated", "role"]].to_string(index=False))
    print(f"{len(result.history)} evaluations in {result.seconds:.0f} s; wrote {out_dir}/")
    for path in paths.values():
        print(f"  {path.name}")
    return 0


__all__ = [
    "CalibrationConfig",
    "CalibrationError",
    "Calibration",
    "CalibrationResult",
    "Objective",
    "load_calibration",
    "run_calibration",
    "write_outputs",
    "simulated_metric",
    "register",
    "handler",
]
