"""Figures of a policy comparison: metrics over time, paired effects, policy timelines.

Every figure gives each scenario the same colour (:func:`scenario_colors`), takes its
panels, titles, axis labels and scales from the metric registry (``model.metrics``:
shares in per cent, bands clipped to a metric's possible range), and is drawn with
Matplotlib's non-interactive Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from model.metrics import metric_info, metrics_tagged  # noqa: E402

REFERENCE_COLOR = "#4d4d4d"
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
)


def scenario_colors(names: Sequence[str]) -> dict[str, str]:
    """One colour per scenario, the same in every figure: dark grey for the reference (first)."""
    colors: dict[str, str] = {}
    for i, name in enumerate(dict.fromkeys(names)):
        colors[name] = REFERENCE_COLOR if i == 0 else _PALETTE[(i - 1) % len(_PALETTE)]
    return colors


def _save(fig: Figure, paths: Sequence[str | Path]) -> list[Path]:
    out = []
    for path in paths:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        out.append(path)
    plt.close(fig)
    return out


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(max_cols, max(1, n))
    return math.ceil(n / cols), cols


def plot_comparison(
    bands: pd.DataFrame,
    paths: Sequence[str | Path],
    metrics: Sequence[str] | None = None,
    scenarios: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    confidence: float = 0.95,
) -> list[Path]:
    """Key metrics over time: one panel per metric, one line per scenario with its band.

    Args:
        bands: output of ``stats.timeseries_bands`` (scenario, step, metric, n, mean, ci).
        paths: files to write (the format follows the suffix: .png, .svg, ...).
        metrics: panels in order (default: the metrics tagged ``over_time`` present).
        scenarios: scenario order (default: order of appearance).
        colors: scenario colours (default: :func:`scenario_colors`).
        confidence: coverage of the bands, for the caption.

    Returns:
        The written paths.
    """
    present = list(dict.fromkeys(bands["metric"]))
    metrics = [m for m in (metrics or metrics_tagged("over_time")) if m in present] or present[:9]
    scenarios = list(scenarios or dict.fromkeys(bands["scenario"]))
    colors = dict(colors or scenario_colors(scenarios))
    rows, cols = _grid(len(metrics))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        disp = metric_info(metric)
        part = bands[bands["metric"] == metric]
        for name in scenarios:
            line = part[part["scenario"] == name].sort_values("step")
            if line.empty:
                continue
            x = line["step"].to_numpy()
            y = line["mean"].to_numpy(dtype=float) * disp.scale
            ax.plot(x, y, color=colors[name], lw=1.8, label=name)
            low = line["ci_low"].to_numpy(dtype=float) * disp.scale
            high = line["ci_high"].to_numpy(dtype=float) * disp.scale
            ok = np.isfinite(low) & np.isfinite(high)
            # the band is an interval for the mean, which cannot leave the metric's range
            low, high = np.clip(low, *disp.bounds), np.clip(high, *disp.bounds)
            if ok.any():
                ax.fill_between(x[ok], low[ok], high[ok], color=colors[name], alpha=0.18, lw=0)
        ax.set_title(disp.label, fontsize=11)
        ax.set_xlabel("Week")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(disp.unit or disp.label)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=colors[n], lw=2.5) for n in scenarios]
    legend_rows = math.ceil(len(scenarios) / 5)
    top = 1.0 - (0.055 + 0.03 * legend_rows) * 3.3 / (3.3 * rows)
    fig.suptitle(
        f"Scenarios compared over time (line: mean of replications; "
        f"shaded: {confidence:.0%} confidence band)",
        fontsize=12,
        y=0.995,
    )
    fig.legend(
        handles,
        scenarios,
        loc="upper center",
        ncol=min(len(scenarios), 5),
        frameon=False,
        bbox_to_anchor=(0.5, 1.0 - 0.045 / rows),
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return _save(fig, paths)


def plot_effects(
    summary: pd.DataFrame,
    paths: Sequence[str | Path],
    metrics: Sequence[str] | None = None,
    measure: str | None = None,
    scenarios: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    week: int | None = None,
) -> list[Path]:
    """Forest plot: paired effect of each scenario against the first, with its interval.

    Args:
        summary: output of ``stats.summarize``.
        paths: files to write.
        metrics: outcomes, one panel each (default: the metrics tagged ``effects`` present).
        measure: ``final``, ``last_quarter`` or ``run_mean`` for every panel; None: each
            metric's headline measure (final value; last-quarter mean for weekly flows).
        scenarios: scenario order, the first being the reference (default: summary order).
        colors: scenario colours.
        week: last week, for the title.

    Returns:
        The written paths.
    """
    present = list(dict.fromkeys(summary["metric"]))
    metrics = [m for m in (metrics or metrics_tagged("effects")) if m in present] or [
        m for m in present if m != "policy_cost"
    ][:9]
    scenarios = list(scenarios or dict.fromkeys(summary["scenario"]))
    colors = dict(colors or scenario_colors(scenarios))
    reference, others = scenarios[0], scenarios[1:]
    rows, cols = _grid(len(metrics), max_cols=3)
    height = max(1.9, 0.42 * len(others) + 1.3)
    label_width = 0.075 * max((len(n) for n in others), default=8)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.3 * cols + label_width, height * rows), squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        disp = metric_info(metric)
        chosen = measure or disp.headline_measure
        part = summary[summary["measure"] == chosen]
        sub = part[part["metric"] == metric].set_index("scenario")
        for i, name in enumerate(others):
            y = len(others) - 1 - i
            if name not in sub.index:
                continue
            row = sub.loc[name]
            diff = float(row["diff"]) * disp.scale
            low = float(row["diff_ci_low"]) * disp.scale
            high = float(row["diff_ci_high"]) * disp.scale
            if not np.isfinite(diff):
                continue
            if np.isfinite(low) and np.isfinite(high):
                ax.plot([low, high], [y, y], color=colors[name], lw=2.2, solid_capstyle="butt")
                ax.plot([low, high], [y, y], "|", color=colors[name], ms=9)
            ax.plot([diff], [y], "o", color=colors[name], ms=7)
        ax.axvline(0.0, color=REFERENCE_COLOR, lw=1, ls="--")
        ax.set_yticks(range(len(others)))
        first_column = list(axes.flat).index(ax) % cols == 0
        ax.set_yticklabels(list(reversed(others)) if first_column else [])
        ax.set_ylim(-0.7, len(others) - 0.3)
        ax.set_title(f"{disp.label}\n({_measure_words(chosen, week)})", fontsize=10)
        unit = disp.difference_unit
        ax.set_xlabel(f"Difference from {reference}" + (f" ({unit})" if unit else ""))
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Effect of each scenario compared with {reference} "
        "(dot: mean paired difference; bar: 95% interval; dashed line: no difference)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return _save(fig, paths)


def _measure_words(measure: str, week: int | None) -> str:
    if measure == "run_mean":
        return "average over the run"
    if measure == "last_quarter":
        if week:
            return f"average of weeks {max(1, week - 12)} to {week}"
        return "average of the last 13 weeks"
    return f"at week {week}" if week else "at the last week"


def plot_policy_timelines(
    policies: Mapping[str, Sequence[Mapping[str, Any]]],
    steps: int,
    paths: Sequence[str | Path],
    colors: Mapping[str, str] | None = None,
) -> list[Path]:
    """Draw the policy timelines side by side: one lane per intervention, grouped by scenario.

    The height of a bar follows the intervention's share of full strength (its ramp).

    Args:
        policies: scenario name -> its interventions as plain dicts (lever, start, end,
            ramp, strength, label), in the order of the comparison.
        steps: weeks simulated (the right edge; open-ended interventions run to it).
        paths: files to write.
        colors: scenario colours.

    Returns:
        The written paths.
    """
    names = list(policies)
    colors = dict(colors or scenario_colors(names))
    lanes: list[tuple[str, Mapping[str, Any] | None]] = []
    for name in names:
        items = list(policies[name])
        lanes.extend([(name, iv) for iv in items] or [(name, None)])
    fig, ax = plt.subplots(figsize=(9.5, 0.42 * len(lanes) + 1.4))
    labels = []
    for row, (name, iv) in enumerate(lanes):
        y = len(lanes) - 1 - row
        if iv is None:
            labels.append(f"{name}: no policy")
            continue
        start = int(iv.get("start", 1))
        end = int(iv["end"]) if iv.get("end") is not None else steps + 1
        end = min(end, steps + 1)
        ramp = int(iv.get("ramp", 0) or 0)
        if start <= steps:
            t = np.arange(start, end + 1)
            frac = (
                np.ones_like(t, dtype=float)
                if ramp <= 1
                else np.minimum(1.0, (t - start + 1) / ramp)
            )
            frac[-1] = frac[-2] if len(frac) > 1 else frac[-1]
            ax.fill_between(
                t, y - 0.38 * frac, y + 0.38 * frac, step="post", color=colors[name], alpha=0.75
            )
        text = iv.get("label") or iv.get("lever")
        labels.append(f"{name}: {text}")
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=9)
    for tick, (name, _iv) in zip(reversed(ax.get_yticklabels()), lanes, strict=False):
        tick.set_color(colors[name])
    ax.set_xlim(0, steps + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_xlabel("Week")
    ax.set_title("Policy timelines (bar height: share of full strength)", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, paths)
