"""The HTML report of a policy comparison: one self-contained file a policymaker can read.

Sections: what was compared (scenarios, replications, weeks, seeds, settings
that differ from the reference), the policy timelines side by side (a table and
a figure), the findings in plain sentences, the figures, the outcome table, the
cost table, and any failed runs. Figures are embedded as base64 PNG, so the file
can be mailed or archived on its own.

A sentence claims a direction ("raises", "lowers") only when the 95% interval of
the paired difference excludes 0; otherwise it says there is no clear difference.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.plots import MAIN_OUTCOMES, MetricDisplay, metric_display, scenario_colors
from model.experiment.manifest import write_bytes_atomic

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


# ----------------------------------------------------------------------------- numbers


def _decimals(*values: float) -> int:
    finite = [abs(v) for v in values if np.isfinite(v)]
    size = max(finite) if finite else 0.0
    if size == 0.0:
        return 0
    if size >= 100:
        return 0
    if size >= 1:
        return 1
    if size >= 0.1:
        return 2
    if size >= 0.01:
        return 3
    return 4


def fmt_number(value: float, decimals: int | None = None) -> str:
    """Format a number for readers: thousands separators, a sensible number of decimals."""
    if value is None or not np.isfinite(value):
        return "n/a"
    d = _decimals(value) if decimals is None else decimals
    text = f"{value:,.{d}f}"
    return "0" if text in ("-0", "-0.0", "-0.00", "-0.000", "-0.0000") and d == 0 else text


def _lower_label(label: str) -> str:
    first = label.split(" ")[0]
    if len(first) > 1 and first[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def _unit_suffix(disp: MetricDisplay) -> str:
    return f" {disp.difference_unit}" if disp.difference_unit else ""


def effect_clause(disp: MetricDisplay, diff: float, low: float, high: float, n_pairs: int) -> str:
    """One clause on a paired effect: 'raises X by 4.1 points (2.9 to 5.3)' or 'no clear ...'."""
    label = _lower_label(disp.label)
    d, lo, hi = diff * disp.scale, low * disp.scale, high * disp.scale
    if not np.isfinite(d):
        return f"cannot say anything about {label} (no paired runs)"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return (
            f"changes {label} by {fmt_number(d)}{_unit_suffix(disp)} in {n_pairs} paired run"
            f"{'s' if n_pairs != 1 else ''} (too few replications for an interval)"
        )
    if d == lo == hi == 0.0:
        return f"makes no difference to {label} (identical in every paired run)"
    dec = _decimals(d, lo, hi)
    if lo > 0:
        return (
            f"raises {label} by {fmt_number(d, dec)}{_unit_suffix(disp)} "
            f"({fmt_number(lo, dec)} to {fmt_number(hi, dec)})"
        )
    if hi < 0:
        return (
            f"lowers {label} by {fmt_number(-d, dec)}{_unit_suffix(disp)} "
            f"({fmt_number(-hi, dec)} to {fmt_number(-lo, dec)})"
        )
    return (
        f"makes no clear difference to {label} "
        f"(interval {fmt_number(lo, dec)} to {fmt_number(hi, dec)}{_unit_suffix(disp)})"
    )


def _join(clauses: Sequence[str]) -> str:
    if len(clauses) <= 1:
        return "".join(clauses)
    return "; ".join(clauses[:-1]) + "; and " + clauses[-1]


def scenario_sentences(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    steps: int,
    metrics: Sequence[str] = MAIN_OUTCOMES,
    measure: str = "final",
) -> dict[str, str]:
    """Write a plain-language paragraph per scenario (other than the reference) on its effects.

    Args:
        summary: output of ``stats.summarize``.
        scenarios: scenario order, the first being the reference.
        steps: last week, for "by week N".
        metrics: outcomes to mention (those present in the summary).
        measure: ``final`` (at the last week) or ``run_mean`` (averaged over the run).

    Returns:
        name -> text; the reference gets a sentence saying it is the reference.
    """
    reference = scenarios[0]
    part = summary[summary["measure"] == measure]
    present = set(part["metric"])
    when = f"by week {steps}" if measure == "final" else f"on average over weeks 1 to {steps}"
    out = {reference: f"{reference} is the reference: every other scenario is compared with it."}
    for name in scenarios[1:]:
        sub = part[part["scenario"] == name].set_index("metric")
        clauses = []
        for metric in metrics:
            if metric not in present or metric not in sub.index:
                continue
            row = sub.loc[metric]
            clauses.append(
                effect_clause(
                    metric_display(metric),
                    float(row["diff"]),
                    float(row["diff_ci_low"]),
                    float(row["diff_ci_high"]),
                    int(row["n_pairs"]),
                )
            )
        text = f"Compared with {reference}, {when} {name} " + (
            _join(clauses) if clauses else "has no outcomes to compare"
        )
        text += ". (Brackets: 95% interval of the paired difference.)"
        cost = _cost_sentence(summary, name, reference, metrics)
        out[name] = text + (" " + cost if cost else "")
    return out


def _cost_sentence(summary: pd.DataFrame, name: str, reference: str, metrics: Sequence[str]) -> str:
    rows = summary[(summary["scenario"] == name) & (summary["measure"] == "final")]
    if rows.empty:
        return ""
    extra = float(rows["extra_cost"].iloc[0])
    total = float(rows["total_cost"].iloc[0])
    if not np.isfinite(total) or total <= 0:
        return ""
    text = f"Its policies cost {fmt_number(total)} {COST_UNIT} in total"
    if np.isfinite(extra) and extra != total:
        text += f" ({fmt_number(extra)} more than {reference})"
    for metric in metrics:
        sub = rows[rows["metric"] == metric]
        if sub.empty:
            continue
        row = sub.iloc[0]
        if not np.isfinite(row["effect_per_unit_cost"]):
            continue
        lo, hi = row["effect_per_unit_cost_ci_low"], row["effect_per_unit_cost_ci_high"]
        if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0):
            disp = metric_display(metric)
            per = float(row["effect_per_unit_cost"]) * disp.scale * PER_COST
            lo, hi = lo * disp.scale * PER_COST, hi * disp.scale * PER_COST
            dec = _decimals(per, lo, hi)
            text += (
                f"; each {fmt_number(PER_COST)} units spent buys {fmt_number(per, dec)}"
                f"{_unit_suffix(disp)} of {_lower_label(disp.label)} "
                f"({fmt_number(lo, dec)} to {fmt_number(hi, dec)})"
            )
            break
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


def _diff_cell(row: pd.Series, scale: float) -> str:
    d, lo, hi = row["diff"] * scale, row["diff_ci_low"] * scale, row["diff_ci_high"] * scale
    if not np.isfinite(d):
        return ""
    dec = _decimals(d, lo, hi)
    clear = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
    css = "up" if clear and d > 0 else "down" if clear else "flat"
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
    measure: str,
    colors: Mapping[str, str],
) -> str:
    """HTML table: one row per scenario and metric, value and paired difference with intervals."""
    part = summary[summary["measure"] == measure]
    reference = scenarios[0]
    head = (
        "<tr><th>outcome</th><th>scenario</th><th>mean (95% interval)</th>"
        f"<th>difference from {_esc(reference)} (95% interval)</th><th>runs</th></tr>"
    )
    body = []
    for metric in metrics:
        disp = metric_display(metric)
        sub = part[part["metric"] == metric].set_index("scenario")
        unit = f" <small>[{_esc(disp.unit)}]</small>" if disp.unit else ""
        first = True
        for name in scenarios:
            if name not in sub.index:
                continue
            row = sub.loc[name]
            label = f"{_esc(disp.label)}{unit}" if first else ""
            first = False
            body.append(
                f"<tr><td>{label}</td><td>{_swatch(colors[name])}{_esc(name)}</td>"
                f"<td>{_cell(row['mean'], row['ci_low'], row['ci_high'], disp.scale)}</td>"
                f"<td>{_diff_cell(row, disp.scale) if name != reference else 'reference'}</td>"
                f"<td>{int(row['n'])}</td></tr>"
            )
    return f"<table>{head}{''.join(body)}</table>"


def cost_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    metrics: Sequence[str],
    colors: Mapping[str, str],
) -> str:
    """HTML table: total cost, extra cost and effect per 1,000 units on each main outcome."""
    part = summary[summary["measure"] == "final"]
    heads = ""
    for metric in metrics:
        disp = metric_display(metric)
        unit = f" <small>[{_esc(disp.difference_unit)}]</small>" if disp.difference_unit else ""
        heads += f"<th>{_esc(disp.label)} per {fmt_number(PER_COST)} units{unit}</th>"
    head = (
        f"<tr><th>scenario</th><th>total cost ({COST_UNIT})</th>"
        f"<th>extra cost vs {_esc(scenarios[0])}</th>{heads}</tr>"
    )
    body = []
    for name in scenarios:
        sub = part[part["scenario"] == name].set_index("metric")
        if sub.empty:
            continue
        total = float(sub["total_cost"].iloc[0])
        extra = float(sub["extra_cost"].iloc[0])
        cells = []
        for metric in metrics:
            if metric not in sub.index or not np.isfinite(sub.loc[metric, "effect_per_unit_cost"]):
                cells.append("<td>&ndash;</td>")
                continue
            row = sub.loc[metric]
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


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#f4f4f4}small{color:#666}img{max-width:100%;height:auto}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em;
border-radius:2px}
.up{color:#1a7f37;font-weight:600}.down{color:#b42318;font-weight:600}.flat{color:#555}
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
        metrics: main outcomes for sentences and tables (default: MAIN_OUTCOMES present).
        title: page title.
    """
    all_names = list(info.scenarios)
    colors = scenario_colors(all_names)
    finished = set(summary["scenario"])
    # scenarios with at least one finished run; the first of them is the reference
    scenarios = [n for n in all_names if n in finished] or all_names
    reference = scenarios[0]
    present = set(summary["metric"])
    metrics = [m for m in (metrics or MAIN_OUTCOMES) if m in present]
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
    # policies
    parts.append("<h2>Policy timelines</h2>")
    parts.append(_policy_table(info, colors))
    if "timelines" in figures:
        parts.append(_img(figures["timelines"], "policy timelines"))
    # findings
    parts.append("<h2>Findings</h2>")
    parts.append(
        '<p class="note">A scenario "raises" or "lowers" an outcome only when the whole 95% '
        "interval of its paired difference from the reference lies on one side of zero; "
        'otherwise the report says "no clear difference". Shares are in per cent, their '
        "differences in percentage points.</p><ul>"
    )
    sentences = scenario_sentences(summary, scenarios, info.steps, metrics)
    for name in all_names:
        text = sentences.get(name, f"{name}: no run finished, so it is left out (see Failed runs).")
        parts.append(f"<li>{_swatch(colors[name])}{_esc(text)}</li>")
    parts.append("</ul>")
    if info.failures:
        parts.append(
            f'<p class="fail"><strong>{len(info.failures)} run(s) failed</strong> and are left '
            "out of the statistics (see the section Failed runs).</p>"
        )
    # figures
    parts.append("<h2>Figures</h2>")
    for key, path in figures.items():
        if key == "timelines":
            continue
        parts.append(f"<h3>{_esc(key)}</h3>{_img(path, key)}")
    # tables
    parts.append(f"<h2>Outcomes at week {info.steps}</h2>")
    parts.append(outcome_table(summary, scenarios, metrics, "final", colors))
    parts.append("<h2>Outcomes averaged over the run</h2>")
    parts.append(outcome_table(summary, scenarios, metrics, "run_mean", colors))
    parts.append("<h2>Costs</h2>")
    parts.append(
        f'<p class="note">Total policy spending over the run in {COST_UNIT}, and for scenarios '
        f"that spend more than {_esc(reference)}: the paired effect at week {info.steps} per "
        f"{fmt_number(PER_COST)} units of extra spending (95% interval).</p>"
    )
    parts.append(cost_table(summary, scenarios, metrics, colors))
    others = [m for m in all_metrics if m not in metrics]
    if others:
        parts.append("<details><summary>All other metrics at the last week</summary>")
        parts.append(outcome_table(summary, scenarios, others, "final", colors))
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
