"""The ``summary.png`` of ``mtsim run``: the main metrics over time, mean and range over replications."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from model.metrics import METRIC_INFO  # noqa: E402

PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Adoption", ("aware_share", "payment_adoption", "shopper_share", "merchant_adoption")),
    ("Trust", ("mean_trust_domestic", "mean_trust_foreign", "kol_credibility")),
    ("Orders per week", ("orders", "cross_border_orders")),
    ("Cross-border share of orders", ("cross_border_share",)),
    ("Value of orders per week", ("gmv",)),
    ("Incidents per week", ("counterfeit_incidents", "fraud_incidents")),
)


def plot_run_summary(table: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Draw the main metrics of a run table (one or more replications) and save a PNG.

    Args:
        table: run table with ``step`` and metric columns (and ``replication`` if several).
        path: where to write the PNG.
        title: figure title (the scenario name).

    Returns:
        The path written.
    """
    grouped = table.groupby("step")
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), constrained_layout=True)
    reps = table["replication"].nunique() if "replication" in table else 1
    for ax, (panel, columns) in zip(axes.flat, PANELS, strict=True):
        for column in columns:
            if column not in table:
                continue
            mean = grouped[column].mean()
            line = ax.plot(mean.index, mean.values, label=METRIC_INFO[column]["label"])[0]
            if reps > 1:
                ax.fill_between(
                    mean.index,
                    grouped[column].min().values,
                    grouped[column].max().values,
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
        ax.set_title(panel)
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        if panel in ("Adoption", "Trust", "Cross-border share of orders"):
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
