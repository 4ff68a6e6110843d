"""Experiment files: the YAML schema of a study, loading and validation.

An experiment file names a base scenario, the parameters that vary (dotted
scenario paths, the same as ``--set``), a design, replications, steps, a master
seed and the outcomes to keep::

    name: kol_payment_grid
    base: ../scenarios/baseline.yaml      # relative to this file
    set:                                  # fixed overrides of the base (optional)
      population.consumers: 2000
    parameters:
      - name: payment_security            # column name in the results (default: the path)
        path: policies.1.strength
        range: [0.0, 1.0]
        levels: 5                         # grid: 5 evenly spaced values
      - path: marketing.budget_per_merchant
        values: [5, 10, 20]
    design: {kind: grid}                  # grid | lhs | sobol | morris (+ samples)
    replications: 3
    steps: 52
    seed: 2024                            # master seed
    seeds: common                         # common (default) | independent
    outcomes: summary                     # summary (final + run mean) | timeseries

Everything is checked before anything runs, and every problem is one line
naming the file, the key path, the value and what is allowed (with a close
match for a misspelled key), like scenario files. Varied parameters are checked
against the scenario schema by applying each value (or both ends of each range)
to the base scenario and validating the result.

From a saved state (docs/present.md): ``start: STATE.npz`` (relative to the file)
makes the saved scenario the base and starts every run from the state; ``base:``
beside it is then a policy file (``name``, ``description``, ``policies`` starting at
the saved week or later) whose policies replace the saved ones from that week on.
Every design point may differ from the saved scenario only in its future
(``model.state_io.future_difference``: policies from the saved week on,
``simulation.steps``, the seed); a varied parameter of the world (a behavioural
parameter, the population, a policy acting before the saved week) is refused in one
line naming it. ``steps:`` is the last week, after the saved one.

``population.consumers`` under ``set:`` or as a parameter keeps the market's
proportions, as ``--set`` does: merchants and KOLs scale with it at every design
point unless they are under ``set:`` or varied too
(``model.scenario.keep_proportions``); loading says so once, with a
``PopulationScaled`` warning.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from model.errors import close_match
from model.experiment.design import Design, Parameter, design_size, make_design
from model.scenario import (
    COUNT_LABELS,
    PopulationScaled,
    Scenario,
    ScenarioError,
    apply_overrides,
    keep_proportions,
    read_scenario_data,
    read_yaml_mapping,
    scenario_from_dict,
)
from model.schema_errors import StrictModel, problem_lines, validation_message
from model.yamlio import describe_value

RESERVED_COLUMNS: tuple[str, ...] = ("run", "point", "replication", "seed", "run_id", "step")
"""Columns of design and result tables that a parameter name may not take."""

MAX_RUNS = 5_000_000
"""A guard against a typo that asks for billions of runs."""


class ExperimentError(ScenarioError):
    """An experiment file that cannot be used, with one line per problem."""


class ParameterSpec(StrictModel):
    """One varied parameter.

    Attributes:
        path: dotted scenario path the value goes to (as for ``--set``).
        name: column name in the design and result tables (default: the path).
        values: explicit values (grid levels, or the choices of a discrete parameter).
        range: ``[low, high]`` of a continuous parameter.
        levels: grid designs: how many evenly spaced values to take over the range.
        scale: ``linear`` or ``log`` (log-uniform sampling, log-spaced grid levels).
        integer: round to integers (default: when the base scenario holds an integer there).
    """

    path: Annotated[str, Field(min_length=1, max_length=300)]
    name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    values: Annotated[list[Any], Field(min_length=1)] | None = None
    range: tuple[float, float] | None = None
    levels: Annotated[int, Field(ge=2, le=10_000)] | None = None
    scale: Literal["linear", "log"] = "linear"
    integer: bool | None = None


class DesignSpec(StrictModel):
    """The design.

    Attributes:
        kind: ``grid`` (full factorial), ``lhs`` (Latin hypercube), ``sobol`` (Saltelli
            sample for Sobol' indices) or ``morris`` (elementary effects).
        samples: lhs: design points; sobol: base sample N (a power of 2; runs are
            N*(D+2), or N*(2D+2) with second order); morris: trajectories (runs r*(D+1)).
        second_order: sobol: also estimate second-order indices.
        num_levels: morris: levels of the grid the trajectories move on (even, >= 2).
    """

    kind: Literal["grid", "lhs", "sobol", "morris"]
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = None
    second_order: bool = False
    num_levels: Annotated[int, Field(ge=2, le=100)] = 4


MetricName = Annotated[str, Field(max_length=100)]


class ExperimentSpec(StrictModel):
    """A study: the validated content of an experiment file.

    Attributes:
        name: short identifier (default: the file name); the default output folder.
        description: what the study asks.
        base: the base scenario file (relative to the experiment file); with ``start``
            a policy file (optional).
        start: a saved state file (docs/present.md) every run starts from: the base is
            the saved scenario.
        set: fixed overrides of the base scenario, dotted path -> value (as ``--set``).
        parameters: the varied parameters.
        design: the design.
        replications: runs per design point, each with its own seed.
        steps: steps per run (default: the base scenario's ``simulation.steps``).
        seed: the master seed every design sample and run seed derives from.
        seeds: ``common``: replication r of every design point uses the same seed
            (common random numbers; paired comparisons); ``independent``: every run
            its own seed.
        outcomes: ``summary``: final value and run mean of each metric, one row per run;
            ``timeseries``: every step of every run; ``by_group``: final value and run mean
            of the group metrics, one row per run and group (country, region, urban/rural,
            income band; docs/population.md).
        metrics: the metrics to keep (default: every column of the run table).
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)] | None = (
        None
    )
    description: str = ""
    base: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    start: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: Annotated[list[ParameterSpec], Field(min_length=1)]
    design: DesignSpec
    replications: Annotated[int, Field(ge=1, le=100_000)] = 1
    steps: Annotated[int, Field(ge=1, le=100_000)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    seeds: Literal["common", "independent"] = "common"
    outcomes: Literal["summary", "timeseries", "by_group"] = "summary"
    metrics: Annotated[list[MetricName], Field(min_length=1)] | None = None


class Experiment:
    """A loaded, fully checked experiment: spec, base scenario and design.

    Attributes:
        spec: the validated experiment file.
        source: the experiment file (for messages).
        base_path: the base scenario file.
        base: the resolved base scenario after ``set:`` and ``steps:`` (plain data).
        parameters: the varied parameters, as the design sees them.
        design: the design points.
        start: the state file every run starts from (``start:``), or None: week 0.
        start_week: the saved week (0 without a state).
        start_hash: the saved scenario's hash (a state saved again elsewhere differs).
    """

    start: Path | None = None
    start_week: int = 0
    start_hash: str | None = None

    def __init__(
        self,
        spec: ExperimentSpec,
        source: str,
        base_path: Path,
        base: dict[str, Any],
        parameters: list[Parameter],
        design: Design,
    ):
        self.spec = spec
        self.source = source
        self.base_path = base_path
        self.base = base
        self.parameters = parameters
        self.design = design
        self._columns: dict[str, list[Any]] | None = None
        self._chosen = chosen_paths(spec)

    @property
    def name(self) -> str:
        """The study's name."""
        assert self.spec.name is not None
        return self.spec.name

    @property
    def steps(self) -> int:
        """Steps per run."""
        return int(self.base["simulation"]["steps"])

    @property
    def n_runs(self) -> int:
        """Total runs: design points times replications."""
        return len(self.design) * self.spec.replications

    def point_overrides(self, point: int) -> dict[str, Any]:
        """Dotted path -> value of design point ``point``."""
        if self._columns is None:
            points = self.design.points
            self._columns = {p.name: points[p.name].tolist() for p in self.parameters}
        return {p.path: _plain(self._columns[p.name][point], p) for p in self.parameters}

    def scenario_at(self, point: int) -> Scenario:
        """Return the validated scenario of design point ``point``."""
        overrides = self.point_overrides(point)
        try:
            data = _overlay(self.base, overrides)
        except (KeyError, IndexError, ValueError, TypeError):
            with _without_scaling_notes():
                data = apply_overrides(
                    self.base, overrides, source=f"{self.source}: design point {point}"
                )
        keep_proportions(self.base, data, self._chosen)
        try:
            return scenario_from_dict(data, source=f"{self.source}: design point {point}")
        except ScenarioError:
            shown = ", ".join(f"{k}={describe_value(v, 30)}" for k, v in overrides.items())
            try:
                return scenario_from_dict(
                    data, source=f"{self.source}: design point {point} ({shown})"
                )
            except ScenarioError as exc:
                raise ExperimentError(str(exc)) from None

    def describe(self) -> dict[str, Any]:
        """JSON-ready description of the study for the result store."""
        return {
            "name": self.name,
            "source": self.source,
            "base_path": str(self.base_path),
            **(
                {
                    "start": {
                        "path": str(self.start),
                        "week": self.start_week,
                        "hash": self.start_hash,
                    }
                }
                if self.start is not None
                else {}
            ),
            "spec": self.spec.model_dump(mode="json"),
            "design": {
                "kind": self.design.kind,
                "points": len(self.design),
                "problem": self.design.problem,
                "options": self.design.options,
            },
            "parameters": [
                {
                    "name": p.name,
                    "path": p.path,
                    "values": list(p.values) if p.values is not None else None,
                    "low": p.low,
                    "high": p.high,
                    "levels": p.levels,
                    "scale": p.scale,
                    "integer": p.integer,
                }
                for p in self.parameters
            ],
            "replications": self.spec.replications,
            "steps": self.steps,
            "master_seed": self.spec.seed,
            "seeds": self.spec.seeds,
            "outcomes": self.spec.outcomes,
            "metrics": self.spec.metrics,
            "runs": self.n_runs,
        }


def chosen_paths(spec: ExperimentSpec) -> set[str]:
    """Return the dotted scenario paths an experiment sets: under ``set:`` and its parameters."""
    return {*spec.set, *(p.path for p in spec.parameters)}


@contextmanager
def _without_scaling_notes() -> Iterator[None]:
    """Leave out :class:`PopulationScaled` warnings in the block (the loader said it once)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PopulationScaled)
        yield


def _overlay(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with dotted-path overrides, copying only the sections on each path.

    Much cheaper than a deep copy for every design point; the result shares the
    untouched sections with ``base`` and is only read (validated), never changed.

    Raises:
        KeyError, IndexError, ValueError, TypeError: a path that does not exist in
            ``base`` (the caller falls back to ``apply_overrides``).
    """
    out = dict(base)
    for path, value in overrides.items():
        keys = path.split(".")
        node: Any = out
        for key in keys[:-1]:
            index: Any = int(key) if isinstance(node, list) else key
            child = node[index]
            if isinstance(child, dict):
                child = dict(child)
            elif isinstance(child, list):
                child = list(child)
            else:
                raise TypeError(f"{path}: {key} is a value, not a section")
            node[index] = child
            node = child
        last: Any = int(keys[-1]) if isinstance(node, list) else keys[-1]
        if isinstance(node, list):
            node[last]  # noqa: B018 - IndexError for a missing item
        elif last not in node:
            raise KeyError(path)
        node[last] = copy.deepcopy(value)
    return out


def _plain(value: Any, param: Parameter) -> Any:
    """Turn a design-table cell back into the plain value written into the scenario."""
    if param.values is not None:
        # discrete parameters: give back the exact value from the file (tables hold text
        # for non-numeric values)
        for candidate in param.values:
            if candidate == value or (
                not isinstance(candidate, str) and _as_text(candidate) == value
            ):
                return copy.deepcopy(candidate)
    if hasattr(value, "item"):
        value = value.item()
    if param.integer:
        return int(value)
    return value


def _as_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --------------------------------------------------------------------------- messages


PATTERN_WORDING = {
    "string_pattern_mismatch": (
        "must be letters, digits, '_', '.' or '-' (it names the output folder)"
    )
}
"""The message for the one pattern of an experiment file: its ``name``."""


# --------------------------------------------------------------------------- loading


def _check_spec(spec: ExperimentSpec, metric_names: Iterable[str] | None) -> list[str]:
    """Cross-field checks that pydantic's field types cannot express."""
    problems: list[str] = []
    kind = spec.design.kind
    if spec.base is None and spec.start is None:
        problems.append("base: required: a scenario file (or start: a saved state)")
    names: dict[str, int] = {}
    paths: dict[str, int] = {}
    for i, p in enumerate(spec.parameters):
        where = f"parameters.{i}"
        name = p.name or p.path
        if (p.values is None) == (p.range is None):
            problems.append(
                f"{where}: give either 'values' (a list) or 'range' ([low, high]), "
                f"{'not both' if p.values is not None else 'one is required'}"
            )
            continue
        if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", p.path):
            problems.append(
                f"{where}.path: {p.path!r}: must be a dotted scenario path like payment.fraud_rate"
            )
        if p.path.split(".")[0] == "simulation" and p.path.split(".")[-1] == "seed":
            problems.append(
                f"{where}.path: {p.path!r}: run seeds come from the experiment's 'seed' and "
                "'replications', not from a parameter"
            )
        if p.path in ("simulation.steps",) and spec.steps is not None:
            problems.append(f"{where}.path: {p.path!r}: conflicts with the experiment's 'steps'")
        if name in RESERVED_COLUMNS:
            problems.append(
                f"{where}.name: {name!r}: reserved column name "
                f"(reserved: {', '.join(RESERVED_COLUMNS)})"
            )
        if metric_names is not None and name in set(metric_names):
            problems.append(f"{where}.name: {name!r}: is the name of a metric; choose another")
        if name in names:
            problems.append(f"{where}.name: {name!r}: used twice (also parameters.{names[name]})")
        names.setdefault(name, i)
        if p.path in paths:
            problems.append(
                f"{where}.path: {p.path!r}: varied twice (also parameters.{paths[p.path]})"
            )
        paths.setdefault(p.path, i)
        if p.path in spec.set:
            problems.append(f"{where}.path: {p.path!r}: also fixed under 'set'; drop one of them")
        if p.range is not None:
            low, high = p.range
            if not low < high:
                problems.append(f"{where}.range: [{low}, {high}]: low must be below high")
            if p.scale == "log" and low <= 0:
                problems.append(f"{where}.range: [{low}, {high}]: scale 'log' needs low > 0")
            if kind == "grid" and p.levels is None:
                problems.append(
                    f"{where}.levels: required for a range in a grid design "
                    "(how many evenly spaced values, >= 2)"
                )
        else:
            if p.levels is not None:
                problems.append(
                    f"{where}.levels: only for a 'range' (the values list sets the levels)"
                )
            if p.scale != "linear":
                problems.append(f"{where}.scale: only for a 'range'")
            if kind in ("sobol", "morris"):
                problems.append(
                    f"{where}.values: {kind} designs need a continuous 'range: [low, high]' "
                    "for every parameter (use grid or lhs for a list of values)"
                )
            elif p.values is not None and len({_as_text(v) for v in p.values}) != len(p.values):
                problems.append(f"{where}.values: {describe_value(p.values)}: repeated value")
            if p.values is not None and p.integer:
                bad = [v for v in p.values if not (isinstance(v, int) and not isinstance(v, bool))]
                if bad:
                    problems.append(
                        f"{where}.values: {describe_value(bad[0])}: "
                        "'integer: true' needs whole numbers"
                    )
    samples = spec.design.samples
    if kind == "grid":
        if samples is not None:
            problems.append(
                "design.samples: a grid takes every combination; set the values or levels "
                "of each parameter instead"
            )
    elif samples is None:
        problems.append(f"design.samples: required for a {kind} design")
    elif kind == "sobol" and samples & (samples - 1):
        lower = 1 << (samples.bit_length() - 1)
        problems.append(
            f"design.samples: {samples}: Sobol' samples must be a power of 2 "
            f"(closest: {lower} or {lower * 2})"
        )
    if kind == "morris" and spec.design.num_levels % 2:
        problems.append(f"design.num_levels: {spec.design.num_levels}: must be even (e.g. 4)")
    if kind != "sobol" and spec.design.second_order:
        problems.append("design.second_order: only for sobol designs")
    if spec.metrics is not None:
        if metric_names is not None:
            known = list(metric_names)
            for j, m in enumerate(spec.metrics):
                if m not in known:
                    problems.append(
                        f"metrics.{j}: {m!r}: unknown metric{close_match(m, known)} "
                        f"(allowed: {', '.join(known)})"
                    )
        if len(set(spec.metrics)) != len(spec.metrics):
            problems.append("metrics: a metric is listed twice")
    if not problems:
        sizes = [
            len(p.values) if p.values is not None else int(p.levels or 2) for p in spec.parameters
        ]
        points = design_size(
            kind, len(spec.parameters), samples, sizes, second_order=spec.design.second_order
        )
        if points * spec.replications > MAX_RUNS:
            problems.append(
                f"design: {points} points x {spec.replications} replications = "
                f"{points * spec.replications} runs, more than {MAX_RUNS}"
            )
    return problems


def known_metrics() -> list[str] | None:
    """Metric names an experiment may keep (None when the model's metrics are not available)."""
    try:
        from model import metrics
    except ImportError:
        return None
    # the main metrics first, then every other column of the registry, platform ones too
    names = list(dict.fromkeys([*metrics.METRICS, *metrics.METRIC_NAMES]))
    return names or None


def _value_at(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (
            isinstance(node, list)
            and part.lstrip("-").isdigit()
            and -len(node) <= int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            return None
    return node


def _scaling_note(
    source: str, where: str, base: Mapping[str, Any], chosen: Collection[str]
) -> str | None:
    """Say that merchants and KOLs scale with a varied ``population.consumers`` (None: none do)."""
    counts = base.get("population") or {}
    free = [
        name
        for name in ("merchants", "kols")
        if f"population.{name}" not in chosen and counts.get(name)
    ]
    if not free:
        return None
    labels = " and ".join(COUNT_LABELS[n] for n in free)
    keys = " / ".join(f"population.{n}" for n in free)
    return (
        f"{source}: {where} (population.consumers): {labels} scale with it at every design "
        f"point, in the base scenario's proportions (set or vary {keys} to choose)"
    )


def _check_against_scenario(
    spec: ExperimentSpec, source: str, base: dict[str, Any], saved: Any = None
) -> tuple[list[Parameter], list[str]]:
    """Apply each parameter's values (or range ends) to the base scenario and validate.

    From a saved state (``saved``, a ``model.state_io.SavedState``) each value must
    also change only the saved scenario's future.
    """
    if saved is not None:
        from model.state_io import future_difference

        saved_scenario = saved.scenario()
    problems: list[str] = []
    params: list[Parameter] = []
    chosen = chosen_paths(spec)
    for i, p in enumerate(spec.parameters):
        where = f"parameters.{i}"
        current = _value_at(base, p.path)
        integer = p.integer
        if integer is None:
            integer = isinstance(current, int) and not isinstance(current, bool)
            if (
                integer
                and p.values is not None
                and not all(isinstance(v, int) and not isinstance(v, bool) for v in p.values)
            ):
                integer = False
        param = Parameter(
            name=p.name or p.path,
            path=p.path,
            values=tuple(p.values) if p.values is not None else None,
            low=p.range[0] if p.range is not None else None,
            high=p.range[1] if p.range is not None else None,
            levels=p.levels,
            scale=p.scale,
            integer=bool(integer),
        )
        if p.values is not None:
            candidates = list(p.values)
        else:
            assert p.range is not None
            candidates = (
                param.grid_values()
                if spec.design.kind == "grid"
                else [
                    param._finish(p.range[0]),
                    param._finish(p.range[1]),
                ]
            )
        with _without_scaling_notes():
            for value in candidates:
                label = f"{where} ({p.path}={describe_value(value, 40)})"
                try:
                    data = apply_overrides(
                        base, {p.path: value}, source=f"{source}: {where}.path", fixed=chosen
                    )
                    scenario = scenario_from_dict(data, source=f"{source}: {label}")
                except ScenarioError as exc:
                    problems.extend(str(exc).splitlines())
                    break
                if saved is not None and (
                    problem := future_difference(saved_scenario, scenario, saved.week)
                ):
                    problems.append(
                        f"{source}: {label}: cannot vary from the state {spec.start}, whose "
                        f"present (week {saved.week}) was computed with the saved value: {problem}"
                    )
                    break
        if p.path == "population.consumers" and (
            note := _scaling_note(source, where, base, chosen)
        ):
            warnings.warn(note, PopulationScaled, stacklevel=2)
        params.append(param)
    return params, problems


def read_experiment_spec(path: str | Path) -> ExperimentSpec:
    """Read an experiment file and check it against the schema alone (light: no design).

    A file without ``name:`` is named after the file. ``mtsim sweep`` calls it before
    its heavy imports; :func:`load_experiment` checks the rest.

    Raises:
        ExperimentError: one line per problem, naming the file, key path, value and what
            is allowed.
    """
    path = Path(path)
    data = read_yaml_mapping(path, "experiment", ExperimentError)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(
            validation_message(exc, str(path), ExperimentSpec, wording=PATTERN_WORDING)
        ) from None
    if spec.name is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem) or "experiment"
        spec = spec.model_copy(update={"name": stem})
    return spec


def load_experiment(path: str | Path) -> Experiment:
    """Load and check an experiment file, its base scenario and its design.

    Args:
        path: the experiment YAML file.

    Returns:
        The Experiment, with its design built.

    Raises:
        ExperimentError: one line per problem, naming the file, key path, value and what
            is allowed.
    """
    path = Path(path)
    source = str(path)
    spec = read_experiment_spec(path)
    metric_names = known_metrics()
    problems = _check_spec(spec, metric_names)
    if problems:
        raise ExperimentError(problem_lines(source, problems))

    saved = None
    if spec.start is not None:
        saved, base_scenario, base_path = _base_from_state(spec, path, source)
    else:
        assert spec.base is not None
        base_path = Path(spec.base)
        if not base_path.is_absolute():
            base_path = path.parent / base_path
        if not base_path.exists():
            raise ExperimentError(
                problem_lines(
                    source, [f"base: {spec.base!r}: scenario file not found ({base_path})"]
                )
            )
        raw = read_scenario_data(base_path)
        raw.setdefault("name", base_path.stem)
        base_scenario = scenario_from_dict(raw, source=str(base_path))
    fixed = dict(spec.set)
    if spec.steps is not None:
        fixed["simulation.steps"] = spec.steps
    try:
        with_set = apply_overrides(
            base_scenario.resolved(), fixed, source=f"{source}: set", fixed=chosen_paths(spec)
        )
        base_checked = scenario_from_dict(with_set, source=f"{source}: set")
        base = base_checked.resolved()
    except ScenarioError as exc:
        raise ExperimentError(str(exc)) from None
    if saved is not None:
        from model.state_io import future_difference

        if int(base["simulation"]["steps"]) <= saved.week:
            raise ExperimentError(
                f"{source}: steps: {base['simulation']['steps']}: the state {spec.start} is "
                f"at week {saved.week}; give the last week, after it"
            )
        problem = future_difference(saved.scenario(), base_checked, saved.week)
        if problem is not None:
            raise ExperimentError(f"{source}: set: from the state {spec.start}: {problem}")

    params, problems = _check_against_scenario(spec, source, base, saved)
    if problems:
        raise ExperimentError("\n".join(dict.fromkeys(problems)))
    design = make_design(
        spec.design.kind,
        params,
        master_seed=spec.seed,
        samples=spec.design.samples,
        second_order=spec.design.second_order,
        num_levels=spec.design.num_levels,
    )
    experiment = Experiment(spec, source, base_path.resolve(), base, params, design)
    if saved is not None:
        experiment.start, experiment.start_week = Path(saved.path).resolve(), saved.week
        experiment.start_hash = saved.scenario_hash
    return experiment


def _base_from_state(spec: ExperimentSpec, path: Path, source: str) -> tuple[Any, Scenario, Path]:
    """Return (saved state, base scenario, base path) of an experiment with ``start:``.

    The base is the saved scenario; a ``base:`` policy file beside it replaces the
    saved policies from the saved week on by its own (each starting then or later).

    Raises:
        ExperimentError: an unusable state file, or a policy file with other keys or a
            policy starting before the saved week (one line).
    """
    from model.errors import UserError
    from model.state_io import read_state, with_policy_file

    assert spec.start is not None
    state_path = Path(spec.start)
    if not state_path.is_absolute():
        state_path = path.parent / state_path
    try:
        saved = read_state(state_path)
    except UserError as exc:
        raise ExperimentError(f"{source}: start: {exc}") from None
    week = saved.week
    data = saved.scenario().resolved()
    if spec.base is None:
        return saved, scenario_from_dict(data, source=f"{state_path} (saved scenario)"), state_path
    base_path = Path(spec.base)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.exists():
        raise ExperimentError(f"{source}: base: {spec.base!r}: policy file not found ({base_path})")
    raw = read_yaml_mapping(base_path, None, ExperimentError)
    data = with_policy_file(
        data, raw, week, base_path, role="beside start: the base", error=ExperimentError
    )
    return saved, scenario_from_dict(data, source=str(base_path)), base_path
