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
    table = table[[c for c in table.columns if "." not in c]]  # as stored: totals, not per region
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


@pytest.mark.long
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


# --------------------------------------------------------------------------- fast paths are exact


def _random_graph(n: int, seed: int):
    from model.network import from_edges, region_sizes, stochastic_block_edges

    rng = np.random.default_rng(seed)
    sizes = region_sizes(n, np.array([0.7, 0.2, 0.1]))
    u, v = stochastic_block_edges(sizes, 6.0, 0.2, rng)
    region = np.repeat(np.arange(3, dtype=np.uint8), sizes)
    return from_edges(n, u, v), region, rng


@pytest.mark.parametrize("n", [1, 40, 3000])
def test_neighbour_counts_equal_the_sparse_product_in_every_regime(n: int) -> None:
    graph, _, rng = _random_graph(n, seed=n)
    product = lambda x: (graph.adjacency @ x.astype(np.float32)).astype(np.int32)  # noqa: E731
    indicator = np.zeros(n, dtype=bool)
    # shares from none to all, then small and large changes of a tracked indicator,
    # including changes made behind the tracker's back (bits switched off again)
    for share in (0.0, 0.001, 0.05, 0.14, 0.3, 0.5, 0.86, 0.99, 1.0):
        fresh = rng.random(n) < share
        assert np.array_equal(graph.neighbour_counts(fresh), product(fresh))
    for flips in (0, 1, n // 50 + 1, n // 3 + 1, n):
        changed = rng.integers(0, n, size=flips)
        indicator = indicator.copy()
        indicator[changed] = ~indicator[changed]
        counts = graph.neighbour_counts(indicator, track="x")
        assert counts.dtype == np.int32
        assert np.array_equal(counts, product(indicator))


def test_neighbour_counts_by_region_equal_region_signals_split_by_home() -> None:
    from model.mechanisms.trust import split_by_home
    from model.mechanisms.word_of_mouth import region_signals

    n = 2000
    graph, region, rng = _random_graph(n, seed=3)
    for share in (0.0, 0.01, 0.1, 0.4):
        source = np.where(rng.random(n) < share, rng.integers(0, 3, n), -1).astype(np.int16)
        own, other = split_by_home(region_signals(graph.adjacency, source, 3), region)
        same, different = graph.neighbour_counts_by_region(source, region)
        assert np.array_equal(same.astype(np.float32), own)
        assert np.array_equal(different.astype(np.float32), other)


def test_two_region_split_equals_the_general_formula() -> None:
    from model.mechanisms.trust import split_by_home

    rng = np.random.default_rng(5)
    signal = rng.random((10_001, 2), dtype=np.float32) * 3
    region = rng.integers(0, 2, signal.shape[0]).astype(np.uint8)
    own, other = split_by_home(signal, region)
    general_own = signal[np.arange(signal.shape[0]), region]
    assert np.array_equal(own, general_own)
    assert np.array_equal(other, signal.sum(axis=1) - general_own)
    assert own.dtype == other.dtype == np.float32


def test_power_table_and_sort_unique_equal_numpy() -> None:
    from model.mechanisms.word_of_mouth import power_of_counts
    from model.network import sorted_unique

    rng = np.random.default_rng(9)
    counts = rng.integers(0, 500, size=50_001)
    for base in (0.995, 0.85, 0.5, 1.0 - 1e-9, 0.0):
        expected = np.power(base, counts.astype(np.float32), dtype=np.float64)
        assert np.array_equal(power_of_counts(base, counts), expected)
    keys = rng.integers(0, 10**12, size=100_000)
    keys[::7] = keys[3]
    assert np.array_equal(sorted_unique(keys), np.unique(keys))
    assert sorted_unique(np.empty(0, dtype=np.int64)).size == 0


def test_deferred_consumer_agents_are_the_same_agents_and_run() -> None:
    """Above space_max_consumers the Consumer objects are made on first use: same ids, same run."""
    overrides = {
        "population.consumers": 400,
        "population.merchants": 20,
        "population.kols": 4,
        "simulation.steps": 8,
    }
    eager = MarketModel(load_scenario(BASELINE, overrides), seed=2)
    lazy = MarketModel(
        load_scenario(BASELINE, {**overrides, "simulation.space_max_consumers": 100}), seed=2
    )
    for _ in range(8):
        eager.step()
        lazy.step()
    assert eager.timeseries().equals(lazy.timeseries())
    assert [a.unique_id for a in lazy.merchant_agents] == [
        a.unique_id for a in eager.merchant_agents
    ]
    # Mesa's registry creates the consumers on use; merchant agents cover the entry slots
    assert len(lazy.agents) == 400 + lazy.merchants.n + 4
    assert lazy.merchants.n == lazy.scenario.merchant_slots == 44  # 2.2 x 20
    by_id = {a.unique_id: a for a in lazy.consumer_agents}
    assert sorted(by_id) == [a.unique_id for a in eager.consumer_agents] == list(range(1, 401))
    consumer = by_id[11]
    assert consumer.index == 10 and consumer.model is lazy
    assert consumer.trust_foreign == pytest.approx(float(lazy.consumers.trust_foreign[10]))
    assert consumer.cell is lazy.space._cells[10]
    assert {type(a).__name__ for a in lazy.agents_by_type[type(consumer)]} == {"Consumer"}


def test_the_builds_garbage_collection_changes_no_result(monkeypatch) -> None:
    """The full collection at the end of a large eager build (COLLECT_AFTER_EAGER_BUILD)
    is bookkeeping: forced on a small build, the run table is the same as without it."""
    import model.market as market

    scenario = load_scenario(
        ROOT / "scenarios" / "baseline.yaml",
        {"population.consumers": 1500, "population.merchants": 60, "simulation.steps": 20},
    )
    monkeypatch.setattr(market, "COLLECT_AFTER_EAGER_BUILD", 10**9)
    without = run_model(scenario, seed=5)
    calls = []
    monkeypatch.setattr(market, "COLLECT_AFTER_EAGER_BUILD", 0)
    real_collect = market.gc.collect
    monkeypatch.setattr(market.gc, "collect", lambda *a: calls.append(a) or real_collect(*a))
    collected = run_model(scenario, seed=5)
    assert calls, "the build did not collect"
    pd.testing.assert_frame_equal(without, collected)
