r"""Policy mix search: the optimization file, decision variables, Pareto fronts, the page.

``mtsim optimize`` searches policy mixes within a budget for several objectives at
once. This module holds the decision logic: reading and checking the file, the
decision variables and the scenario of a candidate, Pareto dominance, the ready
scenario file of a mix, the figure and the page. The search loop (Optuna NSGA-II,
replications through the runner, the resumable study) and the result folder are
:mod:`model.workflows.optimize`.

An optimization file names a base scenario, the levers to mix (each lever's
strength, start week and duration fixed or searched), the objectives with their
directions, a budget on the total policy cost the model computes, and how many
candidates to try::

    name: optimize_payment_trust
    base: ../scenarios/baseline.yaml      # relative to this file
    set: {population.consumers: 1000}     # fixed overrides (as --set)
    steps: 52
    replications: 3                       # runs per candidate, seeds seed..seed+R-1
    seed: 11
    budget: 20000                         # mean cumulative_policy_cost at the end <= budget
    trials: 60                            # distinct mixes to evaluate
    population: 12                        # NSGA-II population size
    levers:
      - lever: payment_security
        strength: [0.0, 1.0]              # a number: fixed; [low, high]: searched
        step: 0.05                        # optional grid step of the strength
        start: [1, 26]                    # weeks (integers), fixed or searched; default 1
        duration: [13, 52]                # weeks it acts; default: to the end of the run
        fields: {label: Payment security} # other intervention keys, as they are
        fields_per_strength: {cost_per_step: 250}   # key = 250 x the candidate's strength
      - lever: integrity
        strength: [0.0, 0.5]
    objectives:
      - {metric: payment_adoption, direction: maximize}                  # measure: final
      - {metric: counterfeit_incidents, measure: cumulative, direction: minimize}

A lever at strength 0 is left out of a candidate's policies (it does nothing and
costs nothing); the budget is on the mean ``cumulative_policy_cost`` at the last week.

From a calibrated present (docs/present.md): ``start: STATE.npz`` (relative to this
file; a state saved with ``mtsim run --save-state WEEK``) in place of ``base:``. Every
run starts from the state; the base is the saved scenario (its policies before the
saved week are the shared past and always kept); ``steps:`` (the last week, after the
saved week) is needed, ``set:`` is refused (the population and parameters are the
state's), every lever starts at the saved week or later, and the mixes are written as
policy files for ``mtsim compare --from-state``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from model.errors import UserError
from model.schema_errors import StrictModel, deepest_errors, describe_error

if TYPE_CHECKING:  # numpy and pandas are imported in the functions: input errors stay fast
    import numpy as np
    import pandas as pd

MEASURES = ("final", "last_quarter", "run_mean", "cumulative")
"""Per-run measures an objective may use (definitions in ``model.analysis.stats``)."""

MEASURE_WORDS = {
    "final": "at the end",
    "last_quarter": "last 13 weeks",
    "run_mean": "run mean",
    "cumulative": "summed over the run",
}
"""Each measure in words, for the page's table and the figure's axes."""

COST_METRIC = "cumulative_policy_cost"
"""The model-computed total policy cost: its value at the last week is the budgeted cost."""


class _Strict(StrictModel):
    """Unknown keys, ``.nan``, ``.inf`` and true/false for a number are refused."""


Range = tuple[float, float]


class LeverSpec(_Strict):
    """One lever of the mix.

    Attributes:
        lever: the lever (``model.levers.LEVERS``).
        name: prefix of its decision variables (default: the lever's name).
        strength: fixed strength, or ``[low, high]`` to search.
        step: grid step of a searched strength (None: continuous).
        start: fixed first week, or ``[low, high]`` (integers) to search.
        duration: weeks it acts, fixed or ``[low, high]``; None: to the end of the run.
        ramp: weeks to reach full strength.
        fields: other intervention keys passed as they are (e.g. ``cost_per_step``).
        fields_per_strength: intervention keys whose value is this number times the
            candidate's strength (e.g. a programme overhead ``cost_per_step`` that grows
            with the strength); added to ``fields``.
    """

    lever: str
    name: str | None = None
    strength: float | Range
    step: Annotated[float, Field(gt=0)] | None = None
    start: int | tuple[int, int] = 1
    duration: int | tuple[int, int] | None = None
    ramp: Annotated[int, Field(ge=0)] = 0
    fields: dict[str, Any] = Field(default_factory=dict)
    fields_per_strength: dict[str, float] = Field(default_factory=dict)


class ObjectiveSpec(_Strict):
    """One objective.

    Attributes:
        metric: a metric of the run table.
        measure: how a run is summarised (final, last_quarter, run_mean, cumulative).
        direction: maximize or minimize.
    """

    metric: str
    measure: Literal["final", "last_quarter", "run_mean", "cumulative"] = "final"
    direction: Literal["maximize", "minimize"]

    def shown(self) -> tuple[float, str]:
        """Return the factor from stored to shown values and the unit shown.

        The metric's own for a level; a sum over weeks (``cumulative``) is shown unscaled,
        in the metric's total unit (orders, yuan), or in its stored unit for a
        metric that is not summed over weeks (a share).
        """
        from model.metrics import metric_info

        info = metric_info(self.metric)
        if self.measure != "cumulative":
            return info.scale, info.unit
        return 1.0, info.total_unit if info.summable else info.stored_unit


class OptimizationSpec(_Strict):
    """The validated content of an optimization file (see the module docstring)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None
    description: str = ""
    base: str | None = None
    start: str | None = None
    """A state file to start every run from (docs/present.md), in place of ``base``."""
    set: dict[str, Any] = Field(default_factory=dict)
    steps: Annotated[int, Field(ge=1)] | None = None
    replications: Annotated[int, Field(ge=1, le=1000)] = 3
    seed: Annotated[int, Field(ge=0)] = 0
    budget: float
    trials: Annotated[int, Field(ge=1, le=100_000)] = 50
    """Distinct mixes to evaluate (a mix proposed again reuses its result and is not counted)."""
    population: Annotated[int, Field(ge=2, le=10_000)] = 10
    batch: Annotated[int, Field(ge=1)] | None = None
    mixes: Annotated[int, Field(ge=1, le=100)] = 10
    keep_base_policies: bool = True
    anchors: bool = True
    levers: Annotated[list[LeverSpec], Field(min_length=1)]
    objectives: Annotated[list[ObjectiveSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _base_or_start(self) -> OptimizationSpec:
        if (self.base is None) == (self.start is None):
            raise ValueError("give base: (a scenario file) or start: (a saved state), one of them")
        return self

    @model_validator(mode="after")
    def _names_unique(self) -> OptimizationSpec:
        names = [lv.name or lv.lever for lv in self.levers]
        if len(set(names)) != len(names):
            raise ValueError("two levers share a name; give each a distinct 'name:'")
        return self


@dataclass(frozen=True)
class Variable:
    """A decision variable: ``<lever name>.<strength|start|duration>`` and its range."""

    name: str
    low: float
    high: float
    integer: bool
    step: float | None = None

    def distribution(self) -> Any:
        """Return the Optuna distribution of this variable."""
        from optuna.distributions import FloatDistribution, IntDistribution

        if self.integer:
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(float(self.low), float(self.high), step=self.step)


@dataclass
class Problem:
    """A loaded, checked optimization problem.

    Attributes:
        spec: the validated file.
        source: the file (for messages).
        base_path: the base scenario file.
        base: the resolved base scenario after ``set:`` and ``steps:`` (plain data).
        variables: the decision variables.
    """

    spec: OptimizationSpec
    source: str
    base_path: Path
    base: dict[str, Any]
    variables: list[Variable] = field(default_factory=list)
    start: Path | None = None
    start_week: int = 0

    @property
    def name(self) -> str:
        """The problem's name (default: the file name)."""
        return self.spec.name or Path(self.source).stem

    @property
    def steps(self) -> int:
        """Weeks per run."""
        return int(self.base["simulation"]["steps"])

    @property
    def seeds(self) -> list[int]:
        """Seeds of the replications (common to every candidate)."""
        return [self.spec.seed + r for r in range(self.spec.replications)]

    def objective_names(self) -> list[str]:
        """Column names of the objectives: ``<metric>_<measure>``."""
        return [f"{o.metric}_{o.measure}" for o in self.spec.objectives]

    def shown_objectives(self, row: Mapping[str, Any]) -> list[str]:
        """Format a trial's objective values as the page, figure and mix files show them.

        Each in its shown unit (``ObjectiveSpec.shown``: shares in per cent), by the
        registry's ``format_number``.
        """
        from model.metrics import format_number

        return [
            format_number(float(row[name]) * o.shown()[0])
            for name, o in zip(self.objective_names(), self.spec.objectives, strict=True)
        ]

    def directions(self) -> list[str]:
        """Optuna directions of the objectives."""
        return [o.direction for o in self.spec.objectives]

    def anchor_mixes(self) -> list[dict[str, Any]]:
        """List the mixes every search starts with (anchors).

        No lever, and each lever alone at its highest strength (earliest start, longest
        duration), so the front's ends are anchored.
        """
        lows: dict[str, Any] = {}
        for v in self.variables:
            kind = v.name.rsplit(".", 1)[1]
            value = v.high if kind == "duration" else v.low
            lows[v.name] = int(value) if v.integer else float(value)
        mixes = [dict(lows)]
        for v in self.variables:
            if v.name.endswith(".strength"):
                mixes.append({**lows, v.name: float(v.high)})
        return mixes

    def space_size(self) -> int | None:
        """Count the distinct mixes when every variable is discrete (None: continuous)."""
        size = 1
        for v in self.variables:
            if v.integer:
                size *= int(v.high) - int(v.low) + 1
            elif v.step is not None:
                size *= int(math.floor((v.high - v.low) / v.step + 1e-9)) + 1
            else:
                return None
        return size

    def digest(self) -> str:
        """Hash everything that defines the problem (resume checks it)."""
        record = {"spec": self.spec.model_dump(mode="json"), "base": self.base}
        if self.start is not None:
            record["start_week"] = self.start_week
        payload = json.dumps(record, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def interventions(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Build the interventions of a candidate (decision variables -> policy entries)."""
        out = []
        for lv in self.spec.levers:
            prefix = lv.name or lv.lever
            strength = round(float(params.get(f"{prefix}.strength", lv.strength)), 10)
            if strength == 0.0:
                continue  # a lever at strength 0 does nothing and costs nothing: left out
            start = int(params.get(f"{prefix}.start", lv.start))
            duration = params.get(f"{prefix}.duration", lv.duration)
            item: dict[str, Any] = {
                "lever": lv.lever,
                "label": f"{prefix} (optimized)",
                "start": start,
                "end": None if duration is None else start + int(duration),
                "ramp": lv.ramp,
                "strength": float(strength),
                **lv.fields,
            }
            for key, per in lv.fields_per_strength.items():
                item[key] = round(float(item.get(key, 0.0)) + float(per) * strength, 10)
            out.append(item)
        return out

    def kept_policies(self) -> list[dict[str, Any]]:
        """Return the base's policies a candidate keeps (from a state: always the past ones)."""
        policies = list(self.base.get("policies") or [])
        if self.spec.keep_base_policies:
            return policies
        return [p for p in policies if int(p.get("start", 0)) < self.start_week]

    def scenario(self, params: Mapping[str, Any], name: str = "candidate") -> dict[str, Any]:
        """Build the resolved scenario of a candidate (validated)."""
        from model.scenario import scenario_from_dict

        data = json.loads(json.dumps(self.base))
        data["policies"] = self.kept_policies() + self.interventions(params)
        data["name"] = name
        return scenario_from_dict(data, source=f"{self.source}: {name}").resolved()


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith(("tuple[", "function-")))


def _spec_problems(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for err in deepest_errors(exc.errors()):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]
        where = _loc(loc) or "(top level)"
        kind = err["type"]
        if kind == "missing" and loc and loc[-1] == "direction":
            problems.append(
                f"{where}: missing; every objective needs direction: maximize or minimize"
            )
        elif kind == "missing":
            problems.append(f"{where}: missing (required)")
        elif kind == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        elif kind == "literal_error":
            problems.append(f"{where}: {err.get('input')!r}: {err['msg'].lower()}")
        else:
            problems.append(describe_error(err, OptimizationSpec))
    return list(dict.fromkeys(problems))


def _range(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (tuple, list)):
        return float(value[0]), float(value[1])
    return None


def _empty_range(low: float, high: float) -> str:
    return (
        f"[{low:g}, {high:g}]: an empty range (nothing to search); give the number alone "
        "to fix it, or a wider range"
    )


def _check_timing(problem: Problem) -> None:
    """Refuse start weeks after the run's end and durations longer than the run.

    A lever that starts after the last week never acts and costs nothing: a search over
    such starts would spend its trials on mixes that are the same as leaving it out.

    Raises:
        UserError: one line per lever, naming the key, its value and the run's length.
    """
    steps, src = problem.steps, problem.source
    problems = []
    for i, lv in enumerate(problem.spec.levers):
        start = _range(lv.start)
        latest = int(start[1]) if start is not None else int(lv.start)  # type: ignore[arg-type]
        earliest = int(start[0]) if start is not None else latest
        if earliest < problem.start_week:
            problems.append(
                f"{src}: levers.{i}.start: {earliest}: the state is at week "
                f"{problem.start_week}; a lever from it starts at week {problem.start_week} or "
                "later"
            )
        if latest > steps:
            shown = f"[{start[0]:g}, {start[1]:g}]" if start is not None else str(lv.start)
            problems.append(
                f"{src}: levers.{i}.start: {shown}: after the run's last week ({steps}); a "
                f"lever starting then never acts; start at week {steps} at the latest"
            )
        duration = _range(lv.duration) if lv.duration is not None else None
        longest = duration[1] if duration is not None else lv.duration
        if longest is not None and int(longest) > steps:  # type: ignore[arg-type]
            shown = f"[{duration[0]:g}, {duration[1]:g}]" if duration is not None else str(longest)
            problems.append(
                f"{src}: levers.{i}.duration: {shown}: longer than the run ({steps} weeks); "
                f"give at most {steps} (or leave duration out: to the end of the run)"
            )
    if problems:
        raise UserError("\n".join(problems))


def load_problem(path: str | Path) -> Problem:
    """Load and check an optimization file and its base scenario.

    Raises:
        UserError: one line per problem, ``FILE: key.path: problem``.
    """
    from model.levers import LEVER_MAX
    from model.scenario import (
        ScenarioError,
        apply_overrides,
        read_scenario_data,
        read_yaml_mapping,
        scenario_from_dict,
    )
    from model.yamlio import missing_file_hint

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such optimization file{missing_file_hint(path)}")
    try:
        data = read_yaml_mapping(path, "optimization")
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    src = str(path)
    # the clear one-liners first, before the schema's own messages
    for i, obj in enumerate(data.get("objectives") or []):
        if isinstance(obj, Mapping) and "direction" not in obj:
            raise UserError(
                f"{src}: objectives.{i}.direction: missing; say whether to maximize or "
                f"minimize {obj.get('metric', 'this objective')}"
            )
    budget = data.get("budget")
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        if not math.isfinite(budget):
            raise UserError(f"{src}: budget: {budget}: must be a finite number, 0 or more")
        if budget < 0:
            raise UserError(f"{src}: budget: {budget}: must be 0 or more")
    try:
        spec = OptimizationSpec.model_validate(data)
    except ValidationError as exc:
        raise UserError("\n".join(f"{src}: {p}" for p in _spec_problems(exc, data))) from None
    problems: list[str] = []
    import difflib

    from model.metrics import METRIC_NAMES  # numpy: only once the file's shape is right

    known = set(METRIC_NAMES)
    for i, obj in enumerate(spec.objectives):
        if obj.metric not in known:
            match = difflib.get_close_matches(obj.metric, sorted(known), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            problems.append(f"{src}: objectives.{i}.metric: {obj.metric}: unknown metric{hint}")
    variables: list[Variable] = []
    for i, lv in enumerate(spec.levers):
        prefix = lv.name or lv.lever
        if lv.lever not in LEVER_MAX:
            match = difflib.get_close_matches(lv.lever, list(LEVER_MAX), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            problems.append(f"{src}: levers.{i}.lever: {lv.lever}: unknown lever{hint}")
            continue
        top = LEVER_MAX[lv.lever]
        strength = _range(lv.strength)
        if strength is not None:
            low, high = strength
            if not 0 <= low <= high <= top:
                problems.append(
                    f"{src}: levers.{i}.strength: [{low:g}, {high:g}]: "
                    f"need 0 <= low <= high <= {top:g}"
                )
            elif low == high:
                problems.append(f"{src}: levers.{i}.strength: {_empty_range(low, high)}")
            elif lv.step is not None and lv.step > high - low:
                problems.append(
                    f"{src}: levers.{i}.step: {lv.step:g}: larger than the range "
                    f"[{low:g}, {high:g}], so only {low:g} would be tried; give a step of at "
                    f"most {high - low:g}"
                )
            variables.append(Variable(f"{prefix}.strength", low, high, False, lv.step))
        elif lv.step is not None:
            problems.append(
                f"{src}: levers.{i}.step: a step needs a searched strength [low, high]; "
                f"the strength is fixed at {lv.strength:g}"
            )
        elif not 0 <= float(lv.strength) <= top:
            problems.append(f"{src}: levers.{i}.strength: {lv.strength}: must be 0 to {top:g}")
        for key, lowest in (("start", 1), ("duration", 1)):
            value = getattr(lv, key)
            rng = _range(value)
            if rng is not None:
                if not lowest <= rng[0] <= rng[1]:
                    problems.append(
                        f"{src}: levers.{i}.{key}: [{rng[0]:g}, {rng[1]:g}]: need "
                        f"{lowest} <= low <= high"
                    )
                elif rng[0] == rng[1]:
                    problems.append(f"{src}: levers.{i}.{key}: {_empty_range(*rng)}")
                variables.append(Variable(f"{prefix}.{key}", rng[0], rng[1], True))
            elif value is not None and int(value) < lowest:
                problems.append(f"{src}: levers.{i}.{key}: {value}: must be at least {lowest}")
    if not variables and not problems:
        problems.append(f"{src}: levers: nothing to search; give a [low, high] range somewhere")
    saved = None
    if spec.start is not None:
        from model.state_io import read_state

        base_path = (path.parent / spec.start).resolve()
        try:
            saved = read_state(base_path)
        except UserError as exc:
            problems.append(f"{src}: start: {exc}")
        if spec.set:
            problems.append(
                f"{src}: set: with start: the population and parameters are the saved state's; "
                "give only steps: (the last week)"
            )
        if saved is not None and (spec.steps is None or spec.steps <= saved.week):
            problems.append(
                f"{src}: steps: the state is at week {saved.week}; give the last week, after it"
            )
    else:
        base_path = (path.parent / str(spec.base)).resolve()
        if not base_path.is_file():
            problems.append(f"{src}: base: {spec.base!r}: file not found ({base_path})")
    if problems:
        raise UserError("\n".join(problems))
    try:
        if saved is not None:
            import yaml

            raw = yaml.safe_load(saved.meta["scenario_yaml"])
        else:
            raw = read_scenario_data(base_path)
        overrides = dict(spec.set)
        if spec.steps is not None:
            overrides["simulation.steps"] = spec.steps
        merged = apply_overrides(raw, overrides, source=f"{src}: set") if overrides else raw
        base = scenario_from_dict(merged, source=f"{src}: base {spec.base}").resolved()
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    problem = Problem(spec, src, base_path, base, variables)
    if saved is not None:
        problem.start, problem.start_week = base_path, saved.week
    _check_timing(problem)
    # check the extreme candidates against the scenario schema before any run
    lows = {v.name: (int(v.low) if v.integer else v.low) for v in variables}
    highs = {v.name: (int(v.high) if v.integer else v.high) for v in variables}
    for params in (lows, highs):
        try:
            problem.scenario(params)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
    return problem


# ----------------------------------------------------------------------------- fronts


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Mark the rows no other row dominates (as good in all objectives, better in one)."""
    import numpy as np

    sign = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
    score = np.asarray(values, dtype=float) * sign
    n = len(score)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not np.all(np.isfinite(score[i])):
            keep[i] = False
            continue
        better_eq = np.all(score >= score[i], axis=1)
        strictly = np.any(score > score[i], axis=1)
        if np.any(better_eq & strictly):
            keep[i] = False
    return keep


def dominates_or_equals(
    a: Sequence[float], b: Sequence[float], directions: Sequence[str], tol: float = 0.0
) -> bool:
    """Tell whether ``a`` is at least as good as ``b`` in every objective (within ``tol``)."""
    for x, y, d in zip(a, b, directions, strict=True):
        if d == "maximize" and x < y - tol:
            return False
        if d == "minimize" and x > y + tol:
            return False
    return True


# ----------------------------------------------------------------------------- mixes


def _nested(path: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    return out


BASE_MIX_FILE = "base.yaml"
"""The reference of the mixes in ``mixes/``: the base as the search ran it (``set:``,
``steps:``, the population), with the base's policies when ``keep_base_policies``."""


def _shown_path(p: Path) -> str:
    """Return a path as a command run from the current folder takes it (relative if it can)."""
    try:
        return os.path.relpath(p)
    except ValueError:
        return str(p)


def check_command(problem: Problem, base_file: Path, target: Path) -> str:
    """Return the command that checks a mix against the base, like with like, fresh seeds.

    Both files carry the population, weeks and ``set:`` the search used, so the
    comparison differs only in the mix's levers; the seeds start after those the search
    used. Paths are relative to the current folder (where ``mtsim optimize`` ran).
    """
    import shlex

    fresh = problem.spec.seed + problem.spec.replications
    if problem.start is not None:  # the reference is the saved scenario
        return (
            f"mtsim compare --from-state {shlex.quote(_shown_path(problem.start))} "
            f"{shlex.quote(_shown_path(target))} --steps {problem.steps} --seed {fresh}"
        )
    return (
        f"mtsim compare {shlex.quote(_shown_path(base_file))} {shlex.quote(_shown_path(target))} "
        f"--seed {fresh}"
    )


def mix_scenario_data(
    problem: Problem, params: Mapping[str, Any] | None, name: str, target: Path, summary: str
) -> dict[str, Any]:
    """Return the scenario of one mix (None: the base's reference), as the search ran it.

    It extends the base file and repeats ``set:``, the weeks and the population sizes
    (consumers, merchants, kols) the search used: a ``population.consumers`` in
    ``set:`` scales merchants and KOLs, which a plain ``extends:`` would not.
    """
    from model.scenario import deep_merge

    if problem.start is not None:  # a policy file for mtsim compare --from-state
        future = [
            p for p in problem.kept_policies() if int(p.get("start", 0)) >= problem.start_week
        ]
        mix = problem.interventions(params) if params is not None else []
        return {"name": name, "description": summary, "policies": future + mix}
    rel = os.path.relpath(problem.base_path, start=target.parent)
    data: dict[str, Any] = {"extends": rel, "name": name}
    data["description"] = summary
    extra: dict[str, Any] = {}
    for path, value in problem.spec.set.items():
        extra = deep_merge(extra, _nested(path, value))
    population = problem.base.get("population") or {}  # the sizes the search ran
    sizes = {k: population[k] for k in ("consumers", "merchants", "kols") if k in population}
    extra = deep_merge(extra, {"population": sizes, "simulation": {"steps": problem.steps}})
    data.update(extra)
    mix = problem.interventions(params) if params is not None else []
    data["policies"] = problem.kept_policies() + mix
    return data


def mix_scenario_text(
    problem: Problem, params: Mapping[str, Any] | None, name: str, target: Path, summary: str
) -> str:
    """Write a ready scenario file for one mix: extends the base, ``set:``, the policies."""
    import yaml

    data = mix_scenario_data(problem, params, name, target, summary)
    if params is None:
        head = (
            f"# The base of mtsim optimize ({problem.source}) as the search ran it: the\n"
            "# reference to compare its mixes with (same population, weeks and set:).\n"
        )
    else:
        head = (
            f"# A policy mix found by mtsim optimize ({problem.source}).\n"
            f"# {summary}\n"
            "# Check it with fresh seeds against the base, from where mtsim optimize ran:\n"
            f"#   {check_command(problem, target.parent / BASE_MIX_FILE, target)}\n"
        )
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def spread_along_front(front: pd.DataFrame, column: str, k: int) -> pd.DataFrame:
    """Pick at most ``k`` mixes of the front, evenly spread along ``column`` (ends included)."""
    import numpy as np

    ordered = front.sort_values(column, kind="stable")
    if len(ordered) <= k:
        return ordered
    picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, k)).astype(int))
    return ordered.iloc[picks]


# ----------------------------------------------------------------------------- figure and page


def plot_front(problem: Problem, trials: pd.DataFrame, path: Path) -> Path:
    """Scatter of every trial in objective space; the Pareto front highlighted.

    Two objectives: one panel; more: one panel per pair of objectives.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.metrics import metric_info

    names = problem.objective_names()
    specs = problem.spec.objectives
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))] or [(0, 0)]
    cols = min(3, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    ok = trials[trials["state"] == "complete"]
    feas = ok[ok["feasible"]]
    infeas = ok[~ok["feasible"]]
    front = ok[ok["pareto"]]

    def _label(k: int) -> str:
        words = MEASURE_WORDS[specs[k].measure]
        arrow = "higher is better" if specs[k].direction == "maximize" else "lower is better"
        return f"{metric_info(specs[k].metric).label}, {words} [{specs[k].shown()[1]}] ({arrow})"

    for ax, (i, j) in zip(axes.flat, pairs, strict=False):
        xi, yj = names[i], names[j]
        sx, sy = specs[i].shown()[0], specs[j].shown()[0]
        ax.scatter(
            infeas[xi] * sx,
            infeas[yj] * sy,
            marker="x",
            color="#bbbbbb",
            label=f"over budget ({len(infeas)})",
        )
        ax.scatter(
            feas[xi] * sx,
            feas[yj] * sy,
            color="#7f9fbf",
            alpha=0.7,
            label=f"within budget ({len(feas)})",
        )
        f = front.sort_values(xi)
        ax.plot(f[xi] * sx, f[yj] * sy, "o-", color="#d62728", label=f"Pareto front ({len(f)})")
        ax.set_xlabel(_label(i), fontsize=8)
        ax.set_ylabel(_label(j), fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(pairs) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{problem.name}:\n{len(ok)} mixes evaluated, budget "
        f"{problem.spec.budget:,.0f} (means of {problem.spec.replications} runs)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def optimize_page(
    problem: Problem,
    trials: pd.DataFrame,
    front: pd.DataFrame,
    mixes: Sequence[tuple[int, Path, pd.Series]],
    figure: Path | None,
    seconds: float,
    command: str,
    check: str = "",
) -> str:
    """Render the HTML page of a search (``model/templates/optimize.html``).

    Args:
        problem: the problem.
        trials: every trial (:func:`model.workflows.optimize.trials_table`).
        front: the feasible non-dominated trials.
        mixes: (number, scenario file, trial row) of each mix written as a scenario.
        figure: the Pareto front figure, if drawn.
        seconds: wall time of this session.
        command: the command line.
        check: the command that checks the first mix against the base (:func:`check_command`).
    """
    from model.analysis.html import esc, markup, render_page
    from model.metrics import format_number, in_sentence, metric_info

    names = problem.objective_names()
    levers = ", ".join(
        f"{lv.lever} (strength {lv.strength}, start {lv.start}, duration "
        f"{lv.duration if lv.duration is not None else 'to the end'})"
        for lv in problem.spec.levers
    )
    objectives = ", ".join(
        f"{o.direction} {in_sentence(metric_info(o.metric).label)} ({o.measure})"
        for o in problem.spec.objectives
    )
    ok = trials[trials["state"] == "complete"] if not trials.empty else trials
    bests = []
    for o, n in zip(problem.spec.objectives, names, strict=True):
        if front.empty:
            break
        best = front.sort_values(n, ascending=o.direction == "minimize").iloc[0]
        scale, unit = o.shown()
        bests.append(
            {
                "label": in_sentence(metric_info(o.metric).label),
                "measure": o.measure,
                "value": format_number(best[n] * scale),
                "unit": unit,
                "mix": ", ".join(f"{v.name} = {best[v.name]:.3g}" for v in problem.variables),
                "cost": format_number(best["total_policy_cost"]),
            }
        )
    rows = [
        {
            "file": target.name,
            "variables": [f"{row[v.name]:.4g}" for v in problem.variables],
            "objectives": problem.shown_objectives(row),
            "cost": format_number(row["total_policy_cost"]),
        }
        for _, target, row in mixes
    ]
    columns = [
        {
            "label": f"{metric_info(o.metric).label}, {MEASURE_WORDS[o.measure]}",
            "unit": o.shown()[1],
        }
        for o in problem.spec.objectives
    ]
    # decision variables are dotted names: let the browser break them after a dot
    variables = [markup(esc(v.name).replace(".", ".<wbr>")) for v in problem.variables]
    return render_page(
        "optimize.html",
        title=f"Policy mix search: {problem.name}",
        problem=problem,
        levers=levers,
        objectives=objectives,
        budget=format_number(problem.spec.budget),
        trials=len(trials),
        feasible=int(ok["feasible"].sum()) if not ok.empty else 0,
        command=command,
        front_size=len(front),
        bests=bests,
        figure=figure,
        variables=variables,
        objective_columns=columns,
        rows=rows,
        seconds=seconds,
        check=check,
    )
