"""Who wins and who loses: the comparison report's first paragraph (issue 27).

The first paragraph of report.html and report.md names, for every scenario against the
reference, each party's gain or loss with its paired 95% interval: consumers (surplus,
losses to counterfeits and fraud), merchants (in business at the last week, profit over
the run), the state (net fiscal cost), platforms, KOLs and payment providers; "no clear
change" where the interval includes 0. The parties' metrics are declared once, in the
registry (tag ``stakeholders``, ``Metric.party``); those missing from a results folder
are skipped. Cost-effectiveness divides by the net fiscal cost when the runs hold it.

The model-level tests read the numbers they check from the comparison's own results, so
they hold whatever the model says (merchant_promotion may or may not cut merchants).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from model.analysis import report, stats
from model.analysis.report import PARTY_NAMES, format_together
from model.mechanisms.accounts import PARTIES
from model.metrics import REGISTRY, format_number, metric_info, metrics_tagged

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STEPS = 60


# --------------------------------------------------------------------------- reading


def first_paragraph(markdown: str) -> str:
    """The Markdown report's first paragraph: the block after the title."""
    blocks = [b for b in markdown.split("\n\n") if b.strip()]
    assert blocks[0].startswith("# ")
    return blocks[1]


def scenario_line(paragraph: str, name: str) -> str:
    lines = [line for line in paragraph.splitlines() if line.startswith(f"**{name}**: ")]
    assert len(lines) == 1, (name, paragraph)
    return lines[0].removeprefix(f"**{name}**: ").rstrip()


def party_sentence(line: str, party: str) -> str:
    """The sentence of ``line`` on one party ('Merchants lose: ...')."""
    name = PARTY_NAMES[party]
    found = [s for s in re.split(r"(?<=\.) (?=[A-Z])", line) if s.startswith(name)]
    assert len(found) == 1, (party, line)
    return found[0]


def expected_words(diff: float, low: float, high: float, label: str, count: bool) -> str:
    """What the sentence must say about one stake, from the numbers alone."""
    if diff == low == high == 0:
        return "identical in every paired run"
    if low <= 0 <= high:
        first, second = format_together(low, high)
        return f"({first} to {second})"
    if count:
        size, first, second = format_together(abs(diff), low, high)
        return f"{size} {'more' if diff > 0 else 'fewer'} {label}"
    size, first, second = format_together(diff, low, high)
    return f"{label} {'+' if diff > 0 else ''}{size} ({first} to {second})"


def reading(diff: float, low: float, high: float, good: int) -> str:
    if not (low > 0 or high < 0):
        return "unclear"
    return "gain" if good * diff > 0 else "loss"


def head_words(party: str, readings: list[str]) -> str:
    """The sentence's opening, from the readings of the party's stakes."""
    name = PARTY_NAMES[party]
    win, lose = {"state": ("gains", "pays")}.get(party, ("gain", "lose"))
    if "gain" in readings and "loss" in readings:
        return f"{name} {win} and {lose}: "
    if "gain" in readings:
        return f"{name} {win}: "
    if "loss" in readings:
        return f"{name} {lose}: "
    return f"{name}: "


def paired_losses(timeseries: pd.DataFrame, name: str, reference: str, columns) -> tuple:
    """Consumers' losses summed over weeks 1..T, paired run by run: mean and t interval."""
    runs = timeseries[timeseries["step"] >= 1]
    totals = runs.groupby(["scenario", "seed"])[list(columns)].sum().sum(axis=1)
    diff = (totals[name] - totals[reference]).to_numpy()
    mean = float(diff.mean())
    half = sps.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size)
    return mean, mean - half, mean + half


def check_line(summary, timeseries, line: str, name: str, reference: str, steps: int) -> None:
    """Every party with a metric in the results has a sentence matching its effects' signs."""
    present = set(summary["metric"])
    by_party: dict[str, list[str]] = {}
    for metric in metrics_tagged("stakeholders"):
        if metric in present:
            by_party.setdefault(metric_info(metric).party, []).append(metric)
    assert by_party, "the results hold no stakeholder metric"
    for party, metrics in by_party.items():
        sentence = party_sentence(line, party)
        readings = []
        losses = [
            m for m in metrics if metric_info(m).good < 0 and metric_info(m).kind == "money_flow"
        ]
        summed = len(losses) > 1
        if summed:
            d, lo, hi = paired_losses(timeseries, name, reference, losses)
            joint = report._joint_label([metric_info(m).label for m in losses])
            label = report._stake_label(joint, party)
            words = expected_words(d, lo, hi, label, False)
            if d == lo == hi == 0:
                assert words in sentence or f"{label} unchanged" in sentence, sentence
            else:
                assert words in sentence, (words, sentence)
            readings.append(reading(d, lo, hi, -1))
        for metric in metrics:
            if summed and metric in losses:
                continue
            info = metric_info(metric)
            measure = "cumulative" if info.summable else "final"
            row = summary[
                (summary.scenario == name)
                & (summary.metric == metric)
                & (summary.measure == measure)
            ].iloc[0]
            d, lo, hi = (
                float(row[k]) * info.scale for k in ("diff", "diff_ci_low", "diff_ci_high")
            )
            label = report._stake_label(info.label, party)
            words = expected_words(d, lo, hi, label, info.kind == "count")
            if d == lo == hi == 0:
                assert words in sentence or f"{label} unchanged" in sentence, sentence
            else:
                assert words in sentence, (metric, words, sentence)
            if info.kind == "count" and measure == "final" and (lo > 0 or hi < 0):
                assert f"{words} by week {steps}" in sentence
            readings.append(reading(d, lo, hi, info.good or 1))
        if "identical in every paired run" in sentence:
            assert sentence.startswith(f"{PARTY_NAMES[party]}: no change in "), sentence
        elif set(readings) == {"unclear"}:  # no verdict: "KOLs: no clear change in ..."
            assert sentence.startswith(f"{PARTY_NAMES[party]}: "), sentence
        elif "identical" not in sentence:
            assert sentence.startswith(head_words(party, readings)), (readings, sentence)


# --------------------------------------------------------------------------- a comparison


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """Baseline, merchant_promotion and payment_security: 300 consumers, 60 weeks, 3 runs."""
    from model.workflows.compare import load_scenarios, run_comparison

    names, scenarios, sources = load_scenarios(
        [SCENARIOS / f"{n}.yaml" for n in ("baseline", "merchant_promotion", "payment_security")],
        ["population.consumers=300"],
    )
    out = tmp_path_factory.mktemp("stakeholders") / "cmp"
    return run_comparison(
        names, scenarios, out, reps=3, steps=STEPS, sources=sources, progress=False
    )


def _stake(summary, name, metric, measure):
    row = summary[
        (summary.scenario == name) & (summary.metric == metric) & (summary.measure == measure)
    ].iloc[0]
    return float(row["diff"]), float(row["diff_ci_low"]), float(row["diff_ci_high"])


@pytest.mark.long
def test_merchant_promotion_names_merchants_in_business_and_profit(comparison):
    """What must hold: merchant_promotion does not cut merchants in business, or the
    report's first paragraph says that it does, with the number."""
    md = (comparison.out / "report.md").read_text(encoding="utf-8")
    line = scenario_line(first_paragraph(md), "merchant_promotion")
    merchants = party_sentence(line, "merchants")
    assert "in business" in merchants and "profit" in merchants, merchants
    d, lo, hi = _stake(comparison.summary, "merchant_promotion", "active_merchants", "final")
    if hi < 0:  # fewer merchants in business, clearly
        assert merchants.startswith(("Merchants lose: ", "Merchants gain and lose: ")), merchants
        size, first, second = format_together(-d, lo, hi)
        assert f"{size} fewer in business by week {STEPS} ({first} to {second})" in merchants
    elif lo > 0:
        assert f"{format_together(d, lo, hi)[0]} more in business" in merchants
    elif d == lo == hi == 0:  # the same merchants in business in every paired run
        assert "the number in business unchanged" in merchants, merchants
    else:
        assert "no clear change in the number in business" in merchants
    d, lo, hi = _stake(comparison.summary, "merchant_promotion", "merchant_profit", "cumulative")
    size, first, second = format_together(d, lo, hi)
    if d == lo == hi == 0:
        assert "identical in every paired run" in merchants or "profit unchanged" in merchants
    elif lo <= 0 <= hi:
        assert f"profit ({first} to {second})" in merchants
    else:
        assert f"profit {'+' if d > 0 else ''}{size} ({first} to {second})" in merchants
    # an improvement stated about merchants sits next to the loss of merchants in business
    findings = md.split("## Findings")[1]
    entry = [e for e in findings.split("\n- ") if "merchant_promotion" in e.split("\n")[0]][0]
    if _stake(comparison.summary, "merchant_promotion", "active_merchants", "final")[2] < 0:
        lead = entry.split("\n")[0]
        assert "fewer in business" in lead, lead
        for item in entry.split("\n")[1:]:
            if item.strip().startswith("- **Merchants**") and "an improvement" in item:
                assert "fewer in business" in item, item
    html = (comparison.out / "report.html").read_text(encoding="utf-8")
    body = html.split("<body>")[1]
    first_p = body.split("<p", 1)[1].split("</p>")[0]
    assert merchants.replace("'", "&#39;") in first_p  # the HTML's first paragraph says the same


@pytest.mark.long
def test_every_party_present_gets_a_sentence_matching_its_effects(comparison):
    md = (comparison.out / "report.md").read_text(encoding="utf-8")
    paragraph = first_paragraph(md)
    assert paragraph.startswith("Who wins and who loses, against baseline")
    for name in comparison.scenarios[1:]:
        line = scenario_line(paragraph, name)
        check_line(comparison.summary, comparison.timeseries, line, name, "baseline", STEPS)


@pytest.mark.long
def test_cost_effectiveness_uses_the_net_fiscal_cost_when_present(comparison):
    md = (comparison.out / "report.md").read_text(encoding="utf-8")
    html = (comparison.out / "report.html").read_text(encoding="utf-8")
    costs = html.split("<h2>Costs</h2>")[1]
    summary = comparison.summary
    if "net_fiscal_cost" not in comparison.timeseries.columns:
        assert "Cost here is policy spending" in md
        return
    assert "net fiscal cost (yuan, in total)" in costs
    assert "Cost-effectiveness here divides by the net fiscal cost" in costs
    for name in comparison.scenarios[1:]:
        total = summary[
            (summary.scenario == name)
            & (summary.metric == "net_fiscal_cost")
            & (summary.measure == "cumulative")
        ]["mean"].iloc[0]
        entry = [e for e in md.split("\n- ") if e.split("\n")[0].find(f" {name} ") >= 0][0]
        cost = [line for line in entry.split("\n") if "**Cost**" in line]
        assert cost, entry
        assert f"is {format_number(total)} yuan over the run" in cost[0], cost[0]
        assert "Cost here is the net fiscal cost." in cost[0]


# --------------------------------------------------------------------------- synthetic


def _runs(
    *,
    reps: int = 5,
    steps: int = 20,
    drop: tuple[str, ...] = (),
    net: bool = True,
) -> pd.DataFrame:
    """A reference and a promotion: more merchants on mobile, fewer in business, less profit.

    The promotion spends 10 a week; its net fiscal cost is 25 a week more than the
    reference's (e.g. lost tariffs). Platforms earn more; KOLs' fees are noise.
    """
    rng = np.random.default_rng(3)
    rows = []
    for rep in range(reps):
        for name in ("ref", "promo"):
            on = name == "promo"
            for t in range(steps + 1):
                row = {
                    "scenario": name,
                    "replication": rep,
                    "seed": rep,
                    "step": t,
                    "orders": 50.0 + (8.0 * on + rng.normal(0, 1.0)) * (t > 0),
                    "merchant_adoption": 0.3 + (0.4 if on and t else 0.0) + rng.normal(0, 0.01),
                    "active_merchants": 100.0 - (40 + rep if on and t else 0) - 0 * t,
                    "merchant_profit": 20.0 - (8.0 + rng.normal(0, 0.5) if on and t else 0.0),
                    "consumer_surplus": 300.0 + rng.normal(0, 5.0),
                    "counterfeit_loss_value": 1.0 + (0.5 if on else 0.0) + rng.normal(0, 0.05),
                    "fraud_loss_value": 2.0 + (0.5 if on else 0.0) + rng.normal(0, 0.05),
                    "platform_revenue": 5.0 + (3.0 if on else 0.0) + rng.normal(0, 0.2),
                    "kol_fees": 1.0 + rng.normal(0, 0.5),
                    "policy_cost": 10.0 if on and t else 0.0,
                }
                if net:
                    row["net_fiscal_cost"] = (35.0 if on and t else 0.0) - 5.0 + rep * 0.1 * on
                rows.append({k: v for k, v in row.items() if k not in drop})
    return pd.DataFrame(rows)


def _info(outcomes: pd.DataFrame | None, steps: int = 20) -> report.ComparisonInfo:
    names = ["ref", "promo"]
    return report.ComparisonInfo(
        scenarios=names,
        resolved={n: {"name": n, "policies": []} for n in names},
        steps=steps,
        replications=5,
        seeds=list(range(5)),
        outcomes=outcomes,
    )


def _report(
    tmp_path,
    table: pd.DataFrame,
    with_outcomes: bool = True,
    metrics=("orders", "merchant_adoption"),
) -> tuple[str, str]:
    outcomes = stats.measures_per_run(table)
    summary = stats.summarize(outcomes)
    info = _info(outcomes if with_outcomes else None)
    report.write_report(
        tmp_path / "report.html",
        info,
        summary,
        {},
        metrics=list(metrics),
        markdown=tmp_path / "report.md",
    )
    return (tmp_path / "report.html").read_text(), (tmp_path / "report.md").read_text()


def test_the_first_paragraph_says_merchants_lose_next_to_the_adoption_gain(tmp_path):
    html, md = _report(tmp_path, _runs())
    line = scenario_line(first_paragraph(md), "promo")
    # 40 to 44 fewer merchants in business (40 + rep), profit 8 a week lower for 20 weeks
    assert "Merchants lose: 42.0 fewer in business by week 20 (" in line, line
    assert re.search(r"profit -1[56]\d \(-1\d\d to -1\d\d\)", line), line
    assert line.startswith("Consumers lose: ")  # losses to counterfeits and fraud: +1 a week
    assert re.search(r"losses to counterfeits and payment fraud \+(19|20)\.\d \(", line), line
    assert "Platforms gain: revenue +" in line
    assert re.search(r"KOLs: no clear change in fee income \(-?[\d.]+ to [\d.]+\)\.", line), line
    if "net_fiscal_cost" in metrics_tagged("stakeholders"):
        assert "The state pays: net fiscal cost +" in line
    # the findings state the adoption gain as an improvement, with the loss in the same lead
    findings = html.split("<h2>Findings</h2>")[1].split("<h2>")[0]
    promo = findings.split("promo ", 1)[1].split("</li>\n</ul>")[0]
    lead = promo.split("<ul>")[0]
    assert "improves" in lead and "merchants using mobile marketing" in lead
    assert "Merchants lose: 42.0 fewer in business" in lead
    merchants = [li for li in promo.split("<li>") if li.startswith("<strong>Merchants</strong>")]
    assert "an improvement" in merchants[0] and "42.0 fewer in business" in merchants[0]
    # HTML and Markdown say the same first
    first_p = html.split("<body>")[1].split("<p", 1)[1].split("</p>")[0]
    assert "Merchants lose: 42.0 fewer in business by week 20" in first_p
    # the console's paragraph opens with it too
    outcomes = stats.measures_per_run(_runs())
    text = report.scenario_sentences(
        stats.summarize(outcomes), ["ref", "promo"], 20, ["merchant_adoption"], outcomes=outcomes
    )["promo"]
    assert text.startswith("promo: Consumers lose: ") and "Merchants lose: 42.0 fewer" in text


def test_stakes_follow_the_sign_of_each_effect(tmp_path):
    table = _runs()
    outcomes = stats.measures_per_run(table)
    summary = stats.summarize(outcomes)
    _, md = _report(tmp_path, table)
    line = scenario_line(first_paragraph(md), "promo")
    check_line(summary, table, line, "promo", "ref", 20)
    # the opposite scenario: every clear effect flips, and so does every verdict
    flipped = summary.assign(
        diff=-summary["diff"],
        diff_ci_low=-summary["diff_ci_high"],
        diff_ci_high=-summary["diff_ci_low"],
    )
    parties = report.stakeholder_effects(flipped, "promo", "ref")
    outcome = {p.party: p.outcome for p in parties}
    assert outcome["merchants"] == "gains" and outcome["platforms"] == "loses"
    assert outcome["kols"] == "unclear" and outcome["consumers"] == "gains"
    assert "Merchants gain: 42.0 more in business by week 20" in parties[1].sentence(20)


def test_party_sentences_in_a_policymakers_words():
    def stake(label, good, diff, low, high, count=False, measure="cumulative"):
        return report.Stake(("m",), label, measure, good, diff, low, high, 5, count)

    state = report.PartyEffect("state", (stake("net fiscal cost", -1, 700.0, 690.0, 710.0),))
    assert state.sentence(156) == "The state pays: net fiscal cost +700 (690 to 710)."
    saves = report.PartyEffect("state", (stake("net fiscal cost", -1, -70.0, -90.0, -50.0),))
    assert saves.sentence(156) == "The state gains: net fiscal cost -70.0 (-90.0 to -50.0)."
    merchants = report.PartyEffect(
        "merchants",
        (
            stake("in business", 1, -53.1, -57.2, -49.0, count=True, measure="final"),
            stake("profit", 1, -8697.0, -9100.0, -8300.0),
        ),
    )
    assert merchants.sentence(156) == (
        "Merchants lose: 53.1 fewer in business by week 156 (-57.2 to -49.0), "
        "profit -8,697 (-9,100 to -8,300)."
    )
    mixed = report.PartyEffect(
        "merchants",
        (
            stake("in business", 1, -3.0, -4.0, -2.0, count=True, measure="final"),
            stake("profit", 1, 50.0, 10.0, 90.0),
        ),
    )
    assert mixed.sentence(60).startswith("Merchants gain and lose: 3.0 fewer in business")
    unclear = report.PartyEffect(
        "kols", (stake("fee income", 1, 3.0, -2.0, 8.0), stake("tips", 1, 0.0, 0.0, 0.0))
    )
    assert unclear.outcome == "unclear"
    assert (
        unclear.sentence(60) == "KOLs: no clear change in fee income (-2.0 to 8.0), tips unchanged."
    )
    quiet = report.PartyEffect(
        "merchants", (stake("in business", 1, -1.0, -3.0, 1.0, count=True, measure="final"),)
    )
    assert quiet.sentence(60) == (
        "Merchants: no clear change in the number in business by week 60 (-3.0 to 1.0)."
    )


def test_missing_metrics_are_skipped_silently(tmp_path):
    table = _runs(drop=("kol_fees", "platform_revenue", "net_fiscal_cost"))
    html, md = _report(tmp_path, table)
    line = scenario_line(first_paragraph(md), "promo")
    assert "KOLs" not in line and "Platforms" not in line and "The state" not in line
    assert "Merchants lose" in line
    runs = _runs()
    bare = runs.drop(columns=[m for m in metrics_tagged("stakeholders") if m in runs.columns])
    html, md = _report(tmp_path, bare)
    assert "Who wins and who loses cannot be said from these results" in first_paragraph(md)


def test_losses_are_listed_one_by_one_without_the_per_run_table(tmp_path):
    html, md = _report(tmp_path, _runs(), with_outcomes=False)
    line = scenario_line(first_paragraph(md), "promo")
    assert re.search(r"losses to counterfeits \+(9\.\d|10\.\d) \(", line), line
    assert re.search(r"losses to payment fraud \+(9\.\d|10\.\d) \(", line), line
    assert "and payment fraud" not in line


def test_cost_effectiveness_divides_by_the_net_fiscal_cost(tmp_path):
    table = _runs()
    html, md = _report(tmp_path, table, metrics=["orders"])
    # per pair: the orders' last-quarter difference / the extra net fiscal cost over the run
    outcomes = stats.measures_per_run(table).set_index(["scenario", "metric", "measure", "seed"])
    outcomes = outcomes.sort_index()
    value = outcomes["value"]
    effect = value["promo", "orders", "last_quarter"] - value["ref", "orders", "last_quarter"]
    cost = (
        value["promo", "net_fiscal_cost", "cumulative"]
        - value["ref", "net_fiscal_cost", "cumulative"]
    )
    assert np.allclose(cost, 700.0, atol=10.0)  # 35 a week for 20 weeks, not the 200 spent
    per = float((effect / cost).mean()) * 10_000
    words = (
        "each 10,000 yuan of extra net fiscal cost raises mobile orders by "
        f"{format_number(per)} orders"
    )
    assert words in md, md
    assert "Cost here is the net fiscal cost." in md
    assert "its policies spend 200" in md
    costs = html.split("<h2>Costs</h2>")[1]
    assert "net fiscal cost (yuan, in total)" in costs
    assert "per 10,000 yuan of extra net fiscal cost" in costs
    # without the net fiscal cost: policy spending, and the text says so
    html, md = _report(tmp_path, _runs(net=False), metrics=["orders"])
    per_spent = float((effect / 200.0).mean()) * 10_000
    spent = f"each 10,000 yuan spent raises mobile orders by {format_number(per_spent)} orders"
    assert spent in md, md
    assert "Cost here is policy spending (these results hold no net fiscal cost)." in md
    assert "per 10,000 yuan of extra policy spending" in html.split("<h2>Costs</h2>")[1]


def test_one_classification_serves_the_page_the_markdown_and_the_console(tmp_path, monkeypatch):
    calls = []
    real = report.scenario_effects

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "scenario_effects", counted)
    _report(tmp_path, _runs())
    assert len(calls) == 1  # report.html and report.md from one classification
    outcomes = stats.measures_per_run(_runs())
    summary = stats.summarize(outcomes)
    args = (summary, ["ref", "promo"], 20, ["orders", "merchant_adoption"])
    sentences = report.scenario_sentences(*args, outcomes=outcomes)["promo"]
    findings = report.scenario_findings(*args, outcomes=outcomes)["promo"]
    assert len(calls) == 3
    for _, text in findings.items:  # every finding's clause is in the console's paragraph
        for clause in re.findall(r"(?:raises|lowers) [^;.]*\([^)]*\)", text):
            assert clause in sentences, clause


def test_the_registry_names_each_stakeholder_metric_once_with_its_party():
    tagged = set(metrics_tagged("stakeholders"))
    for metric in REGISTRY:
        if metric.per:  # per region or pair: the parties are read from the totals
            assert not metric.party, metric.name
            continue
        assert (metric.name in tagged) == bool(metric.party), metric.name
        if metric.party:
            assert metric.party in PARTIES and metric.party in PARTY_NAMES, metric.party
    for name in (
        "consumer_surplus", "active_merchants", "merchant_profit", "kol_fees", "net_fiscal_cost",
        "payment_fee_revenue",
    ):
        assert name in tagged
