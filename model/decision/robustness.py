"""Robustness of policy packages across uncertain worlds: regret, its figure and page.

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

The runs (every package in every world) and the result folder are
:mod:`model.workflows.robustness`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def judged_outcomes(metrics: Sequence[str] | None = None) -> list[str]:
    """Return the outcomes a study judges: those of ``metrics`` with a good direction.

    Default: the report's outcomes (tag ``report`` of ``model.metrics``) and the total
    policy cost (a shortfall too: less is better).
    """
    from model.metrics import good_direction, metrics_tagged

    defaults = (*metrics_tagged("report"), "cumulative_policy_cost")
    return [m for m in (metrics or defaults) if good_direction(m) != 0]


def world_values(runs: pd.DataFrame, packages: Sequence[str]) -> pd.DataFrame:
    """Average runs over replications per package, world and metric.

    Args:
        runs: columns package, world, replication, metric, value (one row per run).
        packages: every package of the study.

    Returns:
        Columns package, world, metric, value; a world and metric count only where every
        package has a value.
    """
    values = runs.groupby(["package", "world", "metric"], sort=False)["value"].mean().reset_index()
    complete = values.groupby(["world", "metric"])["package"].transform("nunique") == len(packages)
    return values[complete]


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
    from model.metrics import format_number, metric_info

    out = []
    for metric, block in summary.groupby("metric", sort=False):
        disp = metric_info(metric)
        unit = f" {disp.difference_unit}" if disp.difference_unit else ""
        block = block.sort_values(["max_regret", "mean_regret"], kind="stable")
        top = block.iloc[0]
        text = (
            f"{disp.label}: {top['package']} is the most robust choice, with a worst-case "
            f"shortfall of {format_number(top['max_regret'] * disp.scale)}{unit} from the best "
            f"package of each world (mean {format_number(top['mean_regret'] * disp.scale)}, "
            f"90th percentile {format_number(top['p90_regret'] * disp.scale)}; best in "
            f"{top['share_best']:.0%} of {int(top['worlds'])} worlds)"
        )
        others = [
            f"{row['package']} {format_number(row['max_regret'] * disp.scale)}"
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

    from model.analysis.plots import scenario_colors
    from model.metrics import metric_info

    packages = list(dict.fromkeys(regrets["package"]))
    colors = scenario_colors(packages)
    cols = min(3, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.4 * cols, 0.5 * len(packages) * rows + 1.8 * rows), squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        disp = metric_info(metric)
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


def regret_page(
    names: Sequence[str],
    summary: pd.DataFrame,
    sentences: Sequence[str],
    figure: Path | None,
    experiment: Any,
    reps: int,
    steps: int,
    command: str,
) -> str:
    """Render the HTML page of a robustness study (``model/templates/robustness.html``).

    Args:
        names: the packages in order.
        summary: :func:`summarize_regret`'s table.
        sentences: :func:`regret_sentences`.
        figure: the regret figure, if drawn.
        experiment: the experiment whose design gave the worlds.
        reps: replications per package and world.
        steps: weeks per run.
        command: the command line.
    """
    from model.analysis.html import render_page
    from model.metrics import format_number, metric_info

    rows = []
    for _, row in summary.iterrows():
        disp = metric_info(row["metric"])
        rows.append(
            {
                "label": disp.label,
                "unit": disp.difference_unit,
                "package": row["package"],
                "cells": [
                    format_number(row[k] * disp.scale)
                    for k in ("mean_regret", "sd_regret", "p90_regret", "max_regret")
                ],
                "best_in": f"{row['share_best']:.0%} of {int(row['worlds'])}",
            }
        )
    return render_page(
        "robustness.html",
        title=f"Robustness across uncertain worlds: {', '.join(names)}",
        worlds=len(experiment.design),
        source=experiment.source,
        design=experiment.design.kind,
        parameters=", ".join(p.name for p in experiment.parameters),
        reps=reps,
        steps=steps,
        command=command,
        sentences=sentences,
        figure=figure,
        rows=rows,
    )
