"""The direction of every mechanism, each in its own test (strong contrasts, paired seeds)."""

from __future__ import annotations

import numpy as np

from model import run_model
from tests.conftest import small_scenario

SEEDS = (1, 2, 3)


def outcome(metric: str, how: str = "final", steps: int = 40, **overrides) -> float:
    """Mean over SEEDS of a metric's final value, run mean or run total."""
    values = []
    for seed in SEEDS:
        table = run_model(small_scenario(**overrides), seed=seed, steps=steps)
        series = table[metric].iloc[1:]
        values.append({"final": series.iloc[-1], "mean": series.mean(), "sum": series.sum()}[how])
    return float(np.mean(values))


def test_more_payment_fraud_lowers_payment_adoption():
    low = outcome("payment_adoption", payment__fraud_rate=0.0)
    high = outcome("payment_adoption", payment__fraud_rate=0.05)
    assert high < low


def test_higher_perceived_risk_slows_payment_adoption():
    assert outcome("payment_adoption", payment__perceived_risk=0.9) < outcome(
        "payment_adoption", payment__perceived_risk=0.1
    )


def test_rigid_demand_lever_raises_payment_adoption():
    lever = [{"lever": "rigid_demand", "strength": 0.05}]
    assert outcome("payment_adoption", policies=lever) > outcome("payment_adoption")


def test_higher_merchant_integrity_fewer_counterfeits_and_more_trust():
    assert outcome("counterfeit_incidents", "sum", merchants__integrity_mean=0.99) < outcome(
        "counterfeit_incidents", "sum", merchants__integrity_mean=0.6
    )
    assert outcome("mean_trust_domestic", merchants__integrity_mean=0.99) > outcome(
        "mean_trust_domestic", merchants__integrity_mean=0.6
    )


def test_integrity_lever_verifies_merchants_and_cuts_counterfeits():
    lever = [{"lever": "integrity", "strength": 0.2}]
    assert outcome("verified_merchant_share", policies=lever) > 0.9
    assert outcome("counterfeit_incidents", "sum", policies=lever) < outcome(
        "counterfeit_incidents", "sum"
    )


def test_higher_trade_cost_lowers_cross_border_share():
    cheap = outcome("cross_border_share", "mean", trade__cross_border_logistics_cost=0.0,
                    trade__tariff=0.0, trade__cross_border_delivery_days=3)
    dear = outcome("cross_border_share", "mean", trade__cross_border_logistics_cost=1.0,
                   trade__tariff=0.5, trade__cross_border_delivery_days=60)
    assert dear < cheap


def test_cross_border_facilitation_raises_cross_border_share():
    lever = [{"lever": "cross_border_facilitation", "strength": 1.0}]
    assert outcome("cross_border_share", "mean", policies=lever) > outcome(
        "cross_border_share", "mean"
    )


def test_word_of_mouth_transmission_speeds_awareness():
    quiet = dict(population__merchants=0, population__kols=0, steps=10)
    assert outcome("aware_share", word_of_mouth__transmission=0.2, **quiet) > outcome(
        "aware_share", word_of_mouth__transmission=0.01, **quiet
    )


def test_negative_word_of_mouth_lowers_trust():
    bad = dict(merchants__integrity_mean=0.6, trust__counterfeit_loss=0.0)
    assert outcome("mean_trust_domestic", word_of_mouth__negative_weight=20, **bad) < outcome(
        "mean_trust_domestic", word_of_mouth__negative_weight=0, **bad
    )


def test_kols_spread_awareness():
    quiet = dict(word_of_mouth__transmission=0.0, word_of_mouth__recommendation_transmission=0.0,
                 marketing__budget_per_merchant=0.0, steps=10)
    many = outcome("aware_share", population__kols=40, kols__min_followers=50, **quiet)
    none = outcome("aware_share", population__kols=0, **quiet)
    assert many > none


def test_kol_credibility_falls_with_fakes_and_rises_with_disclosure():
    base = dict(population__kols=20)
    assert outcome("kol_credibility", merchants__integrity_mean=0.3, **base) < outcome(
        "kol_credibility", merchants__integrity_mean=0.99, **base
    )
    disclose = [{"lever": "kol_disclosure", "strength": 1.0}]
    assert outcome("kol_credibility", policies=disclose, **base) > outcome("kol_credibility", **base)


def test_marketing_budget_spreads_awareness():
    quiet = dict(word_of_mouth__transmission=0.0, word_of_mouth__recommendation_transmission=0.0,
                 population__kols=0, merchants__initial_adoption=0.5, steps=10)
    assert outcome("aware_share", marketing__budget_per_merchant=100.0, **quiet) > outcome(
        "aware_share", marketing__budget_per_merchant=1.0, **quiet
    )


def test_merchant_promotion_lever_raises_merchant_adoption():
    lever = [{"lever": "merchant_promotion", "strength": 0.05}]
    assert outcome("merchant_adoption", policies=lever) > outcome("merchant_adoption")


def test_infrastructure_lever_raises_access_and_orders():
    lever = [{"lever": "infrastructure", "strength": 1.0}]
    assert outcome("mobile_access_share", policies=lever) == 1.0
    assert outcome("orders", "sum", policies=lever) > outcome("orders", "sum")


def test_coupons_do_nothing_without_trust_and_help_with_it():
    coupons = [{"lever": "consumer_incentives", "strength": 0.5}]
    no_trust = dict(trust__purchase_threshold=0.95)
    assert outcome("orders", "sum", policies=coupons, **no_trust) == 0
    assert outcome("orders", "sum", policies=coupons) > outcome("orders", "sum")


def test_trust_gates_buying():
    assert outcome("orders", "sum", trust__purchase_threshold=0.6) < outcome(
        "orders", "sum", trust__purchase_threshold=0.1
    )
