"""Sensitivity analysis: Sobol' (Ishigami), Morris, response curves, rank correlations, analyze."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps

from model.analysis.sensitivity import (
    AnalysisError,
    grid_means,
    morris_indices,
    rank_correlations,
    response_curve,
    sobol_indices,
)
from model.experiment.design import Parameter, make_design
from model.experiment.store import load_results
from model.workflows.analyze import analyze_store
from model.workflows.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = {"population.consumers": 300, "population.merchants": 20, "population.kols": 3}

# Ishigami function (a = 7, b = 0.1) on [-pi, pi]^3: analytic indices
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])
ISHIGAMI_S13 = 0.2437


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_recovers_ishigami_indices_within_salib_intervals():
    params = [Parameter(f"x{i}", f"f.x{i}", low=-math.pi, high=math.pi) for i in (1, 2, 3)]
    design = make_design("sobol", params, master_seed=2024, samples=1024, second_order=True)
    table = design.points.assign(
        replication=0, y=ishigami(design.points[["x1", "x2", "x3"]].to_numpy())
    )
    first, second = sobol_indices(table, design.problem, "y", second_order=True, seed=2024)
    assert first["parameter"].tolist() == ["x1", "x2", "x3"]
    assert np.all(np.abs(first["S1"] - ISHIGAMI_S1) <= first["S1_conf"])
    assert np.all(np.abs(first["ST"] - ISHIGAMI_ST) <= first["ST_conf"])
    assert np.all(first["S1_conf"] < 0.1) and np.all(first["ST_conf"] < 0.1)
    s13 = second[(second["parameter_1"] == "x1") & (second["parameter_2"] == "x3")].iloc[0]
    assert abs(s13["S2"] - ISHIGAMI_S13) <= s13["S2_conf"]


def _ishigami_work(task):
    """Evaluate Ishigami on three scenario probabilities mapped to [-pi, pi] (a stand-in model)."""
    pay = task.scenario["payment"]
    x = np.array([[pay["fraud_rate"], pay["perceived_risk"], pay["peer_influence"]]])
    y = float(ishigami(2 * math.pi * x - math.pi)[0])
    return pd.DataFrame({"step": [0, 1], "y": [0.0, y]})


def test_sobol_pipeline_from_experiment_file_to_indices(tmp_path):
    """The model's path: experiment file -> Saltelli design -> sweep -> store -> analyze."""
    experiment = tmp_path / "ishigami.yaml"
    experiment.write_text(
        yaml.safe_dump(
            {
                "base": str(BASELINE),
                "set": {**TINY},
                "parameters": [
                    {"name": "x1", "path": "payment.fraud_rate", "range": [0.0, 1.0]},
                    {"name": "x2", "path": "payment.perceived_risk", "range": [0.0, 1.0]},
                    {"name": "x3", "path": "payment.peer_influence", "range": [0.0, 1.0]},
                ],
                "design": {"kind": "sobol", "samples": 128},
                "seed": 5,
                "outcomes": "summary",
            }
        )
    )
    out = tmp_path / "out"
    summary = run_sweep(experiment, out, workers=1, progress=False, work=_ishigami_work)
    assert summary.computed == 128 * 5
    written = analyze_store(out, outcomes=["y_final"])
    indices = pd.read_csv(written["sobol_indices.csv"])
    assert indices["parameter"].tolist() == ["x1", "x2", "x3"]
    assert np.all(np.abs(indices["S1"] - ISHIGAMI_S1) <= indices["S1_conf"])
    assert np.all(np.abs(indices["ST"] - ISHIGAMI_ST) <= indices["ST_conf"])
    assert written["sobol_indices.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Sobol' indices" in written["analysis.md"].read_text()

    # a missing design point: the indices refuse rather than guess
    next((out / "parts").glob("run-*.parquet")).unlink()
    with pytest.raises(AnalysisError, match="1 of 640 design points have no finished run"):
        analyze_store(out, outcomes=["y_final"])


def test_morris_of_a_linear_function_gives_its_slopes():
    params = [
        Parameter("a", "a", low=0.0, high=1.0),
        Parameter("b", "b", low=0.0, high=2.0),
        Parameter("c", "c", low=0.0, high=1.0),
    ]
    design = make_design("morris", params, master_seed=3, samples=10, num_levels=4)
    table = design.points.assign(y=2.0 * design.points["a"] - 3.0 * design.points["b"])
    got = morris_indices(table, design.problem, "y", design.sample, num_levels=4)
    # elementary effects are measured per unit of the range: slope x (high - low)
    np.testing.assert_allclose(got["mu"], [2.0, -6.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(got["mu_star"], [2.0, 6.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(got["sigma"], [0.0, 0.0, 0.0], atol=1e-9)


def test_response_curve_and_grid_means_are_t_intervals():
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {
            "a": np.repeat([0.0, 0.5, 1.0], 8),
            "b": np.tile(np.repeat([1, 2], 4), 3),
            "y": rng.normal(size=24),
        }
    )
    curve = response_curve(table, "a", "y")
    assert curve["value"].tolist() == [0.0, 0.5, 1.0] and (curve["n"] == 8).all()
    for _, row in curve.iterrows():
        sample = table.loc[table["a"] == row["value"], "y"]
        low, high = sps.t.interval(0.95, 7, loc=sample.mean(), scale=sps.sem(sample))
        assert row["mean"] == pytest.approx(sample.mean())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    cells = grid_means(table, "a", "b", "y")
    assert len(cells) == 6 and (cells["n"] == 4).all()
    cell = cells[(cells["x_value"] == 0.5) & (cells["y_value"] == 2)].iloc[0]
    expected = table[(table["a"] == 0.5) & (table["b"] == 2)]["y"].mean()
    assert cell["mean"] == pytest.approx(expected)
    by = response_curve(table, "a", "y", by="b")
    assert len(by) == 6 and set(by["by_value"]) == {1, 2}


def test_rank_correlations_find_the_monotone_parameter():
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"a": rng.uniform(size=60), "b": rng.uniform(size=60)})
    table["y"] = np.exp(3 * table["a"])  # monotone in a, independent of b
    got = rank_correlations(table, ["a", "b"], "y").set_index("parameter")
    assert got.loc["a", "rho"] == pytest.approx(1.0)
    assert got.loc["b", "ci_low"] < 0 < got.loc["b", "ci_high"]
    assert got.loc["b", "rho"] == pytest.approx(sps.spearmanr(table["b"], table["y"]).statistic)


def _tiny_experiment(folder: Path, name: str, parameters, design, **more) -> Path:
    data = {
        "name": name,
        "base": str(BASELINE),
        "set": dict(TINY),
        "parameters": parameters,
        "design": design,
        "steps": 8,
        "seed": 4,
        "outcomes": "summary",
        **more,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_analyze_grid_store_writes_heatmaps_curves_and_their_numbers(tmp_path):
    experiment = _tiny_experiment(
        tmp_path,
        "grid2",
        [
            {"name": "risk", "path": "payment.perceived_risk", "values": [0.1, 0.7]},
            {"name": "transmission", "path": "word_of_mouth.transmission", "values": [0.01, 0.1]},
        ],
        {"kind": "grid"},
        replications=2,
    )
    out = tmp_path / "out"
    run_sweep(experiment, out, workers=1, progress=False)
    written = analyze_store(out, outcomes=["payment_adoption", "aware_share_mean"])
    for name in ("heatmaps.png", "heatmaps.csv", "response_curves.png", "response_curves.csv"):
        assert written[name].stat().st_size > 0
    cells = pd.read_csv(written["heatmaps.csv"])
    results = load_results(out)
    expected = results.groupby(["risk", "transmission"])["payment_adoption_final"].mean()
    got = cells[cells["outcome"] == "payment_adoption_final"].set_index(["x_value", "y_value"])
    for (risk, transmission), value in expected.items():
        assert got.loc[(risk, transmission), "mean"] == pytest.approx(value)
    curves = pd.read_csv(written["response_curves.csv"])
    assert set(curves["outcome"]) == {"payment_adoption_final", "aware_share_mean"}


def test_analyze_one_dimensional_timeseries_store(tmp_path, capsys):
    from model.cli import main

    experiment = _tiny_experiment(
        tmp_path,
        "curve",
        [{"name": "risk", "path": "payment.perceived_risk", "range": [0.1, 0.7], "levels": 3}],
        {"kind": "grid"},
        replications=3,
        outcomes="timeseries",
    )
    out = tmp_path / "out"
    run_sweep(experiment, out, workers=1, progress=False)
    assert main(["analyze", str(out), "--outcome", "payment_adoption"]) == 0
    assert "analysis.md" in capsys.readouterr().out
    # 3 replications: the figure shows the single runs instead of a swamping t band
    summary = (out / "analysis" / "analysis.md").read_text()
    assert "3 run(s) per point, too few for a readable 95% band (t = 4.3)" in summary
    curves = pd.read_csv(out / "analysis" / "response_curves.csv")
    assert curves["value"].tolist() == pytest.approx([0.1, 0.4, 0.7])
    results = load_results(out)
    final = results[results["step"] == 8]
    sample = final.loc[np.isclose(final["risk"], 0.4), "payment_adoption"]
    low, high = sps.t.interval(0.95, 2, loc=sample.mean(), scale=sps.sem(sample))
    row = curves[np.isclose(curves["value"], 0.4)].iloc[0]
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((sample.mean(), low, high))


def test_analyze_lhs_and_morris_stores(tmp_path):
    params = [
        {"name": "risk", "path": "payment.perceived_risk", "range": [0.1, 0.7]},
        {"name": "transmission", "path": "word_of_mouth.transmission", "range": [0.005, 0.1]},
    ]
    lhs = _tiny_experiment(tmp_path, "lhs", params, {"kind": "lhs", "samples": 8})
    run_sweep(lhs, tmp_path / "lhs", workers=1, progress=False)
    # awareness, not payment: in 8 weeks of 300 consumers the payers can be the same in
    # every sample (a constant outcome has no rank correlation)
    written = analyze_store(tmp_path / "lhs", outcomes=["aware_share_mean"])
    correlations = pd.read_csv(written["rank_correlations.csv"])
    assert correlations["parameter"].tolist() == ["risk", "transmission"]
    assert correlations["rho"].between(-1, 1).all()
    assert "scatter_aware_share_mean.png" in written

    morris = _tiny_experiment(
        tmp_path, "morris", params, {"kind": "morris", "samples": 3, "num_levels": 4}
    )
    run_sweep(morris, tmp_path / "morris", workers=1, progress=False)
    written = analyze_store(tmp_path / "morris", outcomes=["payment_adoption", "gmv_mean"])
    indices = pd.read_csv(written["morris_indices.csv"])
    assert len(indices) == 4 and (indices["mu_star"] >= 0).all() and (indices["sigma"] >= 0).all()
    assert written["morris_indices.png"].stat().st_size > 0


def test_analyze_errors_are_one_line(tmp_path, capsys):
    from model.cli import main

    assert main(["analyze", str(tmp_path / "nothing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    experiment = _tiny_experiment(
        tmp_path,
        "small",
        [{"name": "risk", "path": "payment.perceived_risk", "values": [0.1, 0.7]}],
        {"kind": "grid"},
    )
    run_sweep(experiment, tmp_path / "out", workers=1, progress=False)
    assert main(["analyze", str(tmp_path / "out"), "--outcome", "paymnt_adoption"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mtsim: error: --outcome: 'paymnt_adoption': not in the results")
    assert "did you mean 'payment_adoption" in err


def test_figure_numbers_are_readable():
    from functools import partial

    from model.metrics import format_number

    _figure_number = partial(format_number, significant=3, missing="")  # as sensitivity's figures
    assert _figure_number(1250.4) == "1,250"
    assert _figure_number(-12_345.6) == "-12,346"
    assert _figure_number(0.04921) == "0.0492"
    assert _figure_number(0.5) == "0.5"
    assert _figure_number(12.34) == "12.3"
    assert _figure_number(0.0) == "0"
    assert _figure_number(0.000123456) == "0.000123"
    assert _figure_number(float("nan")) == ""


def test_default_outcomes_come_from_the_registry():
    from model.analysis.sensitivity import default_outcomes

    assert default_outcomes() == [
        "payment_adoption_final",
        "shopper_share_final",
        "mean_trust_foreign_final",
        "cross_border_share_mean",
        "gmv_mean",
    ]


def test_analyze_help_prints_a_single_percent_sign(capsys):
    from model.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "95% intervals" in text and "%%" not in text


def test_response_curves_band_only_with_enough_runs(tmp_path):
    import matplotlib.pyplot as plt

    from model.analysis import sensitivity

    rng = np.random.default_rng(2)
    drawn = {}
    original = plt.Figure.savefig

    def spy(fig, path, *args, **kwargs):
        axes = [ax for ax in fig.axes if ax.get_visible()]
        drawn[Path(path).name] = {
            "bands": sum(len(ax.collections) for ax in axes),
            "dots": sum(1 for ax in axes for line in ax.lines if line.get_linestyle() == "None"),
            "title": fig._suptitle.get_text(),
        }
        return original(fig, path, *args, **kwargs)

    plt.Figure.savefig = spy
    try:
        for reps in (3, 8):
            table = pd.DataFrame(
                {"x": np.repeat([0.0, 0.5, 1.0], reps), "y_final": rng.normal(0, 1, 3 * reps)}
            )
            curves = response_curve(table, "x", "y_final")
            sensitivity.plot_response_curves(curves, tmp_path / f"r{reps}.png", "t", table)
    finally:
        plt.Figure.savefig = original
    assert drawn["r3.png"]["bands"] == 0 and drawn["r3.png"]["dots"] == 1
    assert "n = 3" in drawn["r3.png"]["title"] and "single runs" in drawn["r3.png"]["title"]
    assert drawn["r8.png"]["bands"] == 1 and drawn["r8.png"]["dots"] == 0
    assert "95% t interval" in drawn["r8.png"]["title"]


def test_a_perfect_rank_order_gives_rho_within_bounds_and_a_plottable_interval(tmp_path):
    from model.analysis.sensitivity import plot_rank_correlations, rank_correlations

    x = np.linspace(0.005, 0.1, 8)
    table = pd.DataFrame({"t": x, "up": np.exp(3 * x), "down": -np.exp(3 * x)})
    rows = pd.concat(
        [rank_correlations(table, ["t"], "up"), rank_correlations(table, ["t"], "down")],
        ignore_index=True,
    )
    assert rows["rho"].tolist() == [1.0, -1.0]
    assert (rows["ci_low"] <= rows["rho"]).all() and (rows["rho"] <= rows["ci_high"]).all()
    plot_rank_correlations(rows, tmp_path / "rho.png", "perfect order")
    assert (tmp_path / "rho.png").stat().st_size > 0
