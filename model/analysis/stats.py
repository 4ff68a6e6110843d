"""Statistics across replications: means, 95% intervals, paired differences, cost-effectiveness.

Input is a *run table collection*: one row per (scenario, replication, step) with
the columns ``scenario``, ``replication``, ``seed``, ``step`` and one column per
metric (the run table's columns, declared in ``model.metrics.REGISTRY``), plus
``policy_cost`` (spending in that step).

Definitions (the report and docs/policies.md use the same words):

- **final value**: a metric at the last step of a run.
- **last quarter**: a metric's mean over the last 13 simulated steps (weeks) of a
  run, T-12..T (all simulated steps when the run is shorter). Weekly flows
  (orders, GMV, the cross-border share of the week's orders) jump from week to
  week; their level at the end of a run is read from this window.
- **run mean**: a metric's mean over the simulated steps 1..T of a run (step 0,
  the common starting state, is left out; a table holding only step 0 uses it).
- **mean and 95% interval**: across replications, the sample mean and the
  Student t interval ``mean +/- t(0.975, n-1) * sd / sqrt(n)`` (sd with n-1).
  One replication gives a mean and no interval (NaN bounds).
- **paired difference**: replication i of every scenario uses the same seed
  (common random numbers), so the difference from the first (reference)
  scenario is taken run by run, ``x_i - ref_i`` over replications present in
  both with the same seed, and gets its own t interval. Two identical scenarios
  give exactly 0 with a 0-width interval.
- **total cost**: the sum of ``policy_cost`` over a run's rows.
- **effect per unit cost**: when a scenario costs more than the reference in
  every paired replication, ``(x_i - ref_i) / (cost_i - ref_cost_i)`` per pair,
  with its t interval; otherwise NaN (no extra spending to divide by).
- **cumulative**: a metric summed over the simulated steps 1..T of a run (the
  total orders, sales value or incidents of the run; for a share, share-weeks,
  i.e. T times the run mean).
- **window** ``weeks_A_B``: a metric's mean over steps A..B (both included) of a
  run, e.g. the weeks a policy acts (:func:`window_measure`). Windows are clipped
  to the simulated steps; a window outside them gives NaN.
- **time to threshold** ``weeks_to_L``: the first step at which a metric reaches
  level L (at or above L; at or below L for a metric where less is better,
  ``model.metrics.good_direction``); NaN when the run never reaches it, so ``n``
  says in how many runs it was reached, and paired differences use the pairs in
  which both runs reached it (:func:`threshold_measure`).

NaN metric values (e.g. ``kol_credibility`` without KOLs) are left out of each
statistic; ``n`` says how many values were used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

KEY_COLUMNS: tuple[str, ...] = ("scenario", "replication", "seed", "step")
"""Identifying columns of a run table collection."""

COST_COLUMN = "policy_cost"
"""Per-step policy spending column of a run table."""

MEASURES: tuple[str, ...] = ("final", "last_quarter", "run_mean", "cumulative")
"""The per-run summaries of each metric (windows and thresholds come on request)."""

QUARTER = 13
"""Weeks in the ``last_quarter`` window."""

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its Student t confidence interval.

    Attributes:
        mean: the sample mean (NaN when there are no values).
        low: lower bound (NaN with fewer than 2 values).
        high: upper bound (NaN with fewer than 2 values).
        n: number of (finite) values used.
        sd: sample standard deviation (ddof 1; NaN with fewer than 2 values).
    """

    mean: float
    low: float
    high: float
    n: int
    sd: float

    def excludes_zero(self) -> bool:
        """Tell whether the whole interval lies on one side of 0 (a clear direction)."""
        return bool(np.isfinite(self.low) and np.isfinite(self.high)) and (
            self.low > 0 or self.high < 0
        )


def t_critical(n: int | np.ndarray, confidence: float = CONFIDENCE) -> float | np.ndarray:
    """Two-sided Student t critical value for ``n`` values (NaN for n < 2)."""
    n_arr = np.asarray(n, dtype=float)
    df = np.where(n_arr >= 2, n_arr - 1, np.nan)
    with np.errstate(invalid="ignore"):
        out = sps.t.ppf(0.5 + confidence / 2.0, df)
    return float(out) if np.ndim(out) == 0 else out


def t_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> Interval:
    """Mean and Student t confidence interval of the finite values.

    Args:
        values: the sample (NaN and infinite values are left out).
        confidence: coverage of the interval (0.95 for a 95% interval).

    Returns:
        The Interval; bounds are NaN with fewer than 2 values.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    x = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, math.nan)
    sd = float(x.std(ddof=1))
    half = float(t_critical(n, confidence)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, sd)


def paired_difference(
    values: Sequence[float], reference: Sequence[float], confidence: float = CONFIDENCE
) -> Interval:
    """Return the mean paired difference ``values - reference`` and its t interval.

    Pairs with a NaN on either side are left out.
    """
    a = np.asarray(values, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length ({a.size} and {b.size})")
    return t_interval(a - b, confidence)


def scenario_order(table: pd.DataFrame) -> list[str]:
    """Scenario names in order of first appearance (the first is the reference)."""
    return list(dict.fromkeys(table["scenario"].astype(str)))


def metric_columns(table: pd.DataFrame) -> list[str]:
    """List the numeric metric columns of a run table collection (keys, policy_cost left out)."""
    skip = set(KEY_COLUMNS) | {COST_COLUMN}
    return [c for c in table.columns if c not in skip and pd.api.types.is_numeric_dtype(table[c])]


def window_measure(first: int, last: int) -> str:
    """Name of the measure 'mean over steps first..last' (both included): ``weeks_A_B``."""
    return f"weeks_{int(first)}_{int(last)}"


def parse_window(measure: str) -> tuple[int, int] | None:
    """(first, last) step of a window measure, or None when ``measure`` is not one."""
    parts = measure.split("_")
    if len(parts) == 3 and parts[0] == "weeks" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def threshold_measure(level: float) -> str:
    """Name of the measure 'first step at which the metric reaches level': ``weeks_to_L``."""
    return f"weeks_to_{float(level):g}"


def parse_threshold(measure: str) -> float | None:
    """Return the level of a time-to-threshold measure, or None when it is not one."""
    if not measure.startswith("weeks_to_"):
        return None
    try:
        return float(measure[len("weeks_to_") :])
    except ValueError:
        return None


def measure_direction(metric: str, measure: str) -> int:
    """Whether a rise of ``metric`` read as ``measure`` is desirable: +1, -1 or 0.

    The metric's own good direction (``model.metrics.good_direction``, the one place it is
    declared), except for time-to-threshold measures: reaching a target sooner is better (-1).
    """
    from model.metrics import good_direction

    if parse_threshold(measure) is not None:
        return -1
    return good_direction(metric)


def judgement(direction: int, diff: float) -> str:
    """'good', 'bad' or 'neutral': whether a change of sign ``diff`` is desirable.

    ``direction``: +1 when more is better, -1 when less is better, 0 when neither
    (:func:`measure_direction`).
    """
    if direction == 0 or not np.isfinite(diff) or diff == 0:
        return "neutral"
    return "good" if direction * diff > 0 else "bad"


def verdict(direction: int, diff: float, low: float, high: float) -> str:
    """Read a paired difference and its interval: good, bad, neutral or unclear.

    A change is judged (:func:`judgement`) only when its interval excludes 0; an interval
    containing 0, or none (fewer than two pairs), is 'unclear'. The report's tables and the
    who-gains figure colour by it.
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
        return "unclear"
    return judgement(direction, diff)


MIN_COUNT_PER_WEEK = 10.0
"""A weekly count (orders, incidents) gets a change in per cent only from this many a week."""

MAX_RELATIVE_WIDTH = 1.0
"""A change in per cent is given only when its 95% interval is at most this wide (1.0: 100
percentage points)."""


def relative_change(
    diff: float, low: float, high: float, reference_mean: float, *, count: bool
) -> float:
    """Return a paired difference as a fraction of the reference's mean (NaN if misleading).

    The rule (the comparison report's note and docs/policies.md state it): the reference's
    mean over the same weeks must be above 0, and for a count (``count``: orders,
    incidents) at least :data:`MIN_COUNT_PER_WEEK` a week; and the interval of the
    relative change, the paired difference's interval divided by that mean, must be finite
    and at most :data:`MAX_RELATIVE_WIDTH` wide. So "+842%" on a baseline under one order
    a week is not shown.
    """
    if not (np.isfinite(reference_mean) and reference_mean > 0):
        return math.nan
    if count and reference_mean < MIN_COUNT_PER_WEEK:
        return math.nan
    width = (high - low) / reference_mean
    if not (np.isfinite(diff) and np.isfinite(width)) or width > MAX_RELATIVE_WIDTH:
        return math.nan
    return diff / reference_mean


def _check_columns(table: pd.DataFrame) -> None:
    missing = [c for c in KEY_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"run table lacks column(s) {', '.join(missing)}")


def measures_per_run(
    table: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    windows: Iterable[tuple[int, int]] = (),
    thresholds: Mapping[str, Iterable[float]] | None = None,
) -> pd.DataFrame:
    """Summarise each run: final value, last-quarter mean, run mean, cumulative sum.

    Also the means over given windows, the times to thresholds and the total cost.

    Args:
        table: run table collection (see the module docstring).
        metrics: metrics to summarise (default: every metric column).
        windows: (first, last) steps, both included: each gives a measure ``weeks_A_B``.
        thresholds: metric -> levels: each gives a measure ``weeks_to_L`` of that metric.

    Returns:
        Long table with columns scenario, replication, seed, metric, measure, value;
        ``measure`` is ``final``, ``last_quarter``, ``run_mean``, ``cumulative``,
        ``weeks_A_B`` or ``weeks_to_L`` for metrics, and the row with metric
        ``policy_cost`` and measure ``total`` holds the run's total spending (0 when
        the table has no cost column).
    """
    _check_columns(table)
    metrics = list(metrics) if metrics is not None else metric_columns(table)
    unknown = [m for m in metrics if m not in table.columns]
    if unknown:
        raise ValueError(f"run table has no metric column(s) {', '.join(unknown)}")
    keys = ["scenario", "replication", "seed"]
    # a stable sort on step keeps the scenarios in their order of appearance
    ordered = table.sort_values("step", kind="stable")
    groups = ordered.groupby(keys, sort=False)
    # the value in each run's last row, NaN or not (GroupBy.last would skip NaN)
    final = groups.tail(1).set_index(keys)[metrics]
    only_initial = groups["step"].transform("max") < 1
    simulated = ordered[(ordered["step"] >= 1) | only_initial]
    run_mean = simulated.groupby(keys, sort=False)[metrics].mean()
    last_step = simulated.groupby(keys, sort=False)["step"].transform("max")
    window = simulated[simulated["step"] > last_step - QUARTER]
    last_quarter = window.groupby(keys, sort=False)[metrics].mean()
    cumulative = simulated.groupby(keys, sort=False)[metrics].sum(min_count=1)
    extra: list[tuple[str, pd.DataFrame]] = [("cumulative", cumulative)]
    for first, last in dict.fromkeys((int(a), int(b)) for a, b in windows):
        inside = simulated[(simulated["step"] >= first) & (simulated["step"] <= last)]
        means = inside.groupby(keys, sort=False)[metrics].mean().reindex(final.index)
        extra.append((window_measure(first, last), means))
    for metric, levels in (thresholds or {}).items():
        if metric not in ordered.columns:
            raise ValueError(f"run table has no metric column {metric}")
        lower = measure_direction(metric, "final") < 0
        for level in dict.fromkeys(float(v) for v in levels):
            values = ordered[metric].to_numpy(dtype=float)
            reached = values <= level if lower else values >= level
            hit = ordered.loc[reached].groupby(keys, sort=False)["step"].min()
            frame = hit.reindex(final.index).astype(float).to_frame(metric)
            extra.append((threshold_measure(level), frame))
    if COST_COLUMN in ordered.columns:
        cost = groups[COST_COLUMN].sum(min_count=1).fillna(0.0)
    else:
        cost = groups["step"].size().astype(float) * 0.0
    parts = []
    for measure, frame in (
        ("final", final),
        ("last_quarter", last_quarter),
        ("run_mean", run_mean),
        *extra,
    ):
        long = frame.reset_index().melt(id_vars=keys, var_name="metric", value_name="value")
        long["measure"] = measure
        parts.append(long)
    cost_long = cost.rename("value").reset_index()
    cost_long["metric"] = COST_COLUMN
    cost_long["measure"] = "total"
    parts.append(cost_long)
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    return out[["scenario", "replication", "seed", "metric", "measure", "value"]]


def _grouped_interval(values: pd.Series, confidence: float) -> pd.DataFrame:
    """Mean and t interval of ``values`` per (metric, measure) index group, NaN left out."""
    finite = values.where(np.isfinite(values.to_numpy(dtype=float)))
    grouped = finite.groupby(level=["metric", "measure"], sort=False)
    out = pd.DataFrame({"n": grouped.count(), "mean": grouped.mean(), "sd": grouped.std(ddof=1)})
    crit = t_critical(out["n"].to_numpy(), confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = crit * out["sd"].to_numpy() / np.sqrt(out["n"].to_numpy())
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out


def summarize(
    outcomes: pd.DataFrame,
    scenarios: Sequence[str] | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Build the outcome table: per scenario, metric and measure, mean, CI and paired difference.

    Args:
        outcomes: per-run summaries from :func:`measures_per_run`.
        scenarios: scenario order; the first is the reference (default: order of appearance).
        confidence: interval coverage.

    Returns:
        One row per (scenario, metric, measure) with columns scenario, metric, measure,
        n, mean, ci_low, ci_high, reference, n_pairs, diff, diff_ci_low, diff_ci_high,
        total_cost, extra_cost, effect_per_unit_cost, effect_per_unit_cost_ci_low,
        effect_per_unit_cost_ci_high. The reference scenario's diff columns are NaN.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    order = list(scenarios) if scenarios is not None else scenario_order(outcomes)
    if not order:
        raise ValueError("no scenarios to summarise")
    reference = order[0]
    index = ["metric", "measure", "replication", "seed"]
    # one column per scenario; rows (metric, measure, replication, seed): runs pair by seed
    wide = outcomes.set_index([*index, "scenario"])["value"].astype(float).unstack("scenario")
    pairs_order = list(dict.fromkeys(zip(outcomes["metric"], outcomes["measure"], strict=True)))
    is_cost = (wide.index.get_level_values("metric") == COST_COLUMN) & (
        wide.index.get_level_values("measure") == "total"
    )
    costs = wide[is_cost].droplevel(["metric", "measure"])
    nan = math.nan
    frames = []
    for name in order:
        if name not in wide.columns:
            continue
        own = _grouped_interval(wide[name], confidence)
        own_cost = costs[name].dropna() if name in costs.columns else pd.Series(dtype=float)
        frame = pd.DataFrame(
            {
                "scenario": name,
                "n": own["n"].astype(int),
                "mean": own["mean"],
                "ci_low": own["low"],
                "ci_high": own["high"],
                "reference": reference,
                "n_pairs": 0,
                "diff": nan,
                "diff_ci_low": nan,
                "diff_ci_high": nan,
                "total_cost": float(own_cost.mean()) if len(own_cost) else nan,
                "extra_cost": nan,
                "effect_per_unit_cost": nan,
                "effect_per_unit_cost_ci_low": nan,
                "effect_per_unit_cost_ci_high": nan,
            },
            index=own.index,
        )
        if name != reference and reference in wide.columns:
            diff = wide[name] - wide[reference]  # NaN where either run is missing or NaN
            paired = _grouped_interval(diff, confidence)
            frame["n_pairs"] = paired["n"].astype(int)
            frame["diff"] = paired["mean"]
            frame["diff_ci_low"] = paired["low"]
            frame["diff_ci_high"] = paired["high"]
            extra = (costs[name] - costs[reference]).dropna() if len(costs) else costs
            if len(extra):
                frame["extra_cost"] = float(extra.mean())
            if len(extra) and bool((extra > 0).all()):
                per_pair_extra = extra.reindex(diff.droplevel(["metric", "measure"]).index)
                per_cost = pd.Series(diff.to_numpy() / per_pair_extra.to_numpy(), index=diff.index)
                per_cost = per_cost[diff.index.get_level_values("metric") != COST_COLUMN]
                effect = _grouped_interval(per_cost, confidence).reindex(frame.index)
                frame["effect_per_unit_cost"] = effect["mean"]
                frame["effect_per_unit_cost_ci_low"] = effect["low"]
                frame["effect_per_unit_cost_ci_high"] = effect["high"]
        frames.append(frame.reindex(pd.MultiIndex.from_tuples(pairs_order)))
    columns = [
        "scenario",
        "metric",
        "measure",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "reference",
        "n_pairs",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "total_cost",
        "extra_cost",
        "effect_per_unit_cost",
        "effect_per_unit_cost_ci_low",
        "effect_per_unit_cost_ci_high",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames)
    out.index = out.index.set_names(["metric", "measure"])
    out = out.reset_index()
    out["n"] = out["n"].astype(int)
    out["n_pairs"] = out["n_pairs"].astype(int)
    return out[columns]


def timeseries_bands(
    table: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Mean and t interval of each metric at each step, per scenario (the bands of the figures).

    Returns:
        Long table with columns scenario, step, metric, n, mean, ci_low, ci_high.
    """
    _check_columns(table)
    metrics = list(metrics) if metrics is not None else metric_columns(table)
    long = table.melt(id_vars=["scenario", "step"], value_vars=metrics, var_name="metric")
    grouped = long.groupby(["scenario", "metric", "step"], sort=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    crit = t_critical(out["n"].to_numpy())
    with np.errstate(invalid="ignore"):
        half = crit * out["sd"].to_numpy() / np.sqrt(out["n"].to_numpy())
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    out["n"] = out["n"].astype(int)
    return out[["scenario", "step", "metric", "n", "mean", "ci_low", "ci_high"]]
