"""The HTML report of a policy comparison: one self-contained file a policymaker can read.

Sections: what was compared (scenarios, replications, weeks, seeds, settings
that differ from the reference), the findings, the policy timelines side by side (a
table and a figure), the figures, the outcome tables, who gains by group, the costs,
and any failed runs. Figures are embedded as base64 PNG, so the file can be mailed or
archived on its own.

A sentence claims a direction ("raises", "lowers") only when the 95% interval of
the paired difference excludes 0; otherwise it says there is no clear difference.
Whether a clear change is desirable comes from the metric registry
(``model.metrics``, the one place each metric declares it): the sentence says "an improvement" or
"a worsening", and the tables colour the difference green (better), red (worse)
or blue (neither better nor worse, e.g. the cross-border share), whatever its sign.

Each scenario's findings (:func:`scenario_findings`) open with one short sentence: what
it clearly improves and worsens while its policies act (the weeks from its first
intervention's start to its last one's end, so a programme that ends early is judged
when it runs) and at the end of the run. A list follows, one item per outcome group
(what the outcomes count: consumers, merchants, orders, ...): the effects while the
policies act, at the end of the run, and on weekly flows summed over the run (a total
in the flow's own unit: orders, currency units); then the weeks to any threshold
(``--threshold``) and the cost. :func:`scenario_sentences` writes the same effects as one
paragraph per scenario (the console's summary). A weekly flow's change is also given in
per cent of the reference only where the reference can carry it
(``model.analysis.stats.relative_change``).

Numbers read together (a value and its interval) share their decimals
(:func:`format_together`, from the registry's ``format_number``).

The page is rendered from Jinja2 templates (model/templates/report.html and its tables,
report_tables.html) by ``model.analysis.html``; the functions here compute the sentences
and the formatted numbers of each table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.group_effects import gain_words, group_metric
from model.analysis.html import render_page
from model.analysis.plots import scenario_colors
from model.analysis.stats import (
    MAX_RELATIVE_WIDTH,
    MIN_COUNT_PER_WEEK,
    QUARTER,
    judgement,
    measure_direction,
    parse_threshold,
    parse_window,
    relative_change,
    threshold_measure,
    verdict,
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
        who_gains: per scenario (not the reference), the groups' paired gains at the end
            of the run (``model.analysis.group_effects.who_gains``), or None.
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


# ----------------------------------------------------------------------------- numbers


def format_together(*values: float) -> list[str]:
    """Format numbers read together (a value and its interval) with the same decimals.

    The decimals show the largest readably (``model.metrics.decimals_for``); each number
    is rounded to them first, so a bound near 0 reads "0.0", never "0.0003" next to "5.3".
    """
    dec = decimals_for(*values)
    return [format_number(round(v, dec) if np.isfinite(v) else v, dec) for v in values]


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
    with a finite ``relative`` change (difference / reference mean,
    ``model.analysis.stats.relative_change``) it is shown in per cent.
    ``unit``: of the difference (default: the metric's difference unit; a total over weeks
    is in the metric's total unit, e.g. orders).
    """
    label = in_sentence(disp.label)
    suffix = _unit_suffix(disp.difference_unit if unit is None else unit)
    d, lo, hi = diff * disp.scale, low * disp.scale, high * disp.scale
    kind = effect_kind(d, lo, hi)
    tail = f" {when}" if when else ""
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
    verdict_words = _JUDGEMENT_WORDS[judgement(direction, d)]
    if kind == "up":
        size, first, second = format_together(d, lo, hi)
        return f"raises {label} by {size}{suffix} ({first} to {second}{rel}){tail}{verdict_words}"
    if kind == "down":
        size, first, second = format_together(-d, -hi, -lo)
        return f"lowers {label} by {size}{suffix} ({first} to {second}{rel}){tail}{verdict_words}"
    first, second = format_together(lo, hi)
    return f"makes no clear difference to {label} (interval {first} to {second}{suffix}){tail}"


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


# ----------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Effect:
    """One outcome's paired effect in one time frame, as the findings state it.

    Attributes:
        metric: the outcome.
        kind: :func:`effect_kind` of the difference.
        verdict: good, bad or neutral for a clear change, else unclear
            (``model.analysis.stats.verdict``).
        clause: the clause stating it ('raises X by ...'); for an unclear or identical
            effect, the outcome's label as inside a sentence.
    """

    metric: str
    kind: str
    verdict: str
    clause: str

    @property
    def label(self) -> str:
        """The outcome's label as inside a sentence."""
        return in_sentence(metric_info(self.metric).label)


def _effects(
    summary: pd.DataFrame,
    name: str,
    reference: str,
    metrics: Sequence[str],
    measure_of: Callable[[Metric], str],
    steps: int,
    relative: bool = False,
) -> list[Effect]:
    """Each outcome's effect for one scenario and one kind of measure (``measure_of``)."""
    out = []
    for metric in metrics:
        disp = metric_info(metric)
        measure = measure_of(disp)
        row = _row(summary, name, metric, measure)
        if row is None:
            continue
        values = (float(row["diff"]), float(row["diff_ci_low"]), float(row["diff_ci_high"]))
        kind = effect_kind(*(v * disp.scale for v in values))
        when = measure_words(measure, steps) if measure in ("last_quarter", "run_mean") else ""
        rel = math.nan
        if relative and disp.summable:
            ref = _row(summary, reference, metric, measure)
            base = float(ref["mean"]) if ref is not None else math.nan
            rel = relative_change(*values, base, count=disp.kind == "flow")
        direction = measure_direction(metric, measure)
        unit = disp.total_unit if measure == "cumulative" else None
        n_pairs = int(row["n_pairs"])
        if kind in ("unclear", "identical"):
            clause = in_sentence(disp.label)
        else:
            clause = effect_clause(disp, *values, n_pairs, when, direction, rel, unit)
        out.append(Effect(metric, kind, verdict(direction, *values), clause))
    return out


def _split(effects: Sequence[Effect]) -> tuple[list[str], list[str], list[str], list[str]]:
    """Clauses of clear effects; labels of unclear and of identical ones; other clauses."""
    clear = [e.clause for e in effects if e.kind in ("up", "down")]
    unclear = [e.clause for e in effects if e.kind == "unclear"]
    identical = [e.clause for e in effects if e.kind == "identical"]
    other = [e.clause for e in effects if e.kind in ("single", "none")]
    return clear, unclear, identical, other


def _list_clauses(stated: Sequence[str]) -> str:
    """Join clauses; with semicolons when they carry their own commas (improvement words)."""
    if any(c.endswith(("an improvement", "a worsening")) for c in stated) and len(stated) > 1:
        return "; ".join(stated[:-1]) + "; and " + stated[-1]
    return _and(stated)


def _join_effects(lead: str, effects: Sequence[Effect]) -> str:
    clear, unclear, identical, other = _split(effects)
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


@dataclass(frozen=True)
class _Frames:
    """A scenario's effects in each time frame of the findings."""

    window: tuple[int, int] | None
    while_acting: list[Effect]
    at_end: list[Effect]
    totals: list[Effect]


def _frames(
    summary: pd.DataFrame,
    name: str,
    reference: str,
    metrics: Sequence[str],
    window: tuple[int, int] | None,
    steps: int,
) -> _Frames:
    while_acting: list[Effect] = []
    if window is not None:
        measure = window_measure(*window)
        while_acting = _effects(
            summary, name, reference, metrics, lambda d: measure, steps, relative=True
        )
    at_end = _effects(summary, name, reference, metrics, lambda d: d.headline_measure, steps)
    flows = [m for m in metrics if metric_info(m).summable]
    totals = _effects(summary, name, reference, flows, lambda d: "cumulative", steps)
    return _Frames(window if while_acting else None, while_acting, at_end, totals)


def _all_identical(effects: Sequence[Effect]) -> bool:
    return bool(effects) and all(e.kind == "identical" for e in effects)


def _same_outcomes(name: str, reference: str) -> str:
    return (
        f"{name} gives exactly the same outcomes as {reference} in every paired run "
        "(the same seeds, so the same chance events)"
    )


def _threshold_parts(
    summary: pd.DataFrame, name: str, reference: str, thresholds: Mapping[str, Sequence[float]]
) -> str:
    """Say the weeks to each threshold, one part per metric and level, joined by semicolons."""
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
    return "; ".join(parts)


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
    ``windows``: means over those weeks, weekly flows also in per cent of the reference
    where it can carry it), so a programme that ends early is judged when it runs. Then
    each outcome at the end of the run (its value at the last week, or for weekly flows
    the mean over the last 13 weeks), the total change of weekly counts and values over
    the whole run, the weeks to each threshold, and the cost. Clear effects (the 95%
    interval of the paired difference excludes 0) are stated with their size, interval
    and whether they are an improvement or a worsening (``model.metrics.good_direction``);
    the other outcomes are listed as making no clear difference. The report shows the
    same effects structured (:func:`scenario_findings`).

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
    out = {reference: _reference_sentence(reference)}
    for name in scenarios[1:]:
        frames = _frames(summary, name, reference, metrics, windows.get(name), steps)
        sentences: list[str] = []
        if frames.window is not None:
            first, last = frames.window
            lead = f"While its policies act (weeks {first} to {last}), {name} "
            sentences.append(_join_effects(lead, frames.while_acting) + ".")
        if _all_identical(frames.at_end):
            text = _same_outcomes(name, reference)
        else:
            text = _join_effects(
                f"Compared with {reference}, by week {steps} {name} ", frames.at_end
            )
        sentences.append(text + ".")
        clear = _split(frames.totals)[0]
        if clear:
            sentences.append(
                f"Over the whole run (weeks 1 to {steps}, in total) it "
                + _list_clauses(clear)
                + "."
            )
        limit = _threshold_parts(summary, name, reference, thresholds or {})
        if limit:
            sentences.append(f"Time to threshold: {limit}.")
        cost = _cost_sentence(summary, name, reference, metrics)
        if cost:
            sentences.append(cost)
        out[name] = " ".join(sentences)
    return out


def _reference_sentence(reference: str) -> str:
    return f"{reference} is the reference: every other scenario is compared with it."


@dataclass(frozen=True)
class Findings:
    """A scenario's findings as the report shows them: a short lead, then a list.

    Attributes:
        lead: one sentence: what it clearly improves, worsens or changes while its
            policies act and at the end of the run, and how many outcomes show no clear
            difference.
        items: (heading, text) per outcome group (:func:`outcome_group`), then
            "Time to threshold" and "Cost" when there are any.
    """

    lead: str
    items: tuple[tuple[str, str], ...] = ()


def outcome_group(metric: str) -> str:
    """Return the heading a metric is listed under in the findings: what it counts (``of``).

    Indices (trust, credibility, 0 to 100) and money form their own groups.
    """
    info = metric_info(metric)
    if info.kind == "index":
        return "Indices (0 to 100)"
    if info.kind in ("money", "money_flow"):
        return f"Money ({info.of})"
    return info.of[:1].upper() + info.of[1:] if info.of else "Other outcomes"


def _outline(effects: Sequence[Effect]) -> str:
    """Sum up a frame's effects: 'improves A and B, worsens C and makes no clear ...'."""
    named = {
        verb: [e.label for e in effects if e.kind in ("up", "down") and e.verdict == kind]
        for verb, kind in (("improves", "good"), ("worsens", "bad"), ("changes", "neutral"))
    }
    parts = [f"{verb} {_and(labels)}" for verb, labels in named.items() if labels]
    untold = sum(e.kind in ("single", "none") for e in effects)
    unclear = len(effects) - untold - sum(len(v) for v in named.values())
    if unclear:
        noun = "outcome" if unclear == 1 else "outcomes"
        rest = (
            f"the other {unclear}"
            if parts
            else ("its" if unclear == 1 else f"any of its {unclear}")
        )
        parts.append(f"makes no clear difference to {rest} {noun}")
    if untold:
        parts.append(f"has too few paired runs for an interval on {untold} outcome(s)")
    return _and(parts) if parts else "has no outcomes to compare"


def _group_text(frames: _Frames, metrics: Sequence[str], steps: int) -> str:
    """Write the sentences on one outcome group: while the policies act, at the end, in total.

    A group without a clear change in any frame gets one sentence saying so.
    """
    chosen = set(metrics)

    def mine(effects: Sequence[Effect]) -> list[Effect]:
        return [e for e in effects if e.metric in chosen]

    acting = mine(frames.while_acting) if frames.window is not None else []
    at_end, clear_totals = mine(frames.at_end), _split(mine(frames.totals))[0]
    when = f"by week {steps}"
    if frames.window is not None:
        when = f"while its policies act (weeks {frames.window[0]} to {frames.window[1]}) or {when}"
    quiet = [e for e in acting + at_end if e.kind in ("unclear", "identical")]
    if at_end and len(quiet) == len(acting) + len(at_end) and not clear_totals:
        labels = list(dict.fromkeys(e.label for e in quiet))
        return f"No clear difference to {_and(labels)}, {when}."
    sentences = []
    if acting:
        first, last = frames.window or (0, 0)
        sentences.append(
            _join_effects(f"While its policies act (weeks {first} to {last}) it ", acting)
        )
    if at_end:
        sentences.append(_join_effects(f"By week {steps} it ", at_end))
    if clear_totals:
        sentences.append(f"In total over weeks 1 to {steps} it " + _list_clauses(clear_totals))
    return " ".join(s + "." for s in sentences)


def scenario_findings(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
    thresholds: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Findings]:
    """Structure each scenario's findings: a short lead sentence, then one item per outcome group.

    The same effects as :func:`scenario_sentences` (arguments alike): the lead names what
    the scenario clearly improves, worsens or changes while its policies act and by the
    last week; each outcome group's item (:func:`outcome_group`, in the order of
    ``metrics``) states the effects on its outcomes with their intervals; then the weeks
    to each threshold and the cost.

    Returns:
        name -> Findings; the reference's says it is the reference.
    """
    reference = scenarios[0]
    metrics = list(metrics or metrics_tagged("report"))
    windows = dict(windows or {})
    out = {reference: Findings(_reference_sentence(reference))}
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        groups.setdefault(outcome_group(metric), []).append(metric)
    for name in scenarios[1:]:
        frames = _frames(summary, name, reference, metrics, windows.get(name), steps)
        if _all_identical(frames.at_end) and not frames.window:
            out[name] = Findings(_same_outcomes(name, reference) + ".")
            continue
        at_end = _outline(frames.at_end)
        if frames.window is not None:
            first, last = frames.window
            lead = (
                f"While its policies act (weeks {first} to {last}), {name} "
                f"{_outline(frames.while_acting)}; by week {steps} it {at_end}."
            )
        else:
            lead = f"Compared with {reference}, by week {steps} {name} {at_end}."
        items = [
            (heading, text)
            for heading, members in groups.items()
            if (text := _group_text(frames, members, steps))
        ]
        limit = _threshold_parts(summary, name, reference, thresholds or {})
        if limit:
            items.append(("Time to threshold", limit[:1].upper() + limit[1:] + "."))
        cost = _cost_sentence(summary, name, reference, metrics)
        if cost:
            items.append(("Cost", cost))
        out[name] = Findings(lead, tuple(items))
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
        size, first, second = format_together(
            abs(per), min(abs(lo), abs(hi)), max(abs(lo), abs(hi))
        )
        verb = "raises" if per > 0 else "lowers"
        text += (
            f"; each {format_number(PER_COST)} units spent {verb} {in_sentence(disp.label)} "
            f"by {size}{_unit_suffix(disp.difference_unit)} ({first} to {second})"
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
    value, first, second = format_together(m, lo, hi)
    if np.isfinite(lo) and np.isfinite(hi):
        return Shown(value, first, second)
    return Shown(value)


def _paired_cell(diff: float, low: float, high: float, direction: int = 0) -> Shown:
    """Format a paired difference (in shown units), coloured by its verdict.

    Good is green, bad red, neutral (neither better nor worse) blue; an interval that
    contains 0, or none, is grey ('flat') whatever the sign.
    """
    if not np.isfinite(diff):
        return Shown("")
    read = verdict(direction, diff, low, high)
    css = "flat" if read == "unclear" else read
    value, first, second = format_together(diff, low, high)
    sign = "+" if diff > 0 else ""
    if np.isfinite(low) and np.isfinite(high):
        return Shown(f"{sign}{value}", first, second, css)
    return Shown(f"{sign}{value}", css=css)


def _diff_cell(row: pd.Series, scale: float, direction: int = 0) -> Shown:
    """Format a summary row's paired difference (:func:`_paired_cell`)."""
    return _paired_cell(
        row["diff"] * scale, row["diff_ci_low"] * scale, row["diff_ci_high"] * scale, direction
    )


def _who_gains_data(gains: pd.DataFrame) -> dict[str, Any]:
    """Each group's paired gain with its 95% interval, in the units of the findings."""
    metrics = [c.removesuffix("_gain") for c in gains.columns if c.endswith("_gain")]
    rows = []
    for _, row in gains.iterrows():
        cells = []
        for metric in metrics:
            info = group_metric(metric)
            values = (row[f"{metric}_gain{part}"] * info.scale for part in ("", "_low", "_high"))
            cells.append(_paired_cell(*values, info.good))
        rows.append({"by": str(row["by"]), "group": str(row["group"]), "cells": cells})
    step = int(gains["step"].max()) if len(gains) else 0
    columns = [
        {
            "label": group_metric(m).label,
            "unit": group_metric(m).difference_unit,
            "when": gain_words(m, step),
        }
        for m in metrics
    ]
    return {"columns": columns, "rows": rows}


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
    """Build the cost table, one column per scenario: its costs, then one row per outcome.

    Outcomes are rows, so the table grows downwards with the outcomes and stays as narrow
    as the number of scenarios allows.
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
    columns = []
    for name in scenarios:
        sub = summary[summary["scenario"] == name]
        if sub.empty:
            continue
        total = float(sub["total_cost"].iloc[0])
        extra = float(sub["extra_cost"].iloc[0])
        columns.append(
            {
                "name": name,
                "color": colors[name],
                "total": format_number(total),
                "extra": format_number(extra) if np.isfinite(extra) else "reference",
            }
        )
    rows = []
    for metric in shown:
        info = metric_info(metric)
        cells: list[Shown | None] = []
        for column in columns:
            row = rows_by.get((column["name"], metric))
            if row is None or not np.isfinite(row["effect_per_unit_cost"]):
                cells.append(None)
                continue
            cells.append(
                _cell(
                    row["effect_per_unit_cost"],
                    row["effect_per_unit_cost_ci_low"],
                    row["effect_per_unit_cost_ci_high"],
                    info.scale * PER_COST,
                )
            )
        rows.append({"label": info.label, "unit": info.difference_unit, "cells": cells})
    return {
        "cost_unit": COST_UNIT,
        "reference": scenarios[0],
        "per_cost": format_number(PER_COST),
        "columns": columns,
        "rows": rows,
    }


def cost_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> str:
    """HTML table: total cost, extra cost, and effect per 1,000 units of extra cost.

    One column per scenario; effects are each metric's headline measure, one row per
    metric; metrics without any per-cost effect (no scenario spends more than the
    reference) get no row.
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
    findings = scenario_findings(
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
            (
                colors[name],
                findings.get(
                    name, Findings(f"{name}: no run finished, so it is left out (see Failed runs).")
                ),
            )
            for name in all_names
        ],
        relative_rule={
            "count": format_number(MIN_COUNT_PER_WEEK),
            "width": format_number(MAX_RELATIVE_WIDTH * 100),
        },
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
    "Findings",
    "cost_table",
    "effect_clause",
    "outcome_table",
    "render_report",
    "scenario_findings",
    "scenario_sentences",
    "settings_differences",
    "write_report",
]
