"""Merchants decide on mobile channels by their own expected profit (issue 27).

mechanisms/merchant_adoption.py: each mobile cost is counted once, in the net mobile
margin; a non-adopter adopts when it learns of mobile channels and expects a positive
net gain (promotion informs, it does not force); an adopter drops the channels when its
own smoothed net margin is negative, never when it is positive; a merchant whose loss
comes from its mobile channels drops them rather than closing.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

from model import MarketModel, load_scenario, run_model
from model.mechanisms import merchant_adoption as ma
from model.scenario import MerchantDynamics, Merchants

SCENARIOS = ROOT / "scenarios"
SMALL = {  # the baseline's 25 consumers per merchant and 250 per KOL
    "population.consumers": 1000,
    "population.merchants": 40,
    "population.kols": 4,
}
SEEDS = range(1, 6)


def _scenario(name: str, **overrides):
    values = dict(SMALL)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_scenario(SCENARIOS / f"{name}.yaml", values)


def _run_mean(name: str, column: str, steps: int, **overrides) -> float:
    """Mean over the seeds (common random numbers) of a column's mean over the run."""
    sc = _scenario(name, simulation__steps=steps, **overrides)
    return float(np.mean([run_model(sc, seed=s)[column].iloc[1:].mean() for s in SEEDS]))


# ------------------------------------------------------------------ the rules, one by one


def test_promotion_informs_but_never_makes_a_merchant_adopt_at_an_expected_loss():
    spec = Merchants(imitation=0.0)
    region = np.array([0, 0, 0, 1, 1, 1])
    active = np.ones(6, dtype=bool)
    adopted = np.array([True, False, False, True, False, False])
    # region 0's adopter earns 2 a week net of every mobile cost, region 1's loses 0.5
    margin = np.array([2.0, 0.0, -3.0, -0.5, 0.0, 0.0], dtype=np.float32)
    p = ma.adoption_probability(spec, 1.0, region, active, adopted, margin, 2)
    # informed for sure: adopts where the peers' net margin is positive (merchant 1);
    # not where it is negative (region 1), nor where its own remembered loss outweighs it
    assert p.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert ma.adoption_probability(spec, 0.3, region, active, adopted, margin, 2)[1] == 0.3
    # a positive net margin is compared with zero only: no channel cost subtracted again
    small = np.array([0.01, 0.0, 0.0, 0.01, 0.0, 0.0], dtype=np.float32)
    p = ma.adoption_probability(spec, 1.0, region, active, adopted, small, 2)
    assert p.tolist() == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]


def test_imitation_needs_visible_successful_peers():
    spec = Merchants(imitation=0.5)
    region = np.zeros(4, dtype=np.int64)
    active = np.ones(4, dtype=bool)
    adopted = np.array([True, True, False, False])
    winning = np.array([3.0, 1.0, 0.0, 0.0], dtype=np.float32)
    expected, share = ma.expected_gain(region, active, adopted, winning, 1)
    assert expected[0] == pytest.approx(2.0) and share[0] == pytest.approx(0.5)
    p = ma.adoption_probability(spec, 0.0, region, active, adopted, winning, 1)
    assert p.tolist() == [0.0, 0.0, 0.25, 0.25]
    losing = np.array([-1.0, -2.0, 0.0, 0.0], dtype=np.float32)
    assert ma.adoption_probability(spec, 0.0, region, active, adopted, losing, 1).max() == 0.0


def test_abandonment_and_exit_follow_the_sign_of_the_net_margin():
    dyn = MerchantDynamics(abandon_rate=1.0, exit_rate=1.0)
    active = np.ones(4, dtype=bool)
    adopted = np.array([True, True, True, False])
    margin = np.array([0.5, -0.5, 0.0, -1.0], dtype=np.float32)
    draw = np.zeros(4)
    assert ma.abandons(dyn, adopted, active, margin, draw).tolist() == [False, True, False, False]
    profit = np.array([-1.0, -1.0, 2.0, -0.5], dtype=np.float32)
    leaving, dropping = ma.exits(dyn, active, adopted, profit, margin, draw)
    # merchant 1 loses money through its mobile channels: it drops them, it does not close
    assert dropping.tolist() == [False, True, False, False]
    assert leaving.tolist() == [True, False, False, True]


# ------------------------------------------------------------------ invariants over runs


@pytest.mark.parametrize("name", ["baseline", "merchant_promotion"])
def test_merchant_invariants_over_a_run(name):
    """No double count, no forced adoption, exits and merchants in business counted once."""
    sc = _scenario(name, simulation__steps=100)
    seen = dict(dropped=0, adopted=0, exits=0)
    for seed in (1, 3):  # (under the trial, seed 3 has voluntary adoptions in 100 weeks)
        model = MarketModel(sc, seed=seed)
        for _ in range(sc.simulation.steps):
            m = model.merchants
            adopted0, active0 = m.adopted.copy(), m.active.copy()
            n_active0 = int(active0.sum())
            promotion = model.parameters.at(model.steps).promotion_rate
            model.step()
            m, last = model.merchants, model.last
            margin = m.mobile_margin  # the smoothed net margin each decision used
            # 1. a merchant with a positive smoothed net mobile margin never drops them
            dropped = adopted0 & active0 & m.active & ~m.adopted
            assert (margin[dropped] < 0).all()
            # 2. nobody adopts expecting a loss, whatever the promotion
            newly = ~adopted0 & active0 & m.adopted
            expected, _ = ma.expected_gain(m.region, active0, adopted0, margin, model.n_regions)
            gain = expected[m.region] + np.minimum(margin, 0.0)
            assert (gain[newly] > 0).all(), (promotion, gain[newly])
            # 3. a merchant losing money through its mobile channels drops them, not closes
            exited = active0 & ~m.active
            assert not (exited & adopted0 & (margin < 0)).any()
            # 4. exits, entries and merchants in business counted once
            assert last.merchant_exits == int(exited.sum())
            assert last.active_merchants == int(m.active.sum())
            assert last.active_merchants == n_active0 - last.merchant_exits + (
                last.merchant_entries
            )
            # 5. merchants' profit is what the ledger says they received minus what they paid
            assert last.merchant_profit == pytest.approx(last.ledger.net("merchants"), abs=1e-6)
            seen["dropped"] += int(dropped.sum())
            seen["adopted"] += int(newly.sum())
            seen["exits"] += last.merchant_exits
    assert seen["dropped"] > 0 and seen["adopted"] > 0, seen  # the checks were exercised


def test_every_mobile_cost_is_in_the_net_margin_once_the_payment_fee_included():
    # a world where mobile shopping exists (CNNIC's end-2013 shares, as china_2013 starts):
    # in the baseline's world before it, people spread it slowly (issue 26)
    market = {
        f"regions__{r}__{k}": v
        for r in ("domestic", "foreign")
        for k, v in (("initial_payment_adoption", 0.251), ("initial_shopper_share", 0.288))
    }
    sc = _scenario(
        "baseline", simulation__steps=40, payment__acceptance_fee=0.05,
        word_of_mouth__initial_aware=0.288, **market,
    )
    acc = sc.accounts
    model = MarketModel(sc, seed=3)
    fees = 0.0
    for t in range(1, 41):  # week t is the model's t-th step
        m = model.merchants
        selling = m.adopted & m.active
        channel = ma.channel_cost(acc, sc.merchant_dynamics, t)  # 0 in the launch period
        active0 = m.active.copy()
        model.step()
        s = model.last_week.signals
        week, orders, n = s.merchant_week, s.orders, m.n
        fee = np.bincount(orders.merchant, weights=orders.payment_fee, minlength=n)
        platform = (
            np.bincount(orders.merchant, weights=orders.platform_fee, minlength=n)
            if orders.platform_fee is not None
            else 0.0
        )
        margin = (
            week.revenue * (1 - acc.cost_of_goods_share)
            - s.marketing_spend_by_merchant
            - s.kol_fees_by_merchant
            - week.fines
            - platform
            - fee
            - np.where(selling, channel, 0.0)
        )
        np.testing.assert_allclose(week.mobile_margin, margin, atol=1e-9)
        assert week.channel_fees == pytest.approx(channel * int(selling.sum()))
        profit = np.where(active0, margin + acc.traditional_margin - acc.fixed_cost, 0.0)
        np.testing.assert_allclose(week.profit, profit, atol=1e-9)
        fees += float(fee.sum())
    assert fees > 0


# ------------------------------------------------------------------ directions (CRN pairs)


def test_dearer_mobile_channels_mean_fewer_adopting_merchants():
    paid = {"merchant_dynamics__free_listing_weeks": 0}  # no launch-period waiver
    free = _run_mean(
        "baseline", "merchant_adoption", 60, accounts__mobile_channel_cost=0.0, **paid
    )
    dear = _run_mean(
        "baseline", "merchant_adoption", 60, accounts__mobile_channel_cost=60.0, **paid
    )
    assert dear < free


def test_promotion_raises_merchant_adoption():
    base = _run_mean("baseline", "merchant_adoption", 80)
    promoted = _run_mean("merchant_promotion", "merchant_adoption", 80)
    assert promoted > base


# merchant_promotion may still cut merchants in business (merchants lured into a channel
# that loses money, who drop it and later close on the losses they remember); the report's
# first paragraph must then say so: tests/test_report_stakeholders.py checks that clause.


def test_a_merchant_that_exits_makes_room_for_a_new_one():
    """Entry goes on after every slot has been used: an entrant retakes a vacated slot.

    The cap bounds the merchants in business at once; never-used slots are taken first;
    a retaken slot starts as a new merchant (no fines, not verified, no acceptance, no
    platform store, no followers, channel totals of its own orders only).
    """
    sc = _scenario(
        "platform_superapp",
        simulation__steps=104,
        merchant_dynamics__max_merchants=44,
        merchant_dynamics__entry_rate=1.0,
        merchant_dynamics__exit_rate=0.5,
        merchant_dynamics__trial_weeks=0,
        accounts__fixed_cost=4.0,
        merchants__penalty=5.0,
    )
    model = MarketModel(sc, seed=3)
    start = sc.population.merchants
    m, pl = model.merchants, model.platforms
    retaken_total, fresh_checked, delisted = 0, 0, []
    for _ in range(104):
        was_exited, was_active = model.merchants.exited.copy(), model.merchants.active.copy()
        unused_before = int((~was_active & ~was_exited).sum())
        model.step()
        m, pl = model.merchants, model.platforms
        assert m.active.sum() <= 44
        new = np.flatnonzero(m.entry_week == model.steps)
        retaken = new[was_exited[new]]
        if retaken.size:  # never-used slots go first
            assert new.size > unused_before
            assert not (~m.active & ~m.exited & (np.arange(m.n) >= start)).any()
        retaken_total += retaken.size
        assert not m.exited[new].any() and (m.penalties[new] == 0).all()
        assert not m.verified[new].any() and not m.accepts_mobile_payment[new].any()
        assert (pl.store[new] < 0).all() and not np.isin(pl.follows, new).any()
        delisted.append(model.timeseries()["platform_stores_delisted"].iloc[-1])
        if retaken.size and model.steps < 104:
            before = pl.channel_orders[retaken].sum(axis=1)
            assert before.sum() > 0  # the earlier occupants sold
            model.step()
            # the next week's totals are the new merchants' own orders of that week
            got = model.platforms.channel_orders[retaken].sum(axis=1)
            assert (got == model.merchants.sales[retaken]).all()
            assert not model.platforms.delisted[retaken].any()
            fresh_checked += retaken.size
            delisted.append(model.timeseries()["platform_stores_delisted"].iloc[-1])
        if model.steps >= 104:
            break
    assert retaken_total > 0 and fresh_checked > 0
    assert np.all(np.diff(delisted) >= 0)  # a count of stores ever delisted
    entries = int(model.timeseries()["merchant_entries"].sum())
    assert entries > 44 - start  # more entrants than never-used slots
