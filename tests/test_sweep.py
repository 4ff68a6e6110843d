"""Sweeps: designs, experiment files, the result store, executors, resume and failures.

Everything runs the real model on a tiny world (300 consumers, 10 steps), through
the public API (``run_sweep``, ``load_results``) or the ``mtsim`` command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from model.experiment.design import Parameter, make_design, run_seed
from model.experiment.spec import ExperimentError, load_experiment
from model.experiment.store import (
    StoreError,
    load_design,
    load_failures,
    load_results,
    store_status,
)
from model.workflows.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
PYTHON = sys.executable

TINY = {
    "population.consumers": 300,
    "population.merchants": 20,
    "population.kols": 3,
}


def write_experiment(folder: Path, name: str = "tiny", **changes) -> Path:
    """A 2 x 2 grid x 2 replications (8 runs) on the tiny world, with top-level changes."""
    data = {
        "name": name,
        "base": str(BASELINE),
        "set": {
            **TINY,
            "policies": [
                {"lever": "channel_kol_campaign", "strength": 0.0},
                {"lever": "payment_security", "strength": 0.0},
            ],
        },
        "parameters": [
            {"name": "kol_budget", "path": "policies.0.strength", "values": [0.0, 0.2]},
            {"name": "security", "path": "policies.1.strength", "range": [0.0, 1.0], "levels": 2},
        ],
        "design": {"kind": "grid"},
        "replications": 2,
        "steps": 10,
        "seed": 123,
        "outcomes": "timeseries",
    }
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory) -> tuple[Path, Path]:
    """The 8-run grid, swept once in this process (shared by the read-only tests)."""
    folder = tmp_path_factory.mktemp("grid")
    experiment = write_experiment(folder)
    out = folder / "out-w1"
    summary = run_sweep(experiment, out, workers=1, progress=False)
    assert summary.status == "complete" and summary.computed == 8
    return experiment, out


# --------------------------------------------------------------------------- executors


def test_same_results_with_one_worker_two_workers_and_dask(grid_store, tmp_path):
    from distributed import Client, LocalCluster

    experiment, out1 = grid_store
    reference = load_results(out1)
    assert len(reference) == 8 * 11  # 8 runs x steps 0..10
    assert sorted(reference["run"].unique()) == list(range(8))

    out2 = tmp_path / "w2"
    assert run_sweep(experiment, out2, workers=2, progress=False).computed == 8
    pd.testing.assert_frame_equal(load_results(out2), reference)

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        with Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            out3 = tmp_path / "dask"
            summary = run_sweep(experiment, out3, executor=client.get_executor(), progress=False)
            assert summary.computed == 8 and summary.failed == 0
    finally:
        cluster.close()
    assert cluster.status.name == "closed"
    pd.testing.assert_frame_equal(load_results(out3), reference)
    manifest = json.loads((out3 / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"].startswith("ClientExecutor")


def test_dask_local_option_starts_and_closes_its_own_cluster(grid_store, tmp_path):
    experiment, out1 = grid_store
    out = tmp_path / "dask-local"
    summary = run_sweep(experiment, out, dask_local=1, progress=False)
    assert summary.status == "complete"
    pd.testing.assert_frame_equal(load_results(out), load_results(out1))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"] == "Dask LocalCluster (1 worker)"


def test_stored_run_is_exactly_what_the_model_returns(grid_store):
    from model.market import run_model

    experiment, out = grid_store
    study = load_experiment(experiment)
    design = load_design(out)
    row = design[design["run"] == 5].iloc[0]
    expected = run_model(study.scenario_at(int(row["point"])), seed=int(row["seed"]), steps=10)
    stored = load_results(out)
    stored = stored[stored["run"] == 5].reset_index(drop=True)
    assert stored["step"].tolist() == expected["step"].tolist()
    for metric in expected.columns.drop("step"):
        np.testing.assert_array_equal(
            stored[metric].to_numpy(), expected[metric].to_numpy(dtype=float), err_msg=metric
        )
    # the point's parameters are applied to its scenario
    scenario = study.scenario_at(int(row["point"]))
    assert scenario.policies[0].strength == row["kol_budget"]
    assert scenario.policies[1].strength == row["security"]


def test_design_table_seeds_follow_the_seed_sequence(grid_store):
    _, out = grid_store
    design = load_design(out)
    assert list(design.columns[:5]) == ["run", "point", "replication", "seed", "run_id"]
    assert (design["run"] == design["point"] * 2 + design["replication"]).all()
    # common random numbers: replication r of every point shares one seed
    for r, seeds in design.groupby("replication")["seed"]:
        assert seeds.nunique() == 1
        assert seeds.iloc[0] == run_seed(123, 0, r, common=True)
    assert design["run_id"].nunique() == 8


def test_independent_seeds_are_distinct_and_stable():
    seeds = [run_seed(9, p, r, common=False) for p in range(50) for r in range(4)]
    assert len(set(seeds)) == len(seeds)
    # adding replications or points never changes an existing run's seed
    assert run_seed(9, 7, 2, common=False) == seeds[7 * 4 + 2]
    assert run_seed(9, 0, 1, common=True) == run_seed(9, 40, 1, common=True)
    assert run_seed(9, 0, 1) != run_seed(10, 0, 1)


def test_summary_outcomes_hold_final_and_run_mean(grid_store, tmp_path):
    experiment, out_ts = grid_store
    summary_file = write_experiment(tmp_path, name="tiny_summary", outcomes="summary")
    out = tmp_path / "summary"
    run_sweep(summary_file, out, workers=1, progress=False)
    summary = load_results(out)
    series = load_results(out_ts)
    assert len(summary) == 8 and "step" not in summary.columns
    for run in (0, 5):
        rows = series[series["run"] == run].sort_values("step")
        got = summary[summary["run"] == run].iloc[0]
        assert got["payment_adoption_final"] == rows["payment_adoption"].iloc[-1]
        assert got["gmv_mean"] == pytest.approx(rows.loc[rows["step"] >= 1, "gmv"].mean())


# --------------------------------------------------------------------------- resume


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    # 20 runs of 40 steps: long enough to kill the sweep part-way
    experiment = write_experiment(
        tmp_path,
        name="long",
        replications=5,
        steps=40,
        outcomes="summary",
    )
    out = tmp_path / "out"
    cmd = [PYTHON, "-m", "model.cli", "sweep", str(experiment), "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    parts = out / "parts"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if parts.is_dir() and len(list(parts.glob("run-*.parquet"))) >= 3:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.glob("run-*.parquet")}
    assert 3 <= len(before) < 20
    assert store_status(out)["finished"] == len(before)

    done = subprocess.run(
        [*cmd, "--resume", "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    results = load_results(out)
    assert sorted(results["run"]) == list(range(20))  # every run exactly once
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.glob("run-*.parquet")}
    for name, stamp in before.items():
        assert after[name] == stamp, f"{name} was recomputed"
    manifest = json.loads((out / "manifest.json").read_text())
    last = manifest["sessions"][-1]
    assert last["skipped"] == len(before)
    assert last["computed"] == 20 - len(before)
    assert manifest["status"] == "complete" and manifest["counts"]["finished"] == 20
    assert not list(out.rglob(".*.tmp"))
    # and the resumed store equals an uninterrupted sweep
    fresh = tmp_path / "fresh"
    run_sweep(experiment, fresh, workers=1, progress=False)
    pd.testing.assert_frame_equal(results, load_results(fresh))


def test_existing_store_needs_resume_and_the_same_study(grid_store, tmp_path):
    experiment, out = grid_store
    with pytest.raises(StoreError, match="already holds a sweep .*--resume"):
        run_sweep(experiment, out, workers=1, progress=False)
    other = write_experiment(tmp_path, name="tiny", seed=999)
    with pytest.raises(StoreError, match="holds a different study"):
        run_sweep(other, out, resume=True, workers=1, progress=False)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty and holds no sweep"):
        run_sweep(experiment, busy, workers=1, progress=False)
    assert (busy / "notes.txt").read_text() == "mine"


# --------------------------------------------------------------------------- failures


def test_failing_run_is_recorded_and_the_others_complete(tmp_path):
    # barabasi_albert needs mean_degree / 2 < consumers: the schema accepts 1000,
    # the model raises when it builds the graph of 300 consumers
    experiment = write_experiment(
        tmp_path,
        name="failing",
        set={**TINY, "network.kind": "barabasi_albert"},
        parameters=[{"name": "degree", "path": "network.mean_degree", "values": [4, 1000]}],
        outcomes="summary",
    )
    out = tmp_path / "out"
    summary = run_sweep(experiment, out, workers=2, progress=False)
    assert (summary.computed, summary.failed, summary.status) == (2, 2, "incomplete")
    results = load_results(out)
    assert sorted(results["run"]) == [0, 1] and (results["degree"] == 4).all()
    failures = load_failures(out)
    assert sorted(failures["run"]) == [2, 3]
    assert (failures["degree"] == 1000).all()
    for _, row in failures.iterrows():
        assert "mean_degree" in row["error"] and "too large" in row["error"]
        assert row["traceback"].startswith("Traceback") and "build_social_graph" in row["traceback"]
    assert store_status(out) == {"runs": 4, "finished": 2, "failed": 2, "missing": 0}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["finished"] is None

    # --resume reruns the failed runs only (they fail again; finished parts stay)
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}
    again = run_sweep(experiment, out, resume=True, workers=1, progress=False)
    assert (again.computed, again.failed, again.skipped) == (0, 2, 2)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()} == stamps


def test_cli_sweep_reports_failures_with_exit_code_1(tmp_path, capsys):
    from model.cli import main

    experiment = write_experiment(
        tmp_path,
        name="failing_cli",
        set={**TINY, "network.kind": "barabasi_albert"},
        parameters=[{"name": "degree", "path": "network.mean_degree", "values": [4, 1000]}],
        replications=1,
        outcomes="summary",
    )
    out = tmp_path / "out"
    code = main(["sweep", str(experiment), "--workers", "1", "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 runs finished now, 1 failed, of 2" in captured.out
    assert "failures" in captured.err and "--resume" in captured.err


def test_work_function_that_raises_is_recorded(tmp_path):
    experiment = write_experiment(tmp_path, name="hook", outcomes="summary", replications=1)
    out = tmp_path / "out"
    summary = run_sweep(experiment, out, workers=1, progress=False, work=_fail_on_point_2)
    assert (summary.computed, summary.failed) == (3, 1)
    failures = load_failures(out)
    assert failures["point"].tolist() == [2]
    assert failures["error"].iloc[0] == "RuntimeError: deliberate failure at point 2"


def _fail_on_point_2(task):
    from model.experiment.runner import simulate_task

    if task.meta["run"] == 2:
        raise RuntimeError("deliberate failure at point 2")
    return simulate_task(task)


# --------------------------------------------------------------------------- queries


def test_duckdb_reads_the_parts_like_pandas(grid_store):
    duckdb = pytest.importorskip("duckdb")
    _, out = grid_store
    results = load_results(out)
    final = results[results["step"] == 10]
    by_pandas = final.groupby(["kol_budget", "security"])["payment_adoption"].mean().reset_index()
    by_duckdb = duckdb.sql(
        f"""
        SELECT kol_budget, security, avg(payment_adoption) AS payment_adoption
        FROM read_parquet('{out}/parts/*.parquet')
        WHERE step = 10
        GROUP BY kol_budget, security
        ORDER BY kol_budget, security
        """
    ).df()
    pd.testing.assert_frame_equal(by_duckdb, by_pandas, check_dtype=False)


# --------------------------------------------------------------------------- designs


def test_designs_cover_their_ranges_and_sizes():
    params = [
        Parameter("a", "x.a", low=0.0, high=1.0),
        Parameter("b", "x.b", low=1.0, high=100.0, scale="log"),
        Parameter("k", "x.k", low=1, high=9, integer=True),
    ]
    lhs = make_design("lhs", params, 1, samples=20)
    assert len(lhs) == 20
    # Latin hypercube: one point in each of the 20 equal slices of every range
    assert sorted((lhs.points["a"] * 20).astype(int)) == list(range(20))
    logs = np.log10(lhs.points["b"]) / 2
    assert sorted((logs * 20).astype(int)) == list(range(20))
    assert lhs.points["k"].dtype == np.int64 and lhs.points["k"].between(1, 9).all()
    sobol = make_design("sobol", params, 1, samples=16)
    assert len(sobol) == 16 * (3 + 2) and sobol.problem["names"] == ["a", "b", "k"]
    sobol2 = make_design("sobol", params, 1, samples=16, second_order=True)
    assert len(sobol2) == 16 * (2 * 3 + 2)
    morris = make_design("morris", params, 1, samples=5, num_levels=4)
    assert len(morris) == 5 * 4 and morris.sample.shape == (20, 3)
    grid = make_design("grid", [Parameter("a", "a", values=("x", "y")), params[0]], 1)
    assert len(grid) == 2 * 2  # a range without levels takes its two ends
    # the same master seed gives the same design; another seed another one
    again = make_design("lhs", params, 1, samples=20)
    pd.testing.assert_frame_equal(lhs.points, again.points)
    assert not make_design("lhs", params, 2, samples=20).points.equals(lhs.points)


SHIPPED = (
    "kol_payment_grid.yaml",
    "lhs_main.yaml",
    "sobol_main.yaml",
    "morris_screening.yaml",
    "payment_security_curve.yaml",
)


def test_shipped_experiments_load():
    kinds = set()
    for name in SHIPPED:
        path = ROOT / "experiments" / name
        experiment = load_experiment(path)
        kinds.add(experiment.design.kind)
        assert experiment.n_runs >= 10, path
        assert path.read_text().startswith("#"), f"{name} needs a header comment"
        for point in (0, len(experiment.design) - 1):
            experiment.scenario_at(point)
    assert kinds == {"grid", "lhs", "sobol", "morris"}


# --------------------------------------------------------------------------- bad files

GOOD = {
    "base": str(BASELINE),
    "parameters": [{"path": "payment.fraud_rate", "range": [0.001, 0.01], "levels": 3}],
    "design": {"kind": "grid"},
}

BAD_CASES = [
    ({"replication": 2}, "replication: unknown key; did you mean 'replications'?"),
    (
        {"design": {"kind": "sobel", "samples": 8}},
        "design.kind: \"sobel\": not allowed; did you mean 'sobol'?",
    ),
    (
        {"parameters": [{"path": "paymnt.fraud_rate", "values": [0.1]}]},
        "parameters.0 (paymnt.fraud_rate=0.1): paymnt: unknown key; did you mean 'payment'?",
    ),
    (
        {"parameters": [{"path": "payment.fraud_rate", "values": [0.1, 2]}]},
        "parameters.0 (payment.fraud_rate=2): payment.fraud_rate: 2: "
        "out of range (allowed: <= 1.0)",
    ),
    (
        {
            "parameters": [{"path": "payment.fraud_rate", "values": [0.1, 0.2]}],
            "design": {"kind": "sobol", "samples": 8},
        },
        "parameters.0.values: sobol designs need a continuous 'range: [low, high]'",
    ),
    (
        {
            "parameters": [{"path": "payment.fraud_rate", "range": [0.0, 0.1]}],
            "design": {"kind": "sobol", "samples": 100},
        },
        "design.samples: 100: Sobol' samples must be a power of 2 (closest: 64 or 128)",
    ),
    (
        {"parameters": [{"path": "payment.fraud_rate", "range": [0.0, 0.1]}]},
        "parameters.0.levels: required for a range in a grid design",
    ),
    ({"design": {"kind": "lhs"}}, "design.samples: required for a lhs design"),
    ({"base": "nowhere.yaml"}, "base: 'nowhere.yaml': scenario file not found"),
    (
        {"parameters": [{"path": "policies.3.strength", "values": [0.5]}]},
        "policies.3: index 3 out of range (list has 0 items)",
    ),
    (
        {"parameters": [{"path": "simulation.seed", "values": [1, 2]}]},
        "parameters.0.path: 'simulation.seed': run seeds come from the experiment's 'seed'",
    ),
    (
        {"parameters": [{"path": "payment.fraud_rate", "range": [0.1, 0.01], "levels": 2}]},
        "parameters.0.range: [0.1, 0.01]: low must be below high",
    ),
    ({"replications": 0}, "replications: 0: out of range (allowed: >= 1)"),
    (
        {"metrics": ["payment_adoptoin"]},
        "metrics.0: 'payment_adoptoin': unknown metric; did you mean 'payment_adoption'?",
    ),
    ({"parameters": []}, "parameters: []: List should have at least 1 item"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CASES)
def test_bad_experiment_files_give_one_line_errors(tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GOOD, **change}))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    text = str(info.value)
    assert message in text
    for line in text.splitlines():
        assert line.startswith(f"{path}: "), line


def test_missing_key_and_broken_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"base": str(BASELINE), "design": {"kind": "grid"}}))
    with pytest.raises(ExperimentError, match=r"bad.yaml: parameters: required key is missing"):
        load_experiment(path)
    path.write_text("base: [unclosed\n")
    with pytest.raises(ExperimentError, match=r"bad.yaml: invalid YAML at line 2"):
        load_experiment(path)
    with pytest.raises(ExperimentError, match="file not found"):
        load_experiment(tmp_path / "missing.yaml")


def test_cli_prints_bad_file_errors_without_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GOOD, "design": {"kind": "sobel"}}))
    done = subprocess.run(
        [PYTHON, "-m", "model.cli", "sweep", str(path), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"mtsim: error: {path}: design.kind")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- large designs


def test_design_table_ids_match_the_run_ids_of_each_point(grid_store):
    from model.experiment.sweep import build_design_table
    from model.scenario import run_id

    experiment, _ = grid_store
    study = load_experiment(experiment)
    design, scenarios = build_design_table(study)
    assert len(scenarios) == len(study.design)
    for row in design.itertuples():
        scenario = study.scenario_at(row.point)
        assert row.run_id == run_id(scenario, row.seed)
        assert scenarios[row.point] == scenario.resolved()


def test_large_designs_are_announced_with_an_estimate(tmp_path):
    from model.experiment.sweep import DESIGN_WARN_RUNS, design_estimate

    small = load_experiment(write_experiment(tmp_path, name="small"))
    assert design_estimate(small) is None
    big = write_experiment(
        tmp_path,
        name="big",
        parameters=[{"path": "payment.fraud_rate", "range": [0.001, 0.01]}],
        design={"kind": "lhs", "samples": DESIGN_WARN_RUNS},
        replications=2,
    )
    message = design_estimate(load_experiment(big))
    assert message is not None
    assert f"{2 * DESIGN_WARN_RUNS:,} runs ({DESIGN_WARN_RUNS:,} design points x 2" in message
    assert "before the first run" in message


def test_infinite_range_is_refused(tmp_path):
    path = write_experiment(
        tmp_path,
        name="inf",
        parameters=[{"path": "ordering.price_weight", "range": [0.1, float("inf")], "levels": 3}],
    )
    with pytest.raises(ExperimentError, match=r"parameters\.0\.range\.1: inf: must be a finite"):
        load_experiment(path)


def test_design_ids_from_the_template_match_full_serialisation(tmp_path):
    """Beyond the first 32 points, texts are assembled from a template: same ids."""
    from model.experiment.sweep import build_design_table
    from model.scenario import run_id

    path = write_experiment(
        tmp_path,
        name="template",
        parameters=[
            {"name": "security", "path": "policies.1.strength", "range": [0.0, 1.0]},
            {"name": "days", "path": "trade.cross_border_delivery_days", "range": [6, 30]},
            {"name": "followers", "path": "kols.follows_per_consumer", "range": [0.1, 1.0]},
            {"name": "fraud", "path": "payment.fraud_rate", "range": [0.001, 0.01], "scale": "log"},
        ],
        design={"kind": "lhs", "samples": 45},
        replications=2,
        seeds="independent",
    )
    study = load_experiment(path)
    design, _ = build_design_table(study)
    for row in design.itertuples():
        assert row.run_id == run_id(study.scenario_at(row.point), row.seed), row.point


def test_atomic_writes_follow_the_umask_without_changing_it(tmp_path, monkeypatch):
    from model import atomic_files

    old = os.umask(0o027)
    try:

        def no_umask(mask):
            raise AssertionError("the process umask must not be changed")

        monkeypatch.setattr(atomic_files.os, "umask", no_umask)
        atomic_files.write_json_atomic(tmp_path / "x.json", {"a": 1})
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o640
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}


def test_git_commit_is_read_without_optional_locks(monkeypatch):
    from model.experiment import manifest

    calls = []

    def fake_run(args, **kwargs):
        calls.append((args, kwargs.get("env", {}).get("GIT_OPTIONAL_LOCKS")))
        return subprocess.CompletedProcess(args, 0, stdout="abc\n", stderr="")

    monkeypatch.setattr(manifest.subprocess, "run", fake_run)
    assert manifest.git_commit() == "abc-dirty"
    assert calls
    for args, lock in calls:
        assert args[:2] == ["git", "--no-optional-locks"] and lock == "0"


def test_sweep_keeps_outcomes_by_group(tmp_path):
    import subprocess
    import sys

    from model import load_results

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    experiment = tmp_path / "by_group.yaml"
    experiment.write_text(
        "name: by_group\n"
        f"base: {root / 'scenarios' / 'baseline.yaml'}\n"
        "set: {population.consumers: 300, population.merchants: 20, population.kols: 3}\n"
        "parameters:\n  - {path: payment.fraud_rate, values: [0.0005, 0.01]}\n"
        "design: {kind: grid}\nreplications: 2\nsteps: 8\noutcomes: by_group\n"
    )
    out = tmp_path / "store"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "model.cli",
            "sweep",
            str(experiment),
            "--out",
            str(out),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    table = load_results(out)
    assert set(table["run"]) == {0, 1, 2, 3}
    assert {"all", "country", "region", "area", "income"} <= set(table["by"])
    whole = table[table["by"] == "all"]
    assert (whole["consumers"] == 300).all()
    areas = table[table["by"] == "area"].groupby("run")["consumers"].sum()
    assert (areas == 300).all()  # the groups of one grouping partition the consumers
