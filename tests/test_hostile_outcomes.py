"""Hostile outcome expressions, calibration data, schedulers and worker counts: one line, fast.

Issue 32, items 7, 8 and 9a: ``mtsim discover --outcome`` with a 3,000-term sum, 2,000
chained ``not``, a 400-digit number or ``1e999``; a calibration data file larger than the
YAML limit, or a FIFO; ``--scheduler`` where nothing listens; ``--workers 100000`` and
``--dask-local 100000``. Each is answered in one line within 2 s, without a traceback,
and nothing is written. Everything runs in this process (no model run, no cluster).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from model.cli import main
from model.errors import UserError
from model.experiment import executors, runner
from tests.test_calibration import TRUTH, _config, _write_config

LIMIT_SECONDS = 2.0  # the requirement for every refusal


def refused(args: list[str], capsys) -> str:
    """Run ``mtsim ARGS``; check exit 2, one line, no traceback, under 2 s; return the line."""
    start = time.perf_counter()
    code = main(args)
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("mtsim: error: "), err
    assert "Traceback" not in err
    assert seconds < LIMIT_SECONDS, f"{seconds:.1f} s"
    return lines[0]


# --------------------------------------------------------------------------- item 8: outcomes


@pytest.fixture
def sweep_folder(tmp_path) -> Path:
    """A folder that passes discover's first checks (the expression is checked before reading)."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "design.parquet").write_bytes(b"")
    study = {"spec": {"metrics": ["payment_adoption", "orders"]}}
    (folder / "study.json").write_text(json.dumps(study))
    return folder


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (" + ".join(["orders_final"] * 3000) + " > 1", "longer than 1,000 characters"),
        ("not " * 2000 + "orders_final > 1", "longer than 1,000 characters"),
        (" + ".join(["orders"] * 105) + " > 1", "nested more than 100 levels deep"),
        ("not " * 150 + "orders_final > 1", "nested more than 100 levels deep"),
        ("-" * 300 + "orders_final > 1", "nested more than 100 levels deep"),
        ("(" * 300 + "orders_final" + ")" * 300 + " > 1", "not a valid expression"),
        ("orders_final > " + "9" * 400, "not a finite number"),
        ("orders_final > 1e999", "inf: not a finite number"),
        (" or ".join(["orders > 1"] * 60), "120 names and numbers, more than the limit of 100"),
    ],
    ids=[
        "3000-term-sum",
        "2000-nots",
        "105-term-sum",
        "150-nots",
        "300-minus",
        "300-parentheses",
        "400-digits",
        "1e999",
        "120-terms",
    ],
)
def test_hostile_outcome_expressions_are_one_line(sweep_folder, capsys, expression, reason):
    line = refused(["discover", str(sweep_folder), f"--outcome={expression}"], capsys)
    assert reason in line
    assert len(line) < 200  # the expression is shown cut, never whole
    assert not (sweep_folder / "discovery").exists()


def test_outcome_arithmetic_that_overflows_stays_quiet():
    from model.decision.expression import parse_outcome

    expression = parse_outcome("orders_final * 1e300 * 1e300 > 1", ["orders_final"])
    with np.errstate(all="raise"):  # a warning of NumPy's would raise here
        assert expression.evaluate({"orders_final": [1.0, 0.0]}).tolist() == [True, False]


# ---------------------------------------------------------------- item 7: data, scheduler


@pytest.fixture
def calibration_file(tmp_path) -> Path:
    """A calibration file whose data file is synthetic.csv (written by each test)."""
    return _write_config(tmp_path, _config(tmp_path))


def _write_data(path: Path, rows: int) -> None:
    dates = np.datetime64("2020-01-14") + 7 * np.arange(rows)
    with path.open("w") as handle:
        handle.write("date,access,payment\n")
        for date in dates:
            handle.write(f"{date},{TRUTH['access_growth']:.6f},{TRUTH['peer_influence']:.6f}\n")


def test_calibration_data_larger_than_the_yaml_limit_is_refused_before_reading(
    calibration_file, capsys
):
    _write_data(calibration_file.parent / "synthetic.csv", rows=20_000)  # about 0.6 MB
    line = refused(["calibrate", str(calibration_file)], capsys)
    assert "synthetic.csv" in line and "larger than the 0.5 MB limit for data files" in line
    assert "MTSIM_MAX_YAML_MB" in line
    assert not (calibration_file.parent / "out").exists()


def test_calibration_data_limit_follows_the_yaml_limit(calibration_file, capsys, monkeypatch):
    _write_data(calibration_file.parent / "synthetic.csv", rows=3000)  # about 90 kB
    monkeypatch.setenv("MTSIM_MAX_YAML_MB", "0.06")
    line = refused(["calibrate", str(calibration_file)], capsys)
    assert "limit for data files" in line


def test_calibration_data_that_is_a_fifo_is_refused_without_waiting(calibration_file, capsys):
    os.mkfifo(calibration_file.parent / "synthetic.csv")
    line = refused(["calibrate", str(calibration_file)], capsys)
    assert "not a regular file" in line


def _closed_port() -> int:
    """A local TCP port where nothing listens (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_scheduler_where_nothing_listens_is_one_line_at_once(tmp_path, calibration_file, capsys):
    from tests.test_faults import experiment_file

    _write_data(calibration_file.parent / "synthetic.csv", rows=10)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    experiment = experiment_file(tmp_path, runs=2, steps=2)
    for args in (
        ["calibrate", str(calibration_file), "--scheduler", address],
        ["sweep", str(experiment), "--scheduler", address, "--out", str(tmp_path / "s")],
    ):
        line = refused(args, capsys)
        assert f"--scheduler: {address}: cannot connect (Connection refused)" in line
    assert not (tmp_path / "s").exists() and not (tmp_path / "out").exists()


def test_scheduler_that_is_not_an_address_is_one_line():
    with pytest.raises(UserError, match="--scheduler: tcp://127.0.0.1:notaport: not an address"):
        executors.check_scheduler("tcp://127.0.0.1:notaport")


# --------------------------------------------------------------------------- item 9a: counts


@pytest.fixture
def two_cores(monkeypatch):
    """The machine has 2 cores and no process limit; earlier messages are forgotten."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runner, "_process_room", lambda: None)
    monkeypatch.setattr(runner, "_told", set())


def test_workers_beyond_the_machine_are_capped_in_one_line(two_cores, capsys):
    assert runner.usable_workers(3) == 3
    assert capsys.readouterr().err == ""
    assert runner.usable_workers(100_000) == 8
    assert runner.usable_workers(100_000) == 8  # said once
    assert capsys.readouterr().err.splitlines() == [
        "mtsim: --workers 100000: using 8 (the machine has 2 cores)"
    ]
    with executors.open_executor(workers=100_000) as (executor, count, where):
        assert executor is None and count == 8 and where == "local process pool (8 workers)"


def test_workers_are_capped_by_the_process_limit(two_cores, monkeypatch, capsys):
    monkeypatch.setattr(runner, "_process_room", lambda: 3)
    assert runner.usable_workers(5) == 3
    assert capsys.readouterr().err.strip() == (
        "mtsim: --workers 5: using 3 (the process limit (ulimit -u) leaves room for 3)"
    )


def test_process_pool_and_local_cluster_are_capped(two_cores, monkeypatch, capsys):
    pool = runner.new_process_pool(100_000)
    try:
        assert pool._max_workers == 8
    finally:
        pool.shutdown()
    started = {}

    class FakeCluster:  # records what a LocalCluster was asked for
        def __init__(self, **options):
            started.update(options)

        def close(self):
            pass

    class FakeClient:
        def __init__(self, cluster):
            pass

        def close(self):
            pass

    import distributed

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(distributed, "Client", FakeClient)
    with executors.dask_client(None, 100_000) as (_, count, where):
        assert count == 8 and where == "Dask LocalCluster (8 workers)"
    assert started["n_workers"] == 8 and started["preload"] == ["model.experiment.executors"]
    assert capsys.readouterr().err.splitlines() == [
        "mtsim: --workers 100000: using 8 (the machine has 2 cores)",
        "mtsim: --dask-local 100000: using 8 (the machine has 2 cores)",
    ]


def test_calibration_local_workers_name_their_option(two_cores, tmp_path, capsys):
    from model.validation.abc import local_workers
    from model.validation.calibration import load_calibration
    from tests.test_calibration import _write_synthetic

    _write_synthetic(tmp_path, TRUTH)
    config = _config(tmp_path)
    config["abc"]["workers"] = 50
    calibration = load_calibration(_write_config(tmp_path, config))
    assert local_workers(calibration, None, None) == 8
    assert local_workers(calibration, 2, None) == 2
    assert local_workers(calibration, None, 100) == 8
    assert capsys.readouterr().err.splitlines() == [
        "mtsim: abc.workers 50: using 8 (the machine has 2 cores)",
        "mtsim: --dask-local 100: using 8 (the machine has 2 cores)",
    ]
