"""The super-app layer: group buying, follow ties, channel attribution, interoperability, O2O."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import BASELINE, small_scenario

from model.market import MarketModel, run_model
from model.mechanisms import attribution, group_buying, platform
from model.mechanisms.accounts import PARTIES
from model.metrics import platform_reporters
from model.network import from_edges
from model.scenario import GroupBuying, Platforms

TWO_PLATFORMS = {
    "platforms": {
        "platforms": {
            "a": {"initial_users": 0.5, "store_share": 0.5, "qr_acceptance": 0.5},
            "b": {"initial_users": 0.5, "store_share": 0.5, "qr_acceptance": 0.5},
        }
    }
}


ACTIVE = {  # a small world where mobile shopping is under way from the start
    "word_of_mouth__initial_aware": 0.6,
    "regions__domestic__initial_payment_adoption": 0.5,
    "regions__foreign__initial_payment_adoption": 0.5,
    "merchants__initial_adoption": 0.6,
}


def _platform_scenario(steps: int = 20, **overrides):
    overrides.setdefault("platforms", {})
    return small_scenario(simulation__steps=steps, **{**ACTIVE, **overrides})


def _clustered_graph(n_clusters: int = 150, size: int = 16, p_in: float = 0.6, seed: int = 0):
    """Dense clusters with a few ties between them (groups of friends)."""
    rng = np.random.default_rng(seed)
    us, vs = [], []
    for c in range(n_clusters):
        base = c * size
        i, j = np.triu_indices(size, 1)
        keep = rng.random(i.size) < p_in
        us.append(base + i[keep])
        vs.append(base + j[keep])
    n = n_clusters * size
    extra = rng.integers(0, n, size=(n // 4, 2))
    extra = extra[extra[:, 0] != extra[:, 1]]
    u = np.concatenate([*us, extra[:, 0]])
    v = np.concatenate([*vs, extra[:, 1]])
    return from_edges(n, np.minimum(u, v), np.maximum(u, v))


def _success_rate(graph, group_size: int, share_rate: float, seeds=range(12)) -> float:
    spec = GroupBuying(
        group_size=group_size, share_rate=share_rate, join_probability=0.15, min_buyers=4, window=3
    )
    wins = offers = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        chats = group_buying.build_group_chats(graph, group_size, rng)
        week = group_buying.group_buy(
            spec, graph, chats, np.ones(graph.n, bool), np.arange(5), 1.0, rng
        )
        wins += week.successes
        offers += week.offers
    return wins / offers


def test_group_buy_success_rises_with_group_size_and_share_rate():
    graph = _clustered_graph()
    small, large = _success_rate(graph, 6, 0.5), _success_rate(graph, 2, 0.5)
    # group_size 2 means more founders, so smaller groups than group_size 6
    assert small > large + 0.05
    low, high = _success_rate(graph, 6, 0.15), _success_rate(graph, 6, 0.9)
    assert high > low + 0.1


def test_group_buy_price_falls_with_team_size():
    graph = _clustered_graph(seed=1)
    spec = GroupBuying(group_size=6, join_probability=0.3, min_buyers=2, discount_per_buyer=0.05)
    rng = np.random.default_rng(3)
    chats = group_buying.build_group_chats(graph, 6, rng)
    week = group_buying.group_buy(
        spec, graph, chats, np.ones(graph.n, bool), np.arange(5), 1.0, rng
    )
    won = week.deal_merchant >= 0
    assert won.any()
    d = week.deal_discount[won]
    assert d.max() > d.min()  # teams of different sizes get different prices
    assert d.max() <= spec.max_discount


def test_counterfeit_ends_the_follow_tie():
    spec = Platforms(follows={"unfollow_after_counterfeit": 1.0, "unfollow_per_post": 0.0})
    follows = np.array([[3, 7, -1, -1], [3, -1, -1, -1]], dtype=np.int32)
    out = platform.follow_updates(
        spec,
        np.random.default_rng(0),
        follows,
        np.zeros(2, np.float32),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.array([0]),
        np.array([3]),
        np.zeros(10, bool),
    )
    assert 3 not in out[0] and 7 in out[0]  # the cheated follower dropped the faker only
    assert 3 in out[1]  # another follower of the same merchant was not cheated
    keep = Platforms(follows={"unfollow_after_counterfeit": 0.0, "unfollow_per_post": 0.0})
    same = platform.follow_updates(
        keep,
        np.random.default_rng(0),
        follows,
        np.zeros(2, np.float32),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.array([0]),
        np.array([3]),
        np.zeros(10, bool),
    )
    np.testing.assert_array_equal(same, follows)


def test_buyers_of_counterfeits_unfollow_in_the_model():
    """A follower cheated by a store it follows no longer follows it after the week."""
    scenario = _platform_scenario(
        steps=30,
        merchants__integrity_mean=0.6,
        platforms={
            "platforms": {"superapp": {"initial_users": 1.0, "store_share": 1.0}},
            "follows": {
                "after_purchase": 1.0,
                "unfollow_per_post": 0.0,
                "unfollow_after_counterfeit": 1.0,
            },
        },
    )
    model = MarketModel(scenario, seed=4)
    ended = 0
    for _ in range(30):
        before = model.platforms.follows.copy()
        model.step()
        s = model.last_week.signals
        fake = ~s.fulfilment.genuine
        who, seller = s.orders.consumer[fake], s.orders.merchant[fake]
        after = model.platforms.follows[who]
        assert not (after == seller[:, None]).any()
        ended += int((before[who] == seller[:, None]).any(axis=1).sum())
    assert ended > 0  # some of them did follow the store before the counterfeit


def test_follow_memory_is_bounded():
    scenario = _platform_scenario(steps=5, platforms={"follows": {"slots": 3}})
    model = MarketModel(scenario, seed=1)
    for _ in range(5):
        model.step()
    assert model.platforms.follows.shape == (model.consumers.n, 3)
    assert model.platforms.follows.dtype == np.int32


def test_channel_attribution_sums_to_total_orders():
    table = run_model(_platform_scenario(steps=25), seed=2)
    orders = table[[f"orders_by_channel.{c}" for c in attribution.CHANNELS]].sum(axis=1)
    value = table[[f"value_by_channel.{c}" for c in attribution.CHANNELS]].sum(axis=1)
    np.testing.assert_array_equal(orders.to_numpy(), table["orders"].to_numpy())
    np.testing.assert_allclose(value.to_numpy(), table["gmv"].to_numpy(), rtol=1e-9, atol=1e-9)
    assert table["orders"].sum() > 0


def test_interoperability_off_makes_cross_platform_payment_fail():
    """An in-app order is paid with a wallet of a platform the buyer uses; without
    interoperability only with the store's platform's wallet (held or activated at
    checkout), with it also with another wallet the buyer holds."""

    def run(level: float):
        policies = [{"lever": "interoperability", "strength": level}] if level else []
        scenario = _platform_scenario(steps=15, policies=policies, **TWO_PLATFORMS)
        model = MarketModel(scenario, seed=5)
        failures, crossing = 0, 0
        for _ in range(15):
            member = model.platforms.member.copy()
            held = model.platforms.wallet.copy()
            model.step()
            orders = model.last_week.signals.orders
            store = model.last_week.signals.platform_week.store[orders.merchant]
            paid = orders.wallet >= 0
            buyer, wallet = orders.consumer[paid], orders.wallet[paid]
            assert member[buyer, wallet].all()  # a wallet of a platform it uses
            assert model.platforms.wallet[buyer, wallet].all()  # held after the week
            # another platform's wallet: one it held (or, holding none, its first)
            other = wallet != store[paid]
            first = ~held[buyer[other]].any(axis=1)
            assert (held[buyer[other], wallet[other]] | first).all()
            crossing += int(other.sum())
            failures += model.platforms.last["cross_platform_failures"]
        return failures, crossing

    failures_off, crossing_off = run(0.0)
    assert failures_off > 0
    assert crossing_off == 0  # no completed in-app payment across platforms
    failures_on, crossing_on = run(1.0)
    assert failures_on == 0 and crossing_on > 0


def test_money_balances_with_platform_fees():
    scenario = _platform_scenario(
        steps=15,
        platforms={"platforms": {"superapp": {"initial_users": 0.8, "store_share": 0.8}}},
    )
    model = MarketModel(scenario, seed=2)
    fees = 0.0
    for _ in range(15):
        model.step()
        ledger = model.last.ledger
        assert sum(ledger.net(p) for p in PARTIES) == pytest.approx(0.0, abs=1e-6)
        s = model.last_week.signals
        assert ledger.flow("merchants", "platforms") >= float(s.orders.platform_fee.sum()) - 1e-9
        # the payment fee goes to the payment providers, not to the platform
        assert ledger.flow("merchants", "payment_providers") == pytest.approx(
            float(s.orders.payment_fee.sum()), abs=1e-9
        )
        fees += float(s.orders.platform_fee.sum())
    assert fees > 0


def test_offline_qr_payment_is_a_way_into_mobile_payment():
    scenario = _platform_scenario(
        steps=10,
        platforms={
            "platforms": {"superapp": {"initial_users": 1.0, "qr_acceptance": 1.0}},
            "o2o": {"first_qr_payment": 1.0},
        },
        payment__perceived_risk=0.0,
    )
    model = MarketModel(scenario, seed=1)
    first = 0
    for _ in range(10):
        model.step()
        qr = model.last_week.signals.orders.qr
        first += qr.first_time.size
        assert model.consumers.payment[qr.first_time].all()
        assert model.platforms.qr_paid[qr.payer].all()
    assert first > 0


def test_merchant_table_gives_each_sellers_platform_share():
    scenario = _platform_scenario(steps=12, platforms={"record_merchants_every": 4})
    model = MarketModel(scenario, seed=3)
    for _ in range(12):
        model.step()
    table = attribution.merchant_table(model)
    assert sorted(table["step"].unique()) == [4, 8, 12]
    last = table[table["step"] == 12]
    assert last["orders"].sum() == model.timeseries()["orders"].sum()
    share = last["platform_share"].dropna()
    assert ((share >= 0) & (share <= 1)).all()


def test_no_platform_runs_no_platform_code(monkeypatch):
    """Without ``platforms:`` the platform mechanisms never run (no draws, no columns)."""

    def boom(*args, **kwargs):
        raise AssertionError("platform code ran without platforms")

    for module, name in [
        (platform, "content"),
        (platform, "adopt_platforms"),
        (group_buying, "group_buy"),
        (group_buying, "build_group_chats"),
    ]:
        monkeypatch.setattr(module, name, boom)
    scenario = small_scenario(simulation__steps=3)
    assert scenario.platforms is None
    table = run_model(scenario, seed=1)
    assert not set(platform_reporters()) & set(table.columns)


def test_spam_control_keeps_followers():
    def follows(level: float) -> float:
        policies = [{"lever": "spam_control", "strength": level}] if level else []
        scenario = _platform_scenario(
            steps=25,
            policies=policies,
            platforms={
                "platforms": {"superapp": {"initial_users": 1.0, "store_share": 1.0}},
                "follows": {
                    "after_purchase": 1.0,
                    "posts_per_week": 8.0,
                    "post_tolerance": 2.0,
                    "unfollow_per_post": 0.2,
                },
            },
        )
        model = MarketModel(scenario, seed=6)
        for _ in range(25):
            model.step()
        return float((model.platforms.follows >= 0).sum())

    assert follows(0.8) > follows(0.0)


def test_platform_verification_delists_low_integrity_stores():
    scenario = _platform_scenario(
        steps=10, policies=[{"lever": "platform_verification", "strength": 1.0}]
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(10):
        model.step()
    pl, m = model.platforms, model.merchants
    assert pl.delisted.any()
    cutoff = scenario.platforms.verification_cutoff
    assert (pl.store[pl.delisted] == -1).all()
    assert (m.integrity[pl.store_verified & (pl.store >= 0)] >= 0).all()
    assert pl.store_verified.any() and cutoff > 0


@pytest.mark.parametrize(
    "override, message",
    [
        ("platforms.follows.slots=0", "platforms.follows.slots"),
        ("platforms.interoperability=2", "platforms.interoperability"),
        ("platforms.group_buying.window=-1", "platforms.group_buying.window"),
    ],
)
def test_bad_platform_input_is_one_line(tmp_path, override, message):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "model.cli",
            "run",
            str(BASELINE),
            "--set",
            "platforms={}",
            "--set",
            override,
            "--steps",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


TARGETS_OFF = {
    "search_purchase_rate": "after the joint adoption and volume refit of 2026-12-06 "
    "(mobile_appeal 3.2) about 60% of acting searchers buy by mobile in the week, against "
    "the material's 24%, even with search_appeal 0 (docs/platform.md)",
}
"""Targets the platform world misses today (known; the test checks they are still off)."""


def _platform_target_means() -> dict[str, float]:
    """platform_superapp.yaml at 2,000 consumers, last 52 of 156 weeks, seeds 1-8
    (docs/platform.md: the calibration's seeds; two seeds alone vary by 5 points)."""
    from model.scenario import load_scenario

    scenario = load_scenario(
        BASELINE.parent / "platform_superapp.yaml",
        [
            "population.consumers=2000",
            "population.merchants=80",
            "population.kols=8",
            "merchant_dynamics.max_merchants=120",
        ],
    )
    results = []
    for seed in range(1, 9):
        model = MarketModel(scenario, seed=seed)
        for _ in range(156):
            model.step()
            if model.steps == 104:
                snapshot = model.platforms.channel_orders.copy()
        window = attribution.orders_since(
            snapshot, 104, model.platforms.channel_orders, model.merchants.entry_week
        )
        results.append(attribution.platform_targets(model.timeseries(), window, 105))
    return {name: float(np.mean([r[name] for r in results])) for name in attribution.TARGETS}


@pytest.fixture(scope="module")
def platform_target_means() -> dict[str, float]:
    return _platform_target_means()


@pytest.mark.long
def test_platform_world_reproduces_the_material_targets(platform_target_means):
    for name, (_, low, high) in attribution.TARGETS.items():
        if name in TARGETS_OFF:
            continue
        value = platform_target_means[name]
        assert low <= value <= high, (name, value)


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(TARGETS_OFF))
def test_known_missed_platform_targets_are_still_missed(platform_target_means, name):
    """A known miss that starts to hold must leave TARGETS_OFF (and docs/platform.md)."""
    _, low, high = attribution.TARGETS[name]
    value = platform_target_means[name]
    assert not low <= value <= high, (
        f"{name} {value:.3f} is inside {low}-{high} again: {TARGETS_OFF[name]}"
    )


def test_fee_cap_lowers_what_merchants_pay_the_platform():
    def fees(level: float) -> float:
        policies = [{"lever": "platform_fee", "strength": level}] if level else []
        scenario = _platform_scenario(
            steps=15,
            policies=policies,
            platforms={"platforms": {"superapp": {"initial_users": 0.8, "store_share": 0.8}}},
        )
        table = run_model(scenario, seed=3)
        return float(table["platform_fees"].sum()), float(table["platform_orders"].sum())

    (full, orders_full), (capped, orders_capped) = fees(0.0), fees(0.5)
    assert orders_capped > 0 and orders_full > 0
    assert capped < 0.7 * full
    # the fee per order falls (not only the orders): the cap halves the rate
    assert capped / orders_capped < 0.7 * full / orders_full


def test_mtsim_run_writes_the_per_merchant_table(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "model.cli",
            "run",
            "scenarios/platform_superapp.yaml",
            "--steps",
            "6",
            "--set",
            "population.consumers=400",
            "--set",
            "platforms.record_merchants_every=2",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "merchants")
    assert set(table["step"]) == {2, 4, 6}  # running totals every 2nd week and at the end
    sold = table[table["orders"] > 0]
    share = sold["platform_share"]
    assert ((share >= 0) & (share <= 1)).all()
    channel_orders = table[[c for c in table.columns if c.startswith("orders.")]].sum(axis=1)
    assert (channel_orders == table["orders"]).all()
