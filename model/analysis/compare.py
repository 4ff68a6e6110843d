r"""``mtsim compare``: run policy scenarios side by side and write figures and a report.

::

    mtsim compare scenarios/baseline.yaml scenarios/payment_security.yaml \
        scenarios/integrity.yaml --reps 10 --workers 2

Every scenario is run ``--reps`` times. Replication i of every scenario uses the
same seed (common random numbers), derived from a base seed (``--seed``, default
the first scenario's ``simulation.seed``) with ``model.experiment.design.run_seed``,
so differences between scenarios are paired. The runs go through
``model.experiment.runner.run_tasks`` (a local process pool with ``--workers`` > 1)
with a progress bar. The output folder holds:

- ``timeseries.csv``: every run's table (scenario, replication, seed, step, metrics);
- ``outcomes.csv``: per scenario, metric and measure (final value, run mean, total
  cost) the mean with its 95% interval and the paired difference from the first
  scenario with its own interval, plus cost and effect per unit of extra cost;
- ``comparison.png`` / ``comparison.svg``, ``effects.png``, ``timelines.png``;
- ``report.html`` (self-contained) and ``manifest.json``.

Every scenario file is loaded and validated before any run starts. Failed runs
are listed on stderr, in the report and in the manifest (exit code 1); the
statistics use the runs that finished.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import UserError
from model.scenario import Scenario, ScenarioError, load_scenario

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

    Returns:
        (names in order, name -> Scenario, name -> source file).

    Raises:
        UserError: one line per problem, naming the file (and --set) and the key.
    """
    if not paths:
        raise UserError("compare: give at least one scenario file")
    problems: list[str] = []
    names: list[str] = []
    loaded: dict[str, Scenario] = {}
    sources: dict[str, str] = {}
    for path in paths:
        try:
            scenario = load_scenario(path, list(overrides))
        except ScenarioError as exc:
            problems.extend(str(exc).splitlines())
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
        raise UserError("\n".join(dict.fromkeys(problems)))
    return names, loaded, sources


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
    """Seed of each replication: the same for every scenario (common random numbers)."""
    from model.experiment.design import run_seed

    return [run_seed(base_seed, 0, i, common=True) for i in range(reps)]


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

    Returns:
        The Comparison (tables in memory, paths of the written files).
    """
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
        for result in run_tasks(
            tasks, executor=executor, workers=workers, progress=progress, desc="compare"
        ):
            name, rep = result.meta["scenario"], int(result.meta["replication"])
            if result.ok and result.table is not None:
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
        summary = stats.summarize(stats.run_outcomes(timeseries), scenarios=done)
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
        figures = {
            "timelines": files["timelines"],
            FIGURE_TITLES["comparison"]: files["comparison"],
        }
        if "effects" in files:
            figures[FIGURE_TITLES["effects"]] = files["effects"]
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


def _short(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: f[k] for k in ("scenario", "replication", "seed", "error", "traceback")}
        for f in failures
    ]


# ----------------------------------------------------------------------------- command


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    parser = subparsers.add_parser(
        "compare",
        help="compare policy scenarios side by side (figures, outcome table, HTML report)",
        description=(
            "Run every scenario R times with common random numbers (replication i of every "
            "scenario uses the same seed) and write timeseries.csv, outcomes.csv, "
            "comparison.png/svg, effects.png, report.html and manifest.json. The first "
            "scenario is the reference the others are compared with."
        ),
    )
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml", help="scenario files")
    parser.add_argument(
        "--reps",
        type=int,
        default=DEFAULT_REPS,
        metavar="R",
        help=f"replications per scenario (default {DEFAULT_REPS})",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="weeks to simulate (default: the scenarios' simulation.steps)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="worker processes (default: the machine's cores; 1 runs in this process)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default results/compare-<names>-<hash>)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="base seed of the replication seeds (default: the first scenario's simulation.seed)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a key in every scenario, e.g. --set population.consumers=2000 (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim compare``; returns 0, or 1 when some runs failed."""
    from model.analysis.report import scenario_sentences
    from model.experiment.runner import default_workers

    names, scenarios, sources = load_scenarios(args.scenarios, args.overrides)
    if args.reps < 1:
        raise UserError(f"--reps: {args.reps}: must be at least 1")
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers: {workers}: must be at least 1")
    steps = common_steps(scenarios, args.steps)
    base = scenarios[names[0]].simulation.seed if args.seed is None else args.seed
    if base < 0:
        raise UserError(f"--seed: {base}: must be 0 or more")
    out = (
        Path(args.out)
        if args.out
        else default_out_dir(names, scenarios, replication_seeds(base, args.reps), steps)
    )
    command = "mtsim compare " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    if sys.argv[1:2] != ["compare"]:
        command = ""
    result = run_comparison(
        names,
        scenarios,
        out,
        reps=args.reps,
        steps=steps,
        workers=workers,
        base_seed=base,
        sources=sources,
        progress=not args.quiet,
        command=command,
    )
    for fail in result.failures:
        print(
            f"mtsim: run failed: {fail['scenario']} replication {fail['replication']} "
            f"(seed {fail['seed']}): {fail['error']}",
            file=sys.stderr,
        )
    if result.summary is None:
        print(
            f"mtsim: error: every run failed; see {result.out / 'manifest.json'}", file=sys.stderr
        )
        return 1
    done = list(dict.fromkeys(result.summary["scenario"]))
    if len(done) > 1:
        print("Effects (in brackets: 95% interval of the paired difference):")
    for name, text in scenario_sentences(result.summary, done, steps).items():
        print(f"- {text}" if name != done[0] else f"Reference: {name}")
    print(f"report: {result.files.get('report', result.out)}")
    print(f"folder: {result.out}")
    return 1 if result.failures else 0
