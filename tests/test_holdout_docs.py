"""The generated text of the latest hold-out (docs/generators_holdout.py) follows its files."""

from __future__ import annotations

import csv
import json

import pytest

from docs import generators_holdout as gh
from model.validation.posterior import MODEL_POINT, MODEL_PREDICTIVE

FIELDS = ["series", "method", "observations", "rmse_points", "coverage_50", "coverage_90", "note"]


def _write(folder, rows, generations, ess=35.0):
    folder.mkdir(parents=True)
    with (folder / "out_of_sample.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with (folder / "generations.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t", "epsilon", "samples", "particles", "acceptance_rate", "ess"])
        for t in range(generations):
            writer.writerow([t, 0.1 / (t + 1), 300, 120, 0.4, 120 if t == 0 else ess])
    (folder / "calibration.json").write_text(
        json.dumps(
            {
                "mode": "holdout",
                "manifest": {"git_commit": "abcdef123", "created": "2026-12-06T18:00"},
            }
        )
    )


def _row(series, method, rmse, c50="", c90=""):
    return {
        "series": series,
        "method": method,
        "observations": 4,
        "rmse_points": rmse,
        "coverage_50": c50,
        "coverage_90": c90,
        "note": "",
    }


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    monkeypatch.setattr(gh, "ROOT", tmp_path)
    return tmp_path / gh.HOLDOUT_DIR


def test_the_verdict_compares_the_predictive_mean_with_the_best_baseline(shipped):
    _write(
        shipped,
        [
            _row("payment", MODEL_PREDICTIVE, 2.0, 0.5, 1.0),
            _row("payment", MODEL_POINT, 5.0),
            _row("payment", "logistic", 3.0, 0.25, 0.75),
            _row("payment", "bass", 2.5),
            _row("shopping", MODEL_PREDICTIVE, 9.0, 0.0, 0.5),
            _row("shopping", MODEL_POINT, 8.0),
            _row("shopping", "linear_trend", 4.0),
        ],
        generations=3,
    )
    table = gh.holdout_latest_table()
    payment = next(line for line in table.splitlines() if line.startswith("| mobile payment |"))
    shopping = next(line for line in table.splitlines() if line.startswith("| mobile shopping |"))
    assert "bass: 2.5" in payment and "(0.50 / 1.00)" in payment
    # the verdict names the predictive mean and the point estimate, each against the best
    assert "predictive mean beats every baseline; point estimate worse than bass" in payment
    assert "linear_trend: 4" in shopping
    assert "predictive mean worse than linear_trend; point estimate worse than" in shopping
    assert "abcdef1" in table


def test_the_fit_text_states_ess_and_pooled_coverage_against_nominal(shipped):
    _write(
        shipped,
        [
            _row("access", MODEL_PREDICTIVE, 1.0, 0.5, 1.0),
            _row("payment", MODEL_PREDICTIVE, 1.0, 0.25, 0.75),
            _row("customs", MODEL_PREDICTIVE, 99.0, 0.0, 0.0),
        ],
        generations=4,
        ess=22.5,
    )
    text = gh.holdout_latest_fit()
    assert "4 generations of 120 particles kept" in text
    assert "22.5 of 120 (below the 30" in text
    # pooled over access and payment (8 observations), customs left out
    assert "0.38 inside the 50% band and 0.88 inside the 90% band (both within 15 points" in text


def test_the_fit_text_names_its_scoring_in_the_validation_log(shipped):
    _write(shipped, [_row("payment", MODEL_PREDICTIVE, 1.0, 0.5, 1.0)], generations=2, ess=40.0)
    log = shipped.parents[2] / "docs" / "validation_log.csv"  # ROOT / docs
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        "date,commit,scoring,status\n"
        "2026-12-01,0000000,7,development\n"
        "2026-12-07,abcdef123,8,headline\n"
    )
    text = gh.holdout_latest_fit()
    assert text.startswith("This is scoring 8 of the validation log, status `headline`.")
    assert "40.0 of 120 (at least the 30" in text


def test_nothing_shipped_says_so(shipped):
    assert "No hold-out fit shipped" in gh.holdout_latest_table()
    assert "No hold-out fit shipped" in gh.holdout_latest_fit()
