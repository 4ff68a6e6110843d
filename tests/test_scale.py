"""Scale work must not change results; a 100,000-consumer model must build and step.

The stored reference (tests/data/reference_small.csv, cases in reference_cases.json) was
written by the model core before its optimisation. Regenerate it only deliberately:
``python -m benchmarks.regenerate_reference``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.market import MarketModel, run_model
from model.metrics import METRICS
from model.scenario import load_scenario, read_scenario_data, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
CASES = {
    name: case
    for name, case in json.loads((DATA / "reference_cases.json").read_text()).items()
    if not name.startswith("_")
}


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "reference_small.csv")


def _csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, float_format="%.17g", lineterminator="\n")


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_table_matches_stored_reference_exactly(name: str, reference: pd.DataFrame) -> None:
    case = CASES[name]
    data = read_scenario_data(BASELINE)
    data.setdefault("name", "baseline")
    scenario = scenario_from_dict(data, str(BASELINE), case["overrides"])
    table = run_model(scenario, seed=case["seed"])
    stored = reference[reference["case"] == name].drop(columns="case").reset_index(drop=True)
    assert list(table.columns) == list(stored.columns)
    assert len(table) == len(stored) == scenario.simulation.steps + 1
    # exact: the same text at full precision (NaN kol_credibility compares equal as text)
    assert _csv(table) == _csv(stored)


def test_reference_is_not_trivial(reference: pd.DataFrame) -> None:
    """The stored series move (a constant table would let a broken model pass)."""
    base = reference[reference["case"] == "baseline_small"]
    assert base["aware_share"].iloc[-1] > base["aware_share"].iloc[0]
    assert base["orders"].sum() > 0
    assert set(METRICS) <= set(reference.columns)
    assert reference["case"].nunique() == len(CASES)


def test_different_seed_gives_a_different_table() -> None:
    case = CASES["baseline_small"]
    scenario = load_scenario(BASELINE, {**case["overrides"], "simulation.steps": 10})
    a = run_model(scenario, seed=case["seed"])
    b = run_model(scenario, seed=case["seed"] + 1)
    assert not a.equals(b)


def test_hundred_thousand_consumers_build_and_step() -> None:
    """Smoke test (not timed): 100,000 consumers with merchants and KOLs build and step."""
    n = 100_000
    scenario = load_scenario(
        BASELINE,
        {
            "population.consumers": n,
            "population.merchants": n // 25,
            "population.kols": n // 250,
            "simulation.steps": 3,
        },
    )
    model = MarketModel(scenario, seed=1)
    assert model.consumers.n == n
    assert model.graph.degree.mean() == pytest.approx(10.0, rel=0.05)
    for _ in range(3):
        model.step()
    table = model.timeseries()
    assert len(table) == 4
    assert table["aware_share"].iloc[-1] > table["aware_share"].iloc[0]
    assert table["orders"].iloc[1:].sum() > 0
    # consumers are still real Mesa agents, each a view over its state row
    agent = model.consumer_agents[n - 1]
    assert agent.index == n - 1
    assert agent.trust_domestic == pytest.approx(float(model.consumers.trust_domestic[n - 1]))
    assert len(model.consumer_agents) == n
    assert np.isfinite(table[list(METRICS[:-1])].to_numpy(dtype=float)).all()
