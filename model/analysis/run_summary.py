"""The ``summary.png`` of ``mtsim run``: main metrics over time, mean and range of replications.

Every panel takes its words, units and scale from the metric registry (``model.metrics``):
shares in per cent, trust and credibility as indices from 0 to 100, money in yuan
per week. Weekly flows (orders, spending, incidents) start at week 1: week 0 is the
starting state, in which nothing has happened yet. A panel whose values are 0 in every week
(the policy spending of a scenario without paid policies) says so instead of drawing a
flat line on a meaningless axis. :func:`summary_panels` computes what is drawn;
:func:`plot_run_summary` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from model.metrics import metric_info, metric_label, metric_unit  # noqa: E402

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

CUMULATED = ("merchant_exits", "merchant_entries")
"""Weekly counts drawn as running totals (so a trickle of exits is visible)."""

EMPTY_NOTES = {"Policy spending per week": "no policy spending in this run"}
"""What a panel says when its values are 0 in every week (default: :data:`EMPTY_NOTE`)."""

EMPTY_NOTE = "0 in every week of this run"


@dataclass(frozen=True)
class Line:
    """One metric's line in a panel, in shown units.

    Attributes:
        column: the run-table column.
        label: its legend entry.
        weeks: the weeks drawn (from 1 for weekly flows, from 0 otherwise).
        mean: the mean over replications in each week.
        low: the smallest replication's value in each week.
        high: the largest.
    """

    column: str
    label: str
    weeks: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class Panel:
    """One panel of the summary figure.

    Attributes:
        title: the panel's title.
        unit: the y axis label: the unit its metrics share.
        lines: the lines drawn; none when every value is 0 (see ``note``).
        note: what the panel says instead of lines ('' when it has lines).
        limits: y limits of a panel in per cent or index points (0 to 100), else None.
    """

    title: str
    unit: str
    lines: tuple[Line, ...]
    note: str = ""
    limits: tuple[float, float] | None = None


def _line(table: pd.DataFrame, column: str, mixed_units: bool) -> Line:
    info = metric_info(column)
    rows = table[table["step"] >= 1] if info.flow and table["step"].max() >= 1 else table
    values = rows[column].astype(float) * info.scale
    label = metric_label(column)
    if column in CUMULATED:
        runs = rows["replication"] if "replication" in rows else pd.Series(0, index=rows.index)
        values = values.groupby(runs).cumsum()
        label += " (so far)"
    if mixed_units:
        label += f" [{_unit(column)}]"
    by_week = values.groupby(rows["step"])
    return Line(
        column,
        label,
        by_week.mean().index.to_numpy(),
        by_week.mean().to_numpy(),
        by_week.min().to_numpy(),
        by_week.max().to_numpy(),
    )


def _unit(column: str) -> str:
    """Return the unit a column is drawn in (a running total: the count's own unit)."""
    return metric_unit(column, total=column in CUMULATED)


def summary_panels(table: pd.DataFrame) -> list[Panel]:
    """Compute the panels of the summary figure from a run table (one or more replications).

    Args:
        table: run table with ``step`` and metric columns (and ``replication`` if several).

    Returns:
        One :class:`Panel` per entry of :data:`PANELS`, with the columns the table has.
    """
    panels = []
    for title, wanted in PANELS:
        columns = [c for c in wanted if c in table]
        units = list(dict.fromkeys(_unit(c) for c in columns))
        percent = bool(columns) and all(metric_info(c).scale == 100.0 for c in columns)
        if len(units) == 1:
            unit = units[0]
        elif percent and all(metric_info(c).percent for c in columns):
            unit = "%"
        else:
            unit = ", ".join(units)
        lines = [_line(table, c, len(units) > 1) for c in columns]
        values = np.concatenate([line.mean for line in lines]) if lines else np.array([])
        finite = values[np.isfinite(values)]
        if lines and not finite.any():
            note = EMPTY_NOTES.get(title, EMPTY_NOTE) if finite.size else "no values"
            panels.append(Panel(title, unit, (), note))
            continue
        panels.append(Panel(title, unit, tuple(lines), "", (-2.0, 102.0) if percent else None))
    return panels


def summary_figure(table: pd.DataFrame, title: str) -> Figure:
    """Draw :func:`summary_panels` of a run table, three by three, and return the figure."""
    fig, axes = plt.subplots(3, 3, figsize=(15, 11), constrained_layout=True)
    reps = table["replication"].nunique() if "replication" in table else 1
    first, last = int(table["step"].min()), max(int(table["step"].max()), 1)
    for ax, panel in zip(axes.flat, summary_panels(table), strict=True):
        for line in panel.lines:
            drawn = ax.plot(line.weeks, line.mean, label=line.label)[0]
            if reps > 1:
                ax.fill_between(
                    line.weeks,
                    line.low,
                    line.high,
                    color=drawn.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
        ax.set_title(panel.title)
        ax.set_xlabel("week")
        ax.set_xlim(first, last)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(panel.unit)
        ax.grid(alpha=0.3)
        if panel.note:
            ax.text(
                0.5, 0.5, panel.note, transform=ax.transAxes, ha="center", va="center", color="#555"
            )
            ax.set_yticks([])
        if panel.lines:
            ax.legend(fontsize=8, loc="best")
        if panel.limits is not None:
            ax.set_ylim(*panel.limits)
    band = f" (mean of {reps} replications, band: min to max)" if reps > 1 else ""
    fig.suptitle(f"{title}{band}")
    return fig


def plot_run_summary(table: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Draw the main metrics of a run table (one or more replications) and save a PNG.

    Args:
        table: run table with ``step`` and metric columns (and ``replication`` if several).
        path: where to write the PNG.
        title: figure title (the scenario name).

    Returns:
        The path written.
    """
    fig = summary_figure(table, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
