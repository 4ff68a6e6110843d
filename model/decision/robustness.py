"""Robustness of policy packages across uncertain worlds: regret.

``mtsim compare A.yaml B.yaml ... --uncertain EXPERIMENT.yaml`` takes the worlds
from an experiment file's design (its ``parameters``, ``design``, ``set`` and
``replications``; the experiment's ``base`` only serves to check the file) and
runs every package in every world. The same world values are applied to every
package (``--set``-style overrides of the package's own scenario), and replication
r of every package in every world uses seed ``seed + r`` (the experiment's master
seed: common random numbers).

For an outcome x with a good direction d (``model.metrics.good_direction``: +1
more is better, -1 less is better; outcomes with d = 0 have no regret) and the
mean over replications x(p, w) of package p in world w::

    regret(p, w) = max_q d * x(q, w) - d * x(p, w)      (>= 0; 0 for the best package)

Per package and outcome the report gives the mean regret over worlds, its spread
(standard deviation and 90th percentile), the worst case (maximum) and the share
of worlds in which the package is the best. A robust package has a small worst
case and a small spread, not only a small mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


def world_regret(values: pd.DataFrame) -> pd.DataFrame:
    """Regret of each package in each world, per metric (see the module docstring).

    Args:
        values: columns package, world, metric, value.

    Returns:
        ``values`` with a column ``regret`` (NaN for metrics without a good direction).
    """
    from model.metrics import good_direction

    out = values.copy()
    direction = out["metric"].map(good_direction).astype(float)
    score = out["value"] * direction
    best = score.groupby([out["world"], out["metric"]]).transform("max")
    out["regret"] = np.where(direction != 0, best - score, np.nan)
    return out


def summarize_regret(regrets: pd.DataFrame) -> pd.DataFrame:
    """Summarise regret per package and metric.

    Mean, sd, 90th percentile and max of the regret over worlds, and the share of worlds
    in which the package is the best (regret 0).
    """
    rows = []
    for (package, metric), block in regrets.groupby(["package", "metric"], sort=False):
        r = block["regret"].dropna().to_numpy(dtype=float)
        if r.size == 0:
            continue
        rows.append(
            {
                "package": package,
                "metric": metric,
                "worlds": int(r.size),
                "mean_regret": float(r.mean()),
                "sd_regret": float(r.std(ddof=1)) if r.size > 1 else math.nan,
                "p90_regret": float(np.quantile(r, 0.9)),
                "max_regret": float(r.max()),
                "share_best": float(np.mean(r <= 1e-12)),
            }
        )
    return pd.DataFrame(rows)


def regret_sentences(summary: pd.DataFrame) -> list[str]:
    """One sentence per metric naming the package with the smallest worst-case regret."""
    from model.analysis.plots import metric_display
    from model.analysis.report import fmt_number

    out = []
    for metric, block in summary.groupby("metric", sort=False):
        disp = metric_display(metric)
        unit = f" {disp.difference_unit}" if disp.difference_unit else ""
        block = block.sort_values(["max_regret", "mean_regret"], kind="stable")
        top = block.iloc[0]
        text = (
            f"{disp.label}: {top['package']} is the most robust choice, with a worst-case "
            f"shortfall of {fmt_number(top['max_regret'] * disp.scale)}{unit} from the best "
            f"package of each world (mean {fmt_number(top['mean_regret'] * disp.scale)}, "
            f"90th percentile {fmt_number(top['p90_regret'] * disp.scale)}; best in "
            f"{top['share_best']:.0%} of {int(top['worlds'])} worlds)"
        )
        others = [
            f"{row['package']} {fmt_number(row['max_regret'] * disp.scale)}"
            for _, row in block.iloc[1:].iterrows()
        ]
        if others:
            text += "; worst cases of the others: " + ", ".join(others)
        out.append(text + ".")
    return out


def plot_regret(regrets: pd.DataFrame, metrics: Sequence[str], path: Path) -> Path:
    """Box plot of each package's regret over worlds, one panel per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.analysis.plots import metric_display, scenario_colors

    packages = list(dict.fromkeys(regrets["package"]))
    colors = scenario_colors(packages)
    cols = min(3, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.4 * cols, 0.5 * len(packages) * rows + 1.8 * rows), squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        disp = metric_display(metric)
        data = [
            regrets[(regrets["package"] == p) & (regrets["metric"] == metric)]["regret"]
            .dropna()
            .to_numpy()
            * disp.scale
            for p in packages
        ]
        parts = ax.boxplot(data, vert=False, patch_artist=True, tick_labels=packages)
        for patch, p in zip(parts["boxes"], packages, strict=True):
            patch.set_facecolor(colors[p])
            patch.set_alpha(0.55)
        ax.set_title(disp.label, fontsize=10)
        ax.set_xlabel(f"regret ({disp.difference_unit})" if disp.difference_unit else "regret")
        ax.invert_yaxis()
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle("Regret: shortfall from the best package in each world (0 = best)")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
    from model.analysis.plots import metric_display
    from model.analysis.report import REPORT_OUTCOMES
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_csv_atomic,
        write_json_atomic,
    )
    from model.experiment.runner import RunTask, run_tasks
    from model.experiment.spec import load_experiment
    from model.metrics import good_direction
    from model.scenario import ScenarioError, apply_overrides, scenario_from_dict

    experiment = load_experiment(experiment_path)
    defaults = (*REPORT_OUTCOMES, "cumulative_policy_cost")  # cost: a shortfall too
    metrics = [m for m in (metrics or defaults) if good_direction(m) != 0]
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
            disp = metric_display(row["metric"]) if row["metric"] in metrics else None
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
    values = runs.groupby(["package", "world", "metric"], sort=False)["value"].mean().reset_index()
    # a world counts only when every package has a value there
    complete = values.groupby(["world", "metric"])["package"].transform("nunique") == len(names)
    values = values[complete]
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
    files["report"] = write_regret_page(
        out / "report.html",
        names,
        summary,
        sentences,
        files.get("figure"),
        experiment,
        reps,
        steps,
        command,
    )
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


def write_regret_page(
    path: Path,
    names: Sequence[str],
    summary: pd.DataFrame,
    sentences: Sequence[str],
    figure: Path | None,
    experiment: Any,
    reps: int,
    steps: int,
    command: str,
) -> Path:
    """Write a self-contained HTML page in the style of the compare report."""
    from model.analysis.plots import metric_display
    from model.analysis.report import _CSS, _esc, _img, fmt_number
    from model.experiment.manifest import write_bytes_atomic

    params = ", ".join(p.name for p in experiment.parameters)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Robustness: {_esc(', '.join(names))}</title><style>{_CSS}</style></head><body>",
        f"<h1>Robustness across uncertain worlds: {_esc(', '.join(names))}</h1>",
        f'<p class="note">{len(experiment.design)} worlds from {_esc(experiment.source)} '
        f"({_esc(experiment.design.kind)} design over {_esc(params)}), {reps} replications "
        f"each with common seeds, {steps} weeks. Regret is the shortfall of a package from "
        "the best package of the same world (0 for the best), in the direction that is "
        "desirable for each outcome.</p>",
    ]
    if command:
        parts.append(f'<p class="note">Command: <code>{_esc(command)}</code></p>')
    parts.append("<h2>Findings</h2><ul>")
    parts += [f"<li>{_esc(s)}</li>" for s in sentences]
    parts.append("</ul>")
    if figure is not None:
        parts.append(f"<h2>Regret over worlds</h2>{_img(figure, 'regret')}")
    parts.append(
        "<h2>Regret table</h2><table><tr><th>outcome</th><th>package</th><th>mean</th>"
        "<th>sd</th><th>90th percentile</th><th>worst</th><th>best in</th></tr>"
    )
    for _, row in summary.iterrows():
        disp = metric_display(row["metric"])
        cells = [
            fmt_number(row[k] * disp.scale)
            for k in ("mean_regret", "sd_regret", "p90_regret", "max_regret")
        ]
        parts.append(
            f"<tr><td>{_esc(disp.label)} <small>[{_esc(disp.difference_unit)}]</small></td>"
            f"<td>{_esc(row['package'])}</td>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{row['share_best']:.0%} of {int(row['worlds'])}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        '<p class="note">worlds.csv: the world parameters; regret.csv: every package, '
        "world and outcome; regret_summary.csv: this table.</p></body></html>"
    )
    write_bytes_atomic(path, "\n".join(parts).encode("utf-8"))
    return path
