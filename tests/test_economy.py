"""The economic core: outside options, accounts that balance, computed policy costs, profit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import BASELINE, cached_run, small_scenario

from model.market import MarketModel, run_model
from model.mechanisms.accounts import PARTIES
from model.scenario import ScenarioError

SEEDS = range(4)


def _mean(column: str, steps: int = 40, **overrides) -> float:
    """Mean over seeds (common random numbers) of a column's mean over the run."""
    overrides.setdefault("simulation__steps", steps)
    scenario = small_scenario(**overrides)
    return float(np.mean([cached_run(scenario, s)[column].iloc[1:].mean() for s in SEEDS]))


def test_money_balances_every_week():
    """What consumers pay equals what the others receive from them, week by week."""
    scenario = small_scenario(
        simulation__steps=40,
        policies=[
            {"lever": "consumer_incentives", "strength": 0.3},
            {"lever": "cross_border_facilitation", "strength": 0.6},
            {"lever": "integrity", "strength": 0.3, "cost_per_step": 5},
        ],
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(40):
        model.step()
        s = model.last_week.signals
        orders, ledger = s.orders, model.last.ledger
        assert ledger.flows.sum(axis=0).sum() == pytest.approx(ledger.flows.sum(axis=1).sum())
        assert sum(ledger.net(p) for p in PARTIES) == pytest.approx(0.0, abs=1e-6)
        # consumers' payments, recomputed from the orders and choices of the week
        basket = scenario.ordering.mean_order_value * model.consumers.spending
        fraud = scenario.accounts.fraud_loss * basket[s.victims].sum()
        paid = (
            orders.value.sum()
            + orders.offline_spending.sum()
            + orders.import_spending.sum()
            + orders.import_tariff.sum()
            + fraud
        )
        assert ledger.paid("consumers") == pytest.approx(paid, rel=1e-9, abs=1e-9)
        # merchants receive the goods value (coupons reimbursed by the state), never the
        # logistics or the tariff: their revenue array adds up to the same money
        received = ledger.flow("consumers", "merchants") + ledger.flow("state", "merchants")
        assert received == pytest.approx(model.merchants.revenue.sum(), rel=1e-5)
        assert received == pytest.approx(orders.goods_value.sum(), rel=1e-9, abs=1e-9)
        assert ledger.flow("consumers", "carriers") == pytest.approx(orders.logistics_value.sum())
        # merchants pay the payment providers the fee on the orders paid by mobile
        fee = scenario.payment.acceptance_fee * orders.goods_value[orders.paid_by_mobile].sum()
        assert ledger.received("payment_providers") == pytest.approx(fee, abs=1e-9)
        assert ledger.flow("merchants", "payment_providers") == pytest.approx(fee, abs=1e-9)
        # the state spends what the policy costs
        assert ledger.paid("state") == pytest.approx(model.last.policy_cost)


def test_an_export_earns_the_goods_value_not_the_freight():
    # the whole basket in every mobile order (the order-size factor, ordering.py rule 4,
    # is checked elsewhere): goods value = basket x price exactly
    sc = small_scenario(simulation__steps=60, ordering__order_size_confidence=0.0)
    model = MarketModel(sc, seed=1)
    for _ in range(60):
        model.step()
    orders = model.last_week.signals.orders
    price = model.merchants.price[orders.merchant]
    basket = model.scenario.ordering.mean_order_value * model.consumers.spending[orders.consumer]
    np.testing.assert_allclose(orders.goods_value, basket * price, rtol=1e-6)
    assert (orders.value >= orders.goods_value - orders.coupon_value - 1e-9).all()


def test_lower_cross_border_friction_creates_and_diverts_trade():
    base = dict(simulation__steps=60)
    easy = dict(
        base,
        policies=[{"lever": "cross_border_facilitation", "strength": 1.0}],
    )
    before_value = _mean("cross_border_value", **base)
    after_value = _mean("cross_border_value", **easy)
    assert after_value > before_value
    created = _mean("cross_border_created_value", **easy) - _mean(
        "cross_border_created_value", **base
    )
    diverted = _mean("cross_border_diverted_value", **easy) - _mean(
        "cross_border_diverted_value", **base
    )
    assert created > 0 and diverted >= 0
    assert created + diverted == pytest.approx(after_value - before_value, rel=1e-6)


def test_created_trade_shows_in_the_mobile_share_of_consumption():
    """The created part shows in consumption: less left unmet or bought offline at home.

    It is about 0.4% of the needs' value and the runs differ by more, so this is measured
    in a baseline-sized world over 8 paired seeds: mean change +0.0018 (se 0.0012) at
    commit 4da2abf (the small world's 4 seeds cannot tell it from 0). A direction with
    weak power: in the slow tier (16 runs of 2,000 consumers), the accounting above in CI.
    """
    easy = [{"lever": "cross_border_facilitation", "strength": 1.0}]
    size = dict(
        simulation__steps=60,
        population__consumers=2000,
        population__merchants=80,
        population__kols=8,
    )
    change = [
        run_model(small_scenario(**size, policies=easy), seed=s)[
            "mobile_share_of_consumption"
        ].iloc[1:].mean()
        - run_model(small_scenario(**size), seed=s)["mobile_share_of_consumption"].iloc[1:].mean()
        for s in range(8)
    ]
    assert np.mean(change) > 0


def test_created_plus_diverted_is_the_cross_border_value_each_week():
    table = run_model(small_scenario(simulation__steps=50), seed=0)
    np.testing.assert_allclose(
        table["cross_border_created_value"] + table["cross_border_diverted_value"],
        table["cross_border_value"],
        atol=1e-9,
    )
    pairs = [c for c in table.columns if c.startswith("cross_border_value.")]
    assert pairs, "per region pair columns"
    np.testing.assert_allclose(table[pairs].sum(axis=1), table["cross_border_value"], atol=1e-9)
    exports = [c for c in table.columns if c.startswith("exports_value.")]
    imports = [c for c in table.columns if c.startswith("imports_value.")]
    np.testing.assert_allclose(table[exports].sum(axis=1), table[imports].sum(axis=1), atol=1e-9)


def test_coupons_cost_what_is_redeemed():
    coupons = [{"lever": "consumer_incentives", "strength": 0.3}]
    nobody_trusts = dict(trust__purchase_threshold=0.99, **{
        "regions.domestic.initial_trust_domestic": 0.05,
        "regions.domestic.initial_trust_foreign": 0.05,
        "regions.foreign.initial_trust_domestic": 0.05,
        "regions.foreign.initial_trust_foreign": 0.05,
    })
    idle = run_model(
        small_scenario(simulation__steps=20, policies=coupons, **nobody_trusts), seed=1
    )
    assert idle["orders"].sum() == 0
    assert idle["policy_cost"].sum() == 0.0  # no redemptions, no cost
    low = small_scenario(simulation__steps=40, policies=[dict(coupons[0], strength=0.1)])
    high = small_scenario(simulation__steps=40, policies=coupons)
    cost_low = np.mean([run_model(low, seed=s)["policy_cost"].sum() for s in SEEDS])
    cost_high = np.mean([run_model(high, seed=s)["policy_cost"].sum() for s in SEEDS])
    assert cost_high > cost_low > 0
    # the cost is the coupons' face value plus the administration share
    model = MarketModel(high, seed=0)
    for _ in range(40):
        model.step()
    face = model.last_week.signals.orders.coupon_value.sum()
    admin = high.policy_costs.coupon_admin
    assert model.last.policy_cost_by_lever["consumer_incentives"] == pytest.approx(
        face * (1 + admin)
    )


def test_coupons_create_mobile_demand_not_only_move_it():
    """Coupons raise the goods value bought by mobile (the demand; what consumers pay
    for it falls by the coupon, which the state reimburses) and draw it from offline."""
    coupons = [{"lever": "consumer_incentives", "strength": 0.4}]
    assert _mean("gmv", policies=coupons) > _mean("gmv")
    assert _mean("offline_spending", policies=coupons) < _mean("offline_spending")


def test_infrastructure_is_charged_per_new_connection():
    lever = [{"lever": "infrastructure", "strength": 0.5, "start": 5}]
    table = run_model(small_scenario(simulation__steps=12, policies=lever), seed=0)
    # the week the lever starts connects many at once; later weeks few
    assert table["policy_cost"].iloc[5] > 0
    assert table["policy_cost"].iloc[5] > table["policy_cost"].iloc[10]
    assert table["policy_cost"].iloc[1:5].sum() == 0


def test_merchants_that_lose_money_exit_and_entrants_respect_the_cap():
    harsh = dict(
        simulation__steps=80,
        **{
            "accounts.fixed_cost": 90.0,  # fixed costs above the traditional margin (50 yuan)
            "merchant_dynamics.exit_rate": 0.2,
            "merchant_dynamics.entry_rate": 0.0,
        },
    )
    table = run_model(small_scenario(**harsh), seed=0)
    assert table["merchant_exits"].sum() > 0
    assert table["active_merchants"].iloc[-1] < table["active_merchants"].iloc[0]
    boom = dict(
        simulation__steps=80,
        **{
            "accounts.fixed_cost": 0.0,
            "merchant_dynamics.entry_rate": 1.0,
            "merchant_dynamics.max_merchants": 55,
        },
    )
    table = run_model(small_scenario(**boom), seed=0)
    assert table["merchant_entries"].sum() > 0
    assert table["active_merchants"].max() <= 55


def test_fines_reach_merchant_profit():
    strict = {"merchants.penalty": 20.0, "merchants.integrity_mean": 0.6, "simulation.steps": 40}
    mild = {"merchants.penalty": 0.0, "merchants.integrity_mean": 0.6, "simulation.steps": 40}
    fines = _mean("merchant_fines", **{k.replace(".", "__"): v for k, v in strict.items()})
    assert fines > 0
    profit_strict = _mean("merchant_profit", **{k.replace(".", "__"): v for k, v in strict.items()})
    profit_mild = _mean("merchant_profit", **{k.replace(".", "__"): v for k, v in mild.items()})
    assert profit_strict < profit_mild


@pytest.mark.parametrize(
    "override, message",
    [
        ("merchant_dynamics.max_merchants=10", "below population.merchants"),
        ("policy_costs.per_merchant_verified=-1", "per_merchant_verified"),
        ("ordering.mean_order_value=-5", "mean_order_value"),
        ("accounts.fixed_cost=-2", "fixed_cost"),
        ("regions.domestic.price_level=-1", "price_level"),
    ],
)
def test_bad_economic_input_is_one_line(tmp_path, override, message):
    result = subprocess.run(
        [sys.executable, "-m", "model.cli", "run", str(BASELINE), "--set", override,
         "--steps", "2", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_cap_below_merchants_in_python():
    with pytest.raises(ScenarioError, match="max_merchants"):
        small_scenario(**{"merchant_dynamics.max_merchants": 5})
