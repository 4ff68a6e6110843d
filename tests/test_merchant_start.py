"""The merchant side of a two-sided start (issue 26): trials and the launch period.

mechanisms/merchant_adoption.py: a new adopter gives its mobile channels ``trial_weeks``
weeks before judging them (no abandonment, no drop on a loss meanwhile); in the
platforms' launch period (``free_listing_weeks`` from week 0) the channel cost is
waived, and the ledger's "mobile channels" flow is what adopters actually paid.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario

from model import MarketModel
from model.mechanisms import merchant_adoption as ma
from model.scenario import Accounts, MerchantDynamics

SIZE = {  # the baseline's 25 consumers per merchant and 250 per KOL, its 156 weeks
    "population__consumers": 500,
    "population__merchants": 20,
    "population__kols": 2,
    "simulation__steps": 156,
}


def _scenario(**overrides):
    return small_scenario(**{**SIZE, **overrides})


def test_an_adopter_in_its_trial_neither_abandons_nor_drops_its_channels():
    dyn = MerchantDynamics(abandon_rate=1.0, exit_rate=1.0, trial_weeks=10)
    adopted = np.array([True, True, True, False])
    active = np.ones(4, dtype=bool)
    since = np.array([0, 5, 19, 0], dtype=np.int32)  # week each began using mobile channels
    trial = ma.on_trial(dyn, adopted, since, 15)
    assert trial.tolist() == [False, True, False, False]  # 0 < t - a <= 10, adopters only
    trial = ma.on_trial(dyn, adopted, since, 20)
    assert trial.tolist() == [False, False, True, False]
    losing = np.full(4, -1.0, dtype=np.float32)
    draw = np.zeros(4)
    assert ma.abandons(dyn, adopted, active, losing, draw, trial).tolist() == [
        True, True, False, False,
    ]
    profit = np.full(4, -1.0, dtype=np.float32)
    leaving, dropping = ma.exits(dyn, active, adopted, profit, losing, draw, trial)
    # the trial's loss is its start-up cost: it neither drops the channels nor closes
    assert dropping.tolist() == [True, True, False, False]
    assert leaving.tolist() == [False, False, False, True]
    # trial_weeks 0: judged from the first week, as before the trial existed
    none = ma.on_trial(MerchantDynamics(trial_weeks=0), adopted, since, 20)
    assert not none.any()


def test_the_channel_cost_is_waived_in_the_launch_period_only():
    acc, dyn = Accounts(mobile_channel_cost=2.0), MerchantDynamics(free_listing_weeks=3)
    # weeks are numbered from 1: weeks 1-3 are free
    assert [ma.channel_cost(acc, dyn, t) for t in range(1, 6)] == [0.0, 0.0, 0.0, 2.0, 2.0]
    assert ma.channel_cost(acc, MerchantDynamics(free_listing_weeks=0), 1) == 2.0


def _early_abandonments(trial_weeks: int, weeks: int = 20) -> int:
    sc = _scenario(simulation__steps=weeks, merchant_dynamics__trial_weeks=trial_weeks)
    total = 0
    for seed in (1, 2, 3):
        model = MarketModel(sc, seed=seed)
        for _ in range(weeks):
            model.step()
            total += model.last.merchant_abandonments
    return total


def test_a_trial_means_fewer_early_abandonments():
    judged, patient = _early_abandonments(0), _early_abandonments(26)
    assert judged > 0  # the check was exercised: early adopters lose money
    assert patient < judged
    assert patient == 0  # nobody's 20 weeks of mobile channels are judged yet


def test_adoption_weeks_are_stamped_and_trials_end():
    weeks = 40
    sc = _scenario(simulation__steps=weeks, merchant_dynamics__trial_weeks=8)
    model = MarketModel(sc, seed=2)
    for t in range(1, weeks + 1):  # week t is the model's t-th step
        m = model.merchants
        adopted0, since0 = m.adopted.copy(), m.adoption_week.copy()
        trial0 = ma.on_trial(sc.merchant_dynamics, adopted0, since0, t)
        model.step()
        m = model.merchants
        started = m.adopted & ~adopted0
        assert (m.adoption_week[started] == t).all()  # adopters and entrants of week t
        kept = m.adopted & adopted0
        assert (m.adoption_week[kept] == since0[kept]).all()
        # nobody on trial and still in business gave up its mobile channels (one that
        # closes on losses it remembers from before its trial leaves the market)
        assert not (trial0 & m.active & ~m.adopted).any()


def test_the_launch_period_waiver_balances_in_the_ledger():
    weeks, free = 12, 6
    sc = _scenario(simulation__steps=weeks, merchant_dynamics__free_listing_weeks=free)
    cost = sc.accounts.mobile_channel_cost
    model = MarketModel(sc, seed=1)
    for t in range(1, weeks + 1):
        m = model.merchants
        selling = int((m.adopted & m.active).sum())
        model.step()
        s, last = model.last_week.signals, model.last
        mw, ledger = s.merchant_week, last.ledger
        # adopters pay for their channels only after the launch period, each fee once
        assert mw.channel_fees == pytest.approx((0.0 if t <= free else cost) * selling)
        platform = 0.0 if s.orders.platform_fee is None else float(s.orders.platform_fee.sum())
        expected = float(s.marketing_spend_by_merchant.sum()) + mw.channel_fees + platform
        assert ledger.flow("merchants", "platforms") == pytest.approx(expected)
        # the merchants' profit (margins with the waived cost) is their net in the ledger
        assert last.merchant_profit == pytest.approx(ledger.net("merchants"), abs=1e-6)
