"""A policy package decomposed into its levers, with an interaction term.

For a package P with levers 1..k and a reference R, every run uses the same seeds
(common random numbers). Per replication i and outcome x::

    total_i       = x(P)_i - x(R)_i
    lever_k,i     = x(P with only lever k's interventions)_i - x(R)_i
    interaction_i = total_i - sum_k lever_k,i

Each term gets a Student t interval over replications (``model.analysis.stats``).
An interaction whose interval lies above 0 means the levers reinforce each other
(complements: the package does more than its parts); below 0, they overlap
(substitutes: the parts add up to more than the package). An interval that
contains 0 shows no interaction at this number of replications.

A lever-alone variant keeps everything of the package's scenario (its world, the
settings it changes) except the interventions on the other levers, so a lever's
effect is measured in the package's own world.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.stats import t_interval
from model.metrics import metric_info

VARIANT = "{package}[{lever}]"
"""Name of the variant of a package with only one lever's interventions."""


def package_levers(resolved: Mapping[str, Any]) -> list[str]:
    """List the levers of a resolved scenario's policies, in order of first appearance."""
    return list(dict.fromkeys(str(iv["lever"]) for iv in resolved.get("policies") or []))


def lever_variants(
    names: Sequence[str], scenarios: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any], dict[str, dict[str, str]]]:
    """Add, for every non-reference scenario with two or more levers, one variant per lever.

    Args:
        names: scenario names, the first being the reference.
        scenarios: name -> validated ``Scenario``.

    Returns:
        (all names: the given ones then the variants, name -> Scenario,
        package name -> {lever: variant name}).
    """
    from model.scenario import scenario_from_dict

    out_names = list(names)
    out = dict(scenarios)
    plan: dict[str, dict[str, str]] = {}
    for name in names[1:]:
        resolved = scenarios[name].resolved()
        levers = package_levers(resolved)
        if len(levers) < 2:
            continue
        plan[name] = {}
        for lever in levers:
            data = dict(resolved)
            data["policies"] = [iv for iv in resolved["policies"] if iv["lever"] == lever]
            variant = VARIANT.format(package=name, lever=lever)
            data["name"] = variant
            out[variant] = scenario_from_dict(data, source=f"{name}, {lever} alone")
            out_names.append(variant)
            plan[name][lever] = variant
    return out_names, out, plan


def decompose(
    outcomes: pd.DataFrame,
    reference: str,
    package: str,
    variants: Mapping[str, str],
    metrics: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Decompose a package's paired effect into its levers' effects and an interaction.

    Args:
        outcomes: per-run summaries (``stats.measures_per_run``) of the reference, the package
            and every variant, with common seeds.
        reference: the reference scenario.
        package: the package scenario.
        variants: lever -> name of the package-with-only-this-lever scenario.
        metrics: metrics to decompose (default: all in ``outcomes`` but policy_cost).
        measures: measures to decompose (default: all).

    Returns:
        One row per (metric, measure, term) with columns package, metric, measure, term
        (``total``, ``lever:<name>``, ``interaction``), n, mean, ci_low, ci_high. Only
        replications where every run finished are used.
    """
    table = outcomes[outcomes["metric"] != "policy_cost"] if metrics is None else outcomes
    if metrics is not None:
        table = table[table["metric"].isin(list(metrics))]
    if measures is not None:
        table = table[table["measure"].isin(list(measures))]
    wanted = [reference, package, *variants.values()]
    wide = (
        table[table["scenario"].isin(wanted)]
        .set_index(["metric", "measure", "seed", "scenario"])["value"]
        .unstack("scenario")
        .reindex(columns=wanted)
        .dropna()
    )
    rows: list[dict[str, Any]] = []
    for (metric, measure), block in wide.groupby(level=["metric", "measure"], sort=False):
        base = block[reference].to_numpy(dtype=float)
        total = block[package].to_numpy(dtype=float) - base
        parts = {lever: block[v].to_numpy(dtype=float) - base for lever, v in variants.items()}
        interaction = total - np.sum(list(parts.values()), axis=0) if parts else total
        terms = [("total", total)]
        terms += [(f"lever:{lever}", eff) for lever, eff in parts.items()]
        terms.append(("interaction", interaction))
        for term, values in terms:
            ci = t_interval(values)
            rows.append(
                {
                    "package": package,
                    "metric": metric,
                    "measure": measure,
                    "term": term,
                    "n": ci.n,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                }
            )
    columns = ["package", "metric", "measure", "term", "n", "mean", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def interaction_words(row: Mapping[str, Any]) -> str:
    """'complements', 'substitutes' or 'no clear interaction' for an interaction row."""
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if np.isfinite(low) and low > 0:
        return "complements (the package does more than its levers added up)"
    if np.isfinite(high) and high < 0:
        return "substitutes (the levers added up do more than the package)"
    if float(row["mean"]) == low == high == 0.0:
        return "no interaction (identical in every paired run)"
    return "no clear interaction"


def plot_decomposition(table: pd.DataFrame, package: str, metrics: Sequence[str], path: Any) -> Any:
    """Bar chart per metric: each lever's effect, their interaction and the package total."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = table[table["package"] == package]
    metrics = [m for m in metrics if m in set(sub["metric"])]
    if not metrics:
        return None
    cols = min(3, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    terms = list(dict.fromkeys(sub["term"]))
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.6 * cols, 0.42 * len(terms) * rows + 1.6 * rows), squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        disp = metric_info(metric)
        part = sub[(sub["metric"] == metric) & (sub["measure"] == disp.headline_measure)]
        part = part.set_index("term").reindex(terms)
        y = np.arange(len(terms))[::-1]
        mean = part["mean"].to_numpy(dtype=float) * disp.scale
        low = part["ci_low"].to_numpy(dtype=float) * disp.scale
        high = part["ci_high"].to_numpy(dtype=float) * disp.scale
        colors = [
            "#4d4d4d" if t == "total" else "#9467bd" if t == "interaction" else "#1f77b4"
            for t in terms
        ]
        ax.barh(y, mean, color=colors, alpha=0.8)
        err = np.vstack([mean - low, high - mean])
        ax.errorbar(mean, y, xerr=np.where(np.isfinite(err), err, 0), fmt="none", ecolor="k")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels([t.removeprefix("lever:") for t in terms], fontsize=8)
        ax.set_title(disp.label, fontsize=10)
        ax.set_xlabel(f"difference ({disp.difference_unit})" if disp.difference_unit else "")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(f"{package}: effect of each lever alone, interaction and package (95% CI)")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
