"""The word-of-mouth mechanism reduces to the classic rules on small cases."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from model import MarketModel, run_model
from tests.conftest import small_scenario

ISOLATED = dict(population__merchants=0, population__kols=0)


def _graph_scenario(tmp_path, graph, rule, **overrides):
    path = tmp_path / "g.edgelist"
    nx.write_edgelist(graph, path, data=False)
    return small_scenario(
        population__consumers=graph.number_of_nodes(), network__kind="file",
        network__path=str(path), word_of_mouth__rule=rule, **ISOLATED, **overrides,
    )


def test_bass_mean_curve_follows_the_discrete_recursion():
    p, q, n, steps = 0.03, 0.38, 20_000, 12
    scenario = small_scenario(
        population__consumers=n, network__kind="complete", word_of_mouth__rule="bass",
        word_of_mouth__innovation=p, word_of_mouth__imitation=q, word_of_mouth__initial_aware=0.0,
        **ISOLATED,
    )
    curves = np.array([run_model(scenario, seed=s, steps=steps)["aware_share"] for s in (1, 2, 3)])
    expected = [0.0]
    for _ in range(steps):
        f = expected[-1]
        expected.append(f + (p + q * f) * (1 - f))
    # binomial standard error of a share of n, averaged over 3 runs; 5 s.e. tolerance
    se = np.sqrt(np.array(expected) * (1 - np.array(expected)) / (3 * n)) + 1e-9
    assert np.all(np.abs(curves.mean(axis=0) - expected) <= 5 * se + 0.004)


def test_independent_cascade_with_certain_transmission_spreads_one_hop_per_step(tmp_path):
    scenario = _graph_scenario(
        tmp_path, nx.path_graph(30), "independent_cascade",
        word_of_mouth__transmission=1.0, word_of_mouth__initial_aware_nodes=[0],
    )
    table = run_model(scenario, seed=1, steps=10)
    assert table["aware_share"].tolist() == pytest.approx([(t + 1) / 30 for t in range(11)])


def test_independent_cascade_nodes_try_once_only(tmp_path):
    # a star: the hub tries each leaf once with T; leaves never become reachable again
    scenario = _graph_scenario(
        tmp_path, nx.star_graph(400), "independent_cascade",
        word_of_mouth__transmission=0.5, word_of_mouth__initial_aware_nodes=[0],
    )
    model = MarketModel(scenario, seed=3)
    model.step()
    after_one = model.consumers.aware.sum()
    for _ in range(5):
        model.step()
    assert model.consumers.aware.sum() == after_one  # no second chances
    assert 150 < after_one - 1 < 250  # about half of 400 leaves


def test_independent_cascade_without_transmission_stays_put(tmp_path):
    scenario = _graph_scenario(
        tmp_path, nx.path_graph(30), "independent_cascade",
        word_of_mouth__transmission=0.0, word_of_mouth__initial_aware_nodes=[0, 5],
    )
    assert run_model(scenario, seed=1, steps=5)["aware_share"].tolist() == [2 / 30] * 6


def test_linear_threshold_is_deterministic_and_respects_thresholds(tmp_path):
    # on a path every interior node has degree 2: with phi = 0.5 one aware neighbour suffices
    scenario = _graph_scenario(
        tmp_path, nx.path_graph(20), "linear_threshold",
        word_of_mouth__threshold=0.5, word_of_mouth__initial_aware_nodes=[0],
    )
    table = run_model(scenario, seed=1, steps=25)
    assert table["aware_share"].iloc[-1] == 1.0
    assert table["aware_share"].iloc[5] == pytest.approx(6 / 20)
    # with phi = 0.6 one of two neighbours is not enough: node 1 never activates
    scenario = _graph_scenario(
        tmp_path, nx.path_graph(20), "linear_threshold",
        word_of_mouth__threshold=0.6, word_of_mouth__initial_aware_nodes=[0],
    )
    assert run_model(scenario, seed=1, steps=10)["aware_share"].iloc[-1] == pytest.approx(1 / 20)


def test_linear_threshold_needs_a_fraction_not_a_count(tmp_path):
    # node 0 joined to 10 leaves, 3 of them aware: 0.3 >= 0.25 activates, < 0.35 does not
    graph = nx.star_graph(10)
    for phi, expected in ((0.25, True), (0.35, False)):
        scenario = _graph_scenario(
            tmp_path, graph, "linear_threshold", word_of_mouth__threshold=phi,
            word_of_mouth__initial_aware_nodes=[1, 2, 3],
        )
        model = MarketModel(scenario, seed=1)
        model.step()
        assert bool(model.consumers.aware[0]) is expected
