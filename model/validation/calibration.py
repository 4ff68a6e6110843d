"""Calibration files: several observed series, the parameters to fit and their priors.

``mtsim calibrate CALIBRATION.yaml`` fits scenario parameters to observed time
series by approximate Bayesian computation (ABC-SMC, :mod:`model.validation.abc`).
This module reads and checks the calibration file and simulates the series; it
imports only light modules (numpy, pydantic, the scenario schema), so every input
error is reported before pyabc, pandas or the model are imported.

A calibration file names:

- ``scenario``: the base scenario (relative to the calibration file) and fixed
  ``overrides`` (dotted path -> value) applied to every run;
- ``time``: the date of step 0 (``origin``), the days per step and the number of
  steps simulated (``steps``; default: up to the last observation);
- ``series``: each observed series, by name: a CSV file (``data``), its date and
  value columns, the run-table ``metric`` it is compared with and an optional
  ``denominator`` metric (the simulated value is then metric / denominator); blank
  cells are missing observations;
- ``fit``: the window of observations fitted; ``holdout.fit_until``: with
  ``--holdout``, only observations up to that date are fitted, the later ones are
  predicted (the honest-forecast protocol below);
- ``parameters``: by name, the scenario ``paths`` the value is written to (one
  parameter may set several keys, e.g. the access growth of every region) and a
  uniform prior on ``[low, high]`` (on the log10 scale with ``log: true``);
- ``abc``: the ABC-SMC settings (particles, generations, simulation budget, seed).

The hold-out protocol (``--holdout``; docs/calibration.md, "An honest forecast"), kept
by code: the fit and its forecast use nothing defined after the cut. Every scenario
intervention (``policies``) that starts after ``holdout.fit_until`` is switched off
(its strength set to 0) in the hold-out fit and in its forecast, and a parameter that
only sets such interventions is not fitted (:attr:`Calibration.events_off`,
:attr:`Calibration.parameters_off`); an event known only later cannot help the forecast.
Every scoring of the hold-out is appended to the validation log
(``holdout.log``; :mod:`model.validation.validation_log`) with the date, the commit,
what changed (``mtsim calibrate --holdout --note``) and the scores; the first scoring
on or after ``holdout.frozen`` (the date the specification was frozen) is the headline
and later ones are labelled as later scorings.

Observation dates map to steps as ``round((date - origin) / days_per_step)``. A data
file must be a regular UTF-8 file no larger than YAML files may be
(``model.yamlio.max_yaml_bytes``: 0.5 MB unless ``MTSIM_MAX_YAML_MB`` says otherwise).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from model.errors import UserError
from model.schema_errors import StrictModel, validation_message
from model.yamlio import read_yaml_text


class CalibrationError(UserError, ValueError):
    """A calibration file or option that cannot be used, with a one-line reason."""


class _Strict(StrictModel):
    """Unknown keys, ``.nan``, ``.inf`` and true/false for a number are refused."""


class Parameter(_Strict):
    """One fitted parameter and its prior.

    Attributes:
        paths: scenario keys (dotted paths) the value is written to; default: the
            parameter's name, when it is a dotted path.
        low: lower end of the uniform prior.
        high: upper end of the uniform prior (> low).
        log: the prior is uniform on log10(value) (needs low > 0): for rates spanning decades.
        description: what the parameter means, for the docs and tables.
    """

    paths: tuple[str, ...] = ()
    low: float
    high: float
    log: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"log: true needs low > 0 (got low={self.low})")
        return self

    def to_prior_scale(self, value: float) -> float:
        """Return the value on the scale the prior is uniform on (log10 with ``log``)."""
        return math.log10(value) if self.log else float(value)

    def from_prior_scale(self, value: float) -> float:
        """Return the parameter value of a point on the prior's scale."""
        return float(10.0**value) if self.log else float(value)

    def prior_bounds(self) -> tuple[float, float]:
        """Return the prior's support on its own scale."""
        return self.to_prior_scale(self.low), self.to_prior_scale(self.high)


class Series(_Strict):
    """One observed series and the simulated quantity it is compared with.

    Attributes:
        label: what the series is, for figures and tables.
        data: CSV file (relative to the calibration file; default: the file's ``data``).
        date_column: column of dates (ISO ``YYYY-MM-DD``).
        value_column: column of observed values (blank cells: not observed).
        scale: multiply observed values by this (e.g. 0.01 for percentages).
        metric: run-table column simulated.
        denominator: optional run-table column; the simulated value is metric / denominator.
        window: compare sums over this many steps ending at each observation date (e.g.
            52 for a yearly total of a weekly flow such as ``cross_border_value``); with a
            ``denominator``, the ratio of the two sums (a year's flow over a year's flow,
            not a sum of weekly ratios).
        low_column, high_column: optional columns of an observed band (both or
            neither): where the source gives an interval, not a point, the error at a
            date is the simulated value's distance to the band (0 inside it);
            ``value_column`` is then the point shown in tables and figures.
        relative_to: compare both curves as ratios to their value at this date (an
            index; the observed series must have an observation on that date). Used
            where the model's units cannot be matched to the data's (2,000 agents
            against a country of a billion people), so only growth is fitted.
        weight: the series' weight in the distance (1: as the others).
    """

    label: str = ""
    data: str | None = None
    date_column: str = "date"
    value_column: str
    scale: Annotated[float, Field(gt=0)] = 1.0
    metric: str
    denominator: str | None = None
    window: Annotated[int, Field(ge=1, le=100_000)] | None = None
    relative_to: dt.date | None = None
    weight: Annotated[float, Field(gt=0, le=1_000)] = 1.0
    low_column: str | None = None
    high_column: str | None = None

    @model_validator(mode="after")
    def _band_columns(self) -> Series:
        if (self.low_column is None) != (self.high_column is None):
            raise ValueError("low_column and high_column: give both (an observed band) or neither")
        if self.low_column is not None and self.relative_to is not None:
            raise ValueError("low_column/high_column: a band cannot be combined with relative_to")
        return self

    @property
    def is_share(self) -> bool:
        """The series is a share in [0, 1] (not an index or a total)."""
        return self.relative_to is None and self.window is None


MAX_STEPS = 100_000
"""Most steps a calibration simulates (``time.steps``, and the step of any observation)."""


class TimeMapping(_Strict):
    """How dates map to steps: ``step = round((date - origin) / days_per_step)``.

    Attributes:
        origin: date of step 0 (the model's initial state).
        days_per_step: days per step (7: a step is a week), from 0.1 to 366.
        steps: steps simulated (default: up to the last observation), at most
            :data:`MAX_STEPS`; every observation must map to a step up to it.
    """

    origin: dt.date
    days_per_step: Annotated[float, Field(ge=0.1, le=366)] = 7.0
    steps: Annotated[int, Field(ge=1, le=100_000)] | None = None


class Window(_Strict):
    """A date window, both ends inclusive (a missing end is open).

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
            Interventions starting after it are off in the hold-out fit and forecast.
        log: the validation log every scoring of the hold-out is appended to (CSV,
            relative to the calibration file; default ``validation_log.csv`` beside it).
        frozen: the date the model's specification was frozen for the hold-out (none:
            not frozen; every scoring is then labelled "development").
    """

    fit_until: dt.date
    log: str = "validation_log.csv"
    frozen: dt.date | None = None


class ABCSettings(_Strict):
    """ABC-SMC settings (pyabc).

    Attributes:
        population_size: accepted particles per generation.
        max_generations: generations at most.
        max_simulations: the budget of model runs: pyabc's calibration sample from the
            prior and every generation's proposals. pyabc checks it between generations,
            so the generation running when it is spent is finished and a fit can end
            above it (the stop reason then says after how many runs).
        max_minutes: stop after this many minutes of ABC-SMC (None: no time limit);
            proposals after that are not run, and the generation running then is dropped
            (the last complete generation is the posterior).
        min_epsilon: stop when the acceptance threshold (distance) falls below this.
        min_acceptance_rate: stop when fewer than this share of proposals is accepted.
        epsilon_quantile: the next generation's threshold is this quantile of the last
            generation's accepted distances (0.5: the median).
        sampling_scale: the scale pyabc samples and perturbs on. ``bounded``: each
            prior's own scale (uniform between its bounds; log10 with ``log: true``).
            ``logit``: the log-odds of the position within those bounds (the same
            uniform prior, seen as a standard logistic). In several dimensions a
            kernel on the bounded scale loses much of its mass beyond the bounds near
            them, so particles there get large weights and the effective sample size
            collapses; on the logit scale nothing is lost.
        min_ess: stop when a generation's effective sample size (``1 / sum w^2`` of its
            normalised weights) falls below this, and keep the generation before it as
            the posterior (None: no such rule). A degenerate generation, whose weight
            sits on a few particles, is not a usable posterior sample.
        seed: seed of numpy's global generator, which pyabc draws from.
        workers: local worker processes (1: pyabc's single-core sampler, reproducible).
        predictive_draws: posterior draws re-simulated with fresh seeds for the bands.
        point_replications: runs of the point estimate for the in-sample check (and,
            with ``point_estimate: best``, of each candidate).
        point_estimate: ``median`` (the posterior median of each parameter) or ``best``
            (of the medians and the ``point_candidates`` particles nearest the data, the
            one whose mean curves over ``point_replications`` runs are nearest the data:
            a point on the posterior's ridge, where a vector of marginal medians need
            not be). ``refined``: the ``best`` point, then a minimum-distance search
            (Optuna's TPE sampler, ``point_trials`` points in batches of 8, within the
            prior's bounds, the candidates tried first) for the point whose mean curves
            over the same common-seed runs are nearest the data (a simulated
            minimum-distance estimate; the ABC posterior still gives the uncertainty).
            The in-sample check reruns the chosen point with fresh seeds.
        point_candidates: particles considered by ``point_estimate: best`` and ``refined``.
        point_trials: points tried by ``point_estimate: refined`` after the candidates.
        check_replications: runs of the chosen point, with fresh seeds, for the in-sample
            check (default: ``point_replications``). One run at 2,000 consumers can miss
            its mean curve by several share points, so a check on a few runs mostly
            measures their luck.
    """

    population_size: Annotated[int, Field(ge=5, le=100_000)] = 100
    max_generations: Annotated[int, Field(ge=1, le=1000)] = 8
    max_simulations: Annotated[int, Field(ge=10)] = 4000
    max_minutes: Annotated[float, Field(gt=0)] | None = None
    min_epsilon: Annotated[float, Field(ge=0)] = 0.0
    min_acceptance_rate: Annotated[float, Field(ge=0, lt=1)] = 0.02
    epsilon_quantile: Annotated[float, Field(gt=0, lt=1)] = 0.5
    sampling_scale: Literal["bounded", "logit"] = "bounded"
    min_ess: Annotated[float, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    workers: Annotated[int, Field(ge=1, le=1024)] = 1
    predictive_draws: Annotated[int, Field(ge=1, le=100_000)] = 100
    point_replications: Annotated[int, Field(ge=1, le=10_000)] = 10
    point_estimate: Literal["median", "best", "refined"] = "median"
    point_candidates: Annotated[int, Field(ge=1, le=10_000)] = 8
    point_trials: Annotated[int, Field(ge=1, le=100_000)] = 160
    check_replications: Annotated[int, Field(ge=1, le=10_000)] | None = None

    @model_validator(mode="after")
    def _ess_floor_within_population(self) -> ABCSettings:
        if self.min_ess is not None and self.min_ess > self.population_size:
            raise ValueError(
                f"min_ess ({self.min_ess:g}) is above population_size "
                f"({self.population_size}): no generation after the first could meet it"
            )
        return self

    @model_validator(mode="after")
    def _time_limit_needs_rate(self) -> ABCSettings:
        if self.max_minutes is not None and self.min_acceptance_rate == 0:
            raise ValueError(
                "max_minutes needs min_acceptance_rate > 0 (it bounds a generation's proposals)"
            )
        return self


class CalibrationConfig(_Strict):
    """A calibration file (see the module docstring).

    Attributes:
        name: identifier used in outputs.
        description: what is fitted to what.
        scenario: base scenario file (relative to the calibration file).
        overrides: fixed ``dotted.path: value`` changes to the base scenario.
        data: default CSV file of the series.
        time: date-to-step mapping.
        series: observed series by name.
        fit: window of observations fitted.
        holdout: hold-out mode settings.
        parameters: fitted parameters by name.
        abc: ABC-SMC settings.
        seed: base seed of the model runs (each run's seed is derived from it and the
            parameter values, so a parameter point always gives the same run).
        output: output folder (relative to the calibration file).
    """

    name: str = "calibration"
    description: str = ""
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    data: str | None = None
    time: TimeMapping
    series: dict[str, Series]
    fit: Window = Window()
    holdout: Holdout | None = None
    parameters: dict[str, Parameter]
    abc: ABCSettings = ABCSettings()
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    output: str = "results/calibration"

    @model_validator(mode="after")
    def _not_empty(self) -> CalibrationConfig:
        if not self.series:
            raise ValueError("series: name at least one observed series")
        if not self.parameters:
            raise ValueError("parameters: name at least one parameter to fit")
        return self


@dataclass
class Observation:
    """Observations of one series.

    Attributes:
        name: the series' name.
        dates: observation dates.
        steps: the steps they map to.
        values: observed values (scaled).
        path: the data file they were read from.
        rows: each observation's row in that file (the header is row 1).
        low, high: the observed band at each date (scaled; the series' ``low_column``
            and ``high_column``), or None: the observation is the point ``values``.
    """

    name: str
    dates: list[dt.date]
    steps: np.ndarray
    values: np.ndarray
    path: Path | None = None
    rows: list[int] = field(default_factory=list)
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def errors(self, simulated: np.ndarray, index: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Return simulated - observed at the observations ``index`` (NaN stays NaN).

        With a band, the distance to it: 0 inside, negative below ``low``, positive above
        ``high``.
        """
        sim = np.asarray(simulated, dtype=float)
        if self.low is None or self.high is None:
            return sim - self.values[index]
        below = np.minimum(sim - self.low[index], 0.0)
        above = np.maximum(sim - self.high[index], 0.0)
        return np.where(np.isnan(sim), np.nan, below + above)


@dataclass
class Calibration:
    """A loaded, checked calibration.

    Attributes:
        config: the validated file.
        source: the calibration file.
        base_data: the base scenario's data (``extends`` resolved, overrides applied).
        scenario_path: the base scenario file.
        observations: per series, the observations.
        steps: steps simulated.
        output: output folder.
        holdout: hold-out mode.
        events_off: hold-out mode: the interventions switched off because they start
            after the cut (label and start date each).
        parameters_off: hold-out mode: parameters not fitted because they only set
            interventions switched off (their values stay the base scenario's, with
            strength 0).
    """

    config: CalibrationConfig
    source: Path
    base_data: dict[str, Any]
    scenario_path: Path
    observations: dict[str, Observation]
    steps: int
    output: Path
    holdout: bool = False
    events_off: list[str] = field(default_factory=list)
    parameters_off: list[str] = field(default_factory=list)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def parameter_names(self) -> list[str]:
        """The fitted parameters' names, in file order."""
        return list(self.config.parameters)

    @property
    def series_names(self) -> list[str]:
        """The series' names, in file order."""
        return list(self.config.series)

    def date_of_step(self, step: int | np.ndarray) -> Any:
        """Date(s) of step(s) as numpy datetime64[D]."""
        origin = np.datetime64(self.config.time.origin, "D")
        days = np.rint(np.asarray(step, dtype=float) * self.config.time.days_per_step)
        return origin + days.astype("timedelta64[D]")

    def fit_mask(self, name: str) -> np.ndarray:
        """Which observations of a series are fitted (hold-out mode: up to ``fit_until``)."""
        obs = self.observations[name]
        window = self.config.fit
        reference = self.config.series[name].relative_to  # 1 by definition: nothing to fit
        mask = np.ones(len(obs.dates), dtype=bool)
        for i, date in enumerate(obs.dates):
            if date == reference:
                mask[i] = False
            if window.start is not None and date < window.start:
                mask[i] = False
            if window.end is not None and date > window.end:
                mask[i] = False
            if self.holdout and self.config.holdout and date > self.config.holdout.fit_until:
                mask[i] = False
        return mask

    def predict_mask(self, name: str) -> np.ndarray:
        """Observations predicted, not fitted (hold-out mode: those after ``fit_until``)."""
        obs = self.observations[name]
        if not self.holdout or self.config.holdout is None:
            return np.zeros(len(obs.dates), dtype=bool)
        until = self.config.holdout.fit_until
        reference = self.config.series[name].relative_to
        return np.array([d > until and d != reference for d in obs.dates], dtype=bool)

    def values(self, point: Mapping[str, float]) -> dict[str, float]:
        """Scenario keys and values for a parameter point (by parameter name)."""
        out: dict[str, float] = {}
        for name, spec in self.config.parameters.items():
            for path in spec.paths:
                out[path] = float(point[name])
        return out

    def scenario(self, point: Mapping[str, float]) -> Any:
        """Return the validated scenario for a parameter point."""
        from model.scenario import ScenarioError, apply_overrides, scenario_from_dict

        data = apply_overrides(self.base_data, self.values(point), source=str(self.source))
        try:
            return scenario_from_dict(data, source=str(self.scenario_path))
        except ScenarioError as exc:
            raise CalibrationError(f"{self.source}: parameters: {exc}") from None

    def run_seed(self, point: Mapping[str, float], salt: int = 0) -> int:
        """Return the model seed of a point: a hash of its values, the base seed and salt."""
        text = repr((self.config.seed, salt, tuple(float(point[n]) for n in self.parameter_names)))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF

    def simulate(
        self,
        point: Mapping[str, float],
        seed: int,
        stop: Callable[[int, dict[str, np.ndarray]], bool] | None = None,
        until: int | None = None,
    ) -> dict[str, np.ndarray] | None:
        """Run the model once; each series' simulated curve at steps 0..steps.

        Args:
            point: parameter values by name.
            seed: the run's seed.
            stop: called at every step that has a fitted observation with the curves so
                far; when it returns True the run ends early and None is returned
                (ABC's early rejection: the distance can only grow).
            until: simulate only to this step; the curves are NaN after it (the fit
                needs nothing after its last fitted observation: a hold-out fit to 2016
                runs 157 of 365 weeks). The steps up to it are those of a full run.
        """
        from model.market import MarketModel

        model = MarketModel(self.scenario(point), seed=int(seed))
        checkpoints = self.checkpoints() if stop is not None else set()
        last = self.steps if until is None else max(0, min(int(until), self.steps))
        for step in range(1, last + 1):
            model.step()
            if step in checkpoints and stop is not None and stop(step, self._curves(model)):
                return None
        curves = self._curves(model)
        if last < self.steps:
            pad = np.full(self.steps - last, np.nan)
            curves = {name: np.concatenate([curve, pad]) for name, curve in curves.items()}
        return curves

    def _curves(self, model: Any) -> dict[str, np.ndarray]:
        table = model.timeseries()
        out = {}
        for name, spec in self.config.series.items():
            if spec.window is not None and spec.denominator is not None:
                # a ratio of flows over the window: sum each, then divide
                top = self.transform(name, simulated_metric(table, spec.metric, None))
                bottom = self.transform(name, simulated_metric(table, spec.denominator, None))
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[name] = np.where(
                        bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan
                    )
            else:
                out[name] = self.transform(
                    name, simulated_metric(table, spec.metric, spec.denominator)
                )
        return out

    def transform(self, name: str, curve: np.ndarray) -> np.ndarray:
        """Apply a series' ``window`` (moving sum) and ``relative_to`` (index) to a curve."""
        spec = self.config.series[name]
        out = np.asarray(curve, dtype=float)
        if spec.window is not None:
            sums = np.cumsum(np.nan_to_num(out))
            shifted = np.concatenate([np.zeros(spec.window), sums[: -spec.window]])
            out = sums - shifted[: sums.size]
            out[: spec.window - 1] = np.nan  # not a full window yet
        if spec.relative_to is not None:
            ref = self.step_of(spec.relative_to)
            if ref >= out.size or not np.isfinite(out[ref]) or out[ref] <= 0:
                return np.full(out.size, np.nan)  # not reached yet (early stop) or zero
            out = out / out[ref]
        return out

    def step_of(self, date: dt.date) -> int:
        """Return the step a date maps to."""
        days = (date - self.config.time.origin).days
        return int(round(days / self.config.time.days_per_step))

    def checkpoints(self) -> set[int]:
        """Return the steps with a fitted observation (where early rejection is checked)."""
        out: set[int] = set()
        for name, obs in self.observations.items():
            out.update(int(s) for s in obs.steps[self.fit_mask(name)])
        out.discard(0)
        return out


def simulated_metric(table: Any, metric: str, denominator: str | None) -> np.ndarray:
    """Return the simulated series of a run table: a column, or a ratio of two columns."""
    values = table[metric].to_numpy(dtype=float)
    if denominator is None:
        return values
    denom = table[denominator].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, values / np.where(denom > 0, denom, 1.0), np.nan)


def _relative(base: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else Path(os.path.normpath(base.parent / p))


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif (
            isinstance(node, list | tuple)
            and part.lstrip("-").isdigit()
            and (-len(node) <= int(part) < len(node))
        ):  # a list item by index, e.g. policies.0.strength
            node = node[int(part)]
        else:
            return _MISSING
    return node


_MISSING = object()


def read_calibration_config(path: str | Path) -> CalibrationConfig:
    """Read a calibration file and check it against the schema alone (light, fast).

    Raises:
        CalibrationError: one line per problem, naming the file and the key.
    """
    from model.scenario import read_yaml_mapping

    source = Path(path)
    if not source.exists():
        raise CalibrationError(f"{source}: file not found")
    if source.is_dir():
        raise CalibrationError(f"{source}: is a folder, not a calibration file")
    raw = read_yaml_mapping(source, "calibration", CalibrationError)
    try:
        return CalibrationConfig.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationError(validation_message(exc, str(source), CalibrationConfig)) from None


def default_output(path: str | Path, holdout: bool = False) -> Path:
    """Return a calibration file's output folder: its ``output`` (+ ``holdout`` with it).

    Reads the file against the schema alone, so ``mtsim calibrate`` can check the
    folder (writable; with ``--outputs-only``, holding a fit) before the full check.
    """
    out = _relative(Path(path), read_calibration_config(path).output)
    return out / "holdout" if holdout else out


def load_calibration(
    path: str | Path, holdout: bool = False, overrides: Sequence[str] = ()
) -> Calibration:
    """Read, validate and cross-check a calibration file.

    Checks the base scenario with the fixed overrides and with every parameter at both
    ends of its prior, the metric names, each series' CSV (file, columns, dates,
    numbers), the date mapping (no observation before step 0) and the fit and hold-out
    windows. Imports neither pandas nor pyabc nor the model.

    Args:
        path: the calibration file.
        holdout: fit only up to ``holdout.fit_until``.
        overrides: ``PATH=VALUE`` texts (``mtsim calibrate --set``) added to the file's
            ``overrides`` (and replacing any of them with the same path), e.g. a smaller
            population for a first try.

    Raises:
        CalibrationError: one line per problem, naming the file and the key.
    """
    from model.scenario import (
        ScenarioError,
        apply_overrides,
        parse_override,
        read_scenario_data,
        scenario_from_dict,
    )

    source = Path(path)
    config = read_calibration_config(source)
    if overrides:
        extra: dict[str, Any] = {}
        for text in overrides:
            try:
                keys, value = parse_override(text, "--set")
            except ScenarioError as exc:
                raise CalibrationError(str(exc)) from None
            extra[".".join(keys)] = value
        config = config.model_copy(update={"overrides": {**config.overrides, **extra}})
    where_overrides = f"{source}: overrides" + (" and --set" if overrides else "")

    scenario_path = _relative(source, config.scenario)
    if not scenario_path.is_file():
        raise CalibrationError(
            f"{source}: scenario: {config.scenario!r}: file not found ({scenario_path})"
        )
    try:
        base = read_scenario_data(scenario_path)
        base.setdefault("name", scenario_path.stem)
        if config.overrides:
            base = apply_overrides(base, config.overrides, source=where_overrides)
        resolved = scenario_from_dict(base, source=where_overrides).resolved()
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None

    params: dict[str, Parameter] = {}
    for name, spec in config.parameters.items():
        paths = spec.paths or ((name,) if "." in name else ())
        if not paths:
            raise CalibrationError(
                f"{source}: parameters.{name}: paths: name the scenario key(s) it sets, "
                "e.g. paths: [payment.peer_influence]"
            )
        for p in paths:
            node = _lookup(resolved, p)
            if node is _MISSING:
                raise CalibrationError(
                    f"{source}: parameters.{name}.paths: {p!r}: not a key of the scenario "
                    "(use a dotted path such as payment.peer_influence)"
                )
            if isinstance(node, bool) or not isinstance(node, int | float):
                raise CalibrationError(
                    f"{source}: parameters.{name}.paths: {p!r}: is not a number in the scenario"
                )
        params[name] = spec.model_copy(update={"paths": tuple(paths)})
        for end in ("low", "high"):
            value = getattr(spec, end)
            try:
                scenario_from_dict(
                    apply_overrides(base, {p: value for p in paths}), source="<prior>"
                )
            except ScenarioError as exc:
                reason = str(exc).splitlines()[0].split(": ", 1)[-1]
                raise CalibrationError(
                    f"{source}: parameters.{name}.{end}: {value}: "
                    f"the scenario rejects it ({reason})"
                ) from None
    config = config.model_copy(update={"parameters": params})

    observations = {
        name: _read_series(source, config, name, series) for name, series in config.series.items()
    }
    from model.metrics import METRIC_NAMES, metric_info  # the agents' state (SciPy): last check

    columns = [m for m in METRIC_NAMES if not metric_info(m).platform]
    for name, series in config.series.items():
        for key in ("metric", "denominator"):
            column = getattr(series, key)
            if column is not None and column not in columns:
                raise CalibrationError(
                    f"{source}: series.{name}.{key}: {column!r}: not a metric of the run "
                    f"table (allowed: {', '.join(columns)})"
                )
        if series.is_share and metric_info(series.metric).kind in SHARE_KINDS:
            _check_shares(name, series, observations[name])
    last = max(int(o.steps.max()) for o in observations.values() if o.steps.size)
    steps = config.time.steps or max(1, last)
    if last > steps:
        raise CalibrationError(
            f"{source}: time.steps: {steps}: observations run to step {last}; "
            "simulate at least that many steps"
        )
    cal = Calibration(
        config=config,
        source=source,
        base_data=base,
        scenario_path=scenario_path,
        observations=observations,
        steps=steps,
        output=_relative(source, config.output),
        holdout=holdout,
    )
    if holdout and config.holdout is None:
        raise CalibrationError(
            f"{source}: holdout: --holdout needs a 'holdout: {{fit_until: DATE}}' section"
        )
    if holdout:
        assert config.holdout is not None
        _events_after_cut(cal, config.holdout.fit_until)
    if not any(cal.fit_mask(n).any() for n in cal.series_names):
        where = "holdout.fit_until" if holdout else "fit"
        raise CalibrationError(f"{source}: {where}: no observation falls in the fit window")
    if holdout and not any(cal.predict_mask(n).any() for n in cal.series_names):
        assert config.holdout is not None
        raise CalibrationError(
            f"{source}: holdout.fit_until: {config.holdout.fit_until}: "
            "no later observation to predict"
        )
    return cal


def _events_after_cut(cal: Calibration, cut: dt.date) -> None:
    """Hold-out: switch off the interventions that start after ``cut``; drop their parameters.

    An intervention starts at week ``start`` (a step); it is after the cut when that
    step's date is later than ``cut``. Its strength is set to 0 in the base data (the
    list keeps its order, so ``policies.N`` paths still point at the same item), and a
    fitted parameter whose every path is inside such an intervention is removed.
    """
    policies = cal.base_data.get("policies") or []
    cut_step = cal.step_of(cut)
    off: list[int] = []
    for i, policy in enumerate(policies):
        if not isinstance(policy, Mapping):
            continue
        start = policy.get("start", 0)
        if isinstance(start, int | float) and start > cut_step:
            off.append(i)
            label = policy.get("label") or policy.get("lever", f"policies.{i}")
            when = cal.date_of_step(int(start))
            cal.events_off.append(f"{label} (policies.{i}, from week {int(start)}, {when})")
    if not off:
        return
    for i in off:
        cal.base_data["policies"][i] = {**policies[i], "strength": 0.0}
    prefixes = tuple(f"policies.{i}." for i in off)
    kept = {}
    for name, spec in cal.config.parameters.items():
        if spec.paths and all(str(p).startswith(prefixes) for p in spec.paths):
            cal.parameters_off.append(name)
        else:
            kept[name] = spec
    if not kept:
        raise CalibrationError(
            f"{cal.source}: holdout.fit_until: {cut}: every fitted parameter sets an "
            "intervention that starts after the cut; nothing is left to fit"
        )
    cal.config = cal.config.model_copy(update={"parameters": kept})
    cal._cache.clear()


SHARE_KINDS = ("share", "flow_share", "index")
"""Kinds of run-table metric (``model.metrics.KINDS``) whose values are from 0 to 1: the
observations of a series compared with one (without ``window`` or ``relative_to``) must
be too."""

EARLIER_FIT_FILES = ("posterior.csv", "generations.csv", "calibration.json")
"""The files of an earlier fit that ``mtsim calibrate --outputs-only`` starts from."""


def check_earlier_fit(folder: Path) -> None:
    """Check that ``folder`` holds an earlier fit (light: before pyabc is imported).

    Raises:
        CalibrationError: one of :data:`EARLIER_FIT_FILES` is missing.
    """
    for name in EARLIER_FIT_FILES:
        path = Path(folder) / name
        if not path.is_file():
            raise CalibrationError(
                f"--outputs-only: {path}: not found (no earlier fit in {folder})"
            )


def _check_shares(name: str, series: Series, obs: Observation) -> None:
    """Refuse an observed share (after ``scale``) below 0 or above 1, naming the likely fix.

    Raises:
        CalibrationError: the value, its file, row and column; values up to 100 are named
            as a percentage (``scale: 0.01`` reads them).
    """
    bad = [i for i, value in enumerate(obs.values) if not 0.0 <= value <= 1.0]
    if not bad:
        return
    i = bad[0]
    value = float(obs.values[i])
    raw = value / series.scale
    where = f"{obs.path}: row {obs.rows[i]}: {series.value_column}: {raw:g}"
    scaled = f" ({value:g} after scale {series.scale:g})" if series.scale != 1.0 else ""
    if value < 0:
        raise CalibrationError(
            f"{where}{scaled}: series {name} compares with the share {series.metric}, "
            "which cannot be negative"
        )
    percent = series.scale == 1.0 and all(0 <= v <= 100 for v in obs.values)
    hint = "; these look like percentages: add 'scale: 0.01' to the series" if percent else ""
    raise CalibrationError(
        f"{where}{scaled}: series {name} compares with the share {series.metric}, which "
        f"is from 0 to 1{hint}"
    )


def _read_series(source: Path, config: CalibrationConfig, name: str, series: Series) -> Observation:
    where = f"{source}: series.{name}"
    data = series.data or config.data
    if data is None:
        raise CalibrationError(f"{where}.data: name the CSV file (or a top-level 'data')")
    path = _relative(source, data)
    if not path.exists():
        raise CalibrationError(f"{where}.data: {data!r}: file not found ({path})")
    if not path.is_file():
        raise CalibrationError(f"{where}.data: {data!r}: not a regular file ({path})")
    # the YAML reader's checks: regular file, size limit (MTSIM_MAX_YAML_MB), UTF-8
    text = read_yaml_text(path, "data", CalibrationError)
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        columns = list(rows[0].keys()) if rows else []
    except csv.Error as exc:
        raise CalibrationError(f"{path}: cannot read as CSV ({exc})") from None
    for key in ("date_column", "value_column", "low_column", "high_column"):
        column = getattr(series, key)
        if column is not None and column not in columns:
            raise CalibrationError(
                f"{where}.{key}: {column!r}: no such column in {path.name} "
                f"(columns: {', '.join(columns) or 'none'})"
            )
    origin = config.time.origin
    dates: list[dt.date] = []
    steps: list[int] = []
    values: list[float] = []
    bands: list[tuple[float, float]] = []
    first_row: dict[dt.date, int] = {}
    numbers: list[int] = []
    for row_number, row in enumerate(rows, start=2):
        text = (row.get(series.value_column) or "").strip()
        if not text:
            continue  # not observed
        try:
            value = float(text)
        except ValueError:
            raise CalibrationError(
                f"{path}: row {row_number}: {series.value_column}: {text!r}: not a number"
            ) from None
        if not math.isfinite(value):
            raise CalibrationError(
                f"{path}: row {row_number}: {series.value_column}: {text!r}: not a finite number"
            )
        raw_date = (row.get(series.date_column) or "").strip()
        try:
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise CalibrationError(
                f"{path}: row {row_number}: {series.date_column}: {raw_date!r}: "
                "not a date (use YYYY-MM-DD)"
            ) from None
        if date in first_row:
            raise CalibrationError(
                f"{path}: row {row_number}: {series.date_column}: {date} is the date of row "
                f"{first_row[date]} too; series {name} needs one observation per date"
            )
        first_row[date] = row_number
        days = (date - origin).days
        if days < 0:
            raise CalibrationError(
                f"{source}: time.origin: {origin}: series {name} has an observation dated "
                f"{date} before step 0"
            )
        step = int(round(days / config.time.days_per_step))
        if step > MAX_STEPS:
            raise CalibrationError(
                f"{path}: row {row_number}: {series.date_column}: {date} maps to step "
                f"{step:,} (time.days_per_step: {config.time.days_per_step:g}), beyond the "
                f"{MAX_STEPS:,} steps a calibration can simulate"
            )
        if series.low_column is not None and series.high_column is not None:
            ends = []
            for key in (series.low_column, series.high_column):
                cell = (row.get(key) or "").strip()
                try:
                    end = float(cell)
                except ValueError:
                    raise CalibrationError(
                        f"{path}: row {row_number}: {key}: {cell!r}: not a number (a band "
                        f"needs both ends where {series.value_column} is given)"
                    ) from None
                if not math.isfinite(end):
                    raise CalibrationError(
                        f"{path}: row {row_number}: {key}: {cell!r}: not a finite number"
                    )
                ends.append(end * series.scale)
            if not ends[0] <= value * series.scale <= ends[1]:
                raise CalibrationError(
                    f"{path}: row {row_number}: {series.value_column}: {text!r} is outside "
                    f"the band {series.low_column} - {series.high_column} "
                    f"({ends[0] / series.scale:g} - {ends[1] / series.scale:g})"
                )
            bands.append((ends[0], ends[1]))
        dates.append(date)
        steps.append(step)
        values.append(value * series.scale)
        numbers.append(row_number)
    if not dates:
        raise CalibrationError(f"{where}.value_column: {series.value_column!r}: no values")
    order = np.argsort(np.array([d.toordinal() for d in dates]), kind="stable")
    observed = np.array(values, dtype=float)[order]
    sorted_dates = [dates[i] for i in order]
    sorted_steps = np.array(steps, dtype=int)[order]
    if series.window is not None and sorted_steps.min() < series.window - 1:
        raise CalibrationError(
            f"{where}.window: {series.window}: the observation of {sorted_dates[0]} is at step "
            f"{int(sorted_steps.min())}, before a full window of {series.window} steps"
        )
    if series.relative_to is not None:
        if series.relative_to not in sorted_dates:
            raise CalibrationError(
                f"{where}.relative_to: {series.relative_to}: {path.name} has no observation "
                "on that date (the index needs one)"
            )
        reference = observed[sorted_dates.index(series.relative_to)]
        if reference <= 0:
            raise CalibrationError(
                f"{where}.relative_to: {series.relative_to}: the observed value there is "
                f"{reference:g}; an index needs a positive one"
            )
        observed = observed / reference
    low = high = None
    if bands:
        band = np.array(bands, dtype=float)[order]
        low, high = band[:, 0], band[:, 1]
    return Observation(
        name=name,
        dates=sorted_dates,
        steps=sorted_steps,
        values=observed,
        path=path,
        rows=[numbers[i] for i in order],
        low=low,
        high=high,
    )


def distance(
    calibration: Calibration,
    simulated: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    until: int | None = None,
) -> float:
    """ABC distance: root of the mean over series of each series' mean squared error.

    Each series weighs the same whatever its number of observations (times its
    ``weight``: the distance is the root of the weighted mean). A simulated value
    that is NaN (e.g. a ratio with a zero denominator) counts as an error of 1.

    With ``until``, only observations at steps up to ``until`` contribute (the others
    count as exact): a lower bound of the full distance, used to stop runs early.
    """
    per_series = []
    for name, obs in calibration.observations.items():
        mask = masks[name]
        if not mask.any():
            continue
        index = np.flatnonzero(mask)
        if until is not None:
            count = index.size
            index = index[obs.steps[index] <= until]
        else:
            count = index.size
        sim = np.asarray(simulated[name], dtype=float)[obs.steps[index]]
        err = np.where(np.isnan(sim), 1.0, obs.errors(sim, index))
        weight = calibration.config.series[name].weight
        per_series.append((weight * float(np.sum(err**2)) / count, weight))
    if not per_series:
        return float("nan")
    total = sum(w for _, w in per_series)
    return float(math.sqrt(sum(v for v, _ in per_series) / total))


__all__ = [
    "ABCSettings",
    "Calibration",
    "CalibrationConfig",
    "CalibrationError",
    "Observation",
    "Parameter",
    "Series",
    "distance",
    "load_calibration",
    "simulated_metric",
]
