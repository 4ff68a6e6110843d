"""Graph generators and KOL followers: sizes, degrees, regions, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from model import MarketModel
from model.network import gnp_edges, kol_followers
from model.scenario import KOLs
from tests.conftest import small_scenario


@pytest.mark.parametrize(
    "kind", ["stochastic_block", "erdos_renyi", "watts_strogatz", "barabasi_albert", "holme_kim"]
)
def test_generators_hit_the_mean_degree_and_are_seeded(kind):
    scenario = small_scenario(
        population__consumers=3000, network__kind=kind, network__mean_degree=8
    )
    a = MarketModel(scenario, seed=11).graph
    b = MarketModel(scenario, seed=11).graph
    c = MarketModel(scenario, seed=12).graph
    assert a.n == 3000
    assert abs(a.degree.mean() - 8) < 0.6
    assert np.array_equal(a.source, b.source) and np.array_equal(a.target, b.target)
    assert not (np.array_equal(a.source, c.source) and np.array_equal(a.target, c.target))
    # simple undirected graph: no self-loops, no duplicates, symmetric adjacency
    assert (a.source != a.target).all()
    pairs = a.source.astype(np.int64) * a.n + a.target
    assert np.unique(pairs).size == pairs.size
    assert (a.adjacency != a.adjacency.T).nnz == 0


def test_stochastic_block_keeps_most_ties_within_regions():
    scenario = small_scenario(population__consumers=4000, network__cross_region_fraction=0.1)
    model = MarketModel(scenario, seed=3)
    region = model.consumers.region
    crossing = (region[model.graph.source] != region[model.graph.target]).mean()
    assert 0.07 < crossing < 0.13


def test_exact_gnp_edge_count_matches_binomial():
    rng = np.random.default_rng(0)
    n, p = 2000, 0.005
    counts = [gnp_edges(n, p, rng)[0].size for _ in range(20)]
    expected = p * n * (n - 1) / 2
    sd = np.sqrt(expected * (1 - p))
    assert abs(np.mean(counts) - expected) < 3 * sd / np.sqrt(20)
    i, j = gnp_edges(n, p, rng)
    assert (i < j).all() and (j < n).all()


def test_kol_followers_are_heavy_tailed_and_mostly_home():
    rng = np.random.default_rng(1)
    region = np.repeat([0, 1], [8000, 2000]).astype(np.uint8)
    spec = KOLs(follows_per_consumer=2.0, follower_exponent=2.0, home_bias=0.9)
    followers, kol_region = kol_followers(spec, 500, region, np.array([0.8, 0.2]), rng)
    sizes = np.diff(followers.indptr)
    assert sizes.min() >= 1
    assert sizes.max() > 20 * np.median(sizes)  # heavy tail
    assert sizes.max() <= 0.25 * 10000  # max_follower_share
    home = np.mean(
        [
            np.mean(
                region[followers.indices[followers.indptr[k] : followers.indptr[k + 1]]]
                == kol_region[k]
            )
            for k in range(500)
        ]
    )
    assert home > 0.85


def test_kol_exposure_per_consumer_does_not_grow_with_the_population():
    """Follows per consumer stay at follows_per_consumer from 1,000 to 100,000 consumers
    (KOLs in proportion); with an absolute minimum count they rose from 0.28 to 0.57."""
    spec = KOLs(follows_per_consumer=0.35)
    per_consumer = {}
    for n in (1000, 10000, 100000):
        counts = []
        for seed in range(5):
            region = np.zeros(n, dtype=np.uint8)
            followers, _ = kol_followers(
                spec, n // 250, region, np.array([1.0]), np.random.default_rng(seed)
            )
            counts.append(followers.nnz / n)  # distinct follows (a repeated draw is merged)
        per_consumer[n] = np.mean(counts)
    for n, value in per_consumer.items():
        assert 0.3 <= value <= 0.36, (n, value)
    assert abs(per_consumer[100000] - per_consumer[1000]) < 0.03
