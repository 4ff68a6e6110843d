"""The ``summary.png`` of ``mtsim run``: main metrics over time, mean and range of replications."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from model.metrics import metric_label  # noqa: E402

PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Adoption",
        (
            "aware_share",
            "payment_adoption",
            "shopper_share",
            "lapsed_shopper_share",
            "merchant_adoption",
        ),
    ),
    ("Trust", ("mean_trust_domestic", "mean_trust_foreign", "kol_credibility")),
    ("Orders per week", ("orders", "cross_border_orders")),
    ("Shares", ("mobile_share_of_consumption", "cross_border_share")),
    ("Consumer spending per week", ("consumer_spending", "mobile_spending", "offline_spending")),
    (
        "Cross-border trade per week",
        ("cross_border_value", "cross_border_created_value", "cross_border_diverted_value"),
    ),
    ("Merchants", ("active_merchants", "merchant_exits", "merchant_entries")),
    ("Incidents per week", ("counterfeit_incidents", "fraud_incidents")),
    ("Policy spending per week", ("policy_cost",)),
)
"""The summary figure's panels (title, run-table columns), three by three."""

SHARE_PANELS = ("Adoption", "Trust", "Shares")

CUMULATED = ("merchant_exits", "merchant_entries")
"""Weekly counts drawn as running totals (so a trickle of exits is visible)."""


def plot_run_summary(table: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Draw the main metrics of a run table (one or more replications) and save a PNG.

    Args:
        table: run table with ``step`` and metric columns (and ``replication`` if several).
        path: where to write the PNG.
        title: figure title (the scenario name).

    Returns:
        The path written.
    """
    fig, axes = plt.subplots(3, 3, figsize=(15, 11), constrained_layout=True)
    reps = table["replication"].nunique() if "replication" in table else 1
    for ax, (panel, columns) in zip(axes.flat, PANELS, strict=True):
        for column in columns:
            if column not in table:
                continue
            label = metric_label(column)
            values = table[column]
            if column in CUMULATED:
                keys = table["replication"] if "replication" in table else None
                values = values.groupby(keys).cumsum() if keys is not None else values.cumsum()
                label += " (so far)"
            by_step = values.groupby(table["step"])
            mean = by_step.mean()
            line = ax.plot(mean.index, mean.values, label=label)[0]
            if reps > 1:
                ax.fill_between(
                    mean.index,
                    by_step.min().values,
                    by_step.max().values,
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
        ax.set_title(panel)
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
        if panel in SHARE_PANELS:
            ax.set_ylim(-0.02, 1.02)
    band = f" (mean of {reps} replications, band: min to max)" if reps > 1 else ""
    fig.suptitle(f"{title}{band}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
