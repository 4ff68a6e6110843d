"""Statistics across replications (model.analysis.stats) checked against scipy on known data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from model.analysis import stats

KNOWN = np.array([2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8])
KNOWN_REF = np.array([1.8, 2.9, 2.2, 4.1, 3.9, 3.0, 2.0])


def test_t_interval_matches_scipy():
    got = stats.t_interval(KNOWN)
    low, high = sps.t.interval(0.95, len(KNOWN) - 1, loc=KNOWN.mean(), scale=sps.sem(KNOWN))
    assert got.n == 7
    assert got.mean == pytest.approx(KNOWN.mean(), rel=1e-12)
    assert got.low == pytest.approx(low, rel=1e-12)
    assert got.high == pytest.approx(high, rel=1e-12)
    assert got.sd == pytest.approx(KNOWN.std(ddof=1), rel=1e-12)
    # hand-checked numbers: mean 3.3571, t(0.975, 6) = 2.4469
    assert got.mean == pytest.approx(3.357142857, abs=1e-8)
    assert got.high - got.mean == pytest.approx(
        2.446911851 * KNOWN.std(ddof=1) / math.sqrt(7), rel=1e-8
    )


def test_t_interval_other_confidence_matches_scipy():
    got = stats.t_interval(KNOWN, confidence=0.9)
    low, high = sps.t.interval(0.9, len(KNOWN) - 1, loc=KNOWN.mean(), scale=sps.sem(KNOWN))
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-12)


def test_paired_difference_matches_scipy_ttest_rel():
    got = stats.paired_difference(KNOWN, KNOWN_REF)
    ci = sps.ttest_rel(KNOWN, KNOWN_REF).confidence_interval(0.95)
    assert got.mean == pytest.approx((KNOWN - KNOWN_REF).mean(), rel=1e-12)
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert got.excludes_zero()  # every pair is higher except one; mean 0.657, CI (0.16, 1.15)


def test_interval_edge_cases():
    empty = stats.t_interval([])
    assert empty.n == 0 and math.isnan(empty.mean)
    single = stats.t_interval([4.0])
    assert single.mean == 4.0 and single.n == 1 and math.isnan(single.low)
    constant = stats.t_interval([2.0, 2.0, 2.0])
    assert (constant.low, constant.mean, constant.high) == (2.0, 2.0, 2.0)
    with_nan = stats.t_interval([1.0, np.nan, 3.0])
    assert with_nan.n == 2 and with_nan.mean == 2.0
    assert not stats.t_interval([-1.0, 1.0, 0.5]).excludes_zero()
    with pytest.raises(ValueError):
        stats.t_interval([1.0, 2.0], confidence=95)
    with pytest.raises(ValueError):
        stats.paired_difference([1.0, 2.0], [1.0])


def _collection(rng: np.random.Generator, reps: int = 5, steps: int = 8) -> pd.DataFrame:
    """Two scenarios; 'policy' adds a known 0.1 to 'share' from step 1, costs 2 per step."""
    rows = []
    for rep in range(reps):
        seed = 1000 + rep
        noise = rng.normal(0.0, 0.02, steps + 1)  # common random numbers: same noise per seed
        for name, shift, cost in (("base", 0.0, 0.0), ("policy", 0.1, 2.0)):
            for t in range(steps + 1):
                rows.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": seed,
                        "step": t,
                        "share": 0.05 * t + noise[t] + (shift if t >= 1 else 0.0),
                        "orders": float(10 * t + rep),
                        "kol_credibility": np.nan,
                        "policy_cost": cost if t >= 1 else 0.0,
                    }
                )
    return pd.DataFrame(rows)


def test_measures_per_run_final_run_mean_and_cost():
    table = _collection(np.random.default_rng(3))
    out = stats.measures_per_run(table)
    assert set(out["metric"]) == {"share", "orders", "kol_credibility", "policy_cost"}
    one = table[(table.scenario == "policy") & (table.replication == 2)]
    pick = out[(out.scenario == "policy") & (out.replication == 2)].set_index(["metric", "measure"])
    assert pick.loc[("share", "final"), "value"] == one["share"].iloc[-1]
    assert pick.loc[("share", "run_mean"), "value"] == pytest.approx(one["share"].iloc[1:].mean())
    assert pick.loc[("orders", "run_mean"), "value"] == pytest.approx(one["orders"].iloc[1:].mean())
    assert pick.loc[("policy_cost", "total"), "value"] == 16.0
    assert math.isnan(pick.loc[("kol_credibility", "final"), "value"])


def test_last_quarter_is_the_mean_of_the_last_13_weeks():
    table = _collection(np.random.default_rng(10), reps=2, steps=20)
    out = stats.measures_per_run(table, ["orders", "share"])
    one = table[(table.scenario == "base") & (table.replication == 1)]
    got = out[
        (out.scenario == "base")
        & (out.replication == 1)
        & (out.metric == "share")
        & (out.measure == "last_quarter")
    ]["value"].iloc[0]
    assert stats.QUARTER == 13
    assert got == pytest.approx(one[one.step >= 8]["share"].mean())
    assert set(out["measure"]) == {"final", "last_quarter", "run_mean", "cumulative", "total"}


def test_cumulative_windows_and_time_to_threshold():
    table = _collection(np.random.default_rng(11), reps=3, steps=20)
    out = stats.measures_per_run(
        table, ["orders", "share"], windows=[(3, 7), (18, 40)], thresholds={"share": [0.3, 5.0]}
    )
    pick = out[(out.scenario == "base") & (out.replication == 1)].set_index(["metric", "measure"])
    one = table[(table.scenario == "base") & (table.replication == 1)]
    simulated = one[one.step >= 1]
    assert pick.loc[("orders", "cumulative"), "value"] == pytest.approx(simulated["orders"].sum())
    inside = one[(one.step >= 3) & (one.step <= 7)]
    assert stats.window_measure(3, 7) == "weeks_3_7" and stats.parse_window("weeks_3_7") == (3, 7)
    assert pick.loc[("share", "weeks_3_7"), "value"] == pytest.approx(inside["share"].mean())
    # a window running past the last step is clipped to it
    tail = one[one.step >= 18]
    assert pick.loc[("orders", "weeks_18_40"), "value"] == pytest.approx(tail["orders"].mean())
    # time to threshold: the first step at or above the level; never reached: NaN
    first = one[one["share"] >= 0.3]["step"]
    expected = float(first.min()) if len(first) else math.nan
    got = pick.loc[("share", stats.threshold_measure(0.3)), "value"]
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
    assert math.isnan(pick.loc[("share", "weeks_to_5"), "value"])
    assert stats.parse_threshold("weeks_to_0.3") == 0.3


def test_measure_direction_reads_the_metrics_good_direction():
    from model.metrics import good_direction

    assert stats.measure_direction("counterfeit_incidents", "final") == -1
    assert stats.measure_direction("payment_adoption", "weeks_3_7") == good_direction(
        "payment_adoption"
    )
    # reaching a target sooner is better, whatever the metric
    assert stats.measure_direction("payment_adoption", "weeks_to_0.5") == -1
    assert stats.measure_direction("cross_border_share", "final") == 0


def test_summarize_matches_scipy_and_pairs_by_seed():
    table = _collection(np.random.default_rng(4))
    summary = stats.summarize(stats.measures_per_run(table))
    row = summary[
        (summary.scenario == "policy") & (summary.metric == "share") & (summary.measure == "final")
    ].iloc[0]
    finals = table[table.step == 8].pivot(index="replication", columns="scenario", values="share")
    ci = sps.t.interval(
        0.95, 4, loc=finals["policy"].mean(), scale=sps.sem(finals["policy"].to_numpy())
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(ci, rel=1e-10)
    # the known shift is recovered exactly: the common noise cancels in the pairs
    assert row["diff"] == pytest.approx(0.1, abs=1e-12)
    assert row["diff_ci_high"] - row["diff_ci_low"] == pytest.approx(0.0, abs=1e-12)
    assert row["n_pairs"] == 5 and row["reference"] == "base"
    assert row["total_cost"] == 16.0 and row["extra_cost"] == 16.0
    assert row["effect_per_unit_cost"] == pytest.approx(0.1 / 16.0)
    base = summary[summary.scenario == "base"]
    assert base["diff"].isna().all() and base["effect_per_unit_cost"].isna().all()
    kol = summary[(summary.metric == "kol_credibility") & (summary.scenario == "policy")]
    assert (kol["n"] == 0).all() and kol["mean"].isna().all()


def test_summarize_unpaired_differences_use_scipy_ttest_rel():
    rng = np.random.default_rng(5)
    table = _collection(rng)
    # break the common noise in 'policy' so the paired interval has width
    mask = table.scenario == "policy"
    table.loc[mask, "share"] += rng.normal(0, 0.05, mask.sum())
    summary = stats.summarize(stats.measures_per_run(table))
    row = summary[
        (summary.scenario == "policy") & (summary.metric == "share") & (summary.measure == "final")
    ].iloc[0]
    finals = table[table.step == 8].pivot(index="replication", columns="scenario", values="share")
    ci = sps.ttest_rel(finals["policy"], finals["base"]).confidence_interval(0.95)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_failed_replication_shrinks_pairs():
    table = _collection(np.random.default_rng(6))
    table = table[~((table.scenario == "policy") & (table.replication == 0))]
    summary = stats.summarize(stats.measures_per_run(table))
    row = summary[(summary.scenario == "policy") & (summary.metric == "orders")].iloc[0]
    assert row["n"] == 4 and row["n_pairs"] == 4


def test_identical_scenarios_give_zero_differences():
    table = _collection(np.random.default_rng(7))
    twin = table[table.scenario == "base"].assign(scenario="twin")
    summary = stats.summarize(stats.measures_per_run(pd.concat([table, twin])))
    twin_rows = summary[(summary.scenario == "twin") & summary["diff"].notna()]
    assert len(twin_rows) > 0
    assert (twin_rows[["diff", "diff_ci_low", "diff_ci_high"]].to_numpy() == 0.0).all()
    assert twin_rows["effect_per_unit_cost"].isna().all()  # no extra cost to divide by


def test_timeseries_bands_match_scipy_per_step():
    table = _collection(np.random.default_rng(8))
    bands = stats.timeseries_bands(table, ["share"])
    at = bands[(bands.scenario == "policy") & (bands.step == 5)].iloc[0]
    values = table[(table.scenario == "policy") & (table.step == 5)]["share"].to_numpy()
    ci = sps.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    assert at["n"] == 5
    assert (at["ci_low"], at["ci_high"]) == pytest.approx(ci, rel=1e-10)
    assert stats.scenario_order(table) == ["base", "policy"]


def test_scenario_order_is_kept_not_sorted():
    table = _collection(np.random.default_rng(9))
    renamed = table.replace({"scenario": {"base": "zeta", "policy": "alpha"}})
    outcomes = stats.measures_per_run(renamed)
    assert stats.scenario_order(outcomes) == ["zeta", "alpha"]
    summary = stats.summarize(outcomes)
    assert list(dict.fromkeys(summary["scenario"])) == ["zeta", "alpha"]
    assert (summary["reference"] == "zeta").all()
    explicit = stats.summarize(outcomes, scenarios=["alpha", "zeta"])
    assert (explicit["reference"] == "alpha").all()
    row = explicit[(explicit.scenario == "zeta") & (explicit.metric == "share")]
    assert row["diff"].iloc[0] == pytest.approx(-0.1, abs=1e-12)
