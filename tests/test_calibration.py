"""Calibration: recovers known parameters from a series the model itself generated; bad files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from model.cli import main
from model.scenario import load_scenario
from model.validation.calibration import CalibrationError, load_calibration

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
# payment adoption alone (no merchants, no KOLs: no adoption at checkout)
# and few early adopters (1%), so early growth shows rigid demand and later growth peers
SMALL = {
    "population.consumers": 400,
    "population.merchants": 0,
    "population.kols": 0,
    "regions.domestic.initial_payment_adoption": 0.01,
    "regions.foreign.initial_payment_adoption": 0.01,
}
TRUTH = {"payment.peer_influence": 0.12, "payment.rigid_demand_rate": 0.004}
STEPS = 96
ORIGIN = pd.Timestamp("2020-01-06")


def _synthetic_series(path: Path, seeds: range) -> None:
    """Mean payment adoption of runs at the true parameters, every 8th week."""
    from model.market import run_model

    scenario = load_scenario(BASELINE, {**SMALL, **TRUTH})
    curves = np.array(
        [run_model(scenario, seed=s, steps=STEPS)["payment_adoption_connected"] for s in seeds]
    )
    steps = np.arange(0, STEPS + 1, 8)
    dates = ORIGIN + pd.to_timedelta(steps * 7, unit="D")
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": curves.mean(axis=0)[steps]}).to_csv(
        path, index=False
    )


def _config(tmp_path: Path, **changes) -> Path:
    config = {
        "name": "selftest",
        "scenario": str(BASELINE),
        "overrides": dict(SMALL),
        "observed": {"path": "series.csv", "value_column": "value"},
        "metric": "payment_adoption_connected",
        "time": {"origin": "2020-01-06", "days_per_step": 7},
        "holdout": {"fit_until": "2020-09-01"},
        "parameters": {
            "payment.peer_influence": {"low": 0.01, "high": 0.5, "log": True},
            "payment.rigid_demand_rate": {"low": 0.0005, "high": 0.05, "log": True},
        },
        "optimiser": {"method": "lhs_nelder_mead", "budget": 30, "initial_points": 10, "seed": 3},
        "replications": 4,
        "seed": 0,
        "output": "out",
    }
    config.update(changes)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    # an identical-twin experiment: the series comes from the model at known parameters
    # with the calibration's own replication seeds (0..3), so the truth fits exactly and
    # the test checks that the optimiser finds it within its budget
    tmp_path = tmp_path_factory.mktemp("calibration")
    _synthetic_series(tmp_path / "series.csv", range(4))
    config = _config(tmp_path)
    code = main(["calibrate", str(config), "--quiet"])
    return code, tmp_path


def test_calibration_recovers_known_parameters(fitted):
    # stated tolerance: each parameter within 15% of the truth; the search range spans a
    # factor of 50 (peer_influence) and 100 (rigid_demand_rate) on a log scale
    code, tmp_path = fitted
    assert code == 0
    result = json.loads((tmp_path / "out" / "calibration.json").read_text())
    for name, truth in TRUTH.items():
        assert abs(math.log(result["fitted"][name] / truth)) < math.log(1.15), (
            name,
            result["fitted"],
        )
    assert result["rmse_fit"] < 0.005  # half a share point on a curve rising from 1% to ~80%
    assert result["evaluations"] <= 30
    # fresh seeds do not fit exactly: stochastic timing of adoption is real noise
    assert result["rmse_fit_fresh_seeds"] > result["rmse_fit"]


def test_calibration_writes_its_outputs_and_a_loadable_scenario(fitted):
    _, tmp_path = fitted
    out = tmp_path / "out"
    for name in (
        "calibration.json",
        "evaluations.csv",
        "simulated.csv",
        "fit.png",
        "fitted_scenario.yaml",
    ):
        assert (out / name).stat().st_size > 0, name
    fitted_scenario = load_scenario(out / "fitted_scenario.yaml")
    result = json.loads((out / "calibration.json").read_text())
    assert fitted_scenario.payment.peer_influence == pytest.approx(
        result["fitted"]["payment.peer_influence"]
    )
    assert fitted_scenario.population.consumers == 400
    evaluations = pd.read_csv(out / "evaluations.csv")
    assert evaluations["rmse"].min() == pytest.approx(result["rmse_fit"])
    simulated = pd.read_csv(out / "simulated.csv")
    assert len(simulated) == STEPS + 1
    assert (simulated["low"] <= simulated["mean"] + 1e-12).all()
    assert (simulated["mean"] <= simulated["high"] + 1e-12).all()


def test_common_random_numbers_make_the_objective_deterministic(tmp_path):
    _synthetic_series_small = pd.DataFrame(
        {"date": ["2020-01-06", "2020-03-02"], "value": [0.05, 0.2]}
    )
    _synthetic_series_small.to_csv(tmp_path / "series.csv", index=False)
    cal = load_calibration(_config(tmp_path, overrides={**SMALL, "population.consumers": 150}))
    from model.validation.calibration import Objective

    objective = Objective(cal, cal.fit_mask(False), budget=5)
    point = np.array([0.4, 0.6])
    first = objective.simulate(cal.to_values(point), cal.seeds())
    again = objective.simulate(cal.to_values(point), cal.seeds())
    assert np.array_equal(first, again)
    # the cache serves a repeated point without spending budget
    objective(point)
    objective(point)
    assert len(objective.history) == 1


def test_holdout_mode_splits_fit_and_prediction(tmp_path):
    pd.DataFrame(
        {"date": ["2020-01-06", "2020-06-01", "2020-12-28"], "value": [0.05, 0.3, 0.6]}
    ).to_csv(tmp_path / "series.csv", index=False)
    cal = load_calibration(_config(tmp_path), holdout=True)
    assert cal.fit_mask(True).tolist() == [True, True, False]
    assert cal.predict_mask(True).tolist() == [False, False, True]
    assert cal.observations["step"].tolist() == [0, 21, 51]
    assert cal.steps == 51


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"parameters": {"payment.peer_influnce": {"low": 0.0, "high": 0.5}}},
            "not a key of the scenario",
        ),
        (
            {"parameters": {"payment.peer_influence": {"low": 0.5, "high": 0.1}}},
            "must be greater than low",
        ),
        (
            {"parameters": {"payment.peer_influence": {"low": 0.0, "high": 0.5, "log": True}}},
            "log: true needs low > 0",
        ),
        (
            {"parameters": {"payment.peer_influence": {"low": 0.0, "high": 2.0}}},
            "parameters.payment.peer_influence.high: 2.0",
        ),
        ({"parameters": {}}, "at least one parameter"),
        ({"observed": {"path": "missing.csv", "value_column": "value"}}, "observed.path"),
        ({"observed": {"path": "series.csv", "value_column": "share"}}, "no such column"),
        ({"time": {"origin": "2021-01-01"}}, "comes before step 0"),
        ({"optimiser": {"method": "annealing"}}, "optimiser.method"),
        ({"replications": 0}, "replications"),
        ({"bogus": 1}, "bogus: unknown key"),
        ({"metric": "payment_adopton"}, "metric: 'payment_adopton': not a metric"),
        ({"denominator": "nothing"}, "denominator: 'nothing': not a metric"),
        ({"scenario": "nowhere.yaml"}, "scenario: 'nowhere.yaml': file not found"),
        ({"fit": {"start": "2030-01-01"}}, "no observation falls in the fit window"),
    ],
)
def test_bad_calibration_files_give_one_line_errors(tmp_path, change, message):
    pd.DataFrame({"date": ["2020-01-06", "2020-03-02"], "value": [0.05, 0.2]}).to_csv(
        tmp_path / "series.csv", index=False
    )
    with pytest.raises(CalibrationError) as info:
        load_calibration(_config(tmp_path, **change))
    assert message in str(info.value)
    assert "cal.yaml" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_bad_csv_rows_and_cli_exit_code(tmp_path, capsys):
    pd.DataFrame({"date": ["2020-01-06", "soon"], "value": [0.05, 0.2]}).to_csv(
        tmp_path / "series.csv", index=False
    )
    config = _config(tmp_path)
    assert main(["calibrate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'soon'" in err and "not a date" in err
    assert err.count("\n") == 1


def test_holdout_without_section_is_an_error(tmp_path):
    pd.DataFrame({"date": ["2020-01-06", "2020-03-02"], "value": [0.05, 0.2]}).to_csv(
        tmp_path / "series.csv", index=False
    )
    config = _config(tmp_path, holdout=None)
    with pytest.raises(CalibrationError, match="holdout"):
        load_calibration(config, holdout=True)


def test_shipped_cnnic_calibration_file_is_valid():
    cal = load_calibration(ROOT / "experiments" / "calibrate_cnnic.yaml", holdout=True)
    obs = cal.observations
    assert obs["observed"].iloc[0] == pytest.approx(0.251)
    assert obs["date"].iloc[-1] == pd.Timestamp("2020-12-31")
    assert cal.steps == 365
    assert int(cal.fit_mask(True).sum()) == 4  # 2014, mid-2015, 2015, 2016
    assert int(cal.predict_mask(True).sum()) == 4  # 2017, 2018, March 2020, 2020


@pytest.mark.parametrize("method", ["lhs_nelder_mead", "differential_evolution", "nelder_mead"])
def test_every_optimiser_stays_within_bounds_and_budget(tmp_path, method):
    from model.validation.calibration import run_calibration

    pd.DataFrame(
        {"date": ["2020-01-06", "2020-02-03", "2020-03-02"], "value": [0.01, 0.05, 0.1]}
    ).to_csv(tmp_path / "series.csv", index=False)
    config = _config(
        tmp_path,
        overrides={**SMALL, "population.consumers": 100},
        optimiser={"method": method, "budget": 5, "initial_points": 2, "popsize": 2, "seed": 1},
        replications=2,
    )
    cal = load_calibration(config)
    result = run_calibration(cal)
    assert 1 <= len(result.history) <= 5
    for evaluation in result.history:
        for name, value in evaluation.values.items():
            bounds = cal.config.parameters[name]
            assert bounds.low <= value <= bounds.high
    assert result.best.rmse == min(e.rmse for e in result.history)
    assert result.fresh_series.shape == (2, cal.steps + 1)
