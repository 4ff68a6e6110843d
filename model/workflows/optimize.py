r"""``mtsim optimize``: run the multi-objective search over policy mixes and write its folder.

The problem (the optimization file, decision variables, Pareto dominance, the mix
files, figure and page) is :mod:`model.decision.optimize`; this module runs it.

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
  and only the remaining trials run. ``optuna-dashboard OUT/study.journal`` shows it
  in a browser. ``OUT/problem.json`` names the problem (name, digest), so a rerun
  with a changed file is refused before Optuna is imported.
- **Exact resume**: a resumed search gives the trials of the uninterrupted one (the
  same numbers, mixes, objectives and costs; only ``session`` differs). Two rules
  make it so: the sampler's random draws for trial k are seeded from (``seed``, k)
  (:func:`_trial_seeded`), so a proposal depends on the trials finished before it
  and not on the process's earlier draws; and a batch a kill cut short is finished
  first, under its own trial numbers (the trials in flight are evaluated, not asked
  again; the ones not yet asked are asked; :func:`_batch_in_flight`). This holds for
  the same ``--workers`` (or with ``batch:`` set) as the first session: the batch
  size is ``batch:``, else ``min(population, max(4, workers))``, and the batches
  decide when NSGA-II sees the results. Searches begun by mtsim before this rule
  resume too, but not exactly.
- **Executors**: the runs of a batch of candidates go through
  ``model.experiment.runner.run_tasks``: this process, a local process pool
  (``--workers``), or Dask (``--dask-local N``, ``--scheduler ADDRESS``).

Outputs in OUT (default ``results/<name>/``): ``trials.csv`` (every candidate),
``pareto.csv`` (the feasible non-dominated candidates), ``pareto.png``,
``mixes/mix-KK.yaml`` (each front mix as a ready scenario that ``extends:`` the
base), ``report.html`` and ``manifest.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.decision.optimize import (
    BASE_MIX_FILE,
    COST_METRIC,
    Problem,
    check_command,
    mix_scenario_text,
    optimize_page,
    pareto_mask,
    plot_front,
    spread_along_front,
)
from model.errors import UserError

if TYPE_CHECKING:  # pandas is imported where runs are evaluated: input errors stay fast
    import pandas as pd


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
                    meta={"candidate": i, "replication": rep}
                    | ({"start": str(problem.start)} if problem.start is not None else {}),
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
    sampler = _trial_seeded(NSGAIISampler)(
        population_size=problem.spec.population, seed=problem.spec.seed
    )
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
        raise _different_problem(out)
    _write_problem_file(problem, out)
    return study


PROBLEM_FILE = "problem.json"
"""File of an optimization folder naming its problem (name and digest): a rerun with a
changed file is refused from it before Optuna is imported (:func:`check_same_problem`)."""


def _different_problem(out: Path) -> UserError:
    return UserError(
        f"--out: {out}: holds a search of a different problem (the file, its base or "
        "its settings changed); give another --out"
    )


def _write_problem_file(problem: Problem, out: Path) -> None:
    from model.atomic_files import write_json_atomic

    record = {"name": problem.name, "problem": problem.digest()}
    path = out / PROBLEM_FILE
    try:
        if path.is_file() and json.loads(path.read_text(encoding="utf-8")) == record:
            return
    except (OSError, ValueError):
        pass
    write_json_atomic(path, record)


def check_same_problem(problem: Problem, out: str | Path) -> None:
    """Refuse a rerun into a folder that holds the search of another problem (light).

    Reads ``OUT/problem.json`` only (no Optuna); a folder without it (an older mtsim,
    or a search killed before it was written) is checked when the study is opened.

    Raises:
        UserError: the folder's problem has another name or another digest.
    """
    path = Path(out) / PROBLEM_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return
    if not isinstance(record, dict):
        return
    if record.get("name") not in (None, problem.name):
        raise UserError(
            f"--out: {out}: holds another optimization ({describe_name(record.get('name'))})"
        )
    if record.get("problem") not in (None, problem.digest()):
        raise _different_problem(Path(out))


def describe_name(value: Any) -> str:
    """Return a stored name for a message (bounded)."""
    from model.yamlio import describe_value

    return value if isinstance(value, str) and len(value) <= 80 else describe_value(value, 80)


_SEEDED: dict[type, type] = {}


def trial_seed(seed: int, number: int) -> int:
    """Return the sampler's seed for trial ``number`` of a search seeded with ``seed``."""
    import hashlib

    digest = hashlib.sha256(f"mtsim-optimize:{seed}:{number}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _trial_seeded(sampler_class: type) -> type:
    """Return ``sampler_class`` whose random draws for a trial depend on its number alone.

    Before each trial the sampler's generators (NSGA-II's crossover and mutation, and
    the random sampler of the first generation) are seeded from (``seed``, trial
    number), so the mix proposed for trial k depends only on the finished trials before
    it, not on how many draws this process made before: a search resumed after a kill
    proposes what the uninterrupted search proposes.
    """
    if sampler_class in _SEEDED:
        return _SEEDED[sampler_class]

    class TrialSeeded(sampler_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(*args, seed=seed, **kwargs)
            self._mtsim_seed = 0 if seed is None else int(seed)

        def before_trial(self, study: Any, trial: Any) -> None:
            seed = trial_seed(self._mtsim_seed, trial.number)
            self._rng.rng.seed(seed)
            self._random_sampler._rng.rng.seed(seed ^ 0x9E3779B9)
            super().before_trial(study, trial)

    TrialSeeded.__name__ = TrialSeeded.__qualname__ = f"TrialSeeded{sampler_class.__name__}"
    for key in ("_GENERATION_KEY", "_PARENT_CACHE_KEY_PREFIX"):  # the study's records: as before
        if hasattr(sampler_class, key):
            setattr(TrialSeeded, key, getattr(sampler_class, key))
    _SEEDED[sampler_class] = TrialSeeded
    return TrialSeeded


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
    in_flight = _batch_in_flight(study, distributions)  # a batch a kill cut short: finish it
    while asks_left > 0:
        if in_flight:
            asked, in_flight = in_flight, []
        else:
            left = target - len(_done())
            if left <= 0:
                break
            asked = _ask_batch(study, distributions, min(batch, left))
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
            _set_budget(trial, res["cost"] - problem.spec.budget)
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
            _set_budget(trial, old.user_attrs["cost"] - problem.spec.budget)
            study.tell(trial, list(old.values))
        say(f"{problem.name}: {len(_done())} of {target} mixes evaluated")
    trials = trials_table(problem, study)
    seconds = time.perf_counter() - clock
    files = write_outputs(problem, out, trials, study, started, seconds, command)
    front = trials[trials["pareto"]] if not trials.empty else trials
    return OptimizationResult(out, trials, front, files, evaluated, resumed, seconds)


def _set_budget(trial: Any, excess: float) -> None:
    """Set a trial's budget constraint (``cost - budget <= 0``), once.

    A trial of a batch finished after a kill may have it already (the kill came
    between setting it and telling the trial): the same value, so Optuna's warning
    that it keeps the first is not shown.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The constraint value is ignored")
        trial.set_constraint("budget", excess)


BATCH_ATTR = "batch"
"""Study user attribute: the last batch asked, ``{"id": k, "size": n}`` (written before its
first trial is asked); each of its trials carries ``batch: k``."""


def _ask_batch(study: Any, distributions: Mapping[str, Any], size: int) -> list[Any]:
    """Ask ``size`` trials as one batch, recorded so that a resume can finish it as it was."""
    last = study.user_attrs.get(BATCH_ATTR) or {}
    ident = int(last.get("id", -1)) + 1
    study.set_user_attr(BATCH_ATTR, {"id": ident, "size": int(size)})
    asked = []
    for _ in range(size):
        trial = study.ask(distributions)
        trial.set_user_attr(BATCH_ATTR, ident)
        asked.append(trial)
    return asked


def _batch_in_flight(study: Any, distributions: Mapping[str, Any]) -> list[Any]:
    """Return the trials of a batch a kill cut short, its missing trials asked now.

    A search killed while it evaluated a batch leaves the batch's trials RUNNING in the
    journal (some may be told already; some may not have been asked yet when the kill
    came during the asking). Finishing that batch with the same trial numbers, before
    anything else is asked, gives the uninterrupted search's sequence of trials: the
    sampler's draws for a trial depend only on its number and the trials finished
    before it (:func:`_trial_seeded`), and a mix's runs only on the mix and the seeds.
    """
    from optuna.trial import Trial, TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    last = study.user_attrs.get(BATCH_ATTR) or {}
    ident, size = last.get("id"), int(last.get("size", 0))
    members = [
        t
        for t in study.get_trials(deepcopy=False)
        if ident is not None and t.user_attrs.get(BATCH_ATTR) == ident
    ]
    unmarked = [t for t in running if t.user_attrs.get(BATCH_ATTR) is None]
    for t in unmarked:  # asked, then killed before it was marked: it is of this batch
        study._storage.set_trial_user_attr(t._trial_id, BATCH_ATTR, ident)
    trials = [Trial(study, t._trial_id) for t in sorted(running, key=lambda t: t.number)]
    for trial in trials:  # killed while its values were drawn: draw the rest
        for name, distribution in distributions.items():
            if name not in trial.params:
                trial._suggest(name, distribution)
    for _ in range(max(0, size - len(members) - len(unmarked))):
        trial = study.ask(distributions)
        trial.set_user_attr(BATCH_ATTR, ident)
        trials.append(trial)
    return trials


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
    from model.atomic_files import write_bytes_atomic, write_csv_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso
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
    chosen = spread_along_front(front, names[0], problem.spec.mixes) if not front.empty else front
    base_file = mixes_dir / BASE_MIX_FILE  # the reference, like with like
    if problem.start is None:  # from a state the reference is the saved scenario
        base_file.write_text(
            mix_scenario_text(problem, None, f"{problem.name}-base", base_file, "the base"),
            encoding="utf-8",
        )
        scenario_from_dict(read_scenario_data(base_file), source=str(base_file))
    mix_files = []
    for k, (_, row) in enumerate(chosen.iterrows(), start=1):
        params = {v.name: row[v.name] for v in problem.variables}
        params = {
            n: (int(x) if v.integer else float(x))
            for (n, x), v in zip(params.items(), problem.variables, strict=True)
        }
        target = mixes_dir / f"mix-{k:02d}.yaml"
        shown = zip(problem.spec.objectives, problem.shown_objectives(row), strict=True)
        summary = ", ".join(f"{o.metric}_{o.measure} {v} [{o.shown()[1]}]" for o, v in shown) + (
            f", total policy cost {row['total_policy_cost']:,.0f} (budget "
            f"{problem.spec.budget:,.0f}), mean of {problem.spec.replications} replications"
        )
        text = mix_scenario_text(problem, params, f"{problem.name}-mix-{k:02d}", target, summary)
        target.write_text(text, encoding="utf-8")
        # the file must load as a scenario (checked here, not left to the user)
        if problem.start is None:
            scenario_from_dict(read_scenario_data(target), source=str(target))
        else:  # a policy file on the saved state
            from model.workflows.compare import scenarios_from_state

            scenarios_from_state(problem.start, [target])
        mix_files.append((k, target, row))
    files["report"] = out / "report.html"
    check = check_command(problem, base_file, mix_files[0][1]) if mix_files else ""
    if check and problem.start is None:
        files["base_mix"] = base_file  # the reference of the check command
    page = optimize_page(
        problem, trials, front, mix_files, files.get("figure"), seconds, command, check=check
    )
    write_bytes_atomic(files["report"], page.encode("utf-8"))
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
