"""Group tables in analysis: who gains from a policy, summaries per run, ``groups.csv``.

The group table itself (columns, recording) is model/group_table.py; docs/population.md
describes it. This module compares group tables (:func:`who_gains`,
:func:`plot_who_gains`), summarises them per run for sweeps (:func:`summarize_groups`)
and reads a results folder's ``groups.csv`` (:func:`read_group_table`). Models that
record them are run by ``model.experiment.runner.run_with_groups`` and
``simulate_task_with_groups``; ``mtsim run`` writes ``groups.csv``
(``model.workflows.run``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model.group_table import COLUMNS, GROUP_METRIC_INFO, GROUPINGS


def who_gains(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    step: int | None = None,
    metrics: tuple[str, ...] = ("payment_share", "ordered_share", "order_value_per_consumer"),
) -> pd.DataFrame:
    """Who gains from a policy: each group's metric in the policy run minus the baseline.

    Both tables are group tables (``groups.csv``), possibly of several replications
    (a ``replication`` column): values are averaged over replications first.

    Args:
        base: the baseline scenario's group table.
        policy: the policy scenario's group table.
        step: the step compared (default: the last step in both).
        metrics: the metric columns compared.

    Returns:
        One row per (by, group): ``by``, ``group``, then per metric ``<metric>_base``,
        ``<metric>_policy`` and ``<metric>_gain`` (policy - base). Groups present in
        only one table are left out.
    """
    if step is None:
        step = int(min(base["step"].max(), policy["step"].max()))
    keys = ["by", "group"]

    def at_step(table: pd.DataFrame) -> pd.DataFrame:
        rows = table[table["step"] == step]
        return rows.groupby(keys, sort=False)[list(metrics)].mean().reset_index()

    merged = at_step(base).merge(at_step(policy), on=keys, suffixes=("_base", "_policy"))
    out = merged[keys].copy()
    for metric in metrics:
        out[f"{metric}_base"] = merged[f"{metric}_base"]
        out[f"{metric}_policy"] = merged[f"{metric}_policy"]
        out[f"{metric}_gain"] = merged[f"{metric}_policy"] - merged[f"{metric}_base"]
    return out


def plot_who_gains(gains: pd.DataFrame, metric: str, path: Any, title: str = "") -> None:
    """Bar chart of ``<metric>_gain`` by group, one panel per grouping (not ``all``).

    Args:
        gains: the output of :func:`who_gains`.
        metric: the metric whose gain is drawn.
        path: where the PNG goes.
        title: figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [by for by in GROUPINGS if by != "all" and (gains["by"] == by).any()]
    fig, axes = plt.subplots(1, max(1, len(parts)), figsize=(3.2 * max(1, len(parts)), 3.2))
    axes = np.atleast_1d(axes)
    for ax, by in zip(axes, parts, strict=False):
        rows = gains[gains["by"] == by]
        values = rows[f"{metric}_gain"].to_numpy()
        ax.bar(rows["group"].astype(str), values, color=np.where(values >= 0, "#2a7", "#c44"))
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_title(by)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    import textwrap

    label = f"{GROUP_METRIC_INFO.get(metric, metric)}: policy - base"
    axes[0].set_ylabel("\n".join(textwrap.wrap(label, 34)), fontsize=8)
    fig.suptitle(title or f"Who gains: {metric}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summarize_groups(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (by, group) of a run's group table: each metric's final value and run mean.

    For the sweep store (``outcomes: by_group``): columns ``by``, ``group``,
    ``consumers``, then ``<metric>_final`` (at the last step) and ``<metric>_mean``
    (over steps 1..T, or step 0 alone when there is no other) for every metric
    column of the group table.
    """
    metrics = [c for c in COLUMNS if c not in ("step", "by", "group", "consumers")]
    last = int(table["step"].max())
    later = table[table["step"] > 0] if last > 0 else table
    keys = ["by", "group"]
    final = table[table["step"] == last].set_index(keys)
    mean = later.groupby(keys, sort=False)[metrics].mean()
    out = final[["consumers"]].copy()
    for metric in metrics:
        out[f"{metric}_final"] = final[metric].astype(float)
        out[f"{metric}_mean"] = mean[metric].reindex(out.index).astype(float)
    return out.reset_index()


# --------------------------------------------------------------------------- files

GROUP_FILE = "groups.csv"
"""Name of the group table in a results folder (``mtsim run``)."""


def read_group_table(folder: Any) -> pd.DataFrame:
    """Read the group table of a results folder (``mtsim run``'s ``groups.csv``)."""
    from pathlib import Path

    return pd.read_csv(Path(folder) / GROUP_FILE, keep_default_na=False)
