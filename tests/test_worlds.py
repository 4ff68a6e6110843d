"""``mtsim compare BASE POLICY... --worlds N``: the paired comparison across plausible worlds.

Small: 300 consumers, 30 weeks, 4 worlds, 1 replication (issue 29).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.ranges import load_ranges
from model.workflows.worlds import draw_worlds

ROOT = Path(__file__).resolve().parents[1]
FILES = [str(ROOT / "scenarios/baseline.yaml"), str(ROOT / "scenarios/integrity.yaml")]
SMALL = ["--set", "population.consumers=300", "--steps", "30", "--reps", "1", "--workers", "1"]


def test_worlds_are_deterministic_for_a_seed_and_within_ranges():
    table = load_ranges()
    a, b = draw_worlds(16, seed=7), draw_worlds(16, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(draw_worlds(16, seed=8))
    assert list(a.columns) == table.names()
    for key, rng in table.ranges.items():
        column = a[key].to_numpy()
        assert (column >= rng.low - 1e-12).all() and (column <= rng.high + 1e-12).all(), key
        if rng.integer:
            assert np.array_equal(column, np.round(column)), key
    # a Latin hypercube: each of the 16 strata of a (linear) range holds one world
    rng = table.ranges["merchants.integrity_erosion"]
    strata = np.floor((a[rng.key] - rng.low) / (rng.high - rng.low) * 16).clip(0, 15)
    assert sorted(strata.astype(int)) == list(range(16))


def test_vary_restricts_the_worlds_to_the_named_ranges(capsys, tmp_path):
    from model.cli import main

    worlds = draw_worlds(8, seed=1, vary=["merchants", "trust.wom_gain"])
    assert "merchants.integrity_erosion" in worlds.columns and "trust.wom_gain" in worlds.columns
    assert all(k.startswith("merchants.") or k == "trust.wom_gain" for k in worlds.columns)
    args = ["compare", *FILES, "--worlds", "4", "--vary", "merchnts", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--vary: merchnts" in err[0] and "merchants" in err[0]


@pytest.mark.parametrize("bad", ["0", "1", "-3", "2.5", "many", "1000001"])
def test_bad_worlds_value_is_refused_in_one_line(bad, capsys, tmp_path):
    from model.cli import main

    assert main(["compare", *FILES, "--worlds", bad, "--out", str(tmp_path / "w"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--worlds" in err[0] and "whole number" in err[0], err


def test_posterior_worlds_without_a_posterior_file_are_refused(capsys, tmp_path, monkeypatch):
    from model.cli import main

    monkeypatch.chdir(tmp_path)  # no results/calibration/cnnic/posterior.csv here
    code = main(["compare", *FILES, "--worlds", "4", "--worlds-from", "posterior", *SMALL])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "posterior" in err[0]


@pytest.mark.long
def test_robust_comparison_writes_the_table_and_first_paragraph_and_resumes(capsys, tmp_path):
    from model.cli import main

    whole = tmp_path / "whole"
    args = ["compare", *FILES, "--worlds", "4", *SMALL, "--seed", "3", "--quiet"]
    assert main([*args, "--out", str(whole)]) == 0
    out = capsys.readouterr()
    assert "estimate:" in out.err
    summary = pd.read_csv(whole / "robust_summary.csv")
    assert {"policy", "metric", "median", "p10", "p90", "keeps_sign", "depends_on"} <= set(
        summary.columns
    )
    assert set(summary["policy"]) == {"integrity"}
    assert len(pd.read_csv(whole / "worlds.csv")) == 4
    assert set(pd.read_csv(whole / "effects.csv")["world"]) == {0, 1, 2, 3}
    report = (whole / "report.md").read_text(encoding="utf-8")
    first = report.split("\n\n")[1]
    assert first.startswith("Across 4 plausible worlds") and "integrity:" in first
    assert "worlds" in first and "baseline" in first
    assert first in out.out
    assert "Across 4 plausible worlds" in (whole / "report.html").read_text(encoding="utf-8")

    # a study cut short (runs of world 1 onward lost, as after a kill) resumes to the same result
    cut = tmp_path / "cut"
    shutil.copytree(whole, cut)
    for path in sorted((cut / "runs").glob("w*.json"))[2:]:
        path.unlink()
    for name in ("robust_summary.csv", "effects.csv", "report.md"):
        (cut / name).unlink()
    assert main([*args, "--out", str(cut)]) == 2  # without --resume: refused
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--out", str(cut), "--resume"]) == 0
    assert len(list((cut / "runs").glob("w*.json"))) == 8
    for name in ("robust_summary.csv", "effects.csv", "sensitivity.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(whole / name), pd.read_csv(cut / name))
    assert (whole / "report.md").read_text() == (cut / "report.md").read_text()
    # another study in that folder is refused
    assert main([*args[:-1], "--seed", "4", "--quiet", "--out", str(cut), "--resume"]) == 2
    assert "another study" in capsys.readouterr().err


def test_a_value_the_scenarios_set_differently_keeps_each_scenarios_value(capsys, tmp_path):
    """counterfeit_heavy.yaml changes merchants' integrity: that is what is compared."""
    from model.cli import main

    files = [FILES[0], str(ROOT / "scenarios/counterfeit_heavy.yaml")]
    out = tmp_path / "w"
    args = ["compare", *files, "--worlds", "2", "--vary", "merchants.integrity_mean,trust"]
    assert (
        main(
            [*args, "--set", "population.consumers=200", "--steps", "3", "--reps", "1"]
            + ["--workers", "1", "--quiet", "--out", str(out)]
        )
        == 0
    )
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kept_own_values"] == ["merchants.integrity_mean"]
    assert "Kept at each scenario's own value" in capsys.readouterr().out


def test_several_policies_say_how_often_each_is_best(capsys, tmp_path):
    from model.cli import main

    files = [*FILES, str(ROOT / "scenarios/payment_security.yaml")]
    args = ["compare", *files, "--worlds", "2", "--set", "population.consumers=200"]
    args += ["--steps", "3", "--reps", "1", "--workers", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "w")]) == 0
    regret = pd.read_csv(tmp_path / "w" / "regret_summary.csv")
    assert set(regret["package"]) == {"integrity", "payment_security"}
    assert {"share_best", "mean_regret", "max_regret"} <= set(regret.columns)
    assert "Which policy is best:" in (tmp_path / "w" / "report.md").read_text()
