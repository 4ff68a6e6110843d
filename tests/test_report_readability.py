"""What a reader of the reports sees (issue 30, items 2, 3, 4 and 9).

Who gains agrees with the Findings (paired intervals, colour only for clear gains, the
Findings' units, one y scale); no percentages on tiny bases and intervals with the same
decimals at both ends; the Findings structured (a lead, then a list per outcome group);
the optimize page's table in the units of its text; ``mtsim run``'s summary.png (weekly
flows from week 1, units on the axes, a note instead of an empty policy-spending panel).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from model.analysis import report, stats
from model.analysis.group_effects import (
    VERDICT_COLORS,
    read_group_table,
    who_gains,
    who_gains_bars,
    who_gains_figure,
)
from model.analysis.run_summary import summary_figure, summary_panels
from model.metrics import metric_unit

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STEPS = 30


# --------------------------------------------------------------------------- who gains


def _group_rows(scenario_shift: float, reps: int = 4, steps: int = 20) -> pd.DataFrame:
    """A group table of ``reps`` runs: rural consumers gain ``scenario_shift`` of a share."""
    rng = np.random.default_rng(4)
    rows = []
    for rep in range(reps):
        common = rng.normal(0.0, 0.02)
        for step in range(steps + 1):
            for by, group, gain in (
                ("all", "all", scenario_shift / 2),
                ("area", "urban", 0.0),
                ("area", "rural", scenario_shift),
                ("income", "low", scenario_shift),
                ("income", "high", 0.0),
            ):
                rows.append(
                    {
                        "replication": rep,
                        "seed": 10 + rep,
                        "step": step,
                        "by": by,
                        "group": group,
                        "ordered_share": 0.01 * step + common + gain * (step > 0),
                        "order_value_per_consumer": float(step) + 5.0 * gain * (step == steps),
                    }
                )
    return pd.DataFrame(rows)


def test_who_gains_pairs_runs_and_reads_each_metric_as_the_findings_do():
    base = _group_rows(0.0)
    policy = _group_rows(0.05)
    # one run's noise of its own in the policy: the interval is no longer 0 wide
    policy.loc[(policy["replication"] == 0) & (policy["group"] == "urban"), "ordered_share"] += 0.01
    gains = who_gains(base, policy, metrics=("ordered_share", "order_value_per_consumer"))
    rural = gains.set_index(["by", "group"]).loc[("area", "rural")]
    assert rural["n_pairs"] == 4 and rural["step"] == 20
    assert rural["ordered_share_gain"] == pytest.approx(0.05)
    urban = gains.set_index(["by", "group"]).loc[("area", "urban")]
    last = base["step"] == 20
    pairs = (
        policy[last & (policy["group"] == "urban")]["ordered_share"].to_numpy()
        - base[last & (base["group"] == "urban")]["ordered_share"].to_numpy()
    )
    want = stats.t_interval(pairs)
    assert (urban["ordered_share_gain"], urban["ordered_share_gain_low"]) == pytest.approx(
        (want.mean, want.low)
    )
    assert urban["ordered_share_gain_low"] < 0 < urban["ordered_share_gain_high"]
    # a weekly flow is read over the last 13 weeks, as the Findings read flows at the end
    assert rural["order_value_per_consumer_gain"] == pytest.approx(5.0 * 0.05 / 13)
    at_last = who_gains(base, policy, step=20, metrics=("order_value_per_consumer",))
    step_only = at_last.set_index(["by", "group"]).loc[("area", "rural")]
    assert step_only["order_value_per_consumer_gain"] == pytest.approx(5.0 * 0.05)


def test_who_gains_figure_colours_only_clear_gains_in_points_on_one_scale():
    gains = pd.DataFrame(
        {
            "by": ["area", "area", "income", "income"],
            "group": ["urban", "rural", "low", "high"],
            "step": 30,
            "n_pairs": 3,
            "ordered_share_gain": [0.02, -0.029, -0.009, 0.004],
            "ordered_share_gain_low": [0.01, -0.08, -0.012, -0.01],
            "ordered_share_gain_high": [0.03, 0.02, -0.006, 0.02],
        }
    )
    bars = who_gains_bars(gains, "ordered_share")
    assert bars["gain"].tolist() == pytest.approx([2.0, -2.9, -0.9, 0.4])  # points
    assert bars["verdict"].tolist() == ["good", "unclear", "bad", "unclear"]
    fig = who_gains_figure(gains, "ordered_share", "Who gains from coupons")
    area, income = fig.axes[:2]
    assert area.get_ylim() == income.get_ylim()  # one y scale for the one unit
    assert "[points]" in area.get_ylabel()
    colours = [to_hex(patch.get_facecolor()) for ax in (area, income) for patch in ax.patches]
    assert colours == [VERDICT_COLORS[v] for v in ("good", "unclear", "bad", "unclear")]
    low, high = area.get_ylim()
    assert low <= -8.0 and high >= 3.0  # the interval of the grey bar is drawn
    assert fig.get_suptitle().startswith("Who gains from coupons: consumers who have shopped")
    assert "at week 30" in fig.get_suptitle()
    plt.close(fig)


def test_who_gains_table_shows_the_interval_and_colours_only_clear_cells():
    gains = pd.DataFrame(
        {
            "by": ["area", "area"],
            "group": ["urban", "rural"],
            "step": 30,
            "n_pairs": 3,
            "ordered_share_gain": [-0.0292, 0.02],
            "ordered_share_gain_low": [-0.08, 0.01],
            "ordered_share_gain_high": [0.022, 0.03],
        }
    )
    info = report.ComparisonInfo(
        scenarios=["ref", "coupons"],
        resolved={n: {"name": n, "policies": []} for n in ("ref", "coupons")},
        steps=30,
        replications=3,
        seeds=[0, 1, 2],
        who_gains={"coupons": gains},
    )
    summary = _summary_rows([("ref", 5.0, 0.0), ("coupons", 5.0, 0.0)])
    html = report.render_report(info, summary, {}, metrics=["orders"])
    part = html.split("<h2>Who gains</h2>")[1].split("<h2>")[0]
    assert "Consumers who have shopped by mobile <small>[points]</small>" in part
    assert "at week 30" in part
    assert '<span class="flat">-2.9</span> <small>(-8.0 to 2.2)</small>' in part
    assert '<span class="good">+2.0</span> <small>(1.0 to 3.0)</small>' in part


# --------------------------------------------------------------------------- numbers


def _summary_rows(rows: list[tuple[str, float, float]], measure: str = "weeks_1_26"):
    """A summary of orders over one window: (scenario, reference mean, paired difference)."""
    out = []
    for name, mean, diff in rows:
        reference = name == rows[0][0]
        out.append(
            {
                "scenario": name,
                "metric": "orders",
                "measure": measure,
                "n": 4,
                "mean": mean + (0 if reference else diff),
                "ci_low": mean - 0.1,
                "ci_high": mean + 0.1,
                "reference": rows[0][0],
                "n_pairs": 0 if reference else 4,
                "diff": np.nan if reference else diff,
                "diff_ci_low": np.nan if reference else diff * 0.8,
                "diff_ci_high": np.nan if reference else diff * 1.2,
                "total_cost": 0.0,
                "extra_cost": np.nan,
                "effect_per_unit_cost": np.nan,
                "effect_per_unit_cost_ci_low": np.nan,
                "effect_per_unit_cost_ci_high": np.nan,
            }
        )
    return pd.DataFrame(out)


def test_a_change_in_per_cent_needs_a_base_that_can_carry_it():
    # 0.5 orders a week and +4.2: "+842%" on under one order a week is not shown
    tiny = _summary_rows([("ref", 0.5, 0.0), ("coupons", 0.5, 4.2)])
    text = report.scenario_sentences(tiny, ["ref", "coupons"], 30, ["orders"], {"coupons": (1, 26)})
    assert "raises mobile orders by 4.2 orders per week (3.4 to 5.0)" in text["coupons"]
    assert "%" not in text["coupons"]
    # 40 orders a week, +4.2 (3.4 to 5.0): +11%, its interval 4 points wide
    ample = _summary_rows([("ref", 40.0, 0.0), ("coupons", 40.0, 4.2)])
    text = report.scenario_sentences(
        ample, ["ref", "coupons"], 30, ["orders"], {"coupons": (1, 26)}
    )
    assert "(3.4 to 5.0, +11%)" in text["coupons"]
    # the rule itself
    assert np.isnan(stats.relative_change(4.2, 3.4, 5.0, 9.9, count=True))
    assert np.isfinite(stats.relative_change(4.2, 3.4, 5.0, 9.9, count=False))
    assert np.isnan(stats.relative_change(40.0, 1.0, 200.0, 50.0, count=False))  # too wide
    assert np.isnan(stats.relative_change(1.0, 0.5, 1.5, 0.0, count=False))


def test_numbers_read_together_share_their_decimals():
    assert report.format_together(2.6, 0.0003, 5.3) == ["2.6", "0.0", "5.3"]
    assert report.format_together(0.07, 0.01, 0.13) == ["0.07", "0.01", "0.13"]
    assert report.format_together(380.2, 23.4, 737.0) == ["380", "23", "737"]
    disp = report.metric_info("orders")
    clause = report.effect_clause(disp, 2.6, 0.0003, 5.3, 4)
    assert clause == "raises mobile orders by 2.6 orders per week (0.0 to 5.3)"


# --------------------------------------------------------------------------- a comparison


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """The baseline against coupons before trust: small, 3 replications, 30 weeks."""
    from model.workflows.compare import load_scenarios, run_comparison

    names, scenarios, sources = load_scenarios(
        [SCENARIOS / "baseline.yaml", SCENARIOS / "coupons_before_trust.yaml"],
        ["population.consumers=600", "population.merchants=30", "population.kols=3"],
    )
    out = tmp_path_factory.mktemp("readable") / "cmp"
    result = run_comparison(
        names, scenarios, out, reps=3, steps=STEPS, sources=sources, progress=False
    )
    return result


def _who_gains_all(result, name: str) -> pd.DataFrame:
    groups = read_group_table(result.out)
    reference = groups[groups["scenario"] == result.scenarios[0]]
    return who_gains(reference, groups[groups["scenario"] == name], metrics=("ordered_share",))


@pytest.mark.long
def test_who_gains_agrees_with_the_findings(comparison):
    name = comparison.scenarios[1]
    gains = _who_gains_all(comparison, name).set_index(["by", "group"])
    everyone = gains.loc[("all", "all")]
    finding = comparison.summary.query(
        "scenario == @name and metric == 'shopper_share' and measure == 'final'"
    ).iloc[0]
    # the whole population's gain is the Findings' paired difference, interval and all
    assert everyone["ordered_share_gain"] == pytest.approx(finding["diff"])
    assert everyone["ordered_share_gain_low"] == pytest.approx(finding["diff_ci_low"])
    assert everyone["ordered_share_gain_high"] == pytest.approx(finding["diff_ci_high"])
    # every coloured bar has an interval that excludes 0, every grey one does not
    bars = who_gains_bars(gains.reset_index(), "ordered_share")
    clear = (bars["low"] > 0) | (bars["high"] < 0)
    assert ((bars["verdict"] != "unclear") == clear).all()
    # and the report's table says so: a coloured cell carries its interval, on one side of 0
    html = (comparison.out / "report.html").read_text(encoding="utf-8")
    part = html.split("<h2>Who gains</h2>")[1].split("<h2>")[0]
    cells = re.findall(r'<span class="(\w+)">([^<]*)</span>( <small>\(([^)]*)\)</small>)?', part)
    assert cells
    for css, _value, bracket, interval in cells:
        if css in ("good", "bad", "neutral"):
            low, high = (float(x.replace(",", "")) for x in interval.split(" to "))
            assert bracket and (low > 0 or high < 0), (css, interval)
    assert "Consumers who have shopped by mobile <small>[points]</small>" in part


@pytest.mark.long
def test_findings_are_a_lead_and_a_list_per_outcome_group(comparison):
    html = (comparison.out / "report.html").read_text(encoding="utf-8")
    findings = html.split('<ul class="findings">')[1].split("<h2>")[0]
    name = comparison.scenarios[1]
    start = findings.index(f"), {name} ")
    lead = findings[findings.rindex("</span>", 0, start) : findings.index("<ul>", start)]
    rest = findings[findings.index("<ul>", start) : findings.index("</ul>", start)]
    lead_text = re.sub(r"<[^>]+>", "", lead).strip()
    assert lead_text.startswith(f"While its policies act (weeks 1 to 26), {name} ")
    # one sentence, then one per party that clearly loses ("Merchants lose: ...")
    first, _, losers = lead_text.partition(". ")
    assert len(first.split()) <= 60, lead_text
    for sentence in filter(None, losers.split(". ")):
        assert re.match(r"(Consumers|Merchants|Platforms|KOLs|Payment providers) ", sentence), (
            lead_text
        )
    headings = re.findall(r"<li><strong>([^<]+)</strong>: ", rest)
    assert headings[:2] == ["Consumers", "Orders"] and "Cost" in headings
    for text in re.findall(r"<li><strong>[^<]+</strong>: ([^<]*)</li>", rest):
        assert len(text.split()) <= 120, text


@pytest.mark.long
def test_report_numbers_are_sensible(comparison):
    html = (comparison.out / "report.html").read_text(encoding="utf-8")
    html = re.sub(r"data:image/png;base64,[^\"]*", "", html)
    # every interval prints both ends with the same decimals
    for low, high in re.findall(r"\((-?[\d,]+(?:\.\d+)?) to (-?[\d,]+(?:\.\d+)?)[,)]", html):
        decimals = [len(x.partition(".")[2]) for x in (low, high)]
        assert decimals[0] == decimals[1], (low, high)
    # a percentage only where the reference carries it (cross-border orders: far too few)
    findings = html.split("<h2>Findings</h2>")[1].split("<h2>")[0]
    for clause in re.findall(r"(?:raises|lowers) ([a-z -]+?) by [^;]*?, [+-]\d+%\)", findings):
        assert clause not in ("cross-border orders", "counterfeit sales", "mobile payment frauds")
    base = comparison.summary.query(
        "scenario == 'baseline' and metric == 'cross_border_orders' and measure == 'weeks_1_26'"
    )
    assert float(base["mean"].iloc[0]) < stats.MIN_COUNT_PER_WEEK
    # trust as an index from 0 to 100 in the tables
    trust = html.split("Trust in domestic sellers <small>[index, 0 to 100]</small>")[1]
    value = float(re.search(r"</td><td>([\d.]+) <small>", trust).group(1))
    assert 1.0 < value < 100.0


# --------------------------------------------------------------------------- optimize page


def test_optimize_table_uses_the_units_of_its_text(tmp_path):
    from model.decision.optimize import load_problem, optimize_page

    path = tmp_path / "problem.yaml"
    path.write_text(
        f"name: units\nbase: {SCENARIOS / 'baseline.yaml'}\nbudget: 5000\n"
        "levers:\n  - {lever: payment_security, strength: [0, 1]}\n"
        "objectives:\n  - {metric: payment_adoption, direction: maximize}\n"
        "  - {metric: counterfeit_incidents, measure: cumulative, direction: minimize}\n"
    )
    problem = load_problem(path)
    names = problem.objective_names()
    trials = pd.DataFrame(
        {
            "trial": [0],
            "state": ["complete"],
            "payment_security.strength": [0.5],
            names[0]: [0.1834],
            names[1]: [41.0],
            "total_policy_cost": [1200.0],
            "feasible": [True],
            "pareto": [True],
        }
    )
    row = trials.iloc[0]
    page = optimize_page(problem, trials, trials, [(1, tmp_path / "mix-01.yaml", row)], None, 1, "")
    table = page.split("<table>")[1].split("</table>")[0]
    assert "Consumers paying by mobile, at the end <small>[% of consumers]</small>" in table
    assert "<td>18.3</td>" in table and "0.18" not in table
    assert "Counterfeit sales, summed over the run <small>[incidents]</small>" in table
    assert "Best for consumers paying by mobile (final): 18.3 % of consumers" in page


# --------------------------------------------------------------------------- summary.png


@pytest.fixture(scope="module")
def run_tables():
    from model import load_scenario, run_model

    small = {"population.consumers": 400, "population.merchants": 20, "population.kols": 3}
    tables = {}
    for name in ("baseline", "payment_security"):
        scenario = load_scenario(SCENARIOS / f"{name}.yaml", small)
        runs = [run_model(scenario, seed=s, steps=20).assign(replication=s) for s in (1, 2)]
        tables[name] = pd.concat(runs, ignore_index=True)
    return tables


def test_summary_flows_start_at_week_1_with_units_on_the_axes(run_tables):
    panels = {p.title: p for p in summary_panels(run_tables["baseline"])}
    spending = panels["Consumer spending per week"]
    assert spending.unit == metric_unit("consumer_spending") == "yuan per week"
    for line in spending.lines + panels["Orders per week"].lines:
        assert line.weeks[0] == 1, line.column  # no week 0, where nothing has happened yet
    assert spending.lines[0].mean[0] > 0  # so no jump from 0 at week 0
    assert panels["Adoption"].lines[0].weeks[0] == 0  # a stock starts at its initial state
    trust = panels["Trust"]
    assert trust.unit == "index, 0 to 100" and trust.limits == (-2.0, 102.0)
    values = np.concatenate([line.mean for line in trust.lines])
    assert np.nanmax(values) > 1.0 and np.nanmax(values) <= 100.0
    fig = summary_figure(run_tables["baseline"], "baseline")
    labels = {ax.get_title(): ax.get_ylabel() for ax in fig.axes}
    assert labels["Consumer spending per week"] == "yuan per week"
    assert labels["Trust"] == "index, 0 to 100" and labels["Adoption"] == "%"
    plt.close(fig)


def test_summary_says_no_policy_spending_instead_of_an_empty_axis(run_tables):
    panel = summary_panels(run_tables["baseline"])[-1]
    assert panel.title == "Policy spending per week"
    assert panel.lines == () and panel.note == "no policy spending in this run"
    fig = summary_figure(run_tables["baseline"], "baseline")
    ax = next(ax for ax in fig.axes if ax.get_title() == "Policy spending per week")
    assert [t.get_text() for t in ax.texts] == ["no policy spending in this run"]
    assert not ax.lines and list(ax.get_yticks()) == []
    plt.close(fig)
    paid = summary_panels(run_tables["payment_security"])[-1]
    assert paid.note == "" and paid.lines[0].mean.max() > 0
