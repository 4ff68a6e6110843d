"""The HTML report of a policy comparison: one self-contained file a policymaker can read.

Sections: what was compared (scenarios, replications, weeks, seeds, settings
that differ from the reference), the policy timelines side by side (a table and
a figure), the findings in plain sentences, the figures, the outcome table, the
cost table, and any failed runs. Figures are embedded as base64 PNG, so the file
can be mailed or archived on its own.

A sentence claims a direction ("raises", "lowers") only when the 95% interval of
the paired difference excludes 0; otherwise it says there is no clear difference.
Whether a clear change is desirable comes from ``model.metrics.good_direction``
(the one place each metric declares it): the sentence says "an improvement" or
"a worsening", and the tables colour the difference green (better), red (worse)
or blue (neither better nor worse, e.g. the cross-border share), whatever its sign.

Each scenario's paragraph opens with its effect while its policies act (the weeks
from its first intervention's start to its last one's end), so a programme that
ends early is judged when it runs; then its effect at the end of the run, its
cumulated effect on weekly flows over the whole run, and the weeks it takes to
reach any threshold (``--threshold``).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.plots import MetricDisplay, metric_display, scenario_colors
from model.analysis.stats import (
    QUARTER,
    measure_direction,
    parse_threshold,
    parse_window,
    threshold_measure,
    window_measure,
)
from model.experiment.manifest import write_bytes_atomic

REPORT_OUTCOMES: tuple[str, ...] = (
    "payment_adoption",
    "shopper_share",
    "orders",
    "merchant_adoption",
    "cross_border_share",
    "cross_border_orders",
    "gmv",
    "mean_trust_domestic",
    "mean_trust_foreign",
    "counterfeit_incidents",
    "fraud_incidents",
)
"""Outcomes of the report's sentences and tables (those present in the summary)."""

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


def who_gains_table(gains: pd.DataFrame) -> str:
    """HTML table of each group's change (policy minus reference, mean over replications)."""
    columns = [c for c in WHO_GAINS_METRICS if f"{c[0]}_gain" in gains.columns]
    head = "".join(f"<th>{_esc(words)} ({_esc(unit)})</th>" for _, words, _, unit in columns)
    rows = []
    for _, row in gains.iterrows():
        cells = []
        for column, _, scale, _ in columns:
            value = float(row[f"{column}_gain"]) * scale
            kind = "better" if value > 0 else "worse" if value < 0 else "none"
            cells.append(f'<td class="{kind}">{value:+.2f}</td>')
        rows.append(
            f"<tr><td>{_esc(str(row['by']))}</td><td>{_esc(str(row['group']))}</td>"
            + "".join(cells)
            + "</tr>"
        )
    return f"<table><tr><th>by</th><th>group</th>{head}</tr>" + "".join(rows) + "</table>"


# ----------------------------------------------------------------------------- numbers


def _decimals(*values: float) -> int:
    finite = [abs(v) for v in values if np.isfinite(v)]
    size = max(finite) if finite else 0.0
    if size == 0.0 or size >= 100:
        return 0
    if size >= 1:
        return 1
    if size >= 0.1:
        return 2
    if size >= 0.01:
        return 3
    return 4


def fmt_number(value: float | None, decimals: int | None = None) -> str:
    """Format a number for readers: thousands separators, a sensible number of decimals.

    A value that is not 0 never shows as 0 or -0: it gets more decimals (up to 4 more).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    value = float(value) + 0.0  # turns -0.0 into 0.0
    d = _decimals(value) if decimals is None else decimals
    text = f"{value:,.{d}f}"
    extra = 0
    while value != 0.0 and float(text.replace(",", "")) == 0.0 and extra < 4:
        extra += 1
        text = f"{value:,.{d + extra}f}"
    return text


def _lower_label(label: str) -> str:
    first = label.split(" ")[0]
    if len(first) > 1 and first[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def _unit_suffix(disp: MetricDisplay) -> str:
    return f" {disp.difference_unit}" if disp.difference_unit else ""


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
    disp: MetricDisplay,
    diff: float,
    low: float,
    high: float,
    n_pairs: int,
    when: str = "",
    direction: int = 0,
    relative: float = math.nan,
) -> str:
    """One clause on a paired effect: 'raises X by 4.1 points (2.9 to 5.3)' or 'no clear ...'.

    A direction is claimed only when the interval excludes 0. With ``direction`` (+1 more
    is better, -1 less is better) a clear change is called an improvement or a worsening;
    with a finite ``relative`` change (difference / reference mean) it is shown in per cent.
    """
    label = _lower_label(disp.label)
    d, lo, hi = diff * disp.scale, low * disp.scale, high * disp.scale
    kind = effect_kind(d, lo, hi)
    tail = f" {when}" if when else ""
    dec = _decimals(d, lo, hi)
    if kind == "none":
        return f"cannot say anything about {label} (no paired runs)"
    if kind == "identical":
        return f"makes no difference to {label} (identical in every paired run)"
    if kind == "single":
        runs = f"{n_pairs} paired run" + ("s" if n_pairs != 1 else "")
        return (
            f"changes {label} by {fmt_number(d)}{_unit_suffix(disp)}{tail} in {runs} "
            "(too few replications for an interval)"
        )
    rel = f", {relative * 100:+.0f}%" if np.isfinite(relative) and abs(relative) >= 0.005 else ""
    verdict = _JUDGEMENT_WORDS[judgement(direction, d)]
    if kind == "up":
        return (
            f"raises {label} by {fmt_number(d, dec)}{_unit_suffix(disp)} "
            f"({fmt_number(lo, dec)} to {fmt_number(hi, dec)}{rel}){tail}{verdict}"
        )
    if kind == "down":
        return (
            f"lowers {label} by {fmt_number(-d, dec)}{_unit_suffix(disp)} "
            f"({fmt_number(-hi, dec)} to {fmt_number(-lo, dec)}{rel}){tail}{verdict}"
        )
    return (
        f"makes no clear difference to {label} "
        f"(interval {fmt_number(lo, dec)} to {fmt_number(hi, dec)}{_unit_suffix(disp)}){tail}"
    )


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _headline_row(summary: pd.DataFrame, name: str, metric: str) -> tuple[pd.Series, str] | None:
    measure = metric_display(metric).headline_measure
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
        disp = metric_display(metric)
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
        if kind in ("up", "down"):
            clear.append(effect_clause(disp, *values, int(row["n_pairs"]), when, direction, rel))
        elif kind == "unclear":
            unclear.append(_lower_label(disp.label))
        elif kind == "identical":
            identical.append(_lower_label(disp.label))
        else:
            other.append(effect_clause(disp, *values, int(row["n_pairs"]), when, direction))
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
        disp = metric_display(metric)
        for level in dict.fromkeys(levels):
            measure = threshold_measure(level)
            own = _row(summary, name, metric, measure)
            ref = _row(summary, reference, metric, measure)
            if own is None or ref is None:
                continue
            shown = fmt_number(level * disp.scale)
            unit = "%" if disp.scale == 100.0 and "%" in disp.unit else ""
            what = f"{_lower_label(disp.label)} reaches {shown}{unit}"
            runs = int(max(own["n"], 0))
            if runs == 0:
                parts.append(f"{what} in none of its runs")
                continue
            d, lo, hi = float(own["diff"]), float(own["diff_ci_low"]), float(own["diff_ci_high"])
            kind = effect_kind(d, lo, hi)
            head = f"{what} after {fmt_number(float(own['mean']), 1)} weeks on average"
            if kind == "down":
                head += (
                    f", {fmt_number(-d, 1)} weeks sooner than in {reference} "
                    f"({fmt_number(-hi, 1)} to {fmt_number(-lo, 1)}), an improvement"
                )
            elif kind == "up":
                head += (
                    f", {fmt_number(d, 1)} weeks later than in {reference} "
                    f"({fmt_number(lo, 1)} to {fmt_number(hi, 1)}), a worsening"
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
    metrics: Sequence[str] = REPORT_OUTCOMES,
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
        metrics: outcomes to mention (those present in the summary).
        windows: name -> (first, last) week its policies act.
        thresholds: metric -> levels of time-to-threshold outcomes in the summary.

    Returns:
        name -> text; the reference gets a sentence saying it is the reference.
    """
    reference = scenarios[0]
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
        flows = [m for m in metrics if metric_display(m).flow and metric_display(m).scale == 1.0]
        total = _effects_text(summary, name, reference, flows, lambda m, d: "cumulative", steps)
        if total[0]:
            sentences.append(
                f"Over the whole run (weeks 1 to {steps}, in total) it "
                + _list_clauses(total[0]).replace(" per week", "")
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
    text = f"Its policies cost {fmt_number(total)} {COST_UNIT} in total"
    if np.isfinite(extra) and extra != total:
        text += f" ({fmt_number(extra)} more than {reference})"
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
        disp = metric_display(metric)
        factor = disp.scale * PER_COST
        per, lo, hi = per * factor, lo * factor, hi * factor
        dec = _decimals(per, lo, hi)
        verb = "raises" if per > 0 else "lowers"
        text += (
            f"; each {fmt_number(PER_COST)} units spent {verb} {_lower_label(disp.label)} "
            f"by {fmt_number(abs(per), dec)}{_unit_suffix(disp)} "
            f"({fmt_number(min(abs(lo), abs(hi)), dec)} to "
            f"{fmt_number(max(abs(lo), abs(hi)), dec)})"
        )
    return text + "."


# ----------------------------------------------------------------------------- html parts


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'


def _swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{_esc(color)}"></span>'


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


def _policy_table(info: ComparisonInfo, colors: Mapping[str, str]) -> str:
    head = (
        "<tr><th>scenario</th><th>intervention</th><th>lever</th><th>start week</th>"
        "<th>end week</th><th>ramp (weeks)</th><th>strength</th>"
        f"<th>cost per week ({COST_UNIT})</th></tr>"
    )
    body = []
    for name in info.scenarios:
        policies = list(info.resolved.get(name, {}).get("policies", []) or [])
        if not policies:
            body.append(
                f"<tr><td>{_swatch(colors[name])}{_esc(name)}</td>"
                '<td colspan="7"><em>no policy interventions</em></td></tr>'
            )
            continue
        for iv in policies:
            end = iv.get("end")
            body.append(
                "<tr>"
                f"<td>{_swatch(colors[name])}{_esc(name)}</td>"
                f"<td>{_esc(iv.get('label') or '')}</td>"
                f"<td>{_esc(iv.get('lever'))}</td>"
                f"<td>{_esc(iv.get('start'))}</td>"
                f"<td>{_esc(end if end is not None else 'to the end')}</td>"
                f"<td>{_esc(iv.get('ramp', 0))}</td>"
                f"<td>{_esc(iv.get('strength'))}</td>"
                f"<td>{_esc(fmt_number(float(iv.get('cost_per_step', 0.0))))}</td>"
                "</tr>"
            )
    return f"<table>{head}{''.join(body)}</table>"


def _cell(mean: float, low: float, high: float, scale: float) -> str:
    m, lo, hi = mean * scale, low * scale, high * scale
    dec = _decimals(m, lo, hi)
    if np.isfinite(lo) and np.isfinite(hi):
        return (
            f"{fmt_number(m, dec)} <small>({fmt_number(lo, dec)} to {fmt_number(hi, dec)})</small>"
        )
    return fmt_number(m, dec)


def _diff_cell(row: pd.Series, scale: float, direction: int = 0) -> str:
    """Format a paired difference, coloured by desirability: good, bad or neutral.

    Good is green, bad red, neutral (neither better nor worse) blue.

    An interval that contains 0 is grey ('flat') whatever the sign.
    """
    d, lo, hi = row["diff"] * scale, row["diff_ci_low"] * scale, row["diff_ci_high"] * scale
    if not np.isfinite(d):
        return ""
    dec = _decimals(d, lo, hi)
    clear = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
    css = judgement(direction, d) if clear else "flat"
    bounds = (
        f" <small>({fmt_number(lo, dec)} to {fmt_number(hi, dec)})</small>"
        if np.isfinite(lo) and np.isfinite(hi)
        else ""
    )
    sign = "+" if d > 0 else ""
    return f'<span class="{css}">{sign}{fmt_number(d, dec)}</span>{bounds}'


def outcome_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    measure: str | None,
    colors: Mapping[str, str],
    steps: int = 0,
) -> str:
    """HTML table: one row per scenario and metric, value and paired difference with intervals.

    Args:
        summary: output of ``stats.summarize``.
        scenarios: scenario order, the first being the reference.
        metrics: the metrics, in order.
        measure: the measure for every metric; None: each metric's headline measure.
        colors: scenario colours.
        steps: last week, for the words saying when each value is taken.
    """
    reference = scenarios[0]
    head = (
        "<tr><th>outcome</th><th>scenario</th><th>mean (95% interval)</th>"
        f"<th>difference from {_esc(reference)} (95% interval)</th><th>runs</th></tr>"
    )
    body = []
    for metric in metrics:
        disp = metric_display(metric)
        chosen = measure or disp.headline_measure
        part = summary[summary["measure"] == chosen]
        sub = part[part["metric"] == metric].set_index("scenario")
        unit = f" <small>[{_esc(disp.unit)}]</small>" if disp.unit else ""
        when = f"<br><small>{_esc(measure_words(chosen, steps))}</small>" if steps else ""
        first = True
        for name in scenarios:
            if name not in sub.index:
                continue
            row = sub.loc[name]
            diff_html = _diff_cell(row, disp.scale, measure_direction(metric, chosen))
            label = f"{_esc(disp.label)}{unit}{when}" if first else ""
            first = False
            body.append(
                f"<tr><td>{label}</td><td>{_swatch(colors[name])}{_esc(name)}</td>"
                f"<td>{_cell(row['mean'], row['ci_low'], row['ci_high'], disp.scale)}</td>"
                f"<td>{diff_html if name != reference else 'reference'}</td>"
                f"<td>{int(row['n'])}</td></tr>"
            )
    return f"<table>{head}{''.join(body)}</table>"


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
    heads = ""
    for metric in shown:
        disp = metric_display(metric)
        unit = f" <small>[{_esc(disp.difference_unit)}]</small>" if disp.difference_unit else ""
        heads += f"<th>{_esc(disp.label)}{unit}</th>"
    head = (
        f"<tr><th>scenario</th><th>total cost ({COST_UNIT})</th>"
        f"<th>extra cost vs {_esc(scenarios[0])}</th>{heads}</tr>"
    )
    body = []
    for name in scenarios:
        sub = summary[summary["scenario"] == name]
        if sub.empty:
            continue
        total = float(sub["total_cost"].iloc[0])
        extra = float(sub["extra_cost"].iloc[0])
        cells = []
        for metric in shown:
            row = rows_by.get((name, metric))
            if row is None or not np.isfinite(row["effect_per_unit_cost"]):
                cells.append("<td>&ndash;</td>")
                continue
            scale = metric_display(metric).scale * PER_COST
            cells.append(
                "<td>"
                + _cell(
                    row["effect_per_unit_cost"],
                    row["effect_per_unit_cost_ci_low"],
                    row["effect_per_unit_cost_ci_high"],
                    scale,
                )
                + "</td>"
            )
        body.append(
            f"<tr><td>{_swatch(colors[name])}{_esc(name)}</td><td>{fmt_number(total)}</td>"
            f"<td>{fmt_number(extra) if np.isfinite(extra) else 'reference'}</td>"
            f"{''.join(cells)}</tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def window_table(
    summary: pd.DataFrame,
    info: ComparisonInfo,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> str:
    """HTML table: each outcome during each intervention's active weeks.

    With the paired difference from the reference over the same weeks.
    """
    reference = scenarios[0]
    head = (
        "<tr><th>scenario</th><th>intervention (weeks)</th><th>outcome</th>"
        "<th>mean over those weeks (95% interval)</th>"
        f"<th>difference from {_esc(reference)} (95% interval)</th></tr>"
    )
    body = []
    for name in scenarios[1:]:
        for label, first, last in info.intervention_windows.get(name, []):
            measure = window_measure(first, last)
            for metric in metrics:
                row = _row(summary, name, metric, measure)
                if row is None:
                    continue
                disp = metric_display(metric)
                unit = f" <small>[{_esc(disp.unit)}]</small>" if disp.unit else ""
                body.append(
                    f"<tr><td>{_swatch(colors[name])}{_esc(name)}</td>"
                    f"<td>{_esc(label)} ({first} to {last})</td>"
                    f"<td>{_esc(disp.label)}{unit}</td>"
                    f"<td>{_cell(row['mean'], row['ci_low'], row['ci_high'], disp.scale)}</td>"
                    f"<td>{_diff_cell(row, disp.scale, measure_direction(metric, measure))}"
                    "</td></tr>"
                )
    if not body:
        return '<p class="note">No scenario has policy interventions.</p>'
    return f"<table>{head}{''.join(body)}</table>"


def threshold_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    thresholds: Mapping[str, Sequence[float]],
    colors: Mapping[str, str],
) -> str:
    """HTML table: weeks until each threshold is reached.

    With the runs that reached it and the paired difference (fewer weeks is better).
    """
    reference = scenarios[0]
    head = (
        "<tr><th>outcome and level</th><th>scenario</th><th>weeks to reach it (95% interval)"
        f"</th><th>difference from {_esc(reference)}</th><th>runs that reached it</th></tr>"
    )
    body = []
    for metric, levels in thresholds.items():
        disp = metric_display(metric)
        for level in dict.fromkeys(levels):
            measure = threshold_measure(level)
            first = True
            for name in scenarios:
                row = _row(summary, name, metric, measure)
                if row is None:
                    continue
                text = f"{_esc(disp.label)} reaches {fmt_number(level * disp.scale)}"
                text += " %" if disp.scale == 100.0 else ""
                runs = summary[(summary["scenario"] == name) & (summary["measure"] == "final")]
                total = int(runs["n"].max()) if not runs.empty else int(row["n"])
                body.append(
                    f"<tr><td>{text if first else ''}</td>"
                    f"<td>{_swatch(colors[name])}{_esc(name)}</td>"
                    f"<td>{_cell(row['mean'], row['ci_low'], row['ci_high'], 1.0)}</td>"
                    f"<td>{_diff_cell(row, 1.0, -1) if name != reference else 'reference'}</td>"
                    f"<td>{int(row['n'])} of {total}</td></tr>"
                )
                first = False
    return f"<table>{head}{''.join(body)}</table>"


def decomposition_table(table: pd.DataFrame, metrics: Sequence[str]) -> str:
    """HTML table: per package and outcome, each lever alone, the interaction, the package.

    Paired differences from the reference at the end of the run.
    """
    from model.analysis.decomposition import interaction_words

    head = (
        "<tr><th>package</th><th>outcome</th><th>term</th>"
        "<th>effect (95% interval)</th><th>reading</th></tr>"
    )
    body = []
    for package in dict.fromkeys(table["package"]):
        for metric in metrics:
            disp = metric_display(metric)
            part = table[
                (table["package"] == package)
                & (table["metric"] == metric)
                & (table["measure"] == disp.headline_measure)
            ]
            for i, (_, row) in enumerate(part.iterrows()):
                term = str(row["term"])
                reading = interaction_words(row) if term == "interaction" else ""
                shown = term.removeprefix("lever:")
                shown = f"{shown} alone" if term.startswith("lever:") else shown
                unit = f" {disp.difference_unit}" if disp.difference_unit else ""
                body.append(
                    f"<tr><td>{_esc(package) if i == 0 else ''}</td>"
                    f"<td>{_esc(disp.label) if i == 0 else ''}</td><td>{_esc(shown)}</td>"
                    f"<td>{_cell(row['mean'], row['ci_low'], row['ci_high'], disp.scale)}"
                    f"{_esc(unit)}</td><td>{_esc(reading)}</td></tr>"
                )
    return f"<table>{head}{''.join(body)}</table>"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#f4f4f4}small{color:#666}img{max-width:100%;height:auto}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em;
border-radius:2px}
.good{color:#1a7f37;font-weight:600}.bad{color:#b42318;font-weight:600}
.neutral{color:#1f4e99;font-weight:600}.flat{color:#555}
.note{color:#555;font-size:.92em}.fail{color:#b42318}
li{margin:.3em 0}
"""


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
        metrics: main outcomes for sentences and tables (default: REPORT_OUTCOMES present).
        title: page title.
    """
    all_names = list(info.scenarios)
    colors = scenario_colors(all_names)
    finished = set(summary["scenario"])
    # scenarios with at least one finished run; the first of them is the reference
    scenarios = [n for n in all_names if n in finished] or all_names
    reference = scenarios[0]
    present = set(summary["metric"])
    metrics = [m for m in (metrics or REPORT_OUTCOMES) if m in present]
    all_metrics = [
        m for m in dict.fromkeys(summary["metric"]) if m != "policy_cost" and m in present
    ]
    title = title or f"Policy comparison: {', '.join(scenarios)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    # what was compared
    parts.append("<h2>What was compared</h2><ul>")
    for name in all_names:
        resolved = info.resolved.get(name, {})
        desc = str(resolved.get("description") or "").strip()
        src = info.sources.get(name, "")
        line = f"<li>{_swatch(colors[name])}<strong>{_esc(name)}</strong>"
        line += " (reference)" if name == reference else ""
        line += f" <small>{_esc(src)}</small>" if src else ""
        line += f": {_esc(desc)}" if desc else ""
        if name != reference and resolved:
            diffs = settings_differences(resolved, info.resolved.get(reference, {}))
            if diffs:
                line += (
                    "<br><small>settings that differ from the reference: "
                    + "; ".join(_esc(d) for d in diffs)
                    + "</small>"
                )
        parts.append(line + "</li>")
    parts.append("</ul>")
    seeds = ", ".join(str(s) for s in info.seeds[:12]) + (" ..." if len(info.seeds) > 12 else "")
    parts.append(
        f'<p class="note">Each scenario was run {info.replications} times for {info.steps} weeks. '
        "Replication i of every scenario used the same seed (common random numbers), so the "
        "scenarios face the same chance events and their differences are measured run by run "
        f"(paired). Seeds: {_esc(seeds)}.</p>"
    )
    if info.command:
        parts.append(f'<p class="note">Command: <code>{_esc(info.command)}</code></p>')
    # findings
    parts.append("<h2>Findings</h2>")
    parts.append(
        '<p class="note">A scenario "raises" or "lowers" an outcome only when the whole 95% '
        "interval of its paired difference from the reference lies on one side of zero; "
        'otherwise the report says "no clear difference". Numbers in brackets are the 95% '
        "interval of the paired difference. Each paragraph first gives the effect while the "
        "scenario's policies act (averages over those weeks; for weekly flows also in per "
        "cent of the reference), then at the end of "
        f"the run: at week {info.steps}, or for weekly flows (orders, sales value, the "
        "cross-border share of the week's orders, incidents) as the average of the last "
        f"{QUARTER} weeks; then weekly flows summed over the whole run. A clear change is "
        "called an improvement or a worsening according to whether more of the outcome is "
        "desirable; in the tables green is better, red is worse, blue is neither (e.g. the "
        "cross-border share), grey is no clear difference. Shares are in per cent, their "
        "differences in percentage points; trust is an index from 0 to 100.</p><ul>"
    )
    sentences = scenario_sentences(
        summary, scenarios, info.steps, metrics, info.windows, info.thresholds
    )
    for name in all_names:
        text = sentences.get(name, f"{name}: no run finished, so it is left out (see Failed runs).")
        parts.append(f"<li>{_swatch(colors[name])}{_esc(text)}</li>")
    parts.append("</ul>")
    if info.failures:
        parts.append(
            f'<p class="fail"><strong>{len(info.failures)} run(s) failed</strong> and are left '
            "out of the statistics (see the section Failed runs).</p>"
        )
    # policies
    parts.append("<h2>Policy timelines</h2>")
    parts.append(_policy_table(info, colors))
    if "timelines" in figures:
        parts.append(_img(figures["timelines"], "policy timelines"))
    # figures
    parts.append("<h2>Figures</h2>")
    for key, path in figures.items():
        if key == "timelines":
            continue
        parts.append(f"<h3>{_esc(key)}</h3>{_img(path, key)}")
    # tables
    parts.append("<h2>Outcomes at the end of the run</h2>")
    parts.append(outcome_table(summary, scenarios, metrics, None, colors, info.steps))
    parts.append("<h2>Outcomes while each policy acts</h2>")
    parts.append(window_table(summary, info, scenarios, metrics, colors))
    parts.append("<h2>Outcomes cumulated over the run</h2>")
    parts.append(
        '<p class="note">Weekly flows summed over weeks 1 to '
        f"{info.steps}; shares and indices averaged over the run (their sum divided by the "
        "number of weeks).</p>"
    )
    flows = [m for m in metrics if metric_display(m).flow and metric_display(m).scale == 1.0]
    stocks = [m for m in metrics if m not in flows]
    if flows:
        parts.append(outcome_table(summary, scenarios, flows, "cumulative", colors, info.steps))
    parts.append(outcome_table(summary, scenarios, stocks, "run_mean", colors, info.steps))
    if info.thresholds:
        parts.append("<h2>Time to threshold</h2>")
        parts.append(
            '<p class="note">The first week each run reaches the level (at or above it; at '
            "or below for outcomes where less is better). Runs that never reach it are left "
            "out, so compare the last column too; fewer weeks is better.</p>"
        )
        parts.append(threshold_table(summary, scenarios, info.thresholds, colors))
    if info.who_gains:
        parts.append("<h2>Who gains</h2>")
        parts.append(
            '<p class="note">Each group\'s outcome at the last week under the policy minus '
            "under the reference, averaged over the paired replications (groups.csv has "
            "every run): by country, region, urban/rural and income band. Groups differ by "
            "area and income only where the scenario gives consumers attributes "
            "(population.attributes).</p>"
        )
        for name, gains in info.who_gains.items():
            parts.append(f"<h3>{_esc(name)}</h3>")
            parts.append(who_gains_table(gains))
    if info.decomposition is not None and not info.decomposition.empty:
        parts.append("<h2>Packages decomposed into their levers</h2>")
        parts.append(
            '<p class="note">Each lever was also run alone (the package\'s world with only '
            "that lever's interventions), with the same seeds. The interaction is the "
            "package's effect minus the sum of its levers' effects alone, per paired run: "
            "above 0, the levers reinforce each other (complements); below 0, they overlap "
            "(substitutes); an interval containing 0 shows no clear interaction.</p>"
        )
        parts.append(decomposition_table(info.decomposition, metrics))
    parts.append("<h2>Costs</h2>")
    parts.append(
        f'<p class="note">Total policy spending over the run in {COST_UNIT}; for scenarios '
        f"that spend more than {_esc(reference)} in every paired run, the paired effect at "
        f"the end of the run (as in the findings) per {fmt_number(PER_COST)} units of extra "
        "spending, with its 95% interval.</p>"
    )
    parts.append(cost_table(summary, scenarios, metrics, colors))
    others = [m for m in all_metrics if m not in metrics]
    if others:
        parts.append("<details><summary>All other metrics at the end of the run</summary>")
        parts.append(outcome_table(summary, scenarios, others, None, colors, info.steps))
        parts.append("</details>")
    if info.failures:
        parts.append("<h2>Failed runs</h2><table><tr><th>scenario</th><th>replication</th>")
        parts.append("<th>seed</th><th>error</th></tr>")
        for fail in info.failures:
            parts.append(
                f"<tr><td>{_esc(fail.get('scenario'))}</td><td>{_esc(fail.get('replication'))}"
                f"</td><td>{_esc(fail.get('seed'))}</td><td>{_esc(fail.get('error'))}</td></tr>"
            )
        parts.append("</table>")
    stamp = f"{info.started} to {info.finished}" if info.started else ""
    parts.append(
        f'<p class="note">Produced by mtsim compare{(" " + _esc(stamp)) if stamp else ""}. '
        "The files timeseries.csv and outcomes.csv next to this report hold every number; "
        "manifest.json records versions, seeds and the resolved scenarios.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


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
    "fmt_number",
    "outcome_table",
    "render_report",
    "scenario_sentences",
    "settings_differences",
    "write_report",
]
