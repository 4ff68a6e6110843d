"""The core model through its public API: determinism, invariants, edge cases."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from model import MarketModel, run_model
from model.metrics import METRICS, metrics_of_kind
from tests.conftest import BASELINE, small_scenario


def mtsim(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_same_seed_same_csv_bytes_and_different_seed_differs(tmp_path):
    common = ["run", str(BASELINE), "--steps", "15", "--set", "population.consumers=800",
              "--set", "population.merchants=40", "--quiet"]
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        done = mtsim(*common, "--seed", seed, "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    a = (tmp_path / "a" / "timeseries.csv").read_bytes()
    b = (tmp_path / "b" / "timeseries.csv").read_bytes()
    c = (tmp_path / "c" / "timeseries.csv").read_bytes()
    assert a == b
    assert a != c
    assert (tmp_path / "a" / "summary.png").stat().st_size > 10_000
    import json

    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seeds"] == [3]
    assert {"mtsim", "mesa", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["scenarios"]["baseline"]["population"]["consumers"] == 800
    assert manifest["started"] and manifest["finished"]


def test_run_table_has_the_documented_columns():
    table = run_model(small_scenario(), seed=1, steps=5)
    assert list(table.columns[: 1 + len(METRICS)]) == ["step", *METRICS]
    assert table["step"].tolist() == list(range(6))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"network__kind": "erdos_renyi"},
        {"network__kind": "barabasi_albert", "policies": [
            {"lever": "consumer_incentives", "strength": 0.5, "start": 5},
            {"lever": "payment_security", "strength": 1.0, "ramp": 10}]},
        {"network__kind": "watts_strogatz", "merchants__integrity_mean": 0.3},
        {"network__kind": "holme_kim", "population__kols": 0},
        {"population__merchants": 0},
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_invariants(overrides, seed):
    table = run_model(small_scenario(**overrides), seed=seed, steps=25)
    shares = [m for m in metrics_of_kind("share", "flow_share", "index") if m in table]
    assert "payment_adoption" in shares and "mean_trust_domestic" in shares
    for name in shares:
        # NaN only where undefined: no merchant selling by mobile, no KOL
        undefined = name in ("accepting_merchant_share", "kol_credibility")
        values = table[name].dropna() if undefined else table[name]
        assert values.between(0.0, 1.0).all(), name
    counts = [m for m in metrics_of_kind("flow") if m in table]
    assert "orders" in counts
    for name in (*counts, "gmv", "policy_cost"):
        assert (table[name] >= 0).all(), name
    assert (table["cross_border_orders"] <= table["orders"]).all()
    # 'has ever ordered' never falls (awareness and payment can lapse: mechanisms/lapse.py)
    assert (np.diff(table["shopper_share"]) >= 0).all()
    # money: nothing negative that cannot be
    for name in ("consumer_spending", "mobile_spending", "offline_spending", "kol_fees",
                 "merchant_fines", "counterfeit_loss_value", "fraud_loss_value"):
        assert (table[name] >= 0).all(), name
    assert table["mobile_share_of_consumption"].between(0.0, 1.0).all()
    assert (table["active_merchants"] >= 0).all()
    cred = table["kol_credibility"].dropna()
    assert cred.between(0.0, 1.0).all()


def test_state_arrays_stay_in_range_and_agents_are_views():
    model = MarketModel(small_scenario(), seed=5)
    for _ in range(20):
        model.step()
    c = model.consumers
    for arr in (c.trust_domestic, c.trust_foreign, c.risk_extra):
        assert arr.min() >= 0.0 and arr.max() <= 1.0
    assert (c.bad_memory >= 0).all()
    assert (model.merchants.integrity >= 0).all() and (model.merchants.integrity <= 1).all()
    consumer = model.consumer_agents.to_list()[7]
    assert consumer.trust_domestic == pytest.approx(float(c.trust_domestic[7]))
    consumer.trust_domestic = 0.123
    assert c.trust_domestic[7] == pytest.approx(0.123)
    assert consumer.cell is model.space._cells[7]
    assert len(model.agents) == c.n + model.merchants.n + model.kols.n


def test_mesa_space_is_deferred_for_large_populations():
    scenario = small_scenario(simulation__space_max_consumers=100)
    model = MarketModel(scenario, seed=1)
    assert model._space is None
    model.step()
    agent = model.consumer_agents.to_list()[3]
    assert agent.cell is not None  # built on first use
    assert len(model.space._cells) == scenario.population.consumers


def test_no_kols_no_merchants_one_region_isolated_nodes():
    one_region = {"regions": {"only": {"population_share": 1.0, "merchant_share": 1.0}}}
    table = run_model(small_scenario(**one_region), seed=1, steps=15)
    assert (table["cross_border_orders"] == 0).all()
    assert table["orders"].sum() > 0
    table = run_model(small_scenario(population__kols=0), seed=1, steps=10)
    assert table["kol_credibility"].isna().all()
    table = run_model(small_scenario(population__merchants=0), seed=1, steps=10)
    assert (table["orders"] == 0).all() and (table["merchant_adoption"] == 0).all()
    # no ties at all: word of mouth has nothing to spread on, the model still runs
    table = run_model(
        small_scenario(network__mean_degree=0, population__merchants=0, population__kols=0),
        seed=1,
        steps=10,
    )
    assert table["aware_share"].iloc[-1] == table["aware_share"].iloc[0]


def test_network_file_edgelist_and_graphml(tmp_path):
    import networkx as nx

    graph = nx.path_graph(50)
    nx.write_edgelist(graph, tmp_path / "g.edgelist", data=False)
    nx.write_graphml(graph, tmp_path / "g.graphml")
    for name, fmt in (("g.edgelist", "edgelist"), ("g.graphml", "graphml")):
        scenario = small_scenario(
            population__consumers=50, network__kind="file", network__path=str(tmp_path / name),
            network__format=fmt,
        )
        model = MarketModel(scenario, seed=1)
        assert model.graph.n_edges == 49
        assert model.graph.degree.max() == 2


def test_network_file_errors_are_clear(tmp_path):
    from model.errors import UserError

    (tmp_path / "bad.edgelist").write_text("0 1\n1 99\n")
    scenario = small_scenario(
        population__consumers=50, network__kind="file", network__path=str(tmp_path / "bad.edgelist")
    )
    with pytest.raises(UserError, match="node ids must be in 0..49"):
        MarketModel(scenario, seed=1)
