r"""``mtsim optimize``: multi-objective search over policy mixes within a budget.

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

How it works:

- **Optimiser**: Optuna's NSGA-II sampler (``optuna.samplers.NSGAIISampler``) with
  ask-and-tell. The budget is a constraint, ``mean cost - budget <= 0``, set on each
  trial with ``Trial.set_constraint`` (Optuna 5 replaced the sampler's
  ``constraints_func`` with it; same semantics), so infeasible mixes are kept in the
  study but ranked behind every feasible one.
- **Anchors**: the first generation starts with no lever and each lever alone at its
  highest strength (``anchors: false`` turns this off), so the two ends of the front
  are evaluated, not left to chance; NSGA-II fills in between.
- **Noise**: every candidate runs ``replications`` times with the seeds
  ``seed + r`` (common random numbers: all candidates face the same chance
  events), and the objectives are the means over its replications. A candidate
  equal to one already evaluated reuses its result.
- **Persistence**: the study lives in ``OUT/study.journal`` (Optuna's
  ``JournalStorage`` with a file backend: an append-only log, safe when the
  process is killed). Rerunning the same command resumes: finished trials are kept,
  trials cut short by the kill are evaluated again, and only the remaining trials
  run. ``optuna-dashboard OUT/study.journal`` shows it in a browser.
- **Executors**: the runs of a batch of candidates go through
  ``model.experiment.runner.run_tasks``: this process, a local process pool
  (``--workers``), or Dask (``--dask-local N``, ``--scheduler ADDRESS``).

Outputs in OUT (default ``results/<name>/``): ``trials.csv`` (every candidate),
``pareto.csv`` (the feasible non-dominated candidates), ``pareto.png``,
``mixes/mix-KK.yaml`` (each front mix as a ready scenario that ``extends:`` the
base), ``report.html`` and ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.errors import UserError

if TYPE_CHECKING:  # numpy and pandas are imported where runs are evaluated: input errors stay fast
    import numpy as np
    import pandas as pd

MEASURES = ("final", "last_quarter", "run_mean", "cumulative")
"""Per-run measures an objective may use (definitions in ``model.analysis.stats``)."""

COST_METRIC = "cumulative_policy_cost"
"""The model-computed total policy cost: its value at the last week is the budgeted cost."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class OptimizationSpec(_Strict):
    """The validated content of an optimization file (see the module docstring)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None
    description: str = ""
    base: str
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
        payload = json.dumps(
            {"spec": self.spec.model_dump(mode="json"), "base": self.base}, sort_keys=True
        )
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

    def scenario(self, params: Mapping[str, Any], name: str = "candidate") -> dict[str, Any]:
        """Build the resolved scenario of a candidate (validated)."""
        from model.scenario import scenario_from_dict

        data = json.loads(json.dumps(self.base))
        policies = list(data.get("policies") or []) if self.spec.keep_base_policies else []
        data["policies"] = policies + self.interventions(params)
        data["name"] = name
        return scenario_from_dict(data, source=f"{self.source}: {name}").resolved()


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith(("tuple[", "function-")))


def _spec_problems(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for err in exc.errors():
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
            problems.append(f"{where}: {err['msg']}")
    return list(dict.fromkeys(problems))


def _range(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (tuple, list)):
        return float(value[0]), float(value[1])
    return None


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

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such optimization file")
    try:
        data = read_yaml_mapping(path)
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
    if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget < 0:
        raise UserError(f"{src}: budget: {budget}: must be 0 or more")
    try:
        spec = OptimizationSpec.model_validate(data)
    except ValidationError as exc:
        raise UserError("\n".join(f"{src}: {p}" for p in _spec_problems(exc, data))) from None
    problems: list[str] = []
    import difflib

    from model.metrics import GOOD_DIRECTION  # numpy: only once the file's shape is right

    known = set(GOOD_DIRECTION)
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
            variables.append(Variable(f"{prefix}.strength", low, high, False, lv.step))
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
                variables.append(Variable(f"{prefix}.{key}", rng[0], rng[1], True))
            elif value is not None and int(value) < lowest:
                problems.append(f"{src}: levers.{i}.{key}: {value}: must be at least {lowest}")
    if not variables and not problems:
        problems.append(f"{src}: levers: nothing to search; give a [low, high] range somewhere")
    base_path = (path.parent / spec.base).resolve()
    if not base_path.is_file():
        problems.append(f"{src}: base: {spec.base!r}: file not found ({base_path})")
    if problems:
        raise UserError("\n".join(problems))
    try:
        raw = read_scenario_data(base_path)
        overrides = dict(spec.set)
        if spec.steps is not None:
            overrides["simulation.steps"] = spec.steps
        merged = apply_overrides(raw, overrides, source=f"{src}: set") if overrides else raw
        base = scenario_from_dict(merged, source=f"{src}: base {spec.base}").resolved()
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    problem = Problem(spec, src, base_path, base, variables)
    # check the extreme candidates against the scenario schema before any run
    lows = {v.name: (int(v.low) if v.integer else v.low) for v in variables}
    highs = {v.name: (int(v.high) if v.integer else v.high) for v in variables}
    for params in (lows, highs):
        try:
            problem.scenario(params)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
    return problem


# ----------------------------------------------------------------------------- evaluation


def evaluate(
    problem: Problem,
    candidates: Sequence[Mapping[str, Any]],
    executor: Any = None,
    workers: int = 1,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Evaluate candidates: every replication of every candidate through the runner.

    Args:
        problem: the problem.
        candidates: decision variable values per candidate.
        executor: any ``concurrent.futures.Executor`` (None: this process or a pool).
        workers: local processes when ``executor`` is None.
        progress: progress bar.

    Returns:
        Per candidate: ``objectives`` (means over replications, in file order), ``sd``
        (their standard deviations), ``cost`` (mean cumulative policy cost at the end),
        ``runs`` (replications finished) and ``error`` (None, or the first failure).
    """
    import numpy as np
    import pandas as pd

    from model.analysis.stats import measures_per_run
    from model.experiment.runner import RunTask, run_tasks

    tasks = []
    for i, params in enumerate(candidates):
        scenario = problem.scenario(params, name=f"candidate-{i}")
        for rep, seed in enumerate(problem.seeds):
            tasks.append(
                RunTask(
                    key=f"{i}/{rep}",
                    scenario=scenario,
                    seed=seed,
                    steps=problem.steps,
                    meta={"candidate": i, "replication": rep},
                )
            )
    tables: dict[int, list[pd.DataFrame]] = {i: [] for i in range(len(candidates))}
    errors: dict[int, str] = {}
    for result in run_tasks(
        tasks, executor=executor, workers=workers, progress=progress, desc="candidates"
    ):
        i = int(result.meta["candidate"])
        if result.ok and result.table is not None:
            table = result.table.copy()
            table.insert(0, "step", table.pop("step")) if "step" in table else None
            table.insert(0, "seed", result.seed)
            table.insert(0, "replication", int(result.meta["replication"]))
            table.insert(0, "scenario", f"candidate-{i}")
            tables[i].append(table)
        else:
            errors.setdefault(i, str(result.error))
    metrics = list(dict.fromkeys([o.metric for o in problem.spec.objectives] + [COST_METRIC]))
    out = []
    for i in range(len(candidates)):
        if i in errors or not tables[i]:
            out.append(
                {
                    "objectives": None,
                    "sd": None,
                    "cost": math.nan,
                    "runs": 0,
                    "error": errors.get(i, "no run finished"),
                }
            )
            continue
        table = pd.concat(tables[i], ignore_index=True)
        present = [m for m in metrics if m in table.columns]
        summary = measures_per_run(table, metrics=present)
        values, sds = [], []
        for obj in problem.spec.objectives:
            part = summary[(summary["metric"] == obj.metric) & (summary["measure"] == obj.measure)]
            v = part["value"].to_numpy(dtype=float)
            values.append(float(np.nanmean(v)) if v.size else math.nan)
            sds.append(float(np.nanstd(v, ddof=1)) if v.size > 1 else math.nan)
        if COST_METRIC in table.columns:
            final = summary[(summary["metric"] == COST_METRIC) & (summary["measure"] == "final")]
            cost = float(final["value"].mean())
        else:  # an older run table without the cumulative column
            tot = summary[(summary["metric"] == "policy_cost") & (summary["measure"] == "total")]
            cost = float(tot["value"].mean())
        out.append(
            {"objectives": values, "sd": sds, "cost": cost, "runs": len(tables[i]), "error": None}
        )
    return out


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


# ----------------------------------------------------------------------------- the search


@dataclass
class OptimizationResult:
    """What ``optimize`` produced.

    Attributes:
        out: output folder.
        trials: every trial (number, state, params, objectives, cost, feasible, session).
        front: the feasible non-dominated trials.
        files: written files by role.
        evaluated_now: trials evaluated in this session (excluding reused results).
        resumed_from: trials already finished when this session started.
        seconds: wall time of this session.
    """

    out: Path
    trials: pd.DataFrame
    front: pd.DataFrame
    files: dict[str, Path]
    evaluated_now: int
    resumed_from: int
    seconds: float


def open_study(problem: Problem, out: Path) -> Any:
    """Create or load the Optuna study of a problem in ``out/study.journal``."""
    import optuna
    from optuna.samplers import NSGAIISampler
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(out / "study.journal")))
    # the budget constraint: each trial sets it with Trial.set_constraint (Optuna 5's
    # replacement of the sampler's constraints_func); NSGA-II ranks infeasible trials last
    sampler = NSGAIISampler(population_size=problem.spec.population, seed=problem.spec.seed)
    names = optuna.study.get_all_study_names(storage)
    if names and problem.name not in names:
        raise UserError(f"--out: {out}: holds another optimization ({', '.join(names)})")
    study = optuna.create_study(
        study_name=problem.name,
        storage=storage,
        directions=problem.directions(),
        sampler=sampler,
        load_if_exists=True,
    )
    digest = study.user_attrs.get("problem")
    if digest is None:
        study.set_user_attr("problem", problem.digest())
        study.set_user_attr("objectives", problem.objective_names())
    elif digest != problem.digest():
        raise UserError(
            f"--out: {out}: holds a search of a different problem (the file, its base or "
            "its settings changed); give another --out"
        )
    return study


def run_optimization(
    problem: Problem,
    out: str | Path,
    executor: Any = None,
    workers: int = 1,
    progress: bool = True,
    command: str = "",
    log: Any = None,
) -> OptimizationResult:
    """Run (or resume) the search and write every output.

    Args:
        problem: the loaded problem.
        out: output folder (holds the study journal; rerun with the same folder to resume).
        executor: any ``concurrent.futures.Executor`` (e.g. a Dask client's).
        workers: local processes when ``executor`` is None.
        progress: progress output on stderr.
        command: the command line, for the manifest.
        log: a function taking one line of progress text (default: print to stderr).
    """
    import sys

    from optuna.trial import TrialState

    from model.experiment.manifest import now_iso

    out = Path(out)
    started = now_iso()
    clock = time.perf_counter()
    say = log or (lambda text: print(text, file=sys.stderr) if progress else None)
    study = open_study(problem, out)
    session = f"{os.getpid()}-{time.time_ns()}"
    # trials cut short by a kill: mark them failed and ask for the same mix again
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        study.enqueue_trial(dict(trial.params), skip_if_exists=False)

    def _done() -> list[Any]:
        """Distinct mixes evaluated (complete, or failed for a reason of their own)."""
        return [
            t
            for t in study.get_trials(deepcopy=False)
            if t.user_attrs.get("reused_from") is None
            and (
                t.state == TrialState.COMPLETE
                or (t.state == TrialState.FAIL and not t.user_attrs.get("interrupted"))
            )
        ]

    resumed = len(_done())
    if resumed:
        say(f"resuming {problem.name}: {resumed} of {problem.spec.trials} trials already done")
    distributions = {v.name: v.distribution() for v in problem.variables}
    space = problem.space_size()
    target = min(problem.spec.trials, space) if space is not None else problem.spec.trials
    batch = problem.spec.batch or max(1, min(problem.spec.population, max(workers, 4)))
    evaluated = 0
    known: dict[str, Any] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        known.setdefault(json.dumps(t.params, sort_keys=True), t)
    if problem.spec.anchors and not study.get_trials(deepcopy=False):
        for params in problem.anchor_mixes():
            study.enqueue_trial(params)
    asks_left = 20 * problem.spec.trials  # a guard: NSGA-II may keep proposing known mixes
    while asks_left > 0:
        left = target - len(_done())
        if left <= 0:
            break
        asked = [study.ask(distributions) for _ in range(min(batch, left))]
        asks_left -= len(asked)
        fresh, reuse, seen = [], [], set()
        for trial in asked:
            key = json.dumps(trial.params, sort_keys=True)
            if key in known or key in seen:
                reuse.append(trial)
            else:
                seen.add(key)
                fresh.append(trial)
        results = evaluate(problem, [t.params for t in fresh], executor, workers)
        evaluated += len(fresh)
        for trial, res in zip(fresh, results, strict=True):
            trial.set_user_attr("session", session)
            if res["error"] is not None:
                trial.set_user_attr("error", res["error"])
                study.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_user_attr("cost", res["cost"])
            trial.set_user_attr("sd", res["sd"])
            trial.set_constraint("budget", res["cost"] - problem.spec.budget)
            study.tell(trial, res["objectives"])
            known[json.dumps(trial.params, sort_keys=True)] = study.get_trials(deepcopy=False)[
                trial.number
            ]
        for trial in reuse:
            old = known.get(json.dumps(trial.params, sort_keys=True))
            trial.set_user_attr("session", session)
            if old is None:  # its twin in this batch failed
                study.tell(trial, state=TrialState.FAIL)
                continue
            # the same mix under the same seeds gives the same result: not run again
            trial.set_user_attr("reused_from", old.number)
            for key in ("cost", "sd"):
                trial.set_user_attr(key, old.user_attrs.get(key))
            trial.set_constraint("budget", old.user_attrs["cost"] - problem.spec.budget)
            study.tell(trial, list(old.values))
        say(f"{problem.name}: {len(_done())} of {target} mixes evaluated")
    trials = trials_table(problem, study)
    seconds = time.perf_counter() - clock
    files = write_outputs(problem, out, trials, study, started, seconds, command)
    front = trials[trials["pareto"]] if not trials.empty else trials
    return OptimizationResult(out, trials, front, files, evaluated, resumed, seconds)


def trials_table(problem: Problem, study: Any) -> pd.DataFrame:
    """One row per finished trial: params, objectives, cost, feasibility, Pareto membership."""
    import pandas as pd
    from optuna.trial import TrialState

    rows = []
    names = problem.objective_names()
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.FAIL) or t.user_attrs.get("interrupted"):
            continue
        if t.user_attrs.get("reused_from") is not None:
            continue  # a mix proposed again: the same numbers as its first trial
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name.lower()}
        row.update(
            {
                v.name: (round(t.params[v.name], 10) if v.name in t.params else None)
                for v in problem.variables
            }
        )
        values = list(t.values) if t.values is not None else [math.nan] * len(names)
        row.update(dict(zip(names, values, strict=True)))
        cost = t.user_attrs.get("cost", math.nan)
        row["total_policy_cost"] = cost
        row["feasible"] = bool(t.state == TrialState.COMPLETE and cost <= problem.spec.budget)
        row["session"] = t.user_attrs.get("session")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["pareto"] = False
    feasible = table[table["feasible"]]
    if not feasible.empty:
        mask = pareto_mask(feasible[names].to_numpy(dtype=float), problem.directions())
        table.loc[feasible.index[mask], "pareto"] = True
    return table


def _nested(path: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    return out


def mix_scenario_text(
    problem: Problem, params: Mapping[str, Any], name: str, target: Path, summary: str
) -> str:
    """Write a ready scenario file for one mix: extends the base, ``set:``, the policies."""
    import yaml

    from model.scenario import deep_merge

    rel = os.path.relpath(problem.base_path, start=target.parent)
    data: dict[str, Any] = {"extends": rel, "name": name}
    data["description"] = summary
    extra: dict[str, Any] = {}
    for path, value in problem.spec.set.items():
        extra = deep_merge(extra, _nested(path, value))
    extra = deep_merge(extra, {"simulation": {"steps": problem.steps}})
    data.update(extra)
    policies = list(problem.base.get("policies") or []) if problem.spec.keep_base_policies else []
    data["policies"] = policies + problem.interventions(params)

    def _shown(p: Path) -> str:
        try:
            return os.path.relpath(p)
        except ValueError:
            return str(p)

    head = (
        f"# A policy mix found by mtsim optimize ({problem.source}).\n"
        f"# {summary}\n"
        "# Check it with fresh seeds against the base:\n"
        f"#   mtsim compare {_shown(problem.base_path)} {_shown(target)}\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _spread(front: pd.DataFrame, column: str, k: int) -> pd.DataFrame:
    import numpy as np

    ordered = front.sort_values(column, kind="stable")
    if len(ordered) <= k:
        return ordered
    picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, k)).astype(int))
    return ordered.iloc[picks]


def write_outputs(
    problem: Problem,
    out: Path,
    trials: pd.DataFrame,
    study: Any,
    started: str,
    seconds: float,
    command: str,
) -> dict[str, Path]:
    """Write trials.csv, pareto.csv, pareto.png, mixes/*.yaml, report.html, manifest.json."""
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_csv_atomic,
        write_json_atomic,
    )
    from model.scenario import read_scenario_data, scenario_from_dict

    files: dict[str, Path] = {"trials": out / "trials.csv", "front": out / "pareto.csv"}
    names = problem.objective_names()
    write_csv_atomic(files["trials"], trials)
    front = trials[trials["pareto"]].copy() if not trials.empty else trials
    if not front.empty:
        front = front.sort_values(names[0], kind="stable")
    write_csv_atomic(files["front"], front)
    if not trials.empty:
        files["figure"] = plot_front(problem, trials, out / "pareto.png")
    mixes_dir = out / "mixes"
    mixes_dir.mkdir(exist_ok=True)
    for old in mixes_dir.glob("mix-*.yaml"):
        old.unlink()
    chosen = _spread(front, names[0], problem.spec.mixes) if not front.empty else front
    mix_files = []
    for k, (_, row) in enumerate(chosen.iterrows(), start=1):
        params = {v.name: row[v.name] for v in problem.variables}
        params = {
            n: (int(x) if v.integer else float(x))
            for (n, x), v in zip(params.items(), problem.variables, strict=True)
        }
        target = mixes_dir / f"mix-{k:02d}.yaml"
        summary = ", ".join(f"{n} {row[n]:.4g}" for n in names) + (
            f", total policy cost {row['total_policy_cost']:,.0f} (budget "
            f"{problem.spec.budget:,.0f}), mean of {problem.spec.replications} replications"
        )
        text = mix_scenario_text(problem, params, f"{problem.name}-mix-{k:02d}", target, summary)
        target.write_text(text, encoding="utf-8")
        # the file must load as a scenario (checked here, not left to the user)
        scenario_from_dict(read_scenario_data(target), source=str(target))
        mix_files.append((k, target, row))
    files["report"] = write_page(
        problem,
        out / "report.html",
        trials,
        front,
        mix_files,
        files.get("figure"),
        seconds,
        command,
    )
    files["manifest"] = out / "manifest.json"
    import optuna

    write_json_atomic(
        files["manifest"],
        build_manifest(
            {"base": problem.base},
            problem.seeds,
            started,
            now_iso(),
            kind="optimize",
            command=command,
            source=problem.source,
            spec=problem.spec.model_dump(mode="json"),
            optimizer=f"optuna {optuna.__version__} NSGAIISampler",
            storage="study.journal (optuna JournalStorage, file backend)",
            trials=int(len(trials)),
            pareto=int(len(front)),
            seconds_this_session=round(seconds, 3),
            files={k: p.name for k, p in files.items() if p is not None and k != "manifest"},
        ),
    )
    return files


def plot_front(problem: Problem, trials: pd.DataFrame, path: Path) -> Path:
    """Scatter of every trial in objective space; the Pareto front highlighted.

    Two objectives: one panel; more: one panel per pair of objectives.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.analysis.plots import metric_display

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
        disp = metric_display(specs[k].metric)
        words = {
            "final": "at the end",
            "last_quarter": "last 13 weeks",
            "run_mean": "run mean",
            "cumulative": "summed over the run",
        }[specs[k].measure]
        arrow = "higher is better" if specs[k].direction == "maximize" else "lower is better"
        unit = disp.unit if specs[k].measure != "cumulative" else disp.unit.replace(" per week", "")
        return f"{disp.label}, {words} [{unit}] ({arrow})"

    for ax, (i, j) in zip(axes.flat, pairs, strict=False):
        xi, yj = names[i], names[j]
        sx = metric_display(specs[i].metric).scale if specs[i].measure != "cumulative" else 1.0
        sy = metric_display(specs[j].metric).scale if specs[j].measure != "cumulative" else 1.0
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


def write_page(
    problem: Problem,
    path: Path,
    trials: pd.DataFrame,
    front: pd.DataFrame,
    mixes: Sequence[tuple[int, Path, pd.Series]],
    figure: Path | None,
    seconds: float,
    command: str,
) -> Path:
    """Write the HTML page of a search, in the style of the compare report."""
    from model.analysis.plots import metric_display
    from model.analysis.report import _CSS, _esc, _img, fmt_number
    from model.experiment.manifest import write_bytes_atomic

    names = problem.objective_names()
    levers = ", ".join(
        f"{lv.lever} (strength {lv.strength}, start {lv.start}, duration "
        f"{lv.duration if lv.duration is not None else 'to the end'})"
        for lv in problem.spec.levers
    )
    objectives = ", ".join(
        f"{o.direction} {metric_display(o.metric).label.lower()} ({o.measure})"
        for o in problem.spec.objectives
    )
    ok = trials[trials["state"] == "complete"] if not trials.empty else trials
    feasible = int(ok["feasible"].sum()) if not ok.empty else 0
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Policy mix search: {_esc(problem.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Policy mix search: {_esc(problem.name)}</h1>",
        f"<p>{_esc(problem.spec.description)}</p>" if problem.spec.description else "",
        "<h2>What was searched</h2><ul>",
        f"<li>Base scenario: {_esc(problem.base_path.name)}; {problem.steps} weeks; "
        f"{problem.spec.replications} replications per mix with the seeds "
        f"{_esc(', '.join(map(str, problem.seeds)))} (common random numbers).</li>",
        f"<li>Levers: {_esc(levers)}.</li>",
        f"<li>Objectives: {_esc(objectives)}.</li>",
        f"<li>Budget: total policy cost computed by the model (cumulative_policy_cost at week "
        f"{problem.steps}, mean over replications) at most {fmt_number(problem.spec.budget)} "
        "currency units.</li>",
        f"<li>Optimiser: Optuna NSGA-II, population {problem.spec.population}, "
        f"{len(trials)} trials ({feasible} within budget); the budget is a constraint.</li>",
        "</ul>",
    ]
    if command:
        parts.append(f'<p class="note">Command: <code>{_esc(command)}</code></p>')
    parts.append("<h2>Findings</h2><ul>")
    if front.empty:
        parts.append("<li>No mix within the budget was found.</li>")
    else:
        parts.append(
            f"<li>{len(front)} mixes are on the Pareto front: none of the evaluated mixes "
            "within the budget is at least as good in every objective and better in one.</li>"
        )
        for o, n in zip(problem.spec.objectives, names, strict=True):
            best = front.sort_values(n, ascending=o.direction == "minimize").iloc[0]
            disp = metric_display(o.metric)
            scale = disp.scale if o.measure != "cumulative" else 1.0
            unit = disp.unit if o.measure != "cumulative" else disp.unit.replace(" per week", "")
            mix = ", ".join(f"{v.name} = {best[v.name]:.3g}" for v in problem.variables)
            parts.append(
                f"<li>Best for {_esc(disp.label.lower())} ({_esc(o.measure)}): "
                f"{fmt_number(best[n] * scale)} {_esc(unit)} with {_esc(mix)}, costing "
                f"{fmt_number(best['total_policy_cost'])}.</li>"
            )
    parts.append("</ul>")
    if figure is not None:
        parts.append(f"<h2>Pareto front</h2>{_img(figure, 'Pareto front')}")
    parts.append("<h2>Mixes on the front (ready scenario files)</h2>")
    head = "".join(f"<th>{_esc(v.name)}</th>" for v in problem.variables)
    head += "".join(f"<th>{_esc(n)}</th>" for n in names)
    parts.append(f"<table><tr><th>file</th>{head}<th>total policy cost</th></tr>")
    for _, target, row in mixes:
        cells = "".join(f"<td>{row[v.name]:.4g}</td>" for v in problem.variables)
        cells += "".join(f"<td>{fmt_number(row[n])}</td>" for n in names)
        parts.append(
            f"<tr><td>mixes/{_esc(target.name)}</td>{cells}"
            f"<td>{fmt_number(row['total_policy_cost'])}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        '<p class="note">Compare a mix with the base under fresh seeds: <code>mtsim compare '
        f"{_esc(problem.base_path.name)} mixes/mix-01.yaml</code>. trials.csv holds every "
        "trial, pareto.csv the front; study.journal is the Optuna study (reruns resume from "
        f"it; optuna-dashboard opens it). This session ran for {seconds:.1f} s.</p>"
    )
    parts.append("</body></html>")
    write_bytes_atomic(path, "\n".join(p for p in parts if p).encode("utf-8"))
    return path
