"""The HTML report of a policy comparison: one self-contained file a policymaker can read.

Sections: what was compared (scenarios, replications, weeks, seeds, settings
that differ from the reference), the policy timelines side by side (a table and
a figure), the findings in plain sentences, the figures, the outcome table, the
cost table, and any failed runs. Figures are embedded as base64 PNG, so the file
can be mailed or archived on its own.

A sentence claims a direction ("raises", "lowers") only when the 95% interval of
the paired difference excludes 0; otherwise it says there is no clear difference.
Whether a clear change is desirable comes from the metric registry
(``model.metrics``, the one place each metric declares it): the sentence says "an improvement" or
"a worsening", and the tables colour the difference green (better), red (worse)
or blue (neither better nor worse, e.g. the cross-border share), whatever its sign.

Each scenario's paragraph opens with its effect while its policies act (the weeks
from its first intervention's start to its last one's end), so a programme that
ends early is judged when it runs; then its effect at the end of the run, its
cumulated effect on weekly flows over the whole run (a total in the flow's own unit:
orders, currency units), and the weeks it takes to reach any threshold (``--threshold``).

The page is rendered from Jinja2 templates (model/templates/report.html and its tables,
report_tables.html) by ``model.analysis.html``; the functions here compute the sentences
and the formatted numbers of each table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.html import render_page
from model.analysis.plots import scenario_colors
from model.analysis.stats import (
    QUARTER,
    measure_direction,
    parse_threshold,
    parse_window,
    threshold_measure,
    window_measure,
)
from model.atomic_files import write_bytes_atomic
from model.metrics import (
    Metric,
    decimals_for,
    format_number,
    in_sentence,
    metric_info,
    metrics_tagged,
)

COST_UNIT = "currency units"
PER_COST = 1000.0
"""Effects per unit cost are reported per this many currency units."""


@dataclass
class ComparisonInfo:
    """What was compared, for the report's first section.

    Attributes:
        scenarios: scenario names in order; the first is the reference.
        resolved: name -> resolved scenario (``Scenario.resolved()``).
        sources: name -> the file it came from.
        steps: weeks simulated.
        replications: replications per scenario.
        seeds: the seed of each replication (the same for every scenario).
        failures: failed runs, each a mapping with scenario, replication, seed, error.
        command: the command line that produced the results ('' if unknown).
        started: ISO start time.
        finished: ISO end time.
        windows: name -> (first, last) week its policies act (from the first start to the
            last end); scenarios without policies are absent.
        intervention_windows: name -> (label, first, last) per intervention.
        thresholds: metric -> levels of the time-to-threshold outcomes.
        decomposition: lever decomposition table (``model.analysis.decomposition.decompose``)
            or None.
        who_gains: per scenario (not the reference), the groups' gains at the last week
            (``model.analysis.group_effects.who_gains``), or None.
    """

    scenarios: list[str]
    resolved: Mapping[str, Mapping[str, Any]]
    sources: Mapping[str, str] = field(default_factory=dict)
    steps: int = 0
    replications: int = 0
    seeds: Sequence[int] = ()
    failures: Sequence[Mapping[str, Any]] = ()
    command: str = ""
    started: str = ""
    finished: str = ""
    windows: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    intervention_windows: Mapping[str, Sequence[tuple[str, int, int]]] = field(default_factory=dict)
    thresholds: Mapping[str, Sequence[float]] = field(default_factory=dict)
    decomposition: pd.DataFrame | None = None
    who_gains: Mapping[str, pd.DataFrame] | None = None


WHO_GAINS_METRICS: tuple[tuple[str, str, float, str], ...] = (
    ("access_share", "mobile access", 100.0, "points"),
    ("payment_share", "paying by mobile", 100.0, "points"),
    ("ordered_share", "shopped by mobile", 100.0, "points"),
    ("order_value_per_consumer", "order value per consumer", 1.0, "a week"),
)
"""Group-table columns shown in the report's "Who gains" section: (column, words, scale, unit)."""


def _who_gains_data(gains: pd.DataFrame) -> dict[str, Any]:
    """Each group's change (policy minus reference, mean over replications), for the table."""
    columns = [c for c in WHO_GAINS_METRICS if f"{c[0]}_gain" in gains.columns]
    rows = []
    for _, row in gains.iterrows():
        cells = []
        for column, _, scale, _ in columns:
            value = float(row[f"{column}_gain"]) * scale
            kind = "better" if value > 0 else "worse" if value < 0 else "none"
            cells.append({"css": kind, "value": f"{value:+.2f}"})
        rows.append({"by": str(row["by"]), "group": str(row["group"]), "cells": cells})
    return {"columns": [f"{words} ({unit})" for _, words, _, unit in columns], "rows": rows}


# ----------------------------------------------------------------------------- numbers


def _unit_suffix(unit: str) -> str:
    return f" {unit}" if unit else ""


def measure_words(measure: str, steps: int) -> str:
    """When a measure is taken, in words: 'at week 156', 'on average in weeks 144 to 156'."""
    window = parse_window(measure)
    if window is not None:
        return f"on average in weeks {window[0]} to {window[1]}"
    if measure == "cumulative":
        return f"in total over weeks 1 to {steps}"
    level = parse_threshold(measure)
    if level is not None:
        return f"weeks until it reaches {level:g}"
    if measure == "run_mean":
        return f"on average over weeks 1 to {steps}"
    if measure == "last_quarter":
        return f"on average in weeks {max(1, steps - QUARTER + 1)} to {steps}"
    return f"at week {steps}"


def effect_kind(diff: float, low: float, high: float) -> str:
    """Classify a paired effect: up, down, unclear, identical, single (no interval) or none."""
    if not np.isfinite(diff):
        return "none"
    if diff == low == high == 0.0:
        return "identical"
    if not (np.isfinite(low) and np.isfinite(high)):
        return "single"
    if low > 0:
        return "up"
    if high < 0:
        return "down"
    return "unclear"


def judgement(direction: int, diff: float) -> str:
    """'good', 'bad' or 'neutral': whether a change of sign ``diff`` is desirable."""
    if direction == 0 or not np.isfinite(diff) or diff == 0:
        return "neutral"
    return "good" if direction * diff > 0 else "bad"


_JUDGEMENT_WORDS = {"good": ", an improvement", "bad": ", a worsening", "neutral": ""}


def effect_clause(
    disp: Metric,
    diff: float,
    low: float,
    high: float,
    n_pairs: int,
    when: str = "",
    direction: int = 0,
    relative: float = math.nan,
    unit: str | None = None,
) -> str:
    """One clause on a paired effect: 'raises X by 4.1 points (2.9 to 5.3)' or 'no clear ...'.

    A direction is claimed only when the interval excludes 0. With ``direction`` (+1 more
    is better, -1 less is better) a clear change is called an improvement or a worsening;
    with a finite ``relative`` change (difference / reference mean) it is shown in per cent.
    ``unit``: of the difference (default: the metric's difference unit; a total over weeks
    is in the metric's total unit, e.g. orders).
    """
    label = in_sentence(disp.label)
    suffix = _unit_suffix(disp.difference_unit if unit is None else unit)
    d, lo, hi = diff * disp.scale, low * disp.scale, high * disp.scale
    kind = effect_kind(d, lo, hi)
    tail = f" {when}" if when else ""
    dec = decimals_for(d, lo, hi)
    if kind == "none":
        return f"cannot say anything about {label} (no paired runs)"
    if kind == "identical":
        return f"makes no difference to {label} (identical in every paired run)"
    if kind == "single":
        runs = f"{n_pairs} paired run" + ("s" if n_pairs != 1 else "")
        return (
            f"changes {label} by {format_number(d)}{suffix}{tail} in {runs} "
            "(too few replications for an interval)"
        )
    rel = f", {relative * 100:+.0f}%" if np.isfinite(relative) and abs(relative) >= 0.005 else ""
    verdict = _JUDGEMENT_WORDS[judgement(direction, d)]
    if kind == "up":
        return (
            f"raises {label} by {format_number(d, dec)}{suffix} "
            f"({format_number(lo, dec)} to {format_number(hi, dec)}{rel}){tail}{verdict}"
        )
    if kind == "down":
        return (
            f"lowers {label} by {format_number(-d, dec)}{suffix} "
            f"({format_number(-hi, dec)} to {format_number(-lo, dec)}{rel}){tail}{verdict}"
        )
    return (
        f"makes no clear difference to {label} "
        f"(interval {format_number(lo, dec)} to {format_number(hi, dec)}{suffix}){tail}"
    )


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _headline_row(summary: pd.DataFrame, name: str, metric: str) -> tuple[pd.Series, str] | None:
    measure = metric_info(metric).headline_measure
    rows = summary[
        (summary["scenario"] == name)
        & (summary["metric"] == metric)
        & (summary["measure"] == measure)
    ]
    if rows.empty:
        return None
    return rows.iloc[0], measure


def _row(summary: pd.DataFrame, name: str, metric: str, measure: str) -> pd.Series | None:
    rows = summary[
        (summary["scenario"] == name)
        & (summary["metric"] == metric)
        & (summary["measure"] == measure)
    ]
    return None if rows.empty else rows.iloc[0]


def _effects_text(
    summary: pd.DataFrame,
    name: str,
    reference: str,
    metrics: Sequence[str],
    measure_of: Any,
    steps: int,
    relative: bool = False,
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Clear, unclear, identical and other clauses for one scenario and one kind of measure."""
    clear: list[str] = []
    unclear: list[str] = []
    identical: list[str] = []
    other: list[str] = []
    for metric in metrics:
        disp = metric_info(metric)
        measure = measure_of(metric, disp)
        if measure is None:
            continue
        row = _row(summary, name, metric, measure)
        if row is None:
            continue
        values = (float(row["diff"]), float(row["diff_ci_low"]), float(row["diff_ci_high"]))
        kind = effect_kind(*(v * disp.scale for v in values))
        when = measure_words(measure, steps) if measure in ("last_quarter", "run_mean") else ""
        rel = math.nan
        if relative and disp.scale == 1.0:
            ref = _row(summary, reference, metric, measure)
            base = float(ref["mean"]) if ref is not None else math.nan
            rel = values[0] / base if np.isfinite(base) and base > 0 else math.nan
        direction = measure_direction(metric, measure)
        unit = disp.total_unit if measure == "cumulative" else None
        n_pairs = int(row["n_pairs"])
        if kind in ("up", "down"):
            clear.append(effect_clause(disp, *values, n_pairs, when, direction, rel, unit))
        elif kind == "unclear":
            unclear.append(in_sentence(disp.label))
        elif kind == "identical":
            identical.append(in_sentence(disp.label))
        else:
            other.append(effect_clause(disp, *values, n_pairs, when, direction, unit=unit))
    return clear, unclear, identical, other


def _list_clauses(stated: Sequence[str]) -> str:
    """Join clauses; with semicolons when they carry their own commas (improvement words)."""
    if any(c.endswith(("an improvement", "a worsening")) for c in stated) and len(stated) > 1:
        return "; ".join(stated[:-1]) + "; and " + stated[-1]
    return _and(stated)


def _join_effects(
    lead: str, clear: list[str], unclear: list[str], identical: list[str], other: list[str]
) -> str:
    stated = clear + other
    text = lead + _list_clauses(stated)
    rest = []
    if unclear:
        rest.append("makes no clear difference to " + _and(unclear))
    if identical:
        rest.append("leaves " + _and(identical) + " exactly unchanged")
    if rest:
        text += ("; it " if stated else "") + "; it ".join(rest)
    if not (stated or rest):
        text += "has no outcomes to compare"
    return text


def _threshold_sentence(
    summary: pd.DataFrame, name: str, reference: str, thresholds: Mapping[str, Sequence[float]]
) -> str:
    parts = []
    for metric, levels in thresholds.items():
        disp = metric_info(metric)
        for level in dict.fromkeys(levels):
            measure = threshold_measure(level)
            own = _row(summary, name, metric, measure)
            ref = _row(summary, reference, metric, measure)
            if own is None or ref is None:
                continue
            shown = format_number(level * disp.scale)
            unit = "%" if disp.scale == 100.0 and "%" in disp.unit else ""
            what = f"{in_sentence(disp.label)} reaches {shown}{unit}"
            runs = int(max(own["n"], 0))
            if runs == 0:
                parts.append(f"{what} in none of its runs")
                continue
            d, lo, hi = float(own["diff"]), float(own["diff_ci_low"]), float(own["diff_ci_high"])
            kind = effect_kind(d, lo, hi)
            head = f"{what} after {format_number(float(own['mean']), 1)} weeks on average"
            if kind == "down":
                head += (
                    f", {format_number(-d, 1)} weeks sooner than in {reference} "
                    f"({format_number(-hi, 1)} to {format_number(-lo, 1)}), an improvement"
                )
            elif kind == "up":
                head += (
                    f", {format_number(d, 1)} weeks later than in {reference} "
                    f"({format_number(lo, 1)} to {format_number(hi, 1)}), a worsening"
                )
            elif kind == "unclear":
                head += f", no clear difference from {reference}"
            elif kind == "identical":
                head += f", in the same week as in {reference} in every paired run"
            total = int(own["n"]) if np.isfinite(own["n"]) else 0
            parts.append(head + f" (reached in {total} runs; {int(ref['n'])} for {reference})")
    if not parts:
        return ""
    return "Time to threshold: " + "; ".join(parts) + "."


def scenario_sentences(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
    thresholds: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, str]:
    """Write a plain-language paragraph per scenario on its effects against the reference.

    The paragraph opens with the effects while the scenario's policies act (its window in
    ``windows``: means over those weeks, weekly flows also in per cent of the reference),
    so a programme that ends early is judged when it runs. Then each outcome at the end
    of the run (its value at the last week, or for weekly flows the mean over the last 13
    weeks), the total change of weekly counts and values over the whole run, the weeks to
    each threshold, and the cost. Clear effects (the 95% interval of the paired difference
    excludes 0) are stated with their size, interval and whether they are an improvement
    or a worsening (``model.metrics.good_direction``); the other outcomes are listed as
    making no clear difference.

    Args:
        summary: output of ``stats.summarize``.
        scenarios: scenario order, the first being the reference.
        steps: last week.
        metrics: outcomes to mention (default: the metrics tagged ``report``; those present
            in the summary are mentioned).
        windows: name -> (first, last) week its policies act.
        thresholds: metric -> levels of time-to-threshold outcomes in the summary.

    Returns:
        name -> text; the reference gets a sentence saying it is the reference.
    """
    reference = scenarios[0]
    metrics = list(metrics or metrics_tagged("report"))
    windows = dict(windows or {})
    out = {reference: f"{reference} is the reference: every other scenario is compared with it."}
    for name in scenarios[1:]:
        sentences: list[str] = []
        window = windows.get(name)
        if window is not None:
            measure = window_measure(*window)
            found = _effects_text(
                summary, name, reference, metrics, lambda m, d, w=measure: w, steps, relative=True
            )
            if any(found):
                lead = f"While its policies act (weeks {window[0]} to {window[1]}), {name} "
                sentences.append(_join_effects(lead, *found) + ".")
        end = _effects_text(
            summary, name, reference, metrics, lambda m, d: d.headline_measure, steps
        )
        clear, unclear, identical, other = end
        if identical and not (clear or unclear or other):
            text = (
                f"{name} gives exactly the same outcomes as {reference} in every paired run "
                "(the same seeds, so the same chance events)"
            )
        else:
            text = _join_effects(f"Compared with {reference}, by week {steps} {name} ", *end)
        sentences.append(text + ".")
        flows = [m for m in metrics if metric_info(m).summable]
        total = _effects_text(summary, name, reference, flows, lambda m, d: "cumulative", steps)
        if total[0]:
            sentences.append(
                f"Over the whole run (weeks 1 to {steps}, in total) it "
                + _list_clauses(total[0])
                + "."
            )
        limit = _threshold_sentence(summary, name, reference, thresholds or {})
        if limit:
            sentences.append(limit)
        cost = _cost_sentence(summary, name, reference, metrics)
        if cost:
            sentences.append(cost)
        out[name] = " ".join(sentences)
    return out


def _cost_sentence(summary: pd.DataFrame, name: str, reference: str, metrics: Sequence[str]) -> str:
    rows = summary[summary["scenario"] == name]
    if rows.empty:
        return ""
    extra = float(rows["extra_cost"].iloc[0])
    total = float(rows["total_cost"].iloc[0])
    if not np.isfinite(total) or total <= 0:
        return ""
    text = f"Its policies cost {format_number(total)} {COST_UNIT} in total"
    if np.isfinite(extra) and extra != total:
        text += f" ({format_number(extra)} more than {reference})"
    # the per-cost effect of the outcome it moves most clearly (largest |mean| / half-width)
    best: tuple[float, str, float, float, float] | None = None
    for metric in metrics:
        found = _headline_row(summary, name, metric)
        if found is None:
            continue
        row = found[0]
        per = float(row["effect_per_unit_cost"])
        lo = float(row["effect_per_unit_cost_ci_low"])
        hi = float(row["effect_per_unit_cost_ci_high"])
        if effect_kind(per, lo, hi) in ("up", "down"):
            clarity = abs(per) / max((hi - lo) / 2.0, 1e-300)
            if best is None or clarity > best[0]:
                best = (clarity, metric, per, lo, hi)
    if best is not None:
        _, metric, per, lo, hi = best
        disp = metric_info(metric)
        factor = disp.scale * PER_COST
        per, lo, hi = per * factor, lo * factor, hi * factor
        dec = decimals_for(per, lo, hi)
        verb = "raises" if per > 0 else "lowers"
        text += (
            f"; each {format_number(PER_COST)} units spent {verb} {in_sentence(disp.label)} "
            f"by {format_number(abs(per), dec)}{_unit_suffix(disp.difference_unit)} "
            f"({format_number(min(abs(lo), abs(hi)), dec)} to "
            f"{format_number(max(abs(lo), abs(hi)), dec)})"
        )
    return text + "."


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def settings_differences(
    resolved: Mapping[str, Any], reference: Mapping[str, Any], limit: int = 12
) -> list[str]:
    """List settings (other than name, description, policies) that differ from the reference."""
    skip = ("name", "description", "policies")
    a = {k: v for k, v in _flatten(resolved).items() if k.split(".")[0] not in skip}
    b = {k: v for k, v in _flatten(reference).items() if k.split(".")[0] not in skip}
    lines = [
        f"{key} = {a.get(key, '(absent)')} (reference {b.get(key, '(absent)')})"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Shown:
    """A formatted number with its interval, as a table cell shows it.

    Attributes:
        value: the number ('' when there is none).
        low: lower bound of its 95% interval ('' without an interval).
        high: upper bound.
        css: for a paired difference, whether the change is good, bad, neutral or flat
            (no clear difference); '' for a level.
    """

    value: str
    low: str = ""
    high: str = ""
    css: str = ""


def _cell(mean: float, low: float, high: float, scale: float) -> Shown:
    m, lo, hi = mean * scale, low * scale, high * scale
    dec = decimals_for(m, lo, hi)
    if np.isfinite(lo) and np.isfinite(hi):
        return Shown(format_number(m, dec), format_number(lo, dec), format_number(hi, dec))
    return Shown(format_number(m, dec))


def _diff_cell(row: pd.Series, scale: float, direction: int = 0) -> Shown:
    """Format a paired difference, coloured by desirability: good, bad or neutral.

    Good is green, bad red, neutral (neither better nor worse) blue.

    An interval that contains 0 is grey ('flat') whatever the sign.
    """
    d, lo, hi = row["diff"] * scale, row["diff_ci_low"] * scale, row["diff_ci_high"] * scale
    if not np.isfinite(d):
        return Shown("")
    dec = decimals_for(d, lo, hi)
    clear = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
    css = judgement(direction, d) if clear else "flat"
    sign = "+" if d > 0 else ""
    if np.isfinite(lo) and np.isfinite(hi):
        return Shown(
            f"{sign}{format_number(d, dec)}", format_number(lo, dec), format_number(hi, dec), css
        )
    return Shown(f"{sign}{format_number(d, dec)}", css=css)


def _table(macro: str, table: Mapping[str, Any]) -> str:
    """Render one table of report_tables.html on its own."""
    return render_page("report_table.html", macro=macro, table=table)


def _policy_data(info: ComparisonInfo, colors: Mapping[str, str]) -> dict[str, Any]:
    rows = []
    for name in info.scenarios:
        interventions = [
            {
                "label": iv.get("label") or "",
                "lever": iv.get("lever"),
                "start": iv.get("start"),
                "end": iv["end"] if iv.get("end") is not None else "to the end",
                "ramp": iv.get("ramp", 0),
                "strength": iv.get("strength"),
                "cost": format_number(float(iv.get("cost_per_step", 0.0))),
            }
            for iv in list(info.resolved.get(name, {}).get("policies", []) or [])
        ]
        rows.append({"name": name, "color": colors[name], "interventions": interventions})
    return {"cost_unit": COST_UNIT, "rows": rows}


def _outcome_data(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    measure: str | None,
    colors: Mapping[str, str],
    steps: int = 0,
) -> dict[str, Any]:
    reference = scenarios[0]
    groups = []
    for metric in metrics:
        disp = metric_info(metric)
        chosen = measure or disp.headline_measure
        part = summary[summary["measure"] == chosen]
        sub = part[part["metric"] == metric].set_index("scenario")
        rows = []
        for name in scenarios:
            if name not in sub.index:
                continue
            row = sub.loc[name]
            diff = _diff_cell(row, disp.scale, measure_direction(metric, chosen))
            rows.append(
                {
                    "name": name,
                    "color": colors[name],
                    "value": _cell(row["mean"], row["ci_low"], row["ci_high"], disp.scale),
                    "diff": None if name == reference else diff,
                    "n": int(row["n"]),
                }
            )
        total = chosen == "cumulative" and disp.summable
        groups.append(
            {
                "label": disp.label,
                "unit": disp.total_unit if total else disp.unit,
                "when": measure_words(chosen, steps) if steps else "",
                "rows": rows,
            }
        )
    return {"reference": reference, "groups": groups}


def outcome_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    measure: str | None,
    colors: Mapping[str, str],
    steps: int = 0,
) -> str:
    """HTML table: one row per scenario and metric, value and paired difference with intervals.

    A weekly flow summed over the run (``measure`` cumulative) is labelled with its total
    unit (orders, currency units), not per week.

    Args:
        summary: output of ``stats.summarize``.
        scenarios: scenario order, the first being the reference.
        metrics: the metrics, in order.
        measure: the measure for every metric; None: each metric's headline measure.
        colors: scenario colours.
        steps: last week, for the words saying when each value is taken.
    """
    return _table(
        "outcome_table", _outcome_data(summary, scenarios, metrics, measure, colors, steps)
    )


def _cost_data(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> dict[str, Any]:
    rows_by: dict[tuple[str, str], pd.Series] = {}
    for name in scenarios:
        for metric in metrics:
            found = _headline_row(summary, name, metric)
            if found is not None:
                rows_by[(name, metric)] = found[0]
    shown = [
        m
        for m in metrics
        if any(
            np.isfinite(rows_by[(n, m)]["effect_per_unit_cost"])
            for n in scenarios
            if (n, m) in rows_by
        )
    ]
    columns = [
        {"label": metric_info(m).label, "unit": metric_info(m).difference_unit} for m in shown
    ]
    rows = []
    for name in scenarios:
        sub = summary[summary["scenario"] == name]
        if sub.empty:
            continue
        total = float(sub["total_cost"].iloc[0])
        extra = float(sub["extra_cost"].iloc[0])
        cells: list[Shown | None] = []
        for metric in shown:
            row = rows_by.get((name, metric))
            if row is None or not np.isfinite(row["effect_per_unit_cost"]):
                cells.append(None)
                continue
            cells.append(
                _cell(
                    row["effect_per_unit_cost"],
                    row["effect_per_unit_cost_ci_low"],
                    row["effect_per_unit_cost_ci_high"],
                    metric_info(metric).scale * PER_COST,
                )
            )
        rows.append(
            {
                "name": name,
                "color": colors[name],
                "total": format_number(total),
                "extra": format_number(extra) if np.isfinite(extra) else "reference",
                "cells": cells,
            }
        )
    return {"cost_unit": COST_UNIT, "reference": scenarios[0], "columns": columns, "rows": rows}


def cost_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> str:
    """HTML table: total cost, extra cost, and effect per 1,000 units of extra cost.

    Effects are each metric's headline measure; metrics without any per-cost effect
    (no scenario spends more than the reference) get no column.
    """
    return _table("cost_table", _cost_data(summary, scenarios, metrics, colors))


def _window_data(
    summary: pd.DataFrame,
    info: ComparisonInfo,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> dict[str, Any]:
    """Each outcome during each intervention's active weeks, with the paired difference."""
    rows = []
    for name in scenarios[1:]:
        for label, first, last in info.intervention_windows.get(name, []):
            measure = window_measure(first, last)
            for metric in metrics:
                row = _row(summary, name, metric, measure)
                if row is None:
                    continue
                disp = metric_info(metric)
                rows.append(
                    {
                        "name": name,
                        "color": colors[name],
                        "intervention": label,
                        "first": first,
                        "last": last,
                        "label": disp.label,
                        "unit": disp.unit,
                        "value": _cell(row["mean"], row["ci_low"], row["ci_high"], disp.scale),
                        "diff": _diff_cell(row, disp.scale, measure_direction(metric, measure)),
                    }
                )
    return {"reference": scenarios[0], "rows": rows}


def _threshold_data(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    thresholds: Mapping[str, Sequence[float]],
    colors: Mapping[str, str],
) -> dict[str, Any]:
    """Weeks until each threshold is reached, the runs that reached it, the paired difference.

    Fewer weeks is better.
    """
    reference = scenarios[0]
    groups = []
    for metric, levels in thresholds.items():
        disp = metric_info(metric)
        for level in dict.fromkeys(levels):
            measure = threshold_measure(level)
            rows = []
            for name in scenarios:
                row = _row(summary, name, metric, measure)
                if row is None:
                    continue
                runs = summary[(summary["scenario"] == name) & (summary["measure"] == "final")]
                rows.append(
                    {
                        "name": name,
                        "color": colors[name],
                        "value": _cell(row["mean"], row["ci_low"], row["ci_high"], 1.0),
                        "diff": None if name == reference else _diff_cell(row, 1.0, -1),
                        "reached": int(row["n"]),
                        "runs": int(runs["n"].max()) if not runs.empty else int(row["n"]),
                    }
                )
            text = f"{disp.label} reaches {format_number(level * disp.scale)}"
            text += " %" if disp.scale == 100.0 else ""
            groups.append({"label": text, "rows": rows})
    return {"reference": reference, "groups": groups}


def _decomposition_data(table: pd.DataFrame, metrics: Sequence[str]) -> dict[str, Any]:
    """Per package and outcome, each lever alone, the interaction, the package.

    Paired differences from the reference at the end of the run.
    """
    from model.analysis.decomposition import interaction_words

    rows = []
    for package in dict.fromkeys(table["package"]):
        for metric in metrics:
            disp = metric_info(metric)
            part = table[
                (table["package"] == package)
                & (table["metric"] == metric)
                & (table["measure"] == disp.headline_measure)
            ]
            for i, (_, row) in enumerate(part.iterrows()):
                term = str(row["term"])
                shown = term.removeprefix("lever:")
                rows.append(
                    {
                        "package": package if i == 0 else "",
                        "label": disp.label if i == 0 else "",
                        "term": f"{shown} alone" if term.startswith("lever:") else shown,
                        "value": _cell(row["mean"], row["ci_low"], row["ci_high"], disp.scale),
                        "unit": disp.difference_unit,
                        "reading": interaction_words(row) if term == "interaction" else "",
                    }
                )
    return {"rows": rows}


# ----------------------------------------------------------------------------- the page


def _compared(info: ComparisonInfo, reference: str, colors: Mapping[str, str]) -> list[dict]:
    """List the scenarios of the first section, with the settings that differ from the reference."""
    out = []
    for name in info.scenarios:
        resolved = info.resolved.get(name, {})
        differences = []
        if name != reference and resolved:
            differences = settings_differences(resolved, info.resolved.get(reference, {}))
        out.append(
            {
                "name": name,
                "color": colors[name],
                "reference": name == reference,
                "source": info.sources.get(name, ""),
                "description": str(resolved.get("description") or "").strip(),
                "differences": differences,
            }
        )
    return out


def render_report(
    info: ComparisonInfo,
    summary: pd.DataFrame,
    figures: Mapping[str, Path],
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Render the report as one HTML string (figures embedded).

    Args:
        info: what was compared.
        summary: output of ``stats.summarize``.
        figures: section title -> PNG file, in display order; a key ``timelines`` is
            shown in the policy section, the others in the figures section.
        metrics: main outcomes for sentences and tables (default: the metrics tagged
            ``report`` present in the summary).
        title: page title.
    """
    all_names = list(info.scenarios)
    colors = scenario_colors(all_names)
    finished = set(summary["scenario"])
    # scenarios with at least one finished run; the first of them is the reference
    scenarios = [n for n in all_names if n in finished] or all_names
    reference = scenarios[0]
    present = set(summary["metric"])
    metrics = [m for m in (metrics or metrics_tagged("report")) if m in present]
    others = [
        m
        for m in dict.fromkeys(summary["metric"])
        if m != "policy_cost" and m in present and m not in metrics
    ]
    sentences = scenario_sentences(
        summary, scenarios, info.steps, metrics, info.windows, info.thresholds
    )
    flows = [m for m in metrics if metric_info(m).summable]
    stocks = [m for m in metrics if m not in flows]
    steps = info.steps
    seeds = ", ".join(str(s) for s in info.seeds[:12]) + (" ..." if len(info.seeds) > 12 else "")
    decomposition = info.decomposition
    return render_page(
        "report.html",
        title=title or f"Policy comparison: {', '.join(scenarios)}",
        info=info,
        compared=_compared(info, reference, colors),
        seeds=seeds,
        quarter=QUARTER,
        findings=[
            {
                "color": colors[name],
                "text": sentences.get(
                    name, f"{name}: no run finished, so it is left out (see Failed runs)."
                ),
            }
            for name in all_names
        ],
        policies=_policy_data(info, colors),
        timelines=figures.get("timelines"),
        figures=[(key, path) for key, path in figures.items() if key != "timelines"],
        at_end=_outcome_data(summary, scenarios, metrics, None, colors, steps),
        while_acting=_window_data(summary, info, scenarios, metrics, colors),
        totals=_outcome_data(summary, scenarios, flows, "cumulative", colors, steps)
        if flows
        else None,
        run_means=_outcome_data(summary, scenarios, stocks, "run_mean", colors, steps),
        thresholds=_threshold_data(summary, scenarios, info.thresholds, colors)
        if info.thresholds
        else None,
        who_gains=[(name, _who_gains_data(gains)) for name, gains in info.who_gains.items()]
        if info.who_gains
        else [],
        decomposition=_decomposition_data(decomposition, metrics)
        if decomposition is not None and not decomposition.empty
        else None,
        cost_unit=COST_UNIT,
        reference=reference,
        per_cost=format_number(PER_COST),
        costs=_cost_data(summary, scenarios, metrics, colors),
        others=_outcome_data(summary, scenarios, others, None, colors, steps) if others else None,
    )


def write_report(
    path: str | Path,
    info: ComparisonInfo,
    summary: pd.DataFrame,
    figures: Mapping[str, Path],
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Render the report and write it atomically to ``path``."""
    text = render_report(info, summary, figures, metrics, title)
    path = Path(path)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path


__all__ = [
    "ComparisonInfo",
    "cost_table",
    "effect_clause",
    "outcome_table",
    "render_report",
    "scenario_sentences",
    "settings_differences",
    "write_report",
]
