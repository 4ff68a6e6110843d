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


def _stored_lines(name: str) -> list[str]:
    """The stored CSV's header and the rows of one case, as text."""
    lines = (DATA / "reference_small.csv").read_text().splitlines()
    return [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] == name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_table_matches_stored_reference_exactly(name: str) -> None:
    case = CASES[name]
    data = read_scenario_data(BASELINE)
    data.setdefault("name", "baseline")
    scenario = scenario_from_dict(data, str(BASELINE), case["overrides"])
    table = run_model(scenario, seed=case["seed"])
    table.insert(0, "case", name)
    assert len(table) == scenario.simulation.steps + 1
    # exact: floats in shortest round-trip text, compared character for character
    fresh = table.to_csv(index=False, lineterminator="\n").splitlines()
    stored = _stored_lines(name)
    assert fresh[0] == stored[0], "columns differ from the stored reference"
    for step, (got, want) in enumerate(zip(fresh[1:], stored[1:], strict=True)):
        assert got == want, f"step {step} differs from the stored reference"


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
    agent = model.consumer_agents.to_list()[n - 1]
    assert agent.index == n - 1
    assert agent.trust_domestic == pytest.approx(float(model.consumers.trust_domestic[n - 1]))
    assert len(model.consumer_agents) == n
    assert np.isfinite(table[list(METRICS[:-1])].to_numpy(dtype=float)).all()
