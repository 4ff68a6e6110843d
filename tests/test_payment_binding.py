"""Two-sided mobile payment that binds (issue 27): acceptance, the fee, offline QR codes.

- No mobile payment (and no checkout adoption) at a merchant that does not accept it; a
  buyer there pays another way or does not buy (mechanisms/ordering.py, rule 9).
- The payment fee is booked ``merchants -> payment_providers`` and the money balances.
- A higher fee lowers merchants' acceptance and the share of orders paid by mobile;
  offline retailers' QR acceptance responds to the QR fee (mechanisms/o2o.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, SMALL

from model.market import MarketModel, run_model
from model.mechanisms import o2o
from model.mechanisms.accounts import PARTIES
from model.scenario import O2O, load_scenario

pytestmark = pytest.mark.quick

ACTIVE = {  # mobile shopping under way from the start; a third of merchants accept
    "word_of_mouth.initial_aware": 0.6,
    "regions.domestic.initial_payment_adoption": 0.5,
    "regions.foreign.initial_payment_adoption": 0.5,
    "merchants.initial_adoption": 0.6,
    "payment.initial_acceptance": 0.3,
}

WORLDS = ("baseline", "platform_superapp")


def _scenario(world: str = "baseline", steps: int = 30, **overrides):
    values = {**SMALL, **ACTIVE, "simulation.steps": steps}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_scenario(ROOT / "scenarios" / f"{world}.yaml", values)


def _weeks(scenario, seed: int = 1):
    """Run the model week by week; yield (acceptance at the start of the week, model)."""
    model = MarketModel(scenario, seed=seed)
    for _ in range(scenario.simulation.steps):
        accepts = model.merchants.accepts_mobile_payment.copy()
        model.step()
        yield accepts, model


@pytest.mark.parametrize("world", WORLDS)
def test_no_mobile_payment_reaches_a_merchant_that_does_not_accept_it(world):
    other_way = refused = orders = 0
    for accepts, model in _weeks(_scenario(world)):
        o = model.last_week.signals.orders
        assert o.paid_by_mobile.dtype == bool and o.paid_by_mobile.size == o.count
        # every order paid by mobile is at a merchant that accepted it this week
        assert accepts[o.merchant[o.paid_by_mobile]].all()
        # and every order at a merchant that accepts it is paid by mobile
        assert o.paid_by_mobile[accepts[o.merchant]].all()
        # no checkout adoption at a non-accepting merchant (offline QR is another way in)
        first_qr = o.qr.first_time if o.qr is not None else np.empty(0, dtype=np.int64)
        at_checkout = np.setdiff1d(o.adopted_at_checkout, first_qr)
        assert not np.isin(at_checkout, o.consumer[~o.paid_by_mobile]).any()
        assert o.payment_refused <= o.failed_transactions
        other_way += int((~o.paid_by_mobile).sum())
        refused += o.payment_refused
        orders += o.count
    assert orders > 100
    assert other_way > 0 and refused > 0  # the rule was exercised both ways


def test_buyers_who_will_not_pay_another_way_do_not_buy_there():
    """other_payment = 0: every order is paid by mobile; = 1: no order is lost to it."""
    never = _scenario(payment__other_payment=0.0)
    lost = 0
    for _, model in _weeks(never):
        o = model.last_week.signals.orders
        assert o.paid_by_mobile.all()
        lost += o.payment_refused
    assert lost > 0
    always = _scenario(payment__other_payment=1.0)
    for _, model in _weeks(always):
        assert model.last_week.signals.orders.payment_refused == 0


def test_buyers_who_will_not_pay_another_way_order_less():
    def orders(other_payment):
        return np.mean(
            [
                run_model(_scenario(payment__other_payment=other_payment), seed=s)["orders"].sum()
                for s in range(3)
            ]
        )

    assert orders(0.0) < orders(1.0)


@pytest.mark.parametrize("world", WORLDS)
def test_the_payment_fee_is_booked_and_money_balances(world):
    scenario = _scenario(world)
    fee = scenario.payment.acceptance_fee
    booked = 0.0
    for _, model in _weeks(scenario):
        o, ledger = model.last_week.signals.orders, model.last.ledger
        expected = fee * float(o.goods_value[o.paid_by_mobile].sum())
        assert ledger.received("payment_providers") == pytest.approx(expected, abs=1e-9)
        assert ledger.flow("merchants", "payment_providers") == pytest.approx(expected, abs=1e-9)
        np.testing.assert_allclose(
            o.payment_fee, np.where(o.paid_by_mobile, fee * o.goods_value, 0.0)
        )
        assert sum(ledger.net(p) for p in PARTIES) == pytest.approx(0.0, abs=1e-6)
        assert ledger.flows.sum(axis=0).sum() == pytest.approx(ledger.flows.sum(axis=1).sum())
        booked += expected
    assert booked > 0
    assert "payment_providers" in PARTIES
    table = model.timeseries()
    assert table["payment_fee_revenue"].iloc[-1] == pytest.approx(expected, abs=1e-9)
    o = model.last_week.signals.orders
    share = o.paid_by_mobile.mean() if o.count else 0.0
    assert table["mobile_paid_order_share"].iloc[-1] == pytest.approx(share)


def test_a_week_without_needs_has_the_payment_fields():
    scenario = _scenario(ordering__occasion_rate=0.0, steps=2)
    for _, model in _weeks(scenario):
        o = model.last_week.signals.orders
        assert o.count == 0 and o.paid_by_mobile.size == 0 and o.payment_fee.size == 0
        assert model.last.ledger.received("payment_providers") == 0.0


def _mean_over_seeds(column: str, seeds=range(4), **overrides) -> float:
    return float(
        np.mean(
            [
                run_model(_scenario(steps=40, **overrides), seed=s)[column].iloc[1:].mean()
                for s in seeds
            ]
        )
    )


def test_a_higher_payment_fee_lowers_acceptance_and_payment_by_mobile():
    for column in ("accepting_merchant_share", "mobile_paid_order_share"):
        low = _mean_over_seeds(column, payment__acceptance_fee=0.006)
        high = _mean_over_seeds(column, payment__acceptance_fee=0.03)
        assert high < low - 0.05, column


def _mean_qr_acceptance(qr_fee: float, seeds=range(2)) -> float:
    means = []
    for s in seeds:
        scenario = _scenario("platform_superapp", steps=40, platforms__o2o__qr_fee=qr_fee)
        means.append(np.mean([m.platforms.qr_acceptance.mean() for _, m in _weeks(scenario, s)]))
    return float(np.mean(means))


def test_offline_qr_acceptance_responds_to_the_qr_fee():
    assert _mean_qr_acceptance(0.03) < _mean_qr_acceptance(0.006) - 0.05


def test_retailers_accept_a_qr_code_when_enough_customers_pay_by_it():
    spec = O2O(qr_fee=0.006, qr_acceptance_gain=0.05, qr_acceptance_rate=0.5)
    start = np.array([[0.3], [0.3]])
    region = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    user = np.array([0, 0, 0, -1, 0, -1, -1, -1], dtype=np.int8)
    pays = np.array([True, True, True, True, False, True, True, True])
    after = o2o.qr_acceptance_week(spec, start, user=user, pays=pays, region=region)
    # region 0: 3 of 4 use the app and pay (worth it); region 1: none does
    np.testing.assert_allclose(after, [[0.3 + 0.5 * 0.7], [0.3 - 0.5 * 0.3]])
    # a fee above the gain: nobody accepts in the long run
    costly = O2O(qr_fee=0.1, qr_acceptance_gain=0.05, qr_acceptance_rate=0.5)
    share = start
    for _ in range(40):
        share = o2o.qr_acceptance_week(costly, share, user=user, pays=pays, region=region)
    assert share.max() < 1e-6


def test_qr_acceptance_starts_at_the_scenario_share_and_is_the_same_for_the_same_seed():
    scenario = _scenario("platform_superapp", steps=5)
    model = MarketModel(scenario, seed=3)
    start = scenario.platforms.platforms["superapp"].qr_acceptance
    assert model.platforms.qr_acceptance.shape == (len(scenario.region_names), 1)
    np.testing.assert_allclose(model.platforms.qr_acceptance, start)
    a = run_model(scenario, seed=3)
    b = run_model(scenario, seed=3)
    assert a.equals(b)
    assert a["offline_qr_acceptance"].iloc[0] == pytest.approx(start)
    assert a["offline_qr_acceptance"].between(0.0, 1.0).all()
