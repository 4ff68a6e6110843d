"""Decision support: lever decomposition, robustness, optimize (Optuna) and discover (PRIM)."""

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

from model.cli import main
from model.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = {
    "population.consumers": 400,
    "population.merchants": 20,
    "population.kols": 3,
}


# --------------------------------------------------------------------------- discover


def _synthetic_sweep(folder: Path, box=((0.2, 0.5), (0.6, 0.9)), step=0.1) -> None:
    """A sweep store on an 11 x 11 grid of a, b in [0, 1] (plus a noise parameter c) whose
    outcome payment_adoption_final is 0.3 exactly inside the box and 0.7 outside."""
    from model.experiment.store import ResultStore

    grid = np.round(np.arange(0.0, 1.0 + 1e-9, step), 10)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    a, b = a.ravel(), b.ravel()
    rng = np.random.default_rng(3)
    c = rng.uniform(0, 1, a.size)
    n = a.size
    design = pd.DataFrame(
        {
            "run": np.arange(n),
            "point": np.arange(n),
            "replication": 0,
            "seed": 1,
            "run_id": [f"r{i}" for i in range(n)],
            "a": a,
            "b": b,
            "c": c,
        }
    )
    design["run_id"] = design["run_id"].astype(object)
    study = {
        "name": "synthetic",
        "parameters": [{"name": p, "path": f"x.{p}"} for p in ("a", "b", "c")],
        "spec": {"metrics": ["payment_adoption"]},
    }
    store = ResultStore(folder)
    store.initialise(design, study)
    (alo, ahi), (blo, bhi) = box
    inside = (a >= alo - 1e-9) & (a <= ahi + 1e-9) & (b >= blo - 1e-9) & (b <= bhi + 1e-9)
    for i in range(n):
        part = design.iloc[[i]].copy()
        part["payment_adoption_final"] = 0.3 if inside[i] else 0.7
        part["payment_adoption_mean"] = 0.5
        store.write_part(i, part)


def test_discover_recovers_a_known_box_within_one_grid_step(tmp_path):
    from model.decision.discover import discover

    folder = tmp_path / "sweep"
    _synthetic_sweep(folder)
    result = discover(folder, "payment_adoption_final < 0.5", min_density=0.95)
    assert result.cases == 121 and result.cases_true == 4 * 4
    (box,) = result.boxes
    assert set(box.limits) <= {"a", "b"} and {"a", "b"} <= set(box.limits)
    (alo, ahi), (blo, bhi) = box.limits["a"], box.limits["b"]
    for got, want in ((alo, 0.2), (ahi, 0.5), (blo, 0.6), (bhi, 0.9)):
        assert abs(got - want) <= 0.1 + 1e-9
    assert box.density >= 0.95 and box.coverage >= 0.75
    assert "Box 1" in result.sentences[0] and "coverage" in result.sentences[0]
    assert (folder / "discovery" / "peeling.png").stat().st_size > 5000
    boxes = pd.read_csv(folder / "discovery" / "boxes.csv")
    assert set(boxes["parameter"]) == {"a", "b"}


def test_outcome_expressions_are_parsed_safely():
    from model.decision.expression import parse_outcome

    cols = ["payment_adoption_final", "payment_adoption_mean", "orders_final"]
    table = {c: np.array([0.2, 0.6]) for c in cols}
    expr = parse_outcome("payment_adoption < 0.5 or (orders_final > 1 and not 0 < x < 1)".replace(
        " x ", " payment_adoption_mean "), cols)
    assert expr.evaluate(table).tolist() == [True, False]
    for bad in (
        "__import__('os').system('true')",
        "payment_adoption_final.real < 1",
        "payment_adoption_final",
        "payment_adoption_final < 'a'",
        "[x for x in ()]",
    ):
        with pytest.raises(UserError):
            parse_outcome(bad, cols)
    with pytest.raises(UserError, match="unknown metric; did you mean 'payment_adoption_final'"):
        parse_outcome("payment_adoptoin_final < 0.5", cols)


def test_discover_bad_inputs_are_one_line_errors(tmp_path, capsys):
    assert main(["discover", str(tmp_path / "missing"), "--outcome", "payment_adoption < 0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"mtsim: error: {tmp_path / 'missing'}: no such sweep folder"]
    folder = tmp_path / "sweep"
    _synthetic_sweep(folder)
    assert main(["discover", str(folder), "--outcome", "paymnet_adoption_final < 0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paymnet_adoption_final: unknown metric" in err[0]
    assert "Traceback" not in err[0]
