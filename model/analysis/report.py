"""The HTML report of a policy comparison: one self-contained file a policymaker can read.

Its first paragraph says who wins and who loses from every scenario against the
reference, party by party, each with its paired effect and 95% interval: consumers
(surplus; losses to counterfeits and fraud, summed run by run), merchants (in business at
the last week; profit over the run), the state (net fiscal cost over the run: positive
costs the state), platforms (revenue), KOLs (fee income) and payment providers (fee
income); "no clear change" where the interval includes 0. Which metrics measure each
party is declared once, in the metric registry (tag ``stakeholders``, ``Metric.party``);
those missing from the results (older runs) are left out (:func:`stakeholder_effects`).
A party that clearly loses is named again in the scenario's findings, next to any
improvement they state, so a lever that raises an adoption share while merchants close is
never just "an improvement". The same text, without tables and figures, is written as
Markdown (``report.md``, :func:`write_report` with ``markdown``).

Then: what was compared (scenarios, replications, weeks, seeds, settings
that differ from the reference), the findings, the policy timelines side by side (a
table and a figure), the figures, the outcome tables, who gains by group, the costs,
and any failed runs. Figures are embedded as base64 PNG, so the file can be mailed or
archived on its own. Costs: policy spending and, when the runs hold it, the net fiscal
cost (``net_fiscal_cost`` summed over the run: what the state pays out minus what it takes
in, so lost tariff revenue counts); cost-effectiveness divides by the net fiscal cost when
present, else by policy spending, and the text says which (:func:`cost_basis`).

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
in the flow's own unit: orders, yuan); then the weeks to any threshold
(``--threshold``) and the cost. :func:`scenario_sentences` writes the same effects as one
paragraph per scenario (the console's summary), opening with who wins and who loses. The
effects are classified once (:func:`scenario_effects`) and every text is written from that
classification. A weekly flow's change is also given in
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
    COST_COLUMN,
    MAX_RELATIVE_WIDTH,
    MIN_COUNT_PER_WEEK,
    QUARTER,
    judgement,
    measure_direction,
    paired_difference,
    parse_threshold,
    parse_window,
    relative_change,
    summarize,
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

COST_UNIT = "yuan"
PER_COST = 10_000.0
"""Effects per unit cost are reported per this many yuan."""


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
        outcomes: the per-run table the summary was computed from
            (``stats.measures_per_run``), or None: with it a party's losses are summed run
            by run and cost-effectiveness uses the net fiscal cost where the runs have it.
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
    outcomes: pd.DataFrame | None = None


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


def _and(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


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


# ----------------------------------------------------------------------------- who wins, who loses

PARTY_NAMES: dict[str, str] = {
    "consumers": "Consumers",
    "merchants": "Merchants",
    "state": "The state",
    "platforms": "Platforms",
    "kols": "KOLs",
    "payment_providers": "Payment providers",
}
"""The parties of the report's first paragraph, in its order, as they open a sentence.

Which metrics measure each party's stake is declared in the metric registry (tag
``stakeholders``, ``Metric.party``); a party not named here follows, named after its
ledger name.
"""

_PARTY_VERBS: dict[str, tuple[str, str]] = {"state": ("gains", "pays")}
"""A party's words for a gain and a loss where not 'gain' and 'lose'."""

NET_FISCAL_COST = "net_fiscal_cost"
"""The metric cost-effectiveness divides by when the results hold it (summed over the run)."""


def _party_good(metric: str) -> int:
    """+1 when more of a stakeholder metric is a gain for its party, -1 when it is a loss.

    The metric's good direction (``model.metrics``) where it has one; income that is
    neither good nor bad for the economy as a whole (platforms' revenue, KOLs' fees) is a
    gain for the party that receives it.
    """
    return metric_info(metric).good or 1


def _stake_measure(metric: str) -> str:
    """Return the measure of a stake: a weekly flow summed over the run, else the last week."""
    disp = metric_info(metric)
    return "cumulative" if disp.summable else disp.headline_measure


def _stem(word: str) -> str:
    return word.lower().rstrip("'").rstrip("s")


def _stake_label(label: str, party: str) -> str:
    """Shorten a label inside its party's sentence: 'Merchants in business' -> 'in business'."""
    words, own = label.split(" "), party.split("_")
    if len(words) > len(own) and [_stem(w) for w in words[: len(own)]] == [_stem(w) for w in own]:
        return " ".join(words[len(own) :])
    return in_sentence(label)


def _joint_label(labels: Sequence[str]) -> str:
    """Labels of summed metrics as one: 'losses to counterfeits and payment fraud'."""
    split = [in_sentence(label).split(" ") for label in labels]
    common = 0
    while all(len(w) > common + 1 for w in split) and len({w[common] for w in split}) == 1:
        common += 1
    if not common:
        return _and([in_sentence(label) for label in labels])
    return " ".join(split[0][:common]) + " " + _and([" ".join(w[common:]) for w in split])


@dataclass(frozen=True)
class Stake:
    """One outcome of a party in one scenario: the paired difference from the reference.

    Attributes:
        metrics: the metric, or the metrics summed run by run (a party's losses).
        label: as inside the party's sentence ("in business", "profit").
        measure: ``final`` (a stock at the last week) or ``cumulative`` (a weekly flow
            summed over the run).
        good: +1 when more of it is a gain for the party, -1 when more is a loss.
        diff: the mean paired difference, in shown units.
        low: lower bound of its 95% interval (NaN with one pair).
        high: upper bound.
        n_pairs: paired runs.
        count: True for a number of things (said as "N more" or "N fewer").
    """

    metrics: tuple[str, ...]
    label: str
    measure: str
    good: int
    diff: float
    low: float
    high: float
    n_pairs: int
    count: bool = False

    @property
    def kind(self) -> str:
        """:func:`effect_kind` of the difference."""
        return effect_kind(self.diff, self.low, self.high)

    @property
    def reading(self) -> str:
        """'gain' or 'loss' for the party when clear (the interval excludes 0), else the kind."""
        if self.kind in ("up", "down"):
            return "gain" if self.good * self.diff > 0 else "loss"
        return self.kind

    @property
    def subject(self) -> str:
        """The label after 'no change in': 'the number in business', 'profit'."""
        return f"the number {self.label}" if self.label.startswith("in ") else self.label

    def words(self, steps: int) -> str:
        """Say the stake as the party's sentence does: 'profit -352 (-452 to -252)'."""
        when = f" by week {steps}" if self.measure == "final" and steps else ""
        kind = self.kind
        if kind == "identical":
            return f"{self.subject} unchanged"
        if kind == "single":
            value = format_number(self.diff)
            sign = "+" if self.diff > 0 else ""
            return f"{self.label} {sign}{value}{when} (one paired run: no interval)"
        if kind == "unclear":
            first, second = format_together(self.low, self.high)
            return f"no clear change in {self.subject}{when} ({first} to {second})"
        if self.count:
            size, first, second = format_together(abs(self.diff), self.low, self.high)
            more = "more" if self.diff > 0 else "fewer"
            return f"{size} {more} {self.label}{when} ({first} to {second})"
        size, first, second = format_together(self.diff, self.low, self.high)
        sign = "+" if self.diff > 0 else ""
        return f"{self.label} {sign}{size}{when} ({first} to {second})"


@dataclass(frozen=True)
class PartyEffect:
    """Whether a party wins or loses in one scenario, from its stakes.

    Attributes:
        party: the ledger party (consumers, merchants, state, ...).
        stakes: its outcomes, in the order of the ``stakeholders`` tag.
    """

    party: str
    stakes: tuple[Stake, ...]

    @property
    def name(self) -> str:
        """The party as it opens a sentence ("Merchants", "The state")."""
        return PARTY_NAMES.get(self.party, self.party.replace("_", " ").capitalize())

    @property
    def outcome(self) -> str:
        """'gains', 'loses', 'mixed', 'unclear' (no clear change) or 'identical'.

        A party gains when at least one stake is a clear gain and none a clear loss; it
        loses in the opposite case; 'mixed' when it has both.
        """
        readings = {s.reading for s in self.stakes}
        if readings == {"identical"}:
            return "identical"
        gain, loss = "gain" in readings, "loss" in readings
        if gain and loss:
            return "mixed"
        return "gains" if gain else "loses" if loss else "unclear"

    def sentence(self, steps: int) -> str:
        """Say it: 'Merchants lose: 4.7 fewer in business by week 60 (-6.1 to -3.2), profit ...'."""
        outcome = self.outcome
        if outcome == "identical":
            labels = [s.subject for s in self.stakes]
            return (
                f"{self.name}: no change in {_and(labels, 'or')} (identical in every paired run)."
            )
        if outcome == "unclear" and all(s.kind == "unclear" for s in self.stakes):
            parts = [s.words(steps).removeprefix("no clear change in ") for s in self.stakes]
            return f"{self.name}: no clear change in " + _and(parts, "or") + "."
        singular = not self.name.endswith("s")
        win, lose = _PARTY_VERBS.get(
            self.party, ("gains", "loses") if singular else ("gain", "lose")
        )
        head = {
            "gains": f"{self.name} {win}",
            "loses": f"{self.name} {lose}",
            "mixed": f"{self.name} {win} and {lose}",
        }.get(outcome, self.name)
        return f"{head}: " + ", ".join(s.words(steps) for s in self.stakes) + "."


def _summary_stake(summary: pd.DataFrame, name: str, metric: str, party: str) -> Stake | None:
    measure = _stake_measure(metric)
    row = _row(summary, name, metric, measure)
    if row is None or int(row["n_pairs"]) == 0 or not np.isfinite(row["diff"]):
        return None
    disp = metric_info(metric)
    diff, low, high = (float(row[k]) * disp.scale for k in ("diff", "diff_ci_low", "diff_ci_high"))
    return Stake(
        (metric,),
        _stake_label(disp.label, party),
        measure,
        _party_good(metric),
        diff,
        low,
        high,
        int(row["n_pairs"]),
        disp.kind == "count",
    )


def _summed_stake(
    outcomes: pd.DataFrame, name: str, reference: str, metrics: Sequence[str], party: str
) -> Stake | None:
    """Return the paired difference of several weekly flows summed over the run, run by run."""
    part = outcomes[outcomes["metric"].isin(metrics) & (outcomes["measure"] == "cumulative")]
    if set(part["metric"]) != set(metrics):
        return None

    def totals(scenario: str) -> pd.Series:
        own = part[part["scenario"] == scenario]
        return own.groupby(["replication", "seed"])["value"].sum(min_count=len(metrics))

    pairs = pd.concat([totals(name), totals(reference)], axis=1, keys=["a", "b"], join="inner")
    interval = paired_difference(pairs["a"].to_numpy(), pairs["b"].to_numpy())
    if interval.n == 0:
        return None
    labels = [metric_info(m).label for m in metrics]
    return Stake(
        tuple(metrics),
        _stake_label(_joint_label(labels), party),
        "cumulative",
        -1,
        interval.mean,
        interval.low,
        interval.high,
        interval.n,
    )


def stakeholder_effects(
    summary: pd.DataFrame,
    name: str,
    reference: str,
    outcomes: pd.DataFrame | None = None,
) -> tuple[PartyEffect, ...]:
    """Say who wins and who loses from a scenario against the reference, party by party.

    The stakes are the metrics tagged ``stakeholders`` in the registry, grouped by their
    ``party``; those missing from the results (older runs) are left out. A stock (merchants
    in business) is read at the last week, a weekly flow (money) summed over the run. A
    party's losses (its weekly money flows where less is better: consumers' losses to
    counterfeits and to fraud) are summed run by run into one stake when the per-run
    ``outcomes`` (``stats.measures_per_run``) are given, else each is its own stake.

    Args:
        summary: output of ``stats.summarize`` (paired differences from the reference).
        name: the scenario.
        reference: the reference scenario.
        outcomes: the per-run table ``summary`` was computed from, or None.

    Returns:
        One entry per party with at least one stake, in the order of :data:`PARTY_NAMES`.
    """
    present = set(summary.loc[summary["scenario"] == name, "metric"])
    by_party: dict[str, list[str]] = {}
    for metric in metrics_tagged("stakeholders"):
        if metric in present:
            by_party.setdefault(metric_info(metric).party or "others", []).append(metric)
    order = [p for p in PARTY_NAMES if p in by_party] + [
        p for p in by_party if p not in PARTY_NAMES
    ]
    out = []
    for party in order:
        members = by_party[party]
        losses = [m for m in members if _party_good(m) < 0 and metric_info(m).summable]
        summed = None
        if len(losses) > 1 and outcomes is not None:
            summed = _summed_stake(outcomes, name, reference, losses, party)
        stakes = []
        for metric in members:
            if summed is not None and metric in losses:
                if metric == losses[0]:
                    stakes.append(summed)
                continue
            stake = _summary_stake(summary, name, metric, party)
            if stake is not None:
                stakes.append(stake)
        if stakes:
            out.append(PartyEffect(party, tuple(stakes)))
    return tuple(out)


def _stakeholder_line(name: str, reference: str, parties: Sequence[PartyEffect], steps: int) -> str:
    """Write one scenario's part of the first paragraph (without its name)."""
    if not parties:
        return "these results hold no outcome of any party (older results)."
    return " ".join(p.sentence(steps) for p in parties)


def _stakeholder_lead(reference: str, steps: int) -> str:
    return (
        f"Who wins and who loses, against {reference}: each party's paired difference from "
        f"{reference} with its 95% interval in brackets; money in {COST_UNIT}, summed over "
        f'weeks 1 to {steps}; "no clear change" where the interval includes 0.'
    )


# ----------------------------------------------------------------------------- costs


@dataclass(frozen=True)
class CostBasis:
    """What cost-effectiveness divides by: the net fiscal cost, or else policy spending.

    Attributes:
        summary: the outcome table whose cost columns (``total_cost``, ``extra_cost``,
            ``effect_per_unit_cost`` and its interval) use this basis.
        spending: the outcome table as given (its cost columns: policy spending).
        net: True for the net fiscal cost summed over the run (``net_fiscal_cost``:
            what the state pays out minus what it takes in, so forgone tariff revenue
            counts as a cost); False for policy spending (results without it).
        per_cost: False when the effects per unit of net fiscal cost cannot be computed
            (the net fiscal cost read from the summary, without the per-run table).
    """

    summary: pd.DataFrame
    spending: pd.DataFrame
    net: bool
    per_cost: bool = True

    @property
    def words(self) -> str:
        """The basis in words: 'net fiscal cost' or 'policy spending'."""
        return "net fiscal cost" if self.net else "policy spending"


def cost_basis(summary: pd.DataFrame, outcomes: pd.DataFrame | None = None) -> CostBasis:
    """Choose what cost-effectiveness divides by and recompute the cost columns for it.

    With the per-run ``outcomes`` holding ``net_fiscal_cost`` (summed over the run), each
    run's cost is its net fiscal cost and the summary's cost columns are recomputed with
    ``stats.summarize`` (same rules: effect per unit of extra cost only where the scenario
    costs more than the reference in every paired run). Without the per-run table, a
    summary holding ``net_fiscal_cost`` gives each scenario's net fiscal cost and its mean
    paired difference, but no effect per unit of it. Otherwise policy spending, as
    ``summary`` has it.
    """
    rows = None
    if outcomes is not None and not outcomes.empty:
        rows = (outcomes["metric"] == NET_FISCAL_COST) & (outcomes["measure"] == "cumulative")
    if rows is None or not rows.any():
        net = summary[
            (summary["metric"] == NET_FISCAL_COST) & (summary["measure"] == "cumulative")
        ].set_index("scenario")
        if net.empty:
            return CostBasis(summary, summary, False)
        table = summary.assign(
            total_cost=summary["scenario"].map(net["mean"]),
            extra_cost=summary["scenario"].map(net["diff"]),
            effect_per_unit_cost=math.nan,
            effect_per_unit_cost_ci_low=math.nan,
            effect_per_unit_cost_ci_high=math.nan,
        )
        return CostBasis(table, summary, True, per_cost=False)
    net = outcomes[rows].assign(metric=COST_COLUMN, measure="total")
    spending = (outcomes["metric"] == COST_COLUMN) & (outcomes["measure"] == "total")
    order = list(dict.fromkeys(summary["scenario"]))
    table = summarize(pd.concat([outcomes[~spending], net], ignore_index=True), scenarios=order)
    return CostBasis(table, summary, True)


def _per_cost_clause(basis: CostBasis, name: str, metrics: Sequence[str]) -> str:
    """Return the per-cost effect of the outcome the scenario moves most clearly, or ''."""
    best: tuple[float, str, float, float, float] | None = None
    for metric in metrics:
        found = _headline_row(basis.summary, name, metric)
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
    if best is None:
        return ""
    _, metric, per, lo, hi = best
    disp = metric_info(metric)
    factor = disp.scale * PER_COST
    per, lo, hi = per * factor, lo * factor, hi * factor
    size, first, second = format_together(abs(per), min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))
    verb = "raises" if per > 0 else "lowers"
    spent = "of extra net fiscal cost" if basis.net else "spent"
    return (
        f"; each {format_number(PER_COST)} {COST_UNIT} {spent} {verb} {in_sentence(disp.label)} "
        f"by {size}{_unit_suffix(disp.difference_unit)} ({first} to {second})"
    )


def _cost_sentence(basis: CostBasis, name: str, reference: str, metrics: Sequence[str]) -> str:
    """Say what a scenario costs and, where it costs more than the reference, its effect per cost.

    Says which cost it uses: the net fiscal cost when the results hold it, else policy
    spending.
    """
    spent = basis.spending[basis.spending["scenario"] == name]
    rows = basis.summary[basis.summary["scenario"] == name]
    if spent.empty or rows.empty:
        return ""
    spending = float(spent["total_cost"].iloc[0])
    total = float(rows["total_cost"].iloc[0])
    extra = float(rows["extra_cost"].iloc[0])
    per_cost = _per_cost_clause(basis, name, metrics)
    if basis.net:
        moved = np.isfinite(extra) and extra != 0
        if not np.isfinite(total) or not (spending > 0 or moved):
            return ""
        text = (
            f"Its net fiscal cost (what the state pays out minus what it takes in, so lost "
            f"tariff revenue counts) is {format_number(total)} {COST_UNIT} over the run"
        )
        if total < 0:
            text += " (the state takes in more than it pays out)"
        if np.isfinite(extra) and extra != 0:
            more = "more" if extra > 0 else "less"
            text += f", {format_number(abs(extra))} {more} than {reference}'s"
        elif np.isfinite(extra):
            text += f", the same as {reference}'s"
        text += f"; its policies spend {format_number(spending)}"
        return text + per_cost + ". Cost here is the net fiscal cost."
    if not np.isfinite(total) or total <= 0:
        return ""
    text = f"Its policies cost {format_number(total)} {COST_UNIT} in total"
    if np.isfinite(extra) and extra != total:
        text += f" ({format_number(extra)} more than {reference})"
    return (
        text + per_cost + ". Cost here is policy spending (these results hold no net fiscal cost)."
    )


# ----------------------------------------------------------------------------- one classifier


@dataclass(frozen=True)
class ScenarioEffects:
    """One scenario against the reference, classified once for every text that states it.

    The console's paragraph (:func:`scenario_sentences`), the report's findings
    (:func:`scenario_findings`) and its first paragraph (who wins and who loses) are all
    written from this.

    Attributes:
        name: the scenario.
        frames: its outcomes' effects while its policies act, at the end, in total.
        parties: who wins and who loses (:func:`stakeholder_effects`).
        thresholds: the weeks to each threshold, in words ('' without thresholds).
        cost: the cost sentence ('' when it costs nothing).
    """

    name: str
    frames: _Frames
    parties: tuple[PartyEffect, ...]
    thresholds: str
    cost: str

    @property
    def losers(self) -> tuple[PartyEffect, ...]:
        """The parties that clearly lose something (outcome 'loses' or 'mixed')."""
        return tuple(p for p in self.parties if p.outcome in ("loses", "mixed"))


def scenario_effects(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    outcomes: pd.DataFrame | None = None,
    *,
    basis: CostBasis | None = None,
) -> dict[str, ScenarioEffects]:
    """Classify every scenario's effects against the reference (the first), once.

    Args:
        summary: output of ``stats.summarize``.
        scenarios: scenario order, the first being the reference.
        steps: last week.
        metrics: outcomes (default: the metrics tagged ``report``).
        windows: name -> (first, last) week its policies act.
        thresholds: metric -> levels of time-to-threshold outcomes in the summary.
        outcomes: the per-run table ``summary`` was computed from (``stats.measures_per_run``),
            or None; with it a party's losses are summed run by run and cost-effectiveness
            uses the net fiscal cost where the runs have it (:func:`cost_basis`).
        basis: the cost basis when already computed (default: from ``outcomes``).

    Returns:
        name -> its effects, for every scenario after the reference.
    """
    reference = scenarios[0]
    metrics = list(metrics or metrics_tagged("report"))
    windows = dict(windows or {})
    basis = basis or cost_basis(summary, outcomes)
    return {
        name: ScenarioEffects(
            name,
            _frames(summary, name, reference, metrics, windows.get(name), steps),
            stakeholder_effects(summary, name, reference, outcomes),
            _threshold_parts(summary, name, reference, thresholds or {}),
            _cost_sentence(basis, name, reference, metrics),
        )
        for name in scenarios[1:]
    }


def _sentences(effects: ScenarioEffects, reference: str, steps: int) -> str:
    """Write the console's paragraph on one scenario: who wins and loses, then every effect."""
    name, frames = effects.name, effects.frames
    sentences: list[str] = []
    if effects.parties:
        sentences.append(f"{name}: " + _stakeholder_line(name, reference, effects.parties, steps))
    if frames.window is not None:
        first, last = frames.window
        lead = f"While its policies act (weeks {first} to {last}), {name} "
        sentences.append(_join_effects(lead, frames.while_acting) + ".")
    if _all_identical(frames.at_end):
        text = _same_outcomes(name, reference)
    else:
        text = _join_effects(f"Compared with {reference}, by week {steps} {name} ", frames.at_end)
    sentences.append(text + ".")
    clear = _split(frames.totals)[0]
    if clear:
        sentences.append(
            f"Over the whole run (weeks 1 to {steps}, in total) it " + _list_clauses(clear) + "."
        )
    if effects.thresholds:
        sentences.append(f"Time to threshold: {effects.thresholds}.")
    if effects.cost:
        sentences.append(effects.cost)
    return " ".join(sentences)


def scenario_sentences(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    outcomes: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Write a plain-language paragraph per scenario on its effects against the reference.

    The paragraph opens with who wins and who loses (:func:`stakeholder_effects`, when the
    results hold the parties' outcomes), then the effects while the scenario's policies
    act (its window in ``windows``: means over those weeks, weekly flows also in per cent
    of the reference where it can carry it), so a programme that ends early is judged when
    it runs. Then each outcome at the end of the run (its value at the last week, or for
    weekly flows the mean over the last 13 weeks), the total change of weekly counts and
    values over the whole run, the weeks to each threshold, and the cost. Clear effects
    (the 95% interval of the paired difference excludes 0) are stated with their size,
    interval and whether they are an improvement or a worsening
    (``model.metrics.good_direction``); the other outcomes are listed as making no clear
    difference. The report shows the same effects structured (:func:`scenario_findings`);
    both are written from one classification (:func:`scenario_effects`, arguments alike).

    Returns:
        name -> text; the reference gets a sentence saying it is the reference.
    """
    reference = scenarios[0]
    classified = scenario_effects(summary, scenarios, steps, metrics, windows, thresholds, outcomes)
    out = {reference: _reference_sentence(reference)}
    for name, effects in classified.items():
        out[name] = _sentences(effects, reference, steps)
    return out


def _reference_sentence(reference: str) -> str:
    return f"{reference} is the reference: every other scenario is compared with it."


@dataclass(frozen=True)
class Findings:
    """A scenario's findings as the report shows them: a short lead, then a list.

    Attributes:
        lead: one sentence: what it clearly improves, worsens or changes while its
            policies act and at the end of the run, and how many outcomes show no clear
            difference; then the parties that clearly lose (merchants in business, profit,
            ...), so an improvement is never stated without the losses.
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


def _findings(
    effects: ScenarioEffects,
    reference: str,
    steps: int,
    groups: Mapping[str, Sequence[str]],
) -> Findings:
    """Write one scenario's findings from its classified effects.

    A party that clearly loses is named right after the lead, and again in the item of the
    outcome group that bears its name (Merchants, Consumers), next to any improvement stated
    there. The state's net fiscal cost is not a finding of this kind (every lever costs
    something): it is in the Cost item and in the first paragraph.
    """
    name, frames = effects.name, effects.frames
    losses = " ".join(p.sentence(steps) for p in effects.losers if p.party != "state")
    if _all_identical(frames.at_end) and not frames.window:
        return Findings(_same_outcomes(name, reference) + ".")
    at_end = _outline(frames.at_end)
    if frames.window is not None:
        first, last = frames.window
        lead = (
            f"While its policies act (weeks {first} to {last}), {name} "
            f"{_outline(frames.while_acting)}; by week {steps} it {at_end}."
        )
    else:
        lead = f"Compared with {reference}, by week {steps} {name} {at_end}."
    if losses:
        lead += " " + losses
    items = []
    for heading, members in groups.items():
        text = _group_text(frames, members, steps)
        if not text:
            continue
        own = [p.sentence(steps) for p in effects.losers if p.name == heading]
        items.append((heading, " ".join([text, *own])))
    if effects.thresholds:
        items.append(
            ("Time to threshold", effects.thresholds[:1].upper() + effects.thresholds[1:] + ".")
        )
    if effects.cost:
        items.append(("Cost", effects.cost))
    return Findings(lead, tuple(items))


def _outcome_groups(metrics: Sequence[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        groups.setdefault(outcome_group(metric), []).append(metric)
    return groups


def scenario_findings(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    outcomes: pd.DataFrame | None = None,
) -> dict[str, Findings]:
    """Structure each scenario's findings: a short lead sentence, then one item per outcome group.

    The same effects as :func:`scenario_sentences` (arguments alike; one classification,
    :func:`scenario_effects`): the lead names what the scenario clearly improves, worsens
    or changes while its policies act and by the last week, then the parties that clearly
    lose; each outcome group's item (:func:`outcome_group`, in the order of ``metrics``)
    states the effects on its outcomes with their intervals; then the weeks to each
    threshold and the cost.

    Returns:
        name -> Findings; the reference's says it is the reference.
    """
    reference = scenarios[0]
    metrics = list(metrics or metrics_tagged("report"))
    classified = scenario_effects(summary, scenarios, steps, metrics, windows, thresholds, outcomes)
    groups = _outcome_groups(metrics)
    out = {reference: Findings(_reference_sentence(reference))}
    for name, effects in classified.items():
        out[name] = _findings(effects, reference, steps, groups)
    return out


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
    unit (orders, yuan), not per week.

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
    basis: CostBasis,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> dict[str, Any]:
    """Build the cost table, one column per scenario: its costs, then one row per outcome.

    Outcomes are rows, so the table grows downwards with the outcomes and stays as narrow
    as the number of scenarios allows. The costs are policy spending and, when the results
    hold it, the net fiscal cost, which the effects per cost then divide by (:func:`cost_basis`).
    """
    summary = basis.summary
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
        spent = basis.spending[basis.spending["scenario"] == name]
        if sub.empty or spent.empty:
            continue
        total = float(sub["total_cost"].iloc[0])
        extra = float(sub["extra_cost"].iloc[0])
        columns.append(
            {
                "name": name,
                "color": colors[name],
                "spending": format_number(float(spent["total_cost"].iloc[0])),
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
        "basis": basis.words,
        "net": basis.net,
        "columns": columns,
        "rows": rows,
    }


def cost_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
    outcomes: pd.DataFrame | None = None,
) -> str:
    """HTML table: total cost, extra cost, and effect per 10,000 yuan of extra cost.

    One column per scenario; effects are each metric's headline measure, one row per
    metric; metrics without any per-cost effect (no scenario costs more than the
    reference in every paired run) get no row. The cost is the net fiscal cost summed
    over the run when the per-run ``outcomes`` hold it, else policy spending
    (:func:`cost_basis`); the table says which.
    """
    basis = cost_basis(summary, outcomes)
    return _table("cost_table", _cost_data(basis, scenarios, metrics, colors))


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


def _stakeholder_data(
    info: ComparisonInfo,
    scenarios: Sequence[str],
    classified: Mapping[str, ScenarioEffects],
    colors: Mapping[str, str],
) -> dict[str, Any]:
    """Build the report's first paragraph: who wins and who loses, one line per scenario."""
    reference = scenarios[0]
    steps = info.steps
    if not any(e.parties for e in classified.values()):
        names = _and([in_sentence(n) for n in PARTY_NAMES.values()], "or")
        return {
            "lead": (
                "Who wins and who loses cannot be said from these results: they hold no "
                f"outcome of {names} (older results)."
            ),
            "lines": [],
        }
    lines = []
    for name in info.scenarios:
        if name == reference:
            continue
        effects = classified.get(name)
        text = (
            _stakeholder_line(name, reference, effects.parties, steps)
            if effects is not None
            else "no run finished, so it is left out (see Failed runs)."
        )
        lines.append({"name": name, "color": colors[name], "text": text})
    return {"lead": _stakeholder_lead(reference, steps), "lines": lines}


def _context(
    info: ComparisonInfo,
    summary: pd.DataFrame,
    figures: Mapping[str, Path],
    metrics: Sequence[str] | None,
    title: str | None,
) -> dict[str, Any]:
    """Compute everything the page shows, once: the HTML and the Markdown are made from it."""
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
    basis = cost_basis(summary, info.outcomes)
    classified = scenario_effects(
        summary,
        scenarios,
        info.steps,
        metrics,
        info.windows,
        info.thresholds,
        info.outcomes,
        basis=basis,
    )
    groups = _outcome_groups(metrics or metrics_tagged("report"))
    findings = {reference: Findings(_reference_sentence(reference))}
    for name, effects in classified.items():
        findings[name] = _findings(effects, reference, info.steps, groups)
    flows = [m for m in metrics if metric_info(m).summable]
    stocks = [m for m in metrics if m not in flows]
    steps = info.steps
    seeds = ", ".join(str(s) for s in info.seeds[:12]) + (" ..." if len(info.seeds) > 12 else "")
    decomposition = info.decomposition
    return dict(
        title=title or f"Policy comparison: {', '.join(scenarios)}",
        info=info,
        stakeholders=_stakeholder_data(info, scenarios, classified, colors),
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
        costs=_cost_data(basis, scenarios, metrics, colors),
        others=_outcome_data(summary, scenarios, others, None, colors, steps) if others else None,
    )


def render_report(
    info: ComparisonInfo,
    summary: pd.DataFrame,
    figures: Mapping[str, Path],
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Render the report as one HTML string (figures embedded).

    Args:
        info: what was compared (with ``info.outcomes``, the per-run table, a party's
            losses are summed run by run and cost-effectiveness uses the net fiscal cost
            where the runs have it).
        summary: output of ``stats.summarize``.
        figures: section title -> PNG file, in display order; a key ``timelines`` is
            shown in the policy section, the others in the figures section.
        metrics: main outcomes for sentences and tables (default: the metrics tagged
            ``report`` present in the summary).
        title: page title.
    """
    return render_page("report.html", **_context(info, summary, figures, metrics, title))


def _markdown(context: Mapping[str, Any]) -> str:
    """Write the report's text in Markdown: who wins and loses, what was compared, the findings.

    The first paragraph is the HTML page's: its lines end with two spaces (a line break
    inside the paragraph).
    """
    info: ComparisonInfo = context["info"]
    stakeholders = context["stakeholders"]
    first = [stakeholders["lead"]] + [
        f"**{line['name']}**: {line['text']}" for line in stakeholders["lines"]
    ]
    parts = [f"# {context['title']}", "  \n".join(first), "## What was compared"]
    compared = []
    for s in context["compared"]:
        item = f"- **{s['name']}**" + (" (reference)" if s["reference"] else "")
        if s["source"]:
            item += f" `{s['source']}`"
        if s["description"]:
            item += f": {s['description']}"
        if s["differences"]:
            item += "  \n  settings that differ from the reference: " + "; ".join(s["differences"])
        compared.append(item)
    parts.append("\n".join(compared))
    parts.append(
        f"Each scenario was run {info.replications} times for {info.steps} weeks; replication "
        "i of every scenario used the same seed (common random numbers), so differences are "
        f"paired run by run. Seeds: {context['seeds']}."
    )
    parts.append("## Findings")
    found = []
    for _, finding in context["findings"]:
        found.append(f"- {finding.lead}")
        found += [f"  - **{heading}**: {text}" for heading, text in finding.items]
    parts.append("\n".join(found))
    if info.failures:
        parts.append(
            f"**{len(info.failures)} run(s) failed** and are left out of the statistics "
            "(manifest.json lists them)."
        )
    parts.append(
        "The tables and figures are in report.html; every number in outcomes.csv and "
        "timeseries.csv next to this file."
    )
    return "\n\n".join(parts) + "\n"


def render_markdown(
    info: ComparisonInfo,
    summary: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Render the report's text as Markdown (arguments as :func:`render_report`, no figures)."""
    return _markdown(_context(info, summary, {}, metrics, title))


def write_report(
    path: str | Path,
    info: ComparisonInfo,
    summary: pd.DataFrame,
    figures: Mapping[str, Path],
    metrics: Sequence[str] | None = None,
    title: str | None = None,
    markdown: str | Path | None = None,
) -> Path:
    """Render the report and write it atomically to ``path``.

    With ``markdown``, also write the report's text as Markdown to that path (the same
    first paragraph and findings, computed once).
    """
    context = _context(info, summary, figures, metrics, title)
    path = Path(path)
    write_bytes_atomic(path, render_page("report.html", **context).encode("utf-8"))
    if markdown is not None:
        write_bytes_atomic(Path(markdown), _markdown(context).encode("utf-8"))
    return path


__all__ = [
    "ComparisonInfo",
    "CostBasis",
    "Findings",
    "PartyEffect",
    "ScenarioEffects",
    "Stake",
    "cost_basis",
    "cost_table",
    "effect_clause",
    "outcome_table",
    "render_markdown",
    "render_report",
    "scenario_effects",
    "scenario_findings",
    "scenario_sentences",
    "settings_differences",
    "stakeholder_effects",
    "write_report",
]
