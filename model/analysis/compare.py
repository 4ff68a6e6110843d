r"""``mtsim compare``: run policy scenarios side by side and write figures and a report.

(The command line lives in ``model.commands.compare``; this module does the work.)

::

    mtsim compare scenarios/baseline.yaml scenarios/payment_security.yaml \
        scenarios/integrity.yaml --reps 10 --workers 2

Every scenario is run ``--reps`` times. Replication i of every scenario uses the
same seed (common random numbers), ``base + i`` with the base seed ``--seed``
(default the first scenario's ``simulation.seed``): the rule of ``mtsim run``, so
the reference gives the same runs as ``mtsim run`` with that seed and ``--reps``,
and differences between scenarios are paired. The runs go through
``model.experiment.runner.run_tasks`` (a local process pool with ``--workers`` > 1)
with a progress bar. The output folder holds:

- ``timeseries.csv``: every run's table (scenario, replication, seed, step, metrics);
- ``outcomes.csv``: per scenario, metric and measure (final value, last-quarter mean,
  run mean, cumulative sum, mean over each intervention's active weeks ``weeks_A_B``,
  weeks to each threshold ``weeks_to_L``, total cost) the mean with its 95% interval
  and the paired difference from the first scenario with its own interval, plus cost
  and effect per unit of extra cost;
- ``decomposition.csv`` and ``decomposition-K.png`` (with ``--decompose``): each
  package's effect split into its levers alone and their interaction;
- ``comparison.png`` / ``comparison.svg``, ``effects.png``, ``timelines.png``;
- ``report.html`` (self-contained) and ``manifest.json``.

Every scenario file is loaded and validated before any run starts. Failed runs
are listed on stderr, in the report and in the manifest (exit code 1); the
statistics use the runs that finished.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.errors import UserError
from model.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:  # pandas is imported where tables are made: input errors stay fast
    import pandas as pd

DEFAULT_REPS = 10
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
    if not paths:
        raise UserError("compare: give at least one scenario file")
    problems: list[tuple[str, str]] = []
    names: list[str] = []
    loaded: dict[str, Scenario] = {}
    sources: dict[str, str] = {}
    for path in paths:
        try:
            scenario = load_scenario(path, list(overrides))
        except ScenarioError as exc:
            problems.extend((str(path), line) for line in str(exc).splitlines())
            continue
        name = scenario.name
        count = 2
        while name in loaded:
            name = f"{scenario.name}#{count}"
            count += 1
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


def replication_seeds(base_seed: int, reps: int) -> list[int]:
    """Seed of each replication: ``base_seed + i``, the same for every scenario.

    The same rule as ``mtsim run`` (replication r uses seed ``seed + r``), so the
    reference scenario of a comparison gives exactly the runs of ``mtsim run`` with
    the same seed and replications; every scenario uses the same seeds (common random
    numbers).
    """
    return [int(base_seed) + i for i in range(reps)]


def policy_windows(resolved: Mapping[str, Any], steps: int) -> list[tuple[str, int, int]]:
    """Return the weeks each intervention of a resolved scenario acts, clipped to 1..steps.

    Returns:
        (label or lever, first week, last week) per intervention, in file order; an
        intervention that never acts within the run is left out.
    """
    out = []
    for iv in resolved.get("policies") or []:
        first = max(1, int(iv.get("start", 0)))
        end = iv.get("end")
        last = min(steps, int(end) - 1) if end is not None else steps
        if first <= last:
            out.append((str(iv.get("label") or iv.get("lever")), first, last))
    return out


def package_window(resolved: Mapping[str, Any], steps: int) -> tuple[int, int] | None:
    """Return the weeks from a scenario's first acting intervention to its last acting week."""
    windows = policy_windows(resolved, steps)
    if not windows:
        return None
    return min(w[1] for w in windows), max(w[2] for w in windows)


def parse_thresholds(texts: Sequence[str]) -> dict[str, list[float]]:
    """Read ``--threshold METRIC=LEVEL`` options (repeatable; LEVEL a number).

    METRIC is a metric, or a per-region column of one (``exports_value.domestic``).

    Raises:
        UserError: a malformed option or an unknown metric (with a close match).
    """
    if not texts:
        return {}
    import difflib

    from model.metrics import GOOD_DIRECTION  # after the scenario files were checked

    out: dict[str, list[float]] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(
                f"--threshold: {text!r}: expected METRIC=LEVEL, e.g. payment_adoption=0.5"
            )
        if name not in GOOD_DIRECTION and name.split(".")[0] not in GOOD_DIRECTION:
            match = difflib.get_close_matches(name, list(GOOD_DIRECTION), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise UserError(f"--threshold: {name}: unknown metric{hint}")
        try:
            level = float(raw)
        except ValueError:
            raise UserError(f"--threshold: {text}: {raw!r} is not a number") from None
        out.setdefault(name, []).append(level)
    return out


def scenario_thresholds(resolved: Mapping[str, Any]) -> dict[str, list[float]]:
    """Targets a scenario declares (``targets: {metric: level}``, when the schema has them)."""
    targets = resolved.get("targets") or {}
    out: dict[str, list[float]] = {}
    if isinstance(targets, Mapping):
        for metric, level in targets.items():
            levels = level if isinstance(level, list) else [level]
            out.setdefault(str(metric), []).extend(float(v) for v in levels)
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
) -> Comparison:
    """Run every scenario ``reps`` times with common random numbers and write all outputs.

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

    Returns:
        The Comparison (tables in memory, paths of the written files).
    """
    import pandas as pd

    from model.analysis import plots, stats
    from model.analysis.report import ComparisonInfo, write_report
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_csv_atomic,
        write_json_atomic,
    )
    from model.experiment.runner import RunTask, run_tasks

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
    tasks = [
        RunTask(
            key=f"{name}/{rep}",
            scenario=resolved[name],
            seed=seed,
            steps=n_steps,
            meta={"scenario": name, "replication": rep},
        )
        for rep, seed in enumerate(seeds)
        for name in names
    ]
    tables: dict[tuple[str, int], pd.DataFrame] = {}
    group_tables: dict[tuple[str, int], pd.DataFrame] = {}
    failures: list[dict[str, Any]] = []
    manifest_extra = {
        "kind": "compare",
        "command": command,
        "replications": reps,
        "steps": n_steps,
        "base_seed": base,
        "reference": names[0],
        "sources": dict(sources or {}),
    }

    def _timeseries() -> pd.DataFrame:
        parts = []
        for name in names:
            for rep, seed in enumerate(seeds):
                table = tables.get((name, rep))
                if table is None:
                    continue
                front = pd.DataFrame(
                    {"scenario": name, "replication": rep, "seed": seed}, index=table.index
                )
                parts.append(pd.concat([front, table], axis=1))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    start_clock = time.perf_counter()
    try:
        from model.analysis.group_effects import simulate_task_with_groups

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
                    group_tables[(name, rep)] = groups
                tables[(name, rep)] = result.table
            else:
                failures.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": result.seed,
                        "error": result.error,
                        "traceback": result.traceback,
                    }
                )
    except BaseException:
        # keep what finished: the run tables and a manifest saying the study was cut short
        timeseries = _timeseries()
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
                runs_finished=len(tables),
                failures=_short(failures),
                **manifest_extra,
            ),
        )
        raise
    seconds = time.perf_counter() - start_clock
    failures.sort(key=lambda f: (names.index(f["scenario"]), f["replication"]))
    files: dict[str, Path] = {}
    timeseries = _timeseries()
    summary = None
    if not timeseries.empty:
        files["timeseries"] = out / "timeseries.csv"
        write_csv_atomic(files["timeseries"], timeseries)
        done = [n for n in names if (timeseries["scenario"] == n).any()]
        windows: list[tuple[int, int]] = []
        for name in names:
            windows += [(a, b) for _, a, b in policy_windows(resolved[name], n_steps)]
            whole = package_window(resolved[name], n_steps)
            if whole is not None:
                windows.append(whole)
        targets: dict[str, list[float]] = {}
        for source_map in [*(scenario_thresholds(resolved[n]) for n in names), thresholds or {}]:
            for metric, levels in source_map.items():
                if metric in timeseries.columns:
                    targets.setdefault(metric, []).extend(levels)
        outcomes = stats.measures_per_run(timeseries, windows=windows, thresholds=targets)
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
                summary, [out / "effects.png"], scenarios=done, colors=colors, week=n_steps
            )
        policies = {n: list(resolved[n].get("policies") or []) for n in names}
        (files["timelines"],) = plots.plot_policy_timelines(
            policies, n_steps, [out / "timelines.png"], colors=colors
        )
        decomposed = None
        if decomposition:
            from model.analysis.decomposition import decompose, plot_decomposition

            parts = []
            for package, variants in decomposition.items():
                if package not in done or not all(v in done for v in variants.values()):
                    continue
                parts.append(decompose(outcomes, names[0], package, variants))
            if parts:
                decomposed = pd.concat(parts, ignore_index=True)
                files["decomposition"] = out / "decomposition.csv"
                write_csv_atomic(files["decomposition"], decomposed)
                for i, package in enumerate(dict.fromkeys(decomposed["package"])):
                    path = plot_decomposition(
                        decomposed, package, plots.MAIN_OUTCOMES, out / f"decomposition-{i + 1}.png"
                    )
                    if path is not None:
                        files[f"decomposition_{i + 1}"] = path
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
        finished = now_iso()
        info = ComparisonInfo(
            scenarios=names,
            resolved=resolved,
            sources=dict(sources or {}),
            steps=n_steps,
            replications=reps,
            seeds=seeds,
            failures=failures,
            command=command,
            started=started,
            finished=finished,
            windows={
                n: w for n in names if (w := package_window(resolved[n], n_steps)) is not None
            },
            intervention_windows={n: policy_windows(resolved[n], n_steps) for n in names},
            thresholds=targets,
            decomposition=decomposed,
            who_gains=gains,
        )
        files["report"] = write_report(out / "report.html", info, summary, figures)
    finished = now_iso()
    files["manifest"] = out / "manifest.json"
    write_json_atomic(
        files["manifest"],
        build_manifest(
            resolved,
            seeds,
            started,
            finished,
            status="complete" if not failures else "complete with failed runs",
            runs_finished=len(tables),
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


def _who_gains(
    names: list[str],
    seeds: list[int],
    group_tables: dict[tuple[str, int], pd.DataFrame],
    out: Path,
    files: dict[str, Path],
) -> dict[str, pd.DataFrame]:
    """Write groups.csv and a "who gains" figure per scenario; return the gains tables."""
    import pandas as pd

    from model.analysis.group_effects import plot_who_gains, who_gains
    from model.experiment.manifest import write_csv_atomic

    if not group_tables:
        return {}
    parts = []
    for (name, rep), table in sorted(
        group_tables.items(), key=lambda kv: (names.index(kv[0][0]), kv[0][1])
    ):
        front = pd.DataFrame(
            {"scenario": name, "replication": rep, "seed": seeds[rep]}, index=table.index
        )
        parts.append(pd.concat([front, table], axis=1))
    every = pd.concat(parts, ignore_index=True)
    files["groups"] = out / "groups.csv"
    write_csv_atomic(files["groups"], every)
    reference = every[every["scenario"] == names[0]]
    gains: dict[str, pd.DataFrame] = {}
    if reference.empty:
        return gains
    for i, name in enumerate(names[1:], start=1):
        policy = every[every["scenario"] == name]
        if policy.empty:
            continue
        metrics = tuple(
            m
            for m in ("access_share", "payment_share", "ordered_share", "order_value_per_consumer")
            if m in every.columns
        )
        table = who_gains(reference, policy, metrics=metrics)
        table = table[table["by"] != "all"].reset_index(drop=True)
        gains[name] = table
        path = out / f"who_gains-{i}.png"
        plot_who_gains(
            table, "ordered_share", path, title=f"Who gains from {name}: shopped by mobile"
        )
        files[f"who_gains_{name}"] = path
    return gains


def _short(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: f[k] for k in ("scenario", "replication", "seed", "error", "traceback")}
        for f in failures
    ]
