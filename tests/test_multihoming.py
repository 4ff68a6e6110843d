"""Multi-homing in the super-app layer: several platforms and wallets per consumer (issue 26).

A two-app world has consumers on both apps and per-app payment shares; interoperability
changes them (common random numbers: the same seed at lever 0 and 1); a consumer pays
with a wallet of a platform it uses; the run is a pure function of scenario and seed;
money balances; shares stay in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario

from model.market import MarketModel, run_model
from model.mechanisms.accounts import PARTIES

pytestmark = pytest.mark.quick

TWO_APPS = {
    "platforms": {
        "platforms": {
            "a": {"initial_users": 0.3, "store_share": 0.5, "qr_acceptance": 0.4},
            "b": {"initial_users": 0.3, "store_share": 0.5, "qr_acceptance": 0.4},
        }
    }
}
ACTIVE = {  # mobile shopping and payment under way from the start
    "word_of_mouth__initial_aware": 0.6,
    "regions__domestic__initial_payment_adoption": 0.5,
    "regions__foreign__initial_payment_adoption": 0.5,
    "merchants__initial_adoption": 0.6,
}
WEEKS = 30
SHARES = ["wallet_payment_share.a", "wallet_payment_share.b"]


def _scenario(interoperability: float = 0.0, **platforms):
    spec = {"platforms": {**TWO_APPS["platforms"], "interoperability": interoperability}}
    spec["platforms"].update(platforms)
    return small_scenario(simulation__steps=WEEKS, **ACTIVE, **spec)


def _run(interoperability: float, seed: int = 4):
    model = MarketModel(_scenario(interoperability), seed=seed)
    for _ in range(WEEKS):
        model.step()
        ledger = model.last.ledger
        assert sum(ledger.net(p) for p in PARTIES) == pytest.approx(0.0, abs=1e-6)
    return model, model.timeseries()


@pytest.fixture(scope="module")
def runs():
    return {level: _run(level) for level in (0.0, 1.0)}


def test_a_two_app_world_has_consumers_on_both_apps_and_per_app_payment_shares(runs):
    model, table = runs[0.0]
    member, wallet = model.platforms.member, model.platforms.wallet
    assert member.shape == wallet.shape == (model.consumers.n, 2)
    assert not (wallet & ~member).any()  # a wallet only of a platform one uses
    both = (member.sum(axis=1) == 2).sum()
    assert both > 0.3 * member.any(axis=1).sum()
    assert (wallet.sum(axis=1) == 2).any()
    shares = table[SHARES].iloc[1:].dropna()
    assert len(shares) > WEEKS // 2
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (shares.mean() > 0.1).all()  # both wallets are used
    for column in [*SHARES, "platform_multihoming", "wallet_multihoming", "users_by_platform.a",
                   "wallet_holders.b"]:
        values = table[column].dropna()
        assert ((values >= 0) & (values <= 1)).all(), column
    last = table.iloc[-1]
    assert last["users_by_platform.a"] == pytest.approx(
        model.platforms.last["users_by_platform"][0]
    )


def test_interoperability_changes_wallets_and_payment_shares(runs):
    """Same seed: with interoperability one wallet works at every store and QR code, so
    no payment fails for want of a wallet, fewer consumers take a second wallet and the
    wallets' payment shares change."""
    (m0, t0), (m1, t1) = runs[0.0], runs[1.0]
    assert t0["cross_platform_failures"].sum() > 0
    assert t1["cross_platform_failures"].sum() == 0
    # the same consumers use the same apps (joining does not depend on payments)
    np.testing.assert_array_equal(m0.platforms.member, m1.platforms.member)

    def second_wallets(model):
        return int((model.platforms.wallet.sum(axis=1) >= 2).sum())

    assert second_wallets(m1) < second_wallets(m0)
    assert not np.allclose(t0[SHARES].iloc[1:].mean(), t1[SHARES].iloc[1:].mean())


def test_a_higher_attention_cost_means_fewer_consumers_on_both_apps():
    def both(cost: float) -> int:
        scenario = small_scenario(
            simulation__steps=20,
            **ACTIVE,
            platforms={**TWO_APPS["platforms"], "multihoming_cost": cost},
        )
        model = MarketModel(scenario, seed=2)
        for _ in range(20):
            model.step()
        return int((model.platforms.member.sum(axis=1) == 2).sum())

    assert both(0.9) < both(0.0)


def test_multihoming_runs_are_deterministic():
    scenario = small_scenario(simulation__steps=8, **ACTIVE, **TWO_APPS)
    a, b = run_model(scenario, seed=9), run_model(scenario, seed=9)
    assert a.equals(b)
    assert {"wallet_payment_share.a", "users_by_platform.b", "wallet_multihoming"} <= set(
        a.columns
    )
