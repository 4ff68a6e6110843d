"""Issue 26, people drive adoption: count and tie-strength contagion of mobile payment,
trust drifting back to its prior, payers lapsing from disuse, order size and confidence.

Through the public functions of the mechanisms and the MarketModel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.market import MarketModel
from model.mechanisms import lapse, ordering, payment, trust
from model.scenario import Payment, ScenarioError, load_scenario

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parents[1]


def _p(spec, count, recommenders=0.0, degree=10.0, external=0.0, risk=0.0):
    w = payment.tie_weight(spec, np.array([degree]), 10.0)
    return payment.adoption_probability(
        spec, external, np.array([float(count)]), np.array([float(recommenders)]), w,
        np.array([risk]),
    )[0]


def test_counts_matter_at_a_fixed_share():
    """Same share (30% of ties pay), more paying ties: a higher chance (tie_dilution < 1)."""
    spec = Payment(peer_influence=0.01, tie_dilution=0.5)
    small = _p(spec, 3, degree=10.0)
    large = _p(spec, 9, degree=30.0)
    assert large > small > 0.0
    # pure share contagion (dilution 1) makes the two equal to first order only
    share_only = Payment(peer_influence=0.01, tie_dilution=1.0)
    assert _p(share_only, 9, degree=30.0) == pytest.approx(_p(share_only, 3), rel=0.01)


def test_chance_rises_with_paying_neighbours_and_recommendations():
    spec = Payment(peer_influence=0.01, recommendation_boost=3.0)
    chances = [_p(spec, k) for k in range(5)]
    assert all(b > a for a, b in zip(chances, chances[1:], strict=False))
    assert _p(spec, 2, recommenders=1) > _p(spec, 2, recommenders=0)  # a recommending tie
    assert _p(spec, 2, external=0.01) > _p(spec, 2)  # the external term (rigid demand) helps
    assert _p(spec, 2, risk=0.5) == pytest.approx(0.5 * _p(spec, 2))  # risk holds back


def test_reinforcement_makes_a_lone_tie_pull_less_and_many_ties_pull_almost_in_full():
    """Complex contagion (payment.reinforcement h): tie exponents times a / (a + h)."""
    simple = Payment(peer_influence=0.01)
    complex_ = Payment(peer_influence=0.01, reinforcement=1.0)
    assert simple.reinforcement == 0.0  # the default is simple contagion
    # a lone paying tie pulls with weight 1 / (1 + h): the chance of not adopting is
    # (1 - w) ** 0.5 instead of 1 - w
    w = payment.tie_weight(simple, np.array([10.0]), 10.0)[0]
    assert _p(complex_, 1) == pytest.approx(1.0 - (1.0 - w) ** 0.5)
    assert _p(complex_, 1) < _p(simple, 1)
    # the ratio to simple contagion rises with the paying ties towards 1
    ratios = [_p(complex_, k) / _p(simple, k) for k in (1, 2, 3, 10, 50)]
    assert all(b > a for a, b in zip(ratios, ratios[1:], strict=False))
    assert ratios[-1] > 0.97
    # the chance still rises with every paying tie, and nobody is pulled by none
    chances = [_p(complex_, k) for k in range(5)]
    assert chances[0] == 0.0
    assert all(b > a for a, b in zip(chances, chances[1:], strict=False))
    # recommenders are weighed alike; the external push is not reinforced
    assert _p(complex_, 2, recommenders=1) > _p(complex_, 2)
    assert _p(complex_, 0, external=0.01) == pytest.approx(0.01)


def test_reinforcement_slows_adoption_from_a_few_scattered_payers():
    """From 5% random payers most non-payers have at most one paying tie: slower spread."""
    base = ROOT / "scenarios" / "baseline.yaml"
    size = {"population.consumers": 1000, "simulation.steps": 26}
    shares = {}
    for h in (0.0, 2.0):
        sc = load_scenario(base, {**size, "payment.reinforcement": h})
        model = MarketModel(sc, seed=5)
        for _ in range(26):
            model.step()
        shares[h] = float(model.timeseries()["payment_adoption_connected"].iloc[-1])
    assert 0.0 < shares[2.0] < shares[0.0] <= 1.0


def test_reinforcement_is_refused_on_a_fully_mixed_network(tmp_path):
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(
        "extends: " + str(ROOT / "scenarios" / "baseline.yaml") + "\n"
        "name: mixed\nnetwork: {kind: complete}\nword_of_mouth: {rule: bass}\n"
        "payment: {reinforcement: 1.0}\n",
        encoding="utf-8",
    )
    refused = "payment.reinforcement > 0 needs a network with ties"
    with pytest.raises(ScenarioError, match=refused) as info:
        load_scenario(scenario)
    assert "mixed.yaml" in str(info.value)  # the message names the file


def test_nobody_adopts_without_adopters_or_external_push():
    sc = load_scenario(
        ROOT / "scenarios" / "baseline.yaml",
        {
            "population.consumers": 400,
            "simulation.steps": 20,
            "payment.convenience_rate": 0.0,
            "payment.rigid_demand_rate": 0.0,
            "payment.checkout_adoption": 0.0,
            "regions.domestic.initial_payment_adoption": 0.0,
            "regions.foreign.initial_payment_adoption": 0.0,
        },
    )
    model = MarketModel(sc, seed=3)
    for _ in range(20):
        model.step()
    assert not model.consumers.payment.any()


def test_trust_drifts_toward_its_prior_without_experience():
    t = np.array([0.95, 0.1], dtype=np.float32)
    prior = np.array([0.45, 0.45])
    none = np.zeros(2, dtype=bool)
    for _ in range(200):
        t = trust.drift_to_prior(t, prior, 0.02, none)
    assert np.allclose(t, 0.45, atol=0.02)
    fresh = np.ones(2, dtype=bool)  # fresh experience: no drift
    assert np.array_equal(trust.drift_to_prior(t, prior, 0.02, fresh), t)


def test_bad_experience_weighs_its_ratio_at_any_trust():
    """In log-odds a counterfeit moves trust 2-5 times as much as a genuine purchase."""
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    good, bad = sc.trust.experience_gain, sc.trust.counterfeit_loss
    for level in (0.3, 0.5, 0.8):
        t = np.array([level], dtype=np.float32)
        up = trust.update_trust(t, np.array([good]), np.array([0.0]))[0] - level
        down = level - trust.update_trust(t, np.array([0.0]), np.array([bad]))[0]
        assert 1.5 <= down / up <= 5.0, (level, down / up)


def test_disuse_stops_payers():
    rng = np.random.default_rng(0)
    pays = np.ones(20000, dtype=bool)
    used = np.zeros(20000, dtype=bool)
    used[:10000] = True
    risk = np.zeros(20000, dtype=np.float32)
    stops = lapse.stopping_payment(0.0, pays, risk, rng, disuse_rate=0.05, used_last_week=used)
    assert not stops[:10000].any()  # users keep paying
    assert 0.03 < stops[10000:].mean() < 0.07
    none = lapse.stopping_payment(0.0, pays, risk, rng)  # no rates: nobody stops
    assert not none.any()


def test_order_value_rises_with_trust_and_falls_with_risk():
    trust_levels = np.array([0.2, 0.5, 0.9])
    f = ordering.order_size_factor(0.4, trust_levels, np.zeros(3))
    assert np.all(np.diff(f) > 0) and f[-1] <= 1.0
    g = ordering.order_size_factor(0.4, np.full(3, 0.8), np.array([0.0, 0.3, 0.6]))
    assert np.all(np.diff(g) < 0)


def _goods_per_order(overrides, seed=5):
    values = {"population.consumers": 600, "simulation.steps": 30}
    values.update(overrides)
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", values)
    model = MarketModel(sc, seed=seed)
    goods, count = 0.0, 0
    for _ in range(30):
        model.step()
        orders = model.last_week.signals.as_dict()["orders"]
        goods += float(orders.goods_value.sum())
        count += int(orders.consumer.size)
    return goods / max(count, 1)


def test_model_orders_are_smaller_while_confidence_is_low_crn():
    """Same seed: with the order-size rule on, mobile baskets are smaller than with it off
    (trust and perceived risk are below full confidence in the baseline)."""
    on = _goods_per_order({})
    off = _goods_per_order({"ordering.order_size_confidence": 0.0})
    assert on < 0.95 * off


def test_same_seed_same_run():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml", {"population.consumers": 400,
                                                               "simulation.steps": 15})
    a = MarketModel(sc, seed=11)
    b = MarketModel(sc, seed=11)
    for _ in range(15):
        a.step()
        b.step()
    assert np.array_equal(a.consumers.payment, b.consumers.payment)
    assert np.array_equal(a.consumers.trust_domestic, b.consumers.trust_domestic)
