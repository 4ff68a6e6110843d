"""KOLs with finite attention (issue 26): engagement falls with audience, attention is
shared, sponsored and disclosed posts persuade less, commercial posting wears credibility
down, fees follow engaged reach, and the money balances (mechanisms/kol.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import ROOT, small_scenario

from model.market import MarketModel, run_model
from model.mechanisms import kol
from model.scenario import load_scenario


def _spec(**changes):
    return small_scenario(**{f"kols__{k}": v for k, v in changes.items()}).kols


def _posts(kols, sponsored=None, disclosed=None, persuasion=0.7, fake=None, n_kols=None):
    kols = np.asarray(kols, dtype=np.int64)
    n = kols.size
    no = np.zeros(n, dtype=bool)
    return kol.KOLPosts(
        kol=kols,
        merchant=np.zeros(n, dtype=np.int64),
        sponsored=no.copy() if sponsored is None else np.asarray(sponsored),
        campaign=no.copy(),
        disclosed=no.copy() if disclosed is None else np.asarray(disclosed),
        persuasion=np.full(n, persuasion, dtype=np.float32),
        fee=np.zeros(n),
        fake=no.copy() if fake is None else np.asarray(fake),
        n_kols=n_kols if n_kols is not None else int(kols.max()) + 1,
    )


def _followers(groups, n):
    """KOLs x consumers matrix: row k follows the consumers listed in groups[k]."""
    rows = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)])
    cols = np.concatenate([np.asarray(g) for g in groups])
    return sp.csr_array(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(len(groups), n)
    )


def test_exposure_and_engaged_reach_per_follower_fall_with_audience_size():
    spec = _spec()
    # three KOLs with 10, 100 and 400 followers, disjoint; one organic post each
    sizes = (10, 100, 400)
    starts = np.cumsum((0,) + sizes)
    groups = [np.arange(starts[k], starts[k + 1]) for k in range(3)]
    followers = _followers(groups, int(starts[-1]))
    count = np.diff(followers.indptr)
    attn = kol.attention(spec, followers)
    eng, reach = kol.engaged_reach(spec, followers, count, attn)
    exposure, _ = kol.follower_exposure(
        followers, _posts([0, 1, 2]), np.zeros(1, dtype=np.uint8), 1, engagement=eng,
        attention=attn,
    )
    per_follower = [exposure[g, 0].mean() for g in groups]
    assert per_follower[0] > per_follower[1] > per_follower[2] > 0
    reach_per_follower = reach / count
    assert reach_per_follower[0] > reach_per_follower[1] > reach_per_follower[2]
    assert reach[0] < reach[1] < reach[2]  # a larger audience still reaches more in total
    # the fall is the engagement exponent: (400 / 10)^-0.23
    assert per_follower[2] / per_follower[0] == pytest.approx(
        (400 / 10) ** -spec.engagement_exponent, rel=1e-5
    )


def test_a_follower_of_more_kols_gets_less_from_each():
    spec = _spec(attention_sharing=1.0)
    # consumer 0 follows KOL 0 only; consumer 1 follows KOLs 0 and 1; KOL 0 posts
    followers = _followers([[0, 1], [1]], 2)
    attn = kol.attention(spec, followers)
    exposure, _ = kol.follower_exposure(
        followers, _posts([0], n_kols=2), np.zeros(1, dtype=np.uint8), 1, attention=attn
    )
    assert exposure[1, 0] == pytest.approx(exposure[0, 0] / 2)
    shared = _spec(attention_sharing=0.0)
    assert np.all(kol.attention(shared, followers) == 1.0)


def _market(budget, disclosure, seed=0, **changes):
    spec = _spec(post_probability=1.0, **changes)
    k, m = 10, 20
    return kol.kol_market(
        spec=spec, credibility=np.full(k, 0.7, dtype=np.float32),
        kol_region=np.zeros(k, dtype=np.uint8), follower_count=np.arange(10, 10 + 10 * k, 10),
        follower_degree=None, merchant_region=np.zeros(m, dtype=np.uint8),
        adopted=np.ones(m, dtype=bool), merchant_kol_budget=np.zeros(m),
        campaign_budget=budget, disclosure=disclosure, merchant_integrity=np.ones(m),
        rng=np.random.default_rng(seed),
    )


def test_disclosed_persuade_less_than_undisclosed_sponsored_less_than_organic():
    posts = _market(200.0, disclosure=0.5)
    organic = posts.persuasion[~posts.sponsored]
    undisclosed = posts.persuasion[posts.sponsored & ~posts.disclosed]
    disclosed = posts.persuasion[posts.disclosed]
    assert organic.size and undisclosed.size and disclosed.size
    assert disclosed.max() < undisclosed.min() and undisclosed.max() < organic.min()


def test_sponsored_posts_build_no_trust_exposure():
    followers = _followers([[0, 1, 2]], 3)
    sponsored = _posts([0, 0], sponsored=[True, True])
    exposure, genuine = kol.follower_exposure(followers, sponsored, np.zeros(1, np.uint8), 1)
    assert exposure.sum() > 0 and genuine.sum() == 0
    organic = _posts([0])
    exposure, genuine = kol.follower_exposure(followers, organic, np.zeros(1, np.uint8), 1)
    assert np.allclose(exposure, genuine) and genuine.sum() > 0


def test_fees_scale_with_engaged_reach_not_follower_counts():
    spec = _spec()
    fees = kol.post_fees(spec, np.array([50.0, 100.0]), np.array([0.7, 0.7]))
    assert fees[1] == pytest.approx(2 * fees[0])
    # per follower, a post of a larger KOL costs less (its followers engage less)
    followers = _followers([np.arange(20), np.arange(20, 220)], 220)
    count = np.diff(followers.indptr)
    _, reach = kol.engaged_reach(spec, followers, count, kol.attention(spec, followers))
    per_follower = kol.post_fees(spec, reach, np.array([0.7, 0.7])) / count
    assert per_follower[0] > per_follower[1] > 0


def test_credibility_falls_as_the_commercial_share_of_posts_rises():
    spec = _spec()
    start = np.full(1, spec.initial_credibility, dtype=np.float32)
    settled = []
    for paid in (0, 1, 3, 8):  # sponsored posts a week next to one organic post
        cred = start.copy()
        posts = _posts([0] * (paid + 1), sponsored=[True] * paid + [False])
        for _ in range(200):
            cred = kol.update_credibility(spec, cred, posts)
        settled.append(float(cred[0]))
    assert settled[0] == pytest.approx(spec.initial_credibility, abs=1e-4)
    assert all(a > b for a, b in zip(settled, settled[1:], strict=False))


def test_a_kol_campaign_lowers_credibility_against_the_baseline_same_seeds():
    small = {"population.consumers": 600, "population.merchants": 40, "population.kols": 5,
             "simulation.steps": 40}
    diffs = []
    for seed in (1, 2):  # common random numbers: the same seed in both arms
        base = run_model(load_scenario(ROOT / "scenarios" / "baseline.yaml", small), seed=seed)
        campaign = run_model(load_scenario(ROOT / "scenarios" / "kol_campaign.yaml", small),
                             seed=seed)
        diffs.append(campaign["kol_credibility"].iloc[-1] - base["kol_credibility"].iloc[-1])
    assert max(diffs) < 0


def test_kol_week_is_deterministic_and_its_fees_balance():
    scenario = small_scenario(
        simulation__steps=30, policies=[{"lever": "channel_kol_campaign", "strength": 1.0}]
    )
    tables = []
    for _ in range(2):
        model = MarketModel(scenario, seed=3)
        for _ in range(30):
            model.step()
            s = model.last_week.signals
            ledger = model.last.ledger
            earned = float(s.kol_fees_by_kol.sum())
            paid = float(s.kol_fees_by_merchant.sum()) + float(s.kol_campaign_spend)
            assert earned == pytest.approx(paid, rel=1e-9, abs=1e-9)
            assert ledger.received("kols") == pytest.approx(earned, rel=1e-9, abs=1e-9)
            assert ledger.flow("merchants", "kols") == pytest.approx(
                float(s.kol_fees_by_merchant.sum()), rel=1e-9, abs=1e-9
            )
        tables.append((model.kols.credibility.copy(), model.timeseries()))
    assert np.array_equal(tables[0][0], tables[1][0])
    assert tables[0][1].equals(tables[1][1])


def _endorsements(spec, groups, n, post_kols, post_merchants, merchant_region, persuasion=0.7):
    followers = _followers(groups, n)
    count = np.diff(followers.indptr)
    attn = kol.attention(spec, followers)
    eng, _ = kol.engaged_reach(spec, followers, count, attn)
    posts = _posts(post_kols, persuasion=persuasion, n_kols=len(groups))
    posts.merchant = np.asarray(post_merchants, dtype=np.int64)
    n_regions = int(merchant_region.max()) + 1
    exposure, _ = kol.follower_exposure(
        followers, posts, merchant_region, n_regions, engagement=eng, attention=attn
    )
    return kol.endorsements(spec, followers, posts, exposure, eng, merchant_region, n_regions)


def test_an_endorsement_acts_only_on_followers_who_order_from_its_region():
    spec = _spec(reach_rate=1.0)
    merchant_region = np.array([0, 0, 0, 1], dtype=np.uint8)
    selling = np.array([True, True, True, True])
    # KOL 0 (followed by consumers 0 and 3) endorses merchant 2 of region 0, strongly
    ends = _endorsements(spec, [[0, 3], [2]], 4, [0] * 40, [2] * 40, merchant_region,
                         persuasion=1.0)
    rng = np.random.default_rng(5)
    buyers = np.array([0, 1, 3, 0])
    region = np.array([0, 0, 1, -1])  # consumer 3 orders from region 1; -1: a platform pick
    picked = ends.pick(rng.random((3, 4)), buyers, region, selling)
    assert picked.tolist() == [2, -1, -1, -1]  # only the follower ordering from region 0
    selling[2] = False  # an endorsed merchant that no longer sells is not bought from
    assert ends.pick(rng.random((3, 4)), buyers, region, selling).tolist() == [-1, -1, -1, -1]
    # no posts, no endorsements (and no draws in the ordering phase)
    empty = _posts(np.zeros(0, dtype=np.int64), n_kols=2)
    no_exposure = np.zeros((4, 2), dtype=np.float32)
    assert kol.endorsements(spec, _followers([[0, 3], [2]], 4), empty, no_exposure,
                            np.ones(2), merchant_region, 2) is None


def test_the_chance_to_buy_from_an_endorsed_merchant_is_one_minus_exp_of_what_is_seen():
    spec = _spec()
    merchant_region = np.array([0, 0], dtype=np.uint8)
    n = 20000
    ends = _endorsements(spec, [np.arange(n)], n, [0], [1], merchant_region)
    seen = float(ends.seen[0, 0])
    assert seen == pytest.approx(spec.reach_rate * 0.7, rel=1e-5)  # one KOL: e = persuasion
    picked = ends.pick(np.random.default_rng(2).random((3, n)), np.arange(n),
                       np.zeros(n, dtype=np.int64), np.array([True, True]))
    share = float(np.mean(picked == 1))
    expected = -np.expm1(-seen)
    assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))
    assert set(np.unique(picked)) == {-1, 1}


def test_orders_an_endorsement_brings_per_follower_fall_with_audience_size():
    spec = _spec(reach_rate=1.0)
    # KOLs with 10, 100 and 1,000 disjoint followers each endorse their own merchant once
    sizes = (10, 100, 1000)
    starts = np.cumsum((0,) + sizes)
    groups = [np.arange(starts[k], starts[k + 1]) for k in range(3)]
    n = int(starts[-1])
    ends = _endorsements(spec, groups, n, [0, 1, 2], [0, 1, 2], np.zeros(3, dtype=np.uint8))
    rates = np.zeros(3)
    rng = np.random.default_rng(8)
    for _ in range(200):  # 200 weeks in which every follower orders from region 0
        picked = ends.pick(
            rng.random((3, n)), np.arange(n), np.zeros(n, dtype=np.int64), np.ones(3, bool)
        )
        for k, g in enumerate(groups):
            rates[k] += np.mean(picked[g] == k) / 200
    assert rates[0] > rates[1] > rates[2] > 0


def test_every_effect_of_a_post_reads_the_exposure_seen():
    """Awareness, purchase lift and trust read reach_rate x exposure, as consideration does."""
    weeks = {}
    for reach in (0.0, 0.2, 0.4):
        model = MarketModel(small_scenario(simulation__steps=2, kols__reach_rate=reach), seed=4)
        model.step()  # week 1: the posts do not depend on reach_rate, so they are the same
        s = model.last_week.signals
        weeks[reach] = (
            np.asarray(s.kol_total, dtype=float),
            np.asarray(s.kol_domestic, dtype=float),
            np.asarray(s.conversion_lift, dtype=float),
            np.asarray(s.marketing_lift, dtype=float),
        )
    seen, genuine, lift, marketing = weeks[0.2]
    assert seen.sum() > 0 and genuine.sum() > 0
    np.testing.assert_allclose(weeks[0.4][0], 2 * seen, rtol=1e-5)
    np.testing.assert_allclose(weeks[0.4][1], 2 * genuine, rtol=1e-5)
    assert (lift >= marketing).all() and (lift > marketing).any()
    # a post nobody sees makes nobody aware, lifts nobody's purchase and builds no trust
    assert not weeks[0.0][0].any() and not weeks[0.0][1].any()
    np.testing.assert_allclose(weeks[0.0][2], weeks[0.0][3])


def test_a_campaign_leaves_the_other_posts_and_their_draws_as_without_it():
    """Common random numbers: the campaign draws from its own stream (a child of the
    phase's), so merchants' and organic posts, their merchants, disclosure and fakes are
    those of the same week without a campaign; only the campaign's posts are added."""

    def market(budget):
        spec = _spec(post_probability=0.5, campaign_targeting="random", campaign_share=0.5)
        k, m = 10, 20
        return kol.kol_market(
            spec=spec,
            credibility=np.full(k, 0.7, dtype=np.float32),
            kol_region=np.zeros(k, dtype=np.uint8),
            follower_count=np.arange(10, 10 + 10 * k, 10),
            follower_degree=None,
            merchant_region=np.zeros(m, dtype=np.uint8),
            adopted=np.ones(m, dtype=bool),
            merchant_kol_budget=np.full(m, 20.0),
            campaign_budget=budget,
            disclosure=0.5,
            merchant_integrity=np.full(m, 0.5),
            rng=np.random.default_rng(np.random.SeedSequence([7, 3, 11])),
        )

    without, with_ = market(0.0), market(300.0)
    assert with_.campaign.sum() > 0 and without.campaign.sum() == 0
    rest = ~with_.campaign
    for field in ("kol", "merchant", "sponsored", "disclosed", "fake"):
        assert np.array_equal(getattr(with_, field)[rest], getattr(without, field)), field
    # the campaign's own posts have their own draws (disclosure and fakes vary)
    assert 0 < with_.fake[with_.campaign].sum() < with_.campaign.sum()
