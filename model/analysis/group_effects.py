"""Group tables in analysis: who gains from a policy, summaries per run, ``groups.csv``.

The group table itself (columns, recording) is model/group_table.py; docs/population.md
describes it. This module compares group tables (:func:`who_gains`,
:func:`who_gains_bars`, :func:`plot_who_gains`), summarises them per run for sweeps
(:func:`summarize_groups`) and reads a results folder's ``groups.csv``
(:func:`read_group_table`). Models that record them are run by
``model.experiment.runner.run_with_groups`` and ``simulate_task_with_groups``;
``mtsim run`` writes ``groups.csv`` (``model.workflows.run``).

Who gains is read the way the comparison report's Findings read the whole population:
replication i of the policy against replication i of the reference (the same seed), the
mean of these paired differences with its 95% t interval, each outcome at the end of the
run as its registry entry reads it (a share at the last week, a weekly flow as the mean of
the last 13 weeks), in the units the Findings use (shares in per cent, their differences
in percentage points). A gain is called clear only when its interval excludes 0.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.stats import QUARTER, t_interval
from model.group_table import COLUMNS, GROUPINGS
from model.metrics import Metric, in_sentence, metric_info


def _as(registry_name: str, column: str) -> Metric:
    """Return the registry entry of the whole population's metric, named as its group column."""
    return replace(metric_info(registry_name), name=column, tags={})


GROUP_METRICS: dict[str, Metric] = {
    "access_share": _as("mobile_access_share", "access_share"),
    "aware_share": _as("aware_share", "aware_share"),
    "payment_share": _as("payment_adoption", "payment_share"),
    "ordered_share": _as("shopper_share", "ordered_share"),
    "cross_border_ordered_share": Metric(
        "cross_border_ordered_share",
        "Consumers who have ordered across borders",
        "share",
        "consumers",
        1,
    ),
    "trust_domestic": _as("mean_trust_domestic", "trust_domestic"),
    "trust_foreign": _as("mean_trust_foreign", "trust_foreign"),
    "orders": _as("orders", "orders"),
    "cross_border_orders": _as("cross_border_orders", "cross_border_orders"),
    "order_value": Metric(
        "order_value", "Value of mobile orders", "money_flow", "yuan", 1
    ),
    "order_value_per_consumer": Metric(
        "order_value_per_consumer",
        "Value of mobile orders per consumer",
        "money_flow",
        "yuan",
        1,
    ),
}
"""Each metric column of the group table as shown: label, kind, unit and good direction.

Where the whole population's metric is in the registry (``ordered_share`` of a group is
``shopper_share`` of its consumers), its entry, so a group's outcome has the words and
units of the same outcome in the Findings."""


def group_metric(column: str) -> Metric:
    """Return how a group-table column is shown (:data:`GROUP_METRICS`; else by the registry)."""
    return GROUP_METRICS.get(column) or metric_info(column)


def _end_values(
    table: pd.DataFrame, metrics: tuple[str, ...], last: int, runs: list[str], quarter: bool
) -> pd.DataFrame:
    """Per run (``runs`` columns; none: the mean of all runs) and group, each metric's value.

    At step ``last``; with ``quarter``, a weekly flow as its mean over the ``QUARTER``
    weeks up to ``last`` (weeks 1 on), as the Findings read flows at the end of a run.
    """
    keys = [*runs, "by", "group"]
    out = table[table["step"] == last].groupby(keys, sort=False)[list(metrics)].mean()
    flows = [m for m in metrics if group_metric(m).flow]
    if quarter and flows:
        inside = (table["step"] > last - QUARTER) & (table["step"] <= last)
        window = table[inside & (table["step"] >= min(1, last))]
        out[flows] = window.groupby(keys, sort=False)[flows].mean().reindex(out.index)
    return out.reset_index()


def who_gains(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    step: int | None = None,
    metrics: tuple[str, ...] = ("payment_share", "ordered_share", "order_value_per_consumer"),
) -> pd.DataFrame:
    """Who gains from a policy: each group's metric in the policy run minus the baseline.

    Both tables are group tables (``groups.csv``), possibly of several replications (a
    ``replication`` column, and ``seed``): runs are paired by replication (common random
    numbers) and the gain is the mean of the paired differences with its 95% t interval,
    as the comparison report's Findings are. When the tables do not both tell their runs
    apart, each is averaged over its runs: one pair, no interval.

    Args:
        base: the baseline scenario's group table.
        policy: the policy scenario's group table.
        step: the step compared for every metric; default: the end of the run as the
            Findings read it, a share at the last step both tables have, a weekly flow
            (orders, order value) as its mean over the last 13 weeks.
        metrics: the metric columns compared.

    Returns:
        One row per (by, group): ``by``, ``group``, ``step`` (the last week compared),
        ``n_pairs``, then per metric ``<metric>_base`` and ``<metric>_policy`` (means over
        runs), ``<metric>_gain`` (mean paired difference, policy - base) and
        ``<metric>_gain_low`` / ``<metric>_gain_high`` (its 95% interval; NaN with fewer
        than two pairs). Groups present in only one table are left out.
    """
    last = int(min(base["step"].max(), policy["step"].max())) if step is None else int(step)
    metrics = tuple(metrics)
    runs = [c for c in ("replication", "seed") if c in base.columns and c in policy.columns]
    keys = ["by", "group"]
    ends = [_end_values(t, metrics, last, runs, step is None) for t in (base, policy)]
    pairs = ends[0].merge(ends[1], on=[*runs, *keys], suffixes=("_base", "_policy"))
    rows = []
    for (by, group), part in pairs.groupby(keys, sort=False):
        row: dict[str, Any] = {"by": by, "group": group, "step": last, "n_pairs": len(part)}
        for metric in metrics:
            gain = t_interval(part[f"{metric}_policy"] - part[f"{metric}_base"])
            row[f"{metric}_base"] = float(part[f"{metric}_base"].mean())
            row[f"{metric}_policy"] = float(part[f"{metric}_policy"].mean())
            row[f"{metric}_gain"] = gain.mean
            row[f"{metric}_gain_low"] = gain.low
            row[f"{metric}_gain_high"] = gain.high
        rows.append(row)
    return pd.DataFrame(rows)


VERDICT_COLORS: dict[str, str] = {
    "good": "#1a7f37",
    "bad": "#b42318",
    "neutral": "#1f4e99",
    "unclear": "#b8b8b8",
}
"""Bar colour of a gain by its verdict (``model.analysis.stats.verdict``): green better, red
worse, blue neither, grey no clear difference (the colours of the report's tables)."""


def gain_words(metric: str, step: int) -> str:
    """When a gain is read, in words: 'at week 60', or for a weekly flow its last 13 weeks."""
    if group_metric(metric).flow:
        return f"on average in weeks {max(1, step - QUARTER + 1)} to {step}"
    return f"at week {step}"


def who_gains_bars(gains: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Tabulate the bars of a who-gains figure: each group's gain, interval and verdict.

    Args:
        gains: the output of :func:`who_gains`.
        metric: the metric whose gain is drawn.

    Returns:
        One row per group (``all`` left out): ``by``, ``group``, ``gain``, ``low``,
        ``high`` (shares in percentage points, as the Findings) and ``verdict`` (good, bad
        or neutral when the interval excludes 0, else unclear).
    """
    from model.analysis.stats import verdict

    info = group_metric(metric)
    rows = gains[gains["by"] != "all"]
    gain, low, high = (
        rows[f"{metric}_{part}"].to_numpy(dtype=float) * info.scale
        for part in ("gain", "gain_low", "gain_high")
    )
    return pd.DataFrame(
        {
            "by": rows["by"].to_numpy(),
            "group": rows["group"].astype(str).to_numpy(),
            "gain": gain,
            "low": low,
            "high": high,
            "verdict": [verdict(info.good, *v) for v in zip(gain, low, high, strict=True)],
        }
    )


def who_gains_figure(gains: pd.DataFrame, metric: str, title: str = "") -> Any:
    """Draw each group's gain with its 95% interval, one panel per grouping, one shared y scale.

    A bar is coloured (green better, red worse, blue neither) only where the interval
    excludes 0; grey otherwise.

    Args:
        gains: the output of :func:`who_gains`.
        metric: the metric whose gain is drawn.
        title: start of the title ("Who gains from X"), followed by the metric and
            when it is read.

    Returns:
        The Matplotlib figure (the caller saves and closes it).
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = group_metric(metric)
    bars = who_gains_bars(gains, metric)
    parts = [by for by in GROUPINGS if by != "all" and (bars["by"] == by).any()] or ["all"]
    fig, axes = plt.subplots(
        1, len(parts), figsize=(3.2 * len(parts), 3.6), sharey=True, squeeze=False
    )
    for ax, by in zip(axes[0], parts, strict=True):
        rows = bars[bars["by"] == by]
        x = np.arange(len(rows))
        gain = rows["gain"].to_numpy()
        ax.bar(x, gain, color=[VERDICT_COLORS[v] for v in rows["verdict"]])
        low, high = rows["low"].to_numpy(), rows["high"].to_numpy()
        known = np.isfinite(low) & np.isfinite(high)
        if known.any():
            ax.errorbar(
                x[known],
                gain[known],
                yerr=[gain[known] - low[known], high[known] - gain[known]],
                fmt="none",
                ecolor="black",
                elinewidth=1,
                capsize=3,
            )
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_xticks(x, rows["group"].tolist())
        ax.set_title(by)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    unit = info.difference_unit
    label = f"Policy minus reference [{unit}]" if unit else "Policy minus reference"
    axes[0, 0].set_ylabel(label, fontsize=9)
    pairs = int(gains["n_pairs"].max()) if len(gains) else 0
    when = gain_words(metric, int(gains["step"].max())) if len(gains) else ""
    head = f"{title or 'Who gains'}: {in_sentence(info.label)}, {when}"
    key = (
        f"bar: mean paired difference over {pairs} replication(s); line: 95% interval; "
        "coloured only where the interval excludes 0 (green better, red worse), grey otherwise"
    )
    fig.suptitle(head + "\n" + "\n".join(textwrap.wrap(key, 40 * len(parts))), fontsize=10)
    fig.tight_layout()
    return fig


def plot_who_gains(gains: pd.DataFrame, metric: str, path: Any, title: str = "") -> Any:
    """Save :func:`who_gains_figure` as a PNG at ``path`` and return the path."""
    import matplotlib.pyplot as plt

    fig = who_gains_figure(gains, metric, title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
