r"""Run policy scenarios side by side and write figures and a report (``mtsim compare``).

::

    from model.workflows.compare import load_scenarios, run_comparison

    names, scenarios, sources = load_scenarios(["scenarios/baseline.yaml",
                                                "scenarios/payment_security.yaml"])
    comparison = run_comparison(names, scenarios, "results/my_comparison", reps=10)

Every scenario is run ``reps`` times. Replication i of every scenario uses the
same seed (common random numbers), ``base + i`` with the base seed ``base_seed``
(default the first scenario's ``simulation.seed``): the rule of ``mtsim run``, so
the reference gives the same runs as ``mtsim run`` with that seed and ``--reps``,
and differences between scenarios are paired. The runs go through
``model.experiment.runner.run_tasks`` (a local process pool with ``workers`` > 1,
or any executor) with a progress bar. The output folder holds:

- ``timeseries.csv``: every run's table (scenario, replication, seed, step, metrics);
- ``groups.csv`` and ``who_gains-K.png``: every run's group table, and each policy's
  paired gains by group against the reference, with their 95% intervals;
- ``outcomes.csv``: per scenario, metric and measure (final value, last-quarter mean,
  run mean, cumulative sum, mean over each intervention's active weeks ``weeks_A_B``,
  weeks to each threshold ``weeks_to_L``, total cost) the mean with its 95% interval
  and the paired difference from the first scenario with its own interval, plus cost
  and effect per unit of extra cost;
- ``decomposition.csv`` and ``decomposition-K.png`` (with ``decomposition``): each
  package's effect split into its levers alone and their interaction;
- ``comparison.png`` / ``comparison.svg``, ``effects.png``, ``timelines.png``;
- ``report.html`` (self-contained), ``report.md`` (its text: who wins and who loses,
  the findings) and ``manifest.json``.

The tables are computed by ``model.analysis`` (``compare``, ``stats``, ``plots``,
``report``, ``decomposition``); this module runs the models and writes the folder.
Failed runs are listed in the report and the manifest; the statistics use the runs
that finished. ``mtsim compare`` (``model.commands.compare``) loads and validates
every scenario file before any run starts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.errors import UserError

if TYPE_CHECKING:  # imported where used: ``mtsim compare`` reads DEFAULT_REPS at once
    import pandas as pd

    from model.scenario import Scenario

DEFAULT_REPS = 10
"""Replications per scenario when none are given."""

FIGURE_TITLES = {
    "comparison": "Key outcomes over time",
    "effects": "Effect of each scenario compared with the reference",
}


@dataclass
class Comparison:
    """The result of a comparison, as written to its folder.

    Attributes:
        out: the output folder.
        scenarios: scenario names in order (the first is the reference).
        seeds: seed of each replication.
        timeseries: all run tables stacked (scenario, replication, seed, step, metrics).
        summary: the outcome table (``stats.summarize``).
        failures: failed runs (scenario, replication, seed, error).
        files: the files written, by role.
    """

    out: Path
    scenarios: list[str]
    seeds: list[int]
    timeseries: pd.DataFrame
    summary: pd.DataFrame | None
    failures: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


# ----------------------------------------------------------------------------- inputs


def unique_name(name: str, taken: Mapping[str, object]) -> str:
    """Return ``name``, or ``name#2``, ``name#3``, ... when it is already taken."""
    out, count = name, 2
    while out in taken:
        out = f"{name}#{count}"
        count += 1
    return out


def load_scenarios(
    paths: Sequence[str | Path], overrides: Sequence[str] = ()
) -> tuple[list[str], dict[str, Scenario], dict[str, str]]:
    """Load and validate every scenario file; report all problems at once.

    Scenario names must be unique in a comparison: a repeated name gets a suffix
    (``baseline#2``), so a file compared with itself checks common random numbers.
    A bad ``--set`` that fails the same way in every file is reported once, as
    ``--set: ...``, not once per scenario.

    Returns:
        (names in order, name -> Scenario, name -> source file).

    Raises:
        UserError: one line per problem, naming the file (and --set) and the key.
    """
    from model.scenario import load_scenario

    if not paths:
        raise UserError("compare: give at least one scenario file")
    problems: list[tuple[str, str]] = []
    names: list[str] = []
    loaded: dict[str, Scenario] = {}
    sources: dict[str, str] = {}
    from model.workflows.run import check_targets

    for path in paths:
        try:
            scenario = load_scenario(path, list(overrides))
            check_targets(scenario, str(path))  # a misspelled target would be left out
        except UserError as exc:
            problems.extend((str(path), line) for line in str(exc).splitlines())
            continue
        name = unique_name(scenario.name, loaded)
        names.append(name)
        loaded[name] = scenario
        sources[name] = str(path)
    if problems:
        raise UserError("\n".join(_merge_override_problems(problems, len(paths))))
    return names, loaded, sources


def _merge_override_problems(problems: Sequence[tuple[str, str]], n_files: int) -> list[str]:
    """Say a ``--set`` problem once when every scenario file reports it the same way."""
    marker = ": --set: "
    by_text: dict[str, set[str]] = {}
    for path, line in problems:
        if line.startswith(f"{path}{marker}"):
            by_text.setdefault(line[len(path) + len(marker) :], set()).add(path)
    common = {text for text, files in by_text.items() if len(files) == n_files}
    lines: list[str] = []
    for path, line in problems:
        if line.startswith(f"{path}{marker}") and line[len(path) + len(marker) :] in common:
            lines.append(f"--set: {line[len(path) + len(marker) :]}")
        else:
            lines.append(line)
    return list(dict.fromkeys(lines))


def common_steps(scenarios: dict[str, Scenario], steps: int | None) -> int:
    """Weeks to simulate: ``--steps``, or the scenarios' common ``simulation.steps``."""
    if steps is not None:
        if steps < 1:
            raise UserError(f"--steps: {steps}: must be at least 1")
        return int(steps)
    found = {name: sc.simulation.steps for name, sc in scenarios.items()}
    if len(set(found.values())) > 1:
        listing = ", ".join(f"{n}: {s}" for n, s in found.items())
        raise UserError(
            f"the scenarios run for different numbers of weeks ({listing}); "
            "give --steps N to compare them over the same period"
        )
    return next(iter(found.values()))


POPULATION_KEYS: tuple[str, ...] = ("consumers", "merchants", "kols")
"""Population sizes that must be the same in every scenario of a comparison."""


def population_difference(names: Sequence[str], scenarios: dict[str, Scenario]) -> str | None:
    """Say how the scenarios' populations differ (None when they are the same).

    A comparison's effects are differences between scenarios: scenarios of different
    sizes would report the size as an effect of the policy.
    """
    first = names[0]
    sizes = {n: {k: getattr(scenarios[n].population, k) for k in POPULATION_KEYS} for n in names}
    for name in names[1:]:
        for key in POPULATION_KEYS:
            if sizes[name][key] != sizes[first][key]:
                return (
                    f"the scenarios differ in population: {first} has {sizes[first][key]:,} "
                    f"{key}, {name} has {sizes[name][key]:,}"
                )
    return None


def check_like_with_like(
    names: Sequence[str], scenarios: dict[str, Scenario], allow: bool = False
) -> str | None:
    """Refuse scenarios of different populations (one line), or return the note when allowed.

    Weeks are made common by :func:`common_steps` and the start by ``--from-state``
    (every run of a comparison starts from the same state, or from week 0).

    Raises:
        UserError: the populations differ and ``allow`` is False.
    """
    problem = population_difference(names, scenarios)
    if problem is None:
        return None
    if not allow:
        raise UserError(
            f"compare: {problem}; the effects would include the population's size. Give the "
            "same --set population.consumers=N (and merchants, kols) to all, or "
            "--allow-different-populations"
        )
    return f"mtsim compare: note: {problem}; the effects include that difference"


"""Keys of a policy file for ``mtsim compare --from-state`` (the rest is the saved scenario's)."""


def scenarios_from_state(
    state: str | Path, paths: Sequence[str | Path], overrides: Sequence[str] = ()
) -> tuple[list[str], dict[str, Scenario], dict[str, str]]:
    """Load the scenarios of a comparison that starts from a saved state (``--from-state``).

    The reference is the saved scenario (its name), as saved. Each file is a policy
    file: ``name``, ``description`` and ``policies`` only; its scenario is the saved
    one whose policies from the saved week W on are replaced by the file's, which must
    all start at week W or later. ``--set`` overrides apply to every scenario and may
    change only what a scenario started from the state may change (its future):
    ``model.state_io.future_difference``.

    Raises:
        UserError: one line naming the file: an unreadable file, a key other than the
            three, a policy starting before W, or a scenario that fails validation.
    """
    from model.scenario import scenario_from_dict
    from model.state_io import StateError, future_difference, read_state, with_policy_file
    from model.yamlio import read_yaml_mapping

    saved = read_state(state)
    week = saved.week
    base = saved.scenario()
    reference = saved.scenario(list(overrides))
    data = reference.resolved()
    names = [reference.name]
    loaded = {reference.name: reference}
    sources = {reference.name: f"{state} (saved at week {week})"}
    for path in paths:
        raw = read_yaml_mapping(path, None)
        one = with_policy_file(
            data, raw, week, path, role="with --from-state a scenario file"
        )
        scenario = scenario_from_dict(one, source=str(path))
        problem = future_difference(base, scenario, week)
        if problem is not None:
            raise StateError(f"{path}: {problem}")
        name = unique_name(scenario.name, loaded)
        names.append(name)
        loaded[name] = scenario
        sources[name] = str(path)
    problem = future_difference(base, reference, week)
    if problem is not None:
        raise StateError(f"{state}: --set: {problem}")
    return names, loaded, sources


def future_policies(resolved: Mapping[str, Any], week: int) -> dict[str, Any]:
    """Return a resolved scenario with only its policies starting at ``week`` or later.

    From a saved state the policies before its week are the shared past: the windows
    "while its policies act" are those of the policies from the saved week on.
    """
    policies = [p for p in resolved.get("policies") or [] if int(p.get("start", 0)) >= week]
    return {**resolved, "policies": policies}


def replication_seeds(base_seed: int, reps: int) -> list[int]:
    """Seed of each replication: ``base_seed + i``, the same for every scenario.

    The same rule as ``mtsim run`` (replication r uses seed ``seed + r``), so the
    reference scenario of a comparison gives exactly the runs of ``mtsim run`` with
    the same seed and replications; every scenario uses the same seeds (common random
    numbers).
    """
    return [int(base_seed) + i for i in range(reps)]


def parse_thresholds(texts: Sequence[str]) -> dict[str, list[float]]:
    """Read ``--threshold METRIC=LEVEL`` options (repeatable; LEVEL a number).

    METRIC is a metric, or a per-region column of one (``exports_value.domestic``).

    Raises:
        UserError: a malformed option or an unknown metric (with a close match).
    """
    if not texts:
        return {}
    import difflib

    from model.metrics import METRIC_NAMES, find_metric  # after the scenario files were checked

    out: dict[str, list[float]] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(
                f"--threshold: {text!r}: expected METRIC=LEVEL, e.g. payment_adoption=0.5"
            )
        if find_metric(name) is None:
            match = difflib.get_close_matches(name, METRIC_NAMES, n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise UserError(f"--threshold: {name}: unknown metric{hint}")
        try:
            level = float(raw)
        except ValueError:
            raise UserError(f"--threshold: {text}: {raw!r} is not a number") from None
        if not math.isfinite(level):
            raise UserError(f"--threshold: {text}: {raw.strip()!r}: must be a finite number")
        out.setdefault(name, []).append(level)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "scenario"


def default_out_dir(
    names: Sequence[str], scenarios: dict[str, Scenario], seeds: Sequence[int], steps: int
) -> Path:
    """``results/compare-<names>-<hash>``: the hash covers scenarios, seeds and weeks."""
    payload = json.dumps(
        {
            "scenarios": [scenarios[n].resolved() for n in names],
            "seeds": list(seeds),
            "steps": steps,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:8]
    label = "-".join(_slug(n) for n in names)
    if len(label) > 60:
        label = "-".join(_slug(n) for n in names[:3]) + f"-and-{len(names) - 3}-more"
    return Path("results") / f"compare-{label}-{digest}"


# ----------------------------------------------------------------------------- running


@dataclass
class _Runs:
    """The runs of a comparison as they finish: run tables, group tables, failures."""

    tables: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    groups: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def run_comparison(
    names: Sequence[str],
    scenarios: dict[str, Scenario],
    out: str | Path,
    reps: int = DEFAULT_REPS,
    steps: int | None = None,
    workers: int = 1,
    base_seed: int | None = None,
    sources: dict[str, str] | None = None,
    executor: Any = None,
    progress: bool = True,
    command: str = "",
    thresholds: Mapping[str, Sequence[float]] | None = None,
    decomposition: Mapping[str, Mapping[str, str]] | None = None,
    start: str | Path | None = None,
) -> Comparison:
    """Run every scenario ``reps`` times with common random numbers and write all outputs.

    An interrupt (or any other exception) while the runs go keeps what finished: the
    run tables so far and a manifest saying ``interrupted``; then it is raised again.

    Args:
        names: scenario names in order; the first is the reference.
        scenarios: name -> validated Scenario.
        out: output folder (created).
        reps: replications per scenario.
        steps: weeks to simulate (None: the scenarios' common ``simulation.steps``).
        workers: local worker processes (ignored when ``executor`` is given).
        base_seed: seed the replication seeds derive from (None: the first scenario's).
        sources: name -> file, for the report.
        executor: any ``concurrent.futures.Executor`` (e.g. a Dask client's).
        progress: show a progress bar on stderr.
        command: the command line, for the manifest and report.
        thresholds: metric -> levels for time-to-threshold outcomes (added to the
            scenarios' own ``targets``).
        decomposition: package -> {lever: name of the package with only that lever}
            (``model.analysis.decomposition.lever_variants``); writes decomposition.csv,
            a figure per package and a report section.
        start: a state file (model/state_io.py): every run starts from it, at its
            week, and runs to week ``steps`` (``--from-state``).

    Returns:
        The Comparison (tables in memory, paths of the written files).
    """
    from model.analysis.compare import stack_runs
    from model.atomic_files import write_csv_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso

    names = list(names)
    if reps < 1:
        raise UserError(f"--reps: {reps}: must be at least 1")
    if workers < 1:
        raise UserError(f"--workers: {workers}: must be at least 1")
    n_steps = common_steps({n: scenarios[n] for n in names}, steps)
    base = scenarios[names[0]].simulation.seed if base_seed is None else int(base_seed)
    if base < 0:
        raise UserError(f"--seed: {base}: must be 0 or more")
    seeds = replication_seeds(base, reps)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    resolved = {n: scenarios[n].resolved() for n in names}
    started = now_iso()
    manifest_extra = {
        "kind": "compare",
        "command": command,
        "replications": reps,
        "steps": n_steps,
        "base_seed": base,
        "reference": names[0],
        "sources": dict(sources or {}),
    }
    if start is not None:
        from model.state_io import read_state

        saved = read_state(start)
        windowed = {n: future_policies(resolved[n], saved.week) for n in names}
        manifest_extra["start"] = {
            "file": str(start), "week": saved.week, "seed": saved.seed,
            "scenario_hash": saved.scenario_hash,
        }
    else:
        windowed = resolved
    runs = _Runs()
    start_clock = time.perf_counter()
    try:
        _run_all(names, resolved, seeds, n_steps, runs, executor, workers, progress, start)
    except BaseException:
        # keep what finished: the run tables and a manifest saying the study was cut short
        timeseries = stack_runs(runs.tables, names, seeds)
        if not timeseries.empty:
            write_csv_atomic(out / "timeseries.csv", timeseries)
        write_json_atomic(
            out / "manifest.json",
            build_manifest(
                resolved,
                seeds,
                started,
                None,
                status="interrupted",
                runs_finished=len(runs.tables),
                failures=_short(runs.failures),
                **manifest_extra,
            ),
        )
        raise
    seconds = time.perf_counter() - start_clock
    failures = sorted(runs.failures, key=lambda f: (names.index(f["scenario"]), f["replication"]))
    files: dict[str, Path] = {}
    timeseries = stack_runs(runs.tables, names, seeds)
    summary = None
    if not timeseries.empty:
        summary = _write_results(
            out,
            names,
            seeds,
            resolved,
            n_steps,
            timeseries,
            runs.groups,
            files,
            thresholds=thresholds or {},
            decomposition=decomposition,
            windowed=windowed,
            report={
                "sources": dict(sources or {}),
                "replications": reps,
                "failures": failures,
                "command": command,
                "started": started,
            },
        )
    files["manifest"] = out / "manifest.json"
    write_json_atomic(
        files["manifest"],
        build_manifest(
            resolved,
            seeds,
            started,
            now_iso(),
            status="complete" if not failures else "complete with failed runs",
            runs_finished=len(runs.tables),
            runs_failed=len(failures),
            seconds=round(seconds, 3),
            failures=_short(failures),
            files={k: p.name for k, p in files.items() if k != "manifest"},
            **manifest_extra,
        ),
    )
    return Comparison(
        out=out,
        scenarios=names,
        seeds=seeds,
        timeseries=timeseries,
        summary=summary,
        failures=failures,
        files=files,
    )


def _run_all(
    names: list[str],
    resolved: dict[str, dict[str, Any]],
    seeds: list[int],
    steps: int,
    runs: _Runs,
    executor: Any,
    workers: int,
    progress: bool,
    start: str | Path | None = None,
) -> None:
    """Run every (scenario, replication) and collect the finished tables in ``runs``."""
    from model.experiment.runner import RunTask, run_tasks, simulate_task_with_groups

    tasks = [
        RunTask(
            key=f"{name}/{rep}",
            scenario=resolved[name],
            seed=seed,
            steps=steps,
            meta={"scenario": name, "replication": rep}
            | ({"start": str(start)} if start is not None else {}),
        )
        for rep, seed in enumerate(seeds)
        for name in names
    ]
    for result in run_tasks(
        tasks,
        executor=executor,
        workers=workers,
        progress=progress,
        desc="compare",
        work=simulate_task_with_groups,
    ):
        name, rep = result.meta["scenario"], int(result.meta["replication"])
        if result.ok and result.table is not None:
            groups = result.table.attrs.pop("groups", None)
            if groups is not None:
                runs.groups[(name, rep)] = groups
            runs.tables[(name, rep)] = result.table
        else:
            runs.failures.append(
                {
                    "scenario": name,
                    "replication": rep,
                    "seed": result.seed,
                    "error": result.error,
                    "traceback": result.traceback,
                }
            )


def _write_results(
    out: Path,
    names: list[str],
    seeds: list[int],
    resolved: dict[str, dict[str, Any]],
    steps: int,
    timeseries: pd.DataFrame,
    group_tables: dict[tuple[str, int], pd.DataFrame],
    files: dict[str, Path],
    *,
    thresholds: Mapping[str, Sequence[float]],
    decomposition: Mapping[str, Mapping[str, str]] | None,
    report: dict[str, Any],
    windowed: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Write the tables, figures and report of the finished runs; return the outcome table.

    ``report`` holds what only the report shows: ``sources``, ``replications``,
    ``failures``, ``command`` and ``started``. Every file written is added to ``files``.
    ``windowed``: the scenarios whose policies give the windows "while its policies
    act" (from a saved state, only the policies from its week on; None: ``resolved``).
    """
    windowed = resolved if windowed is None else windowed
    from model.analysis import plots, stats
    from model.analysis.compare import (
        outcome_thresholds,
        outcome_windows,
        package_window,
        policy_windows,
    )
    from model.analysis.report import ComparisonInfo, write_report
    from model.atomic_files import write_csv_atomic
    from model.experiment.manifest import now_iso

    files["timeseries"] = out / "timeseries.csv"
    write_csv_atomic(files["timeseries"], timeseries)
    done = [n for n in names if (timeseries["scenario"] == n).any()]
    targets = outcome_thresholds(resolved, names, thresholds, timeseries.columns)
    outcomes = stats.measures_per_run(
        timeseries, windows=outcome_windows(windowed, names, steps), thresholds=targets
    )
    summary = stats.summarize(outcomes, scenarios=done)
    files["outcomes"] = out / "outcomes.csv"
    write_csv_atomic(files["outcomes"], summary)
    colors = plots.scenario_colors(names)
    bands = stats.timeseries_bands(timeseries)
    files["comparison"], files["comparison_svg"] = plots.plot_comparison(
        bands,
        [out / "comparison.png", out / "comparison.svg"],
        scenarios=done,
        colors=colors,
    )
    if len(done) > 1:
        (files["effects"],) = plots.plot_effects(
            summary, [out / "effects.png"], scenarios=done, colors=colors, week=steps
        )
    policies = {n: list(resolved[n].get("policies") or []) for n in names}
    (files["timelines"],) = plots.plot_policy_timelines(
        policies, steps, [out / "timelines.png"], colors=colors
    )
    decomposed = None
    if decomposition:
        decomposed = _write_decomposition(out, names, done, outcomes, decomposition, files)
    gains = _who_gains(names, seeds, group_tables, out, files)
    figures = {
        "timelines": files["timelines"],
        FIGURE_TITLES["comparison"]: files["comparison"],
    }
    for key, path in files.items():
        if key.startswith("who_gains_"):
            figures[f"Who gains: {key.removeprefix('who_gains_')}"] = path
    if "effects" in files:
        figures[FIGURE_TITLES["effects"]] = files["effects"]
    for key, path in files.items():
        if key.startswith("decomposition_"):
            package = list(dict.fromkeys(decomposed["package"]))[int(key.split("_")[1]) - 1]
            figures[f"Decomposition of {package} into its levers"] = path
    info = ComparisonInfo(
        scenarios=names,
        resolved=resolved,
        sources=report["sources"],
        steps=steps,
        replications=report["replications"],
        seeds=seeds,
        failures=report["failures"],
        command=report["command"],
        started=report["started"],
        finished=now_iso(),
        windows={n: w for n in names if (w := package_window(windowed[n], steps)) is not None},
        intervention_windows={n: policy_windows(windowed[n], steps) for n in names},
        thresholds=targets,
        decomposition=decomposed,
        who_gains=gains,
        outcomes=outcomes,
    )
    files["report_markdown"] = out / "report.md"
    files["report"] = write_report(
        out / "report.html", info, summary, figures, markdown=files["report_markdown"]
    )
    return summary


def _write_decomposition(
    out: Path,
    names: list[str],
    done: list[str],
    outcomes: pd.DataFrame,
    decomposition: Mapping[str, Mapping[str, str]],
    files: dict[str, Path],
) -> pd.DataFrame | None:
    """Write decomposition.csv and a figure per package whose runs all finished."""
    import pandas as pd

    from model.analysis.decomposition import decompose, plot_decomposition
    from model.atomic_files import write_csv_atomic
    from model.metrics import metrics_tagged

    parts = []
    for package, variants in decomposition.items():
        if package not in done or not all(v in done for v in variants.values()):
            continue
        parts.append(decompose(outcomes, names[0], package, variants))
    if not parts:
        return None
    decomposed = pd.concat(parts, ignore_index=True)
    files["decomposition"] = out / "decomposition.csv"
    write_csv_atomic(files["decomposition"], decomposed)
    for i, package in enumerate(dict.fromkeys(decomposed["package"])):
        path = plot_decomposition(
            decomposed, package, metrics_tagged("effects"), out / f"decomposition-{i + 1}.png"
        )
        if path is not None:
            files[f"decomposition_{i + 1}"] = path
    return decomposed


def _who_gains(
    names: list[str],
    seeds: list[int],
    group_tables: dict[tuple[str, int], pd.DataFrame],
    out: Path,
    files: dict[str, Path],
) -> dict[str, pd.DataFrame]:
    """Write groups.csv and a "who gains" figure per scenario; return the gains tables."""
    from model.analysis.compare import gains_by_scenario, stack_runs
    from model.analysis.group_effects import plot_who_gains
    from model.atomic_files import write_csv_atomic

    if not group_tables:
        return {}
    every = stack_runs(group_tables, names, seeds)
    files["groups"] = out / "groups.csv"
    write_csv_atomic(files["groups"], every)
    gains = gains_by_scenario(every, names)
    for name, table in gains.items():
        path = out / f"who_gains-{names.index(name)}.png"
        plot_who_gains(table, "ordered_share", path, title=f"Who gains from {name}")
        files[f"who_gains_{name}"] = path
    return gains


def _short(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: f[k] for k in ("scenario", "replication", "seed", "error", "traceback")}
        for f in failures
    ]
