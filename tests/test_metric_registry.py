"""The metric registry (model/metrics.py): each metric declared once, every list derived from it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, run_model
from model.analysis import report, stats
from model.analysis.plots import scenario_colors
from model.metrics import (
    METRIC_NAMES,
    METRICS,
    REGISTRY,
    TAGS,
    find_metric,
    format_metric,
    format_number,
    metric_info,
    metric_label,
    metric_unit,
    metrics_tagged,
    platform_reporters,
    reporters_for,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SMALL = ["population.consumers=200", "population.merchants=20", "population.kols=3"]

OLD_LISTS = (
    "KEY_METRICS =",
    "MAIN_OUTCOMES =",
    "REPORT_OUTCOMES =",
    "DEFAULT_OUTCOMES =",
    "PANEL_METRICS =",
)
"""Hand-kept lists of main metrics that the registry's tags replaced."""


def test_each_metric_is_declared_once():
    declared = Counter((m.name, m.per) for m in REGISTRY)
    assert [key for key, count in declared.items() if count > 1] == []
    assert len(METRIC_NAMES) == len(set(METRIC_NAMES))
    for m in REGISTRY:
        assert m.reporter is not None and m.label and m.good in (-1, 0, 1), m.name
        assert m.kind in (
            "share",
            "flow_share",
            "index",
            "count",
            "flow",
            "money_flow",
            "money",
            "mean",
        ), m.name


@pytest.mark.parametrize(
    "scenario", ["baseline.yaml", "four_regions.yaml", "platform_superapp.yaml"]
)
def test_every_run_table_column_has_an_entry(scenario):
    table = run_model(load_scenario(SCENARIOS / scenario, SMALL), seed=1, steps=2)
    columns = [c for c in table.columns if c != "step"]
    assert [c for c in columns if find_metric(c) is None] == []
    # the reporters are the registry's, in its order (the run table's columns)
    regions = sorted({c.split(".", 1)[1] for c in columns if c.startswith("exports_value.")})
    expected = list(reporters_for(regions))
    if any(find_metric(c).platform for c in columns):
        names = sorted({c.split(".", 1)[1] for c in columns if c.startswith("wallet_holders.")})
        expected += list(platform_reporters(names))
    assert sorted(columns) == sorted(expected)
    assert [c for c in columns if "." not in c] == [
        m.name for m in REGISTRY if not m.per and m.name in columns
    ]


def test_tagged_lists_hold_registered_metrics_in_their_declared_order():
    for tag in TAGS:
        names = metrics_tagged(tag)
        assert names, tag
        for name in names:
            m = find_metric(name)
            assert m is not None and not m.per and not m.platform, (tag, name)
        positions = sorted(find_metric(n).tags[tag] for n in names)
        assert positions == list(range(1, len(names) + 1)), tag  # no gap, no tie
    columns = list(reporters_for([]))
    assert list(METRICS) == sorted(METRICS, key=columns.index)  # model.METRICS: column order
    with pytest.raises(KeyError, match="no metric tag"):
        metrics_tagged("mian")


def test_the_old_hand_kept_lists_are_gone():
    """A grep over model/ for the old lists of main metrics finds nothing but the registry.

    Passes once every owner has switched to ``metrics_tagged`` (issue 25).
    """
    found = []
    for path in sorted((ROOT / "model").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(old in line for old in OLD_LISTS):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_units_labels_and_numbers_follow_the_kind():
    assert metric_unit("orders") == "orders per week"
    assert metric_unit("orders", total=True) == "orders"
    assert metric_unit("gmv", total=True) == "yuan"
    assert metric_label("orders", total=True) == "Total mobile orders"
    assert metric_label("kol_credibility") == "KOL credibility"
    assert metric_unit("payment_adoption") == "% of consumers"
    assert metric_unit("mean_trust_domestic") == "index, 0 to 100"
    with pytest.raises(ValueError, match="not summed over weeks"):
        metric_unit("payment_adoption", total=True)
    assert (
        metric_label("exports_value.north")
        == "Cross-border sales of the region's merchants (north)"
    )
    assert metric_info("no_such_column").unit == ""  # unknown columns: named after themselves
    assert metric_info("cross_border_share").headline_measure == "last_quarter"
    assert metric_info("payment_adoption").headline_measure == "final"
    assert format_metric("payment_adoption", 0.4534) == "45.3%"
    assert format_metric("mean_trust_domestic", 0.52) == "52.0"
    assert format_metric("orders", 1234.0) == "1,234"
    assert format_metric("orders", 1234.46, averaged=True) == "1,234.5"
    assert format_metric("platform_follows_per_user", 2.345) == "2.35"
    assert format_metric("gmv", float("nan")) == "n/a"
    assert format_number(0.0004) == "0.0004" and format_number(-0.0) == "0"
    assert format_number(12345.6) == "12,346" and format_number(0.5) == "0.50"
    assert format_number(0.00001, 2) == "0.00001"  # never shows a non-zero as 0
    assert format_number(0.04921, significant=3) == "0.0492"


def _comparison(steps: int) -> tuple[pd.DataFrame, list[str]]:
    """Two replications of the baseline and of the coupons package, paired seeds."""
    parts = []
    names = ["baseline", "consumer_incentives"]
    for name in names:
        scenario = load_scenario(SCENARIOS / f"{name}.yaml", SMALL)
        for rep in range(2):
            table = run_model(scenario, seed=rep, steps=steps)
            parts.append(table.assign(scenario=name, replication=rep, seed=rep))
    return pd.concat(parts, ignore_index=True), names


def test_the_reports_cumulative_table_labels_totals_in_their_own_unit(tmp_path):
    table, names = _comparison(steps=10)
    summary = stats.summarize(stats.measures_per_run(table))
    info = report.ComparisonInfo(
        scenarios=names,
        resolved={n: {"name": n, "policies": []} for n in names},
        steps=10,
        replications=2,
        seeds=[0, 1],
    )
    page = report.write_report(tmp_path / "report.html", info, summary, {})
    text = page.read_text(encoding="utf-8")
    cumulated = text.split("<h2>Outcomes cumulated over the run</h2>")[1].split("<h2>")[0]
    labels = re.findall(
        r"<small>\[([^\]]*)\]</small><br><small>in total over weeks 1 to 10", cumulated
    )
    assert "orders" in labels and "yuan" in labels and "incidents" in labels
    assert not any("per week" in unit for unit in labels), labels
    assert "per week] in total" not in text and "per week]</small><br><small>in total" not in text


def test_the_reports_total_sentences_say_the_total_unit():
    rows = []
    for name, extra in (("ref", 0.0), ("more", 30.0)):
        for rep in range(4):
            for step in range(11):
                rows.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": rep,
                        "step": step,
                        "orders": 100.0 + extra * (step > 0) + rep,
                    }
                )
    summary = stats.summarize(stats.measures_per_run(pd.DataFrame(rows)))
    text = report.scenario_sentences(summary, ["ref", "more"], 10, ["orders"])["more"]
    total = text.split("Over the whole run (weeks 1 to 10, in total) it ")[1]
    assert total.startswith("raises mobile orders by 300 orders (300 to 300"), total
    html = report.outcome_table(
        summary, ["ref", "more"], ["orders"], "cumulative", scenario_colors(["ref", "more"]), 10
    )
    assert "Mobile orders <small>[orders]</small><br><small>in total over weeks 1 to 10" in html
    assert np.isclose(summary.query("scenario == 'more' and measure == 'cumulative'")["diff"], 300)
