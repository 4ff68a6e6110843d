"""The written-down forecast past the data (experiments/forecast.py; docs/calibration.md 11).

Its table reads each series at the step of each year-end as the grounding audit maps
dates, divides shopping by access as CNNIC counts it, sums the year's flows for the
mobile share of consumption, and its scenario adds nothing after the data's last year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, load_experiment_script


def fake_run(seed: int, steps: int) -> pd.DataFrame:
    t = np.arange(steps + 1, dtype=float)
    return pd.DataFrame(
        {
            "seed": seed,
            "step": np.arange(steps + 1),
            "payment_adoption_connected": 0.5 + t / (4 * steps) + seed * 1e-4,
            "active_shopper_share": 0.25 * np.ones(steps + 1),
            "mobile_access_share": 0.5 * np.ones(steps + 1),
            "gmv": np.ones(steps + 1),
            "basket_value": 4 * np.ones(steps + 1),
        }
    )


def test_the_table_reads_each_year_end_and_sums_the_years_flows():
    forecast = load_experiment_script("forecast")
    steps = forecast.step_of(forecast.END)
    runs = [fake_run(seed, steps) for seed in forecast.SEEDS]
    rows = {(r["series"], r["year"]): r for r in forecast.rows(runs)}
    assert {year for _, year in rows} == set(forecast.YEARS)
    for year in forecast.YEARS:
        at = forecast.step_of(f"{year}-12-31")
        values = [run["payment_adoption_connected"].iloc[at] for run in runs]
        row = rows[("payment", year)]
        assert row["mean"] == pytest.approx(np.mean(values))
        assert (row["min"], row["max"]) == (min(values), max(values))
        assert row[f"seed_{forecast.SEEDS[0]}"] == values[0]
        assert rows[("shopping_26w", year)]["mean"] == pytest.approx(0.5)  # 0.25 / 0.5 access
        assert rows[("mobile_share_of_consumption", year)]["mean"] == pytest.approx(0.25)


def test_the_forecast_runs_the_calibrated_replay_with_no_event_after_its_data():
    from model.scenario import load_scenario

    forecast = load_experiment_script("forecast")
    scenario = load_scenario(ROOT / "scenarios" / "china_2013.yaml")
    last_data = forecast.step_of("2020-12-31")
    assert scenario.simulation.steps <= last_data + 1  # the scenario itself ends with its data
    assert all(iv.start <= last_data for iv in scenario.policies)  # nothing added later
    assert forecast.step_of(forecast.END) > last_data + 4 * 52
    assert not set(forecast.SEEDS) & set(range(2001, 2011))  # not the grounding audit's
