"""``mtsim compare ... --uncertain``: run every package in every world, write the regret folder.

The worlds come from an experiment file's design; replication r of every package in
every world uses seed ``seed + r`` (common random numbers). Regret, its figure and
its page are :mod:`model.decision.robustness`.

Outputs in OUT: ``worlds.csv`` (the world parameters), ``regret.csv`` (every package,
world and outcome), ``regret_summary.csv``, ``regret.png``, ``report.html`` and
``manifest.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.decision.robustness import (
    judged_outcomes,
    plot_regret,
    regret_page,
    regret_sentences,
    summarize_regret,
    world_regret,
    world_values,
)
from model.errors import UserError


@dataclass
class RobustnessResult:
    """What a robustness study produced.

    Attributes:
        out: output folder.
        values: package, world, metric, value (mean over replications).
        regret: per package and metric: mean, sd, p90, max regret and share of worlds best.
        sentences: one plain sentence per outcome.
        failures: failed runs.
        files: written files by role.
        seconds: wall time of the runs.
    """

    out: Path
    values: pd.DataFrame
    regret: pd.DataFrame
    sentences: list[str]
    failures: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def run_robustness(
    names: Sequence[str],
    scenarios: Mapping[str, Any],
    experiment_path: str | Path,
    out: str | Path,
    metrics: Sequence[str] | None = None,
    reps: int | None = None,
    steps: int | None = None,
    workers: int = 1,
    executor: Any = None,
    progress: bool = True,
    command: str = "",
) -> RobustnessResult:
    """Run every package in every world of an experiment's design and compute regret.

    Args:
        names: package (scenario) names in order.
        scenarios: name -> validated Scenario.
        experiment_path: the experiment file whose design gives the worlds.
        out: output folder.
        metrics: outcomes to judge (default: the report's outcomes with a good direction,
            and the total policy cost, where less is better).
        reps: replications per package and world (default: the experiment's).
        steps: weeks (default: the experiment's ``steps``, else the packages' common steps).
        workers: local processes (ignored with ``executor``).
        executor: any ``concurrent.futures.Executor``.
        progress: progress bar.
        command: the command line, for the manifest.
    """
    from model.analysis import stats
    from model.atomic_files import write_bytes_atomic, write_csv_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso
    from model.experiment.runner import RunTask, run_tasks
    from model.experiment.spec import load_experiment
    from model.metrics import metric_info
    from model.scenario import ScenarioError, apply_overrides, scenario_from_dict

    experiment = load_experiment(experiment_path)
    metrics = judged_outcomes(metrics)
    reps = int(reps or experiment.spec.replications)
    if reps < 1:
        raise UserError(f"--reps: {reps}: must be at least 1")
    if steps is None:
        steps = experiment.spec.steps
    if steps is None:
        found = {scenarios[n].simulation.steps for n in names}
        if len(found) > 1:
            raise UserError("the packages run for different numbers of weeks; give --steps N")
        steps = found.pop()
    seeds = [experiment.spec.seed + r for r in range(reps)]
    fixed = dict(experiment.spec.set)
    tasks = []
    problems: list[str] = []
    for name in names:
        resolved = scenarios[name].resolved()
        for point in range(len(experiment.design)):
            overrides = {**fixed, **experiment.point_overrides(point)}
            try:
                data = apply_overrides(resolved, overrides, source=f"{experiment.source}")
                data = scenario_from_dict(data, source=f"{name} in world {point}").resolved()
            except ScenarioError as exc:
                problems.extend(str(exc).splitlines())
                continue
            for rep, seed in enumerate(seeds):
                tasks.append(
                    RunTask(
                        key=f"{name}/{point}/{rep}",
                        scenario=data,
                        seed=seed,
                        steps=int(steps),
                        meta={"package": name, "world": point, "replication": rep},
                    )
                )
    if problems:
        raise UserError("\n".join(dict.fromkeys(problems)))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = now_iso()
    clock = time.perf_counter()
    records = []
    failures: list[dict[str, Any]] = []
    for result in run_tasks(
        tasks, executor=executor, workers=workers, progress=progress, desc="worlds"
    ):
        meta = result.meta
        if not result.ok or result.table is None:
            failures.append({**meta, "seed": result.seed, "error": result.error})
            continue
        table = result.table.copy()
        for key in ("replication", "seed"):
            table.insert(0, key, meta["replication"] if key == "replication" else result.seed)
        table.insert(0, "scenario", f"{meta['package']}@{meta['world']}")
        summary = stats.measures_per_run(table, metrics=[m for m in metrics if m in table.columns])
        for _, row in summary.iterrows():
            disp = metric_info(row["metric"]) if row["metric"] in metrics else None
            if disp is None or row["measure"] != disp.headline_measure:
                continue
            records.append(
                {
                    "package": meta["package"],
                    "world": int(meta["world"]),
                    "replication": int(meta["replication"]),
                    "metric": row["metric"],
                    "value": float(row["value"]),
                }
            )
    seconds = time.perf_counter() - clock
    runs = pd.DataFrame(records, columns=["package", "world", "replication", "metric", "value"])
    values = world_values(runs, names)
    regrets = world_regret(values)
    summary = summarize_regret(regrets)
    design = experiment.design.points.reset_index(drop=True)
    design.insert(0, "world", range(len(design)))
    files = {
        "worlds": out / "worlds.csv",
        "regret": out / "regret.csv",
        "regret_summary": out / "regret_summary.csv",
    }
    write_csv_atomic(files["worlds"], design)
    write_csv_atomic(files["regret"], regrets)
    write_csv_atomic(files["regret_summary"], summary)
    shown = [m for m in metrics if m in set(summary["metric"])] if not summary.empty else []
    if shown:
        files["figure"] = plot_regret(regrets, shown, out / "regret.png")
    sentences = regret_sentences(summary) if not summary.empty else []
    files["report"] = out / "report.html"
    page = regret_page(
        names, summary, sentences, files.get("figure"), experiment, reps, steps, command
    )
    write_bytes_atomic(files["report"], page.encode("utf-8"))
    files["manifest"] = out / "manifest.json"
    write_json_atomic(
        files["manifest"],
        build_manifest(
            {n: scenarios[n].resolved() for n in names},
            seeds,
            started,
            now_iso(),
            kind="compare --uncertain",
            command=command,
            experiment=str(experiment_path),
            worlds=len(experiment.design),
            replications=reps,
            steps=int(steps),
            runs=len(tasks),
            runs_failed=len(failures),
            seconds=round(seconds, 3),
            failures=failures,
            files={k: p.name for k, p in files.items() if p is not None and k != "manifest"},
        ),
    )
    return RobustnessResult(out, values, summary, sentences, failures, files, seconds)
