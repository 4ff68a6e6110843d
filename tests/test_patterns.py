"""The pattern suite (``mtsim validate --patterns``, model/validation/patterns.py).

Quick: the Bass fit recovers known coefficients from a synthetic Bass curve; every fact
has its source, criterion, measurement and runs, and the facts the issue asks for are
there; the criteria in code say what their text says; the options are checked before
anything runs. Long: the machinery end to end on a tiny world (2 seeds, 300 consumers,
short runs): every fact gets a row with a verdict, the files are written, and the same
seeds give the same table.
"""

from __future__ import annotations

import csv
import io
import math
import re
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest

from model.commands import validate as command
from model.errors import UserError
from model.validation import patterns
from model.validation.bass import (
    continuous_bass,
    discrete_bass,
    fit_continuous_bass,
    fit_discrete_bass,
    yearly_curve,
)

TINY = patterns.Settings(
    consumers=300, seeds=(1, 2), weeks=30, curve_weeks=60, period=10, seeding_weeks=20
)
"""A world small enough for the machinery: 2 building seeds, 300 consumers, short runs."""


# --------------------------------------------------------------------------- the Bass fit


@pytest.mark.parametrize(
    ("p", "q", "m", "f0"),
    [
        (0.03, 0.38, 0.9, 0.0),  # Sultan, Farley and Lehmann's means
        (0.005, 0.51, 0.7, 0.0),  # Van den Bulte's cell phones
        (0.01, 0.5, 0.8, 0.02),
        (0.2, 0.1, 1.0, 0.05),  # external influence dominating
    ],
)
def test_bass_fit_recovers_known_coefficients(p, q, m, f0):
    curve = discrete_bass(p, q, m, f0, steps=6)
    fit = fit_discrete_bass(curve)
    assert fit.p == pytest.approx(p, rel=1e-3, abs=1e-5)
    assert fit.q == pytest.approx(q, rel=1e-3)
    assert fit.m == pytest.approx(m, rel=1e-3)
    assert fit.rmse < 1e-6


def test_continuous_bass_solves_the_differential_equation():
    # from 0 it is Bass's closed form
    t = np.arange(8.0)
    p, q = 0.03, 0.38
    e = np.exp(-(p + q) * t)
    assert np.allclose(continuous_bass(p, q, 1.0, 0.0, t), (1 - e) / (1 + q / p * e))
    # from any start: F(0) = f0, and the slope is (p + q F / m) (m - F) (finite differences)
    for p, q, m, f0 in [(0.03, 0.38, 0.8, 0.05), (0.0, 1.3, 0.83, 0.05), (0.2, 0.0, 1.0, 0.1)]:
        assert continuous_bass(p, q, m, f0, 0.0) == pytest.approx(f0)
        t = np.linspace(0.1, 6.0, 60)
        f = continuous_bass(p, q, m, f0, t)
        h = 1e-6
        slope = (continuous_bass(p, q, m, f0, t + h) - continuous_bass(p, q, m, f0, t - h)) / (
            2 * h
        )
        assert np.allclose(slope, (p + q * f / m) * (m - f), rtol=1e-5, atol=1e-8)
        assert (np.diff(f) >= 0).all() and f[-1] < m
    # nothing moves a curve from 0 without p: it stays where it starts
    assert np.array_equal(continuous_bass(0.0, 0.5, 1.0, 0.0, np.arange(3.0)), np.zeros(3))
    assert np.array_equal(
        continuous_bass(0.0, 0.0, 1.0, 0.2, np.arange(3.0)), discrete_bass(0, 0, 1.0, 0.2, 2)
    )
    with pytest.raises(ValueError, match="times must be >= 0"):
        continuous_bass(0.03, 0.38, 1.0, 0.0, -1.0)


@pytest.mark.parametrize(
    "p, q, m, f0",
    [
        (0.03, 0.38, 0.9, 0.0),
        (0.0, 1.3, 0.83, 0.05),
        (0.01, 0.8, 0.75, 0.25),
        (0.2, 0.1, 1.0, 0.05),
    ],
)
def test_continuous_fit_recovers_known_coefficients(p, q, m, f0):
    curve = continuous_bass(p, q, m, f0, np.arange(7.0))
    fit = fit_continuous_bass(curve)
    assert fit.p == pytest.approx(p, abs=1e-4)
    assert fit.q == pytest.approx(q, rel=1e-3)
    assert fit.m == pytest.approx(m, rel=1e-3)
    # a missing year is stepped over
    gapped = curve.copy()
    gapped[3] = np.nan
    assert fit_continuous_bass(gapped).q == pytest.approx(q, rel=1e-3)


def test_the_yearly_discrete_fit_reads_a_fast_pure_imitation_curve_as_external_influence():
    """The time-interval bias (Srinivasan & Mason 1986): with p = 0 in continuous time and
    a fast q, the yearly recursion needs p > 0; at the meta-analytic means it hardly does."""
    years = np.arange(7.0)
    fast = fit_discrete_bass(continuous_bass(0.0, 1.3, 0.83, 0.05, years))
    assert fast.p > 0.05
    slow = fit_discrete_bass(continuous_bass(0.03, 0.38, 0.83, 0.05, years))
    assert slow.p < 0.05 and 0.2 <= slow.q <= 0.6


def test_bass_fit_on_a_noisy_curve_stays_close():
    curve = discrete_bass(0.03, 0.38, 0.9, 0.0, steps=12)
    noisy = np.clip(curve + np.random.default_rng(5).normal(0, 0.003, curve.size), 0, 1)
    noisy[0] = 0.0
    fit = fit_discrete_bass(noisy)
    assert abs(fit.p - 0.03) < 0.01
    assert abs(fit.q - 0.38) < 0.08


def test_bass_fit_steps_over_a_missing_period():
    # data series with a gap (CNNIC has no year-end 2016 shopping figure): the recursion
    # runs through the missing period, which is not compared
    curve = discrete_bass(0.01, 0.8, 0.75, 0.25, steps=6)
    gapped = curve.copy()
    gapped[3] = np.nan
    fit = fit_discrete_bass(gapped)
    # the same grid from values recorded in some years only
    by_year = {2013 + t: v for t, v in enumerate(curve) if t != 3}
    assert np.array_equal(yearly_curve(by_year, 2019), gapped, equal_nan=True)
    assert yearly_curve(by_year, 2017).size == 5
    assert fit.p == pytest.approx(0.01, rel=1e-3, abs=1e-5)
    assert fit.q == pytest.approx(0.8, rel=1e-3)
    assert fit.m == pytest.approx(0.75, rel=1e-3)
    # the gap is a gap, not a zero: filling it with a wrong value changes the fit
    wrong = curve.copy()
    wrong[3] = 0.0
    assert fit_discrete_bass(wrong).rmse > 0.01


def test_bass_fit_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="at least 4"):
        fit_discrete_bass(np.array([0.0, 0.1, 0.2]))
    with pytest.raises(ValueError, match="shares"):
        fit_discrete_bass(np.array([0.0, 0.1, 0.2, 1.5]))
    with pytest.raises(ValueError, match="starting with a value"):
        fit_discrete_bass(np.array([np.nan, 0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="at least 3 values"):
        fit_discrete_bass(np.array([0.0, 0.1, np.nan, 0.3]))


# --------------------------------------------------------------------------- the facts


REQUIRED = {
    "bass_payment",
    "bass_shopping",
    "ad_concave",
    "kol_engagement",
    "negativity_bias",
    "multi_homing",
}
"""Facts issue 26 names."""


def test_every_fact_has_source_claim_measurement_criterion_and_runs():
    assert len(patterns.FACTS) >= 10
    assert REQUIRED <= set(patterns.FACTS_BY_NAME)
    for fact in patterns.FACTS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", fact.name)
        for text in (fact.claim, fact.source, fact.measurement, fact.criterion):
            assert len(text) > 10, fact.name
        assert re.search(r"\((19|20)\d\d\)", fact.source), f"{fact.name}: no year in its source"
        assert fact.experiments and set(fact.experiments) <= set(patterns.EXPERIMENTS)
        assert fact.spread, f"{fact.name}: no spread over seeds"


def test_the_command_knows_the_facts_and_the_seed_sets():
    assert command.PATTERN_NAMES == tuple(f.name for f in patterns.FACTS)
    assert command.NAMED_SEEDS["held-back"] == patterns.HELD_BACK_SEEDS
    assert command.NAMED_SEEDS["building"] == patterns.BUILDING_SEEDS


def test_the_report_uses_20_held_back_seeds_of_the_baseline_size():
    assert not set(patterns.HELD_BACK_SEEDS) & set(patterns.BUILDING_SEEDS)
    assert patterns.FULL.seeds == patterns.HELD_BACK_SEEDS and len(patterns.FULL.seeds) >= 20
    assert patterns.FULL.consumers == 2000
    assert patterns.FULL.curve_weeks == 312 and patterns.FULL.period == 52
    assert len(patterns.QUICK.seeds) < len(patterns.FULL.seeds)
    assert patterns.QUICK.consumers < patterns.FULL.consumers


def _passes(name: str, **stat: float) -> bool:
    return patterns.FACTS_BY_NAME[name].passes(stat)


def test_criteria_in_code_say_what_their_text_says():
    # Bass: p < 0.05 and q in [0.2, 0.6]
    assert _passes("bass_payment", p=0.03, q=0.38, m=0.9)
    assert not _passes("bass_payment", p=0.06, q=0.38, m=0.9)
    assert not _passes("bass_shopping", p=0.03, q=0.7, m=0.9)
    assert not _passes("bass_shopping", p=0.03, q=0.19, m=0.9)
    # falling marginal returns at every step
    falling = {f"marginal_{i}": v for i, v in enumerate((0.3, 0.2, 0.1, 0.05, 0.01), start=1)}
    assert _passes("ad_concave", **falling)
    assert not _passes("ad_concave", **{**falling, "marginal_2": 0.35})
    assert _passes("ad_elasticity", elasticity=0.12)
    assert not _passes("ad_elasticity", elasticity=0.6)
    assert not _passes("ad_elasticity", elasticity=-0.1)
    assert _passes("kol_engagement", spearman=-0.3, decile_ratio=0.4, kols=160)
    assert not _passes("kol_engagement", spearman=0.22, decile_ratio=1.43, kols=160)
    assert _passes("negativity_bias", ratio=2.5, bad_events=100)
    assert not _passes("negativity_bias", ratio=13.6, bad_events=100)
    assert not _passes("multi_homing", both_share=0.0, users=1000)
    assert _passes("multi_homing", both_share=0.6, users=1000)
    # paired facts: the whole 95% interval on the right side of 0
    assert _passes("hub_seeding", diff=0.02, low=0.01, high=0.03, n=20)
    assert not _passes("hub_seeding", diff=0.02, low=-0.01, high=0.05, n=20)
    assert _passes("fraud_deters_payment", diff=-0.05, low=-0.07, high=-0.03, n=20)
    assert not _passes("kol_commercial_credibility", diff=0.06, low=0.04, high=0.08, n=20)
    hazards = {"hazard_0": 0.003, "hazard_1": 0.004, "hazard_2": 0.005, "hazard_3+": 0.009}
    assert _passes("peer_exposure", **hazards, ratio=3.0)
    assert not _passes("peer_exposure", **hazards, ratio=1.5)
    assert _passes("takeoff", payment_peak_year=2, shoppers_peak_year=3)
    assert not _passes("takeoff", payment_peak_year=1, shoppers_peak_year=3)
    assert not _passes("trust_experience", spearman=math.nan)


def test_negativity_ratio_compares_within_trust_bins():
    # one bin: no experience -0.01, good +0.04 (effect 0.05), bad -0.16 (effect -0.15)
    sums = np.zeros((patterns.TRUST_BINS, 3))
    counts = np.zeros((patterns.TRUST_BINS, 3))
    sums[5] = (-0.01 * 100, 0.04 * 10, -0.16 * 4)
    counts[5] = (100, 10, 4)
    assert patterns._negativity_ratio(sums, counts) == pytest.approx(3.0)


def test_evaluate_aggregates_seeds_and_counts_seeds_passing():
    results = [
        {"seed": 1, "fraud": (0.30, 0.35)},
        {"seed": 2, "fraud": (0.32, 0.36)},
        {"seed": 3, "fraud": (0.31, 0.30)},
    ]
    fact = patterns.FACTS_BY_NAME["fraud_deters_payment"]
    report = patterns.evaluate([fact], TINY, results)
    (result,) = report.results
    assert result.seeds == (1, 2, 3)
    assert result.seeds_passing == 2
    assert result.overall["diff"] == pytest.approx((-0.05 - 0.04 + 0.01) / 3)
    assert not result.passed  # the interval over 3 seeds reaches above 0
    (row,) = patterns.rows(report)
    assert row["seeds_passing"] == "2/3" and row["verdict"] == "FAIL"
    assert row["seeds"] == "1-3"


# --------------------------------------------------------------------------- the options


def _args(**values) -> Namespace:
    base = {
        "patterns": True,
        "quick": True,
        "out": None,
        "only": None,
        "workers": 1,
        "seed": None,
        "seeds": None,
        "strict": False,
    }
    return Namespace(**{**base, **values})


def test_pattern_options_are_checked_before_anything_runs(tmp_path):
    out = str(tmp_path / "out")
    names, seeds, folder = command._check_pattern_options(
        _args(out=out, only="negativity_bias,bass_payment", seeds="1-3,7")
    )
    assert names == ["negativity_bias", "bass_payment"] and seeds == (1, 2, 3, 7)
    assert str(folder) == out
    with pytest.raises(UserError, match="did you mean 'negativity_bias'"):
        command._check_pattern_options(_args(out=out, only="negativity_bais"))
    with pytest.raises(UserError, match="--seeds"):
        command._check_pattern_options(_args(out=out, seed=3))
    with pytest.raises(UserError, match="only with --patterns"):
        command._check_options(_args(patterns=False, out=out, seeds="1-3"))
    assert command.parse_seeds("building") == tuple(range(1, 21))
    for bad, why in (("3-1", "backwards"), ("1,1", "twice"), ("x", "not a seed")):
        with pytest.raises(UserError, match=why):
            command.parse_seeds(bad)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_report() -> patterns.PatternReport:
    return patterns.run_patterns(TINY)


@pytest.mark.long
def test_every_fact_gets_a_row_with_a_verdict(tiny_report):
    table = patterns.rows(tiny_report)
    assert [r["fact"] for r in table] == [f.name for f in patterns.FACTS]
    for row in table:
        assert row["verdict"] in ("pass", "FAIL")
        assert row["seeds_passing"].endswith("/2") and row["seeds"] == "1-2"
        assert row["measured"] and row["source"] and row["criterion"]
    # multi-homing is measured (the two apps have users; consumers may use both)
    multi = next(r for r in tiny_report.results if r.fact.name == "multi_homing")
    assert multi.overall["users"] > 0
    markdown = patterns.markdown_table(table)
    assert markdown.count("\n") == len(table) + 2


@pytest.mark.long
def test_same_seeds_same_table_and_the_files_are_written(tiny_report, tmp_path):
    from model.workflows.validate import run_pattern_suite

    out = tmp_path / "patterns"
    result = run_pattern_suite(None, out, settings=TINY, command="test")
    text = (out / "patterns.csv").read_text()
    assert text == patterns.csv_text(tiny_report)  # same seeds, same table
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == patterns.CSV_COLUMNS
    assert len(rows) == len(patterns.FACTS)
    assert "| `bass_payment` |" in (out / "patterns.md").read_text()
    assert result.failed == tiny_report.failed
    import json

    payload = json.loads((out / "patterns.json").read_text())
    assert [f["fact"] for f in payload["facts"]] == [f.name for f in patterns.FACTS]
    assert all(len(f["per_seed"]) == 2 for f in payload["facts"])


def test_seeding_probes_measure_the_suites_difference_under_each_probe(tmp_path):
    """experiments/seeding_probes.py: hubs minus random per probe and seed, as the suite."""
    from experiments import seeding_probes

    out = tmp_path / "probes.csv"
    argv = ["--seeds", "1-2", "--consumers", "300", "--workers", "1", "--out", str(out)]
    assert seeding_probes.main(argv) == 0
    frame = pd.read_csv(out)
    assert list(frame["probe"].unique()) == list(seeding_probes.PROBES)
    assert sorted(frame["seed"].unique()) == [1, 2]
    shares = frame[["shoppers_degree", "shoppers_random"]].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
    assert np.allclose(frame["diff"], frame["shoppers_degree"] - frame["shoppers_random"])
    # each probe acts: without KOL awareness fewer consumers have shopped by week 52
    mean = frame.groupby("probe")[["shoppers_degree", "shoppers_random"]].mean().sum(axis=1)
    assert mean["no_kol_awareness"] < mean["baseline"]
    assert mean["heavy_tailed"] != mean["baseline"]


def test_diffusion_probes_replay_gaps_are_the_mean_curves_distance_to_cnnic():
    """experiments/diffusion_probes.py: a probe's values in the replay, compared with CNNIC."""
    from experiments import diffusion_probes, grounding_audit
    from model.scenario import load_scenario

    probes = diffusion_probes.probes()
    assert probes["reinforcement_1"] == {"payment.reinforcement": 1.0}
    doubled = probes["reinforcement_3_peer_x2"]["payment.peer_influence"]
    assert doubled == pytest.approx(
        2 * load_scenario(diffusion_probes.BASELINE).payment.peer_influence
    )
    rows = []
    runs = {}
    for seed in (1, 2):
        run = diffusion_probes.replay_run(probes["baseline"], seed, 300)
        runs["baseline", seed] = run
        rows += diffusion_probes.replay_gaps("baseline", run, seed)
    frame = pd.DataFrame(rows, columns=["probe", "seed", "week", "series", "value"])
    data = grounding_audit.observed()
    payment_dates = data.loc[
        data["mobile_payment_share"].notna()
        & (data["step"] <= grounding_audit.step_of("2020-12-31")),
        "date",
    ]
    got = frame[(frame["probe"] == "baseline") & (frame["seed"] == 1)]
    assert {f"replay_payment_gap_{d}" for d in payment_dates} <= set(got["series"])
    # a gap is the model's share minus CNNIC's, in points
    first = data[data["mobile_payment_share"].notna()].iloc[0]
    model = grounding_audit.model_series(runs["baseline", 1], "payment_adoption_connected")
    expected = 100 * (model[int(first["step"])] - first["mobile_payment_share"])
    assert got.set_index("series")["value"][f"replay_payment_gap_{first['date']}"] == (
        pytest.approx(expected)
    )
    summary = diffusion_probes.replay_summary(frame, "baseline", "payment")
    mean = (
        frame[
            (frame["probe"] == "baseline") & frame["series"].str.startswith("replay_payment_gap_")
        ]
        .groupby("series")["value"]
        .mean()
    )
    assert summary["rmse"] == pytest.approx(float(np.sqrt((mean**2).mean())))
    assert abs(summary["largest"]) == pytest.approx(float(mean.abs().max()))
