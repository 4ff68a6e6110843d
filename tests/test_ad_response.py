"""Advertising response (issue 26): reach saturates towards the channel's audience, repeated
exposure wears out, orders respond concavely to spend, precision targeting beats untargeted
spend per unit, location-based ads reach nearby districts more (mechanisms/marketing.py,
targeting.py, o2o.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model import MarketModel
from model.levers import CHANNELS
from model.mechanisms import marketing, o2o
from model.scenario import load_scenario
from tests.conftest import small_scenario

N = 2000


def _week(spec, level, *, audience=None, responsiveness=None, district=None, merchants=3,
          interest=None, has_ordered=None):
    """One marketing week: ``merchants`` adopters in one region, subsidy ``level`` on QR/O2O."""
    base = spec.budget_per_merchant
    budget = {c: base * (ch.budget_share + (level if c == "qr_o2o" else 0.0))
              for c, ch in spec.channels.items()}
    return marketing.run_marketing(
        spec=spec, channel_budget=budget, merchant_region=np.zeros(merchants, dtype=np.uint8),
        adopted=np.ones(merchants, dtype=bool), revenue=np.zeros(merchants),
        consumer_region=np.zeros(N, dtype=np.uint8), has_access=np.ones(N, dtype=bool),
        degree=np.ones(N), region_names=["domestic"], audience=audience,
        responsiveness=responsiveness, consumer_district=district, interest=interest,
        has_ordered=has_ordered,
    )


def _qr_only(**marketing_values):
    values = {"marketing__revenue_reinvest": 0.0, **marketing_values}
    spec = small_scenario(**values).marketing
    channels = {c: ch.model_copy(update={"budget_share": 0.0}) for c, ch in spec.channels.items()}
    channels["qr_o2o"] = channels["qr_o2o"].model_copy(
        update={"audience_share": 0.5, "distance_decay": 1.0, "conversion_lift": 1.0}
    )
    return spec.model_copy(update={"channels": channels})


def test_reach_saturates_towards_the_channels_audience():
    assert marketing.reach(0.0, 100.0) == 0.0
    curve = marketing.reach(np.array([10.0, 100.0, 1000.0, 10000.0]), 100.0)
    assert np.all(np.diff(curve) > 0) and curve[-1] <= 100.0 and curve[-1] > 99.0
    assert np.all(np.diff(curve) / np.diff([10.0, 100.0, 1000.0, 10000.0]) < 1.0)
    spec = _qr_only()
    bit = np.uint8(1 << CHANNELS.index("qr_o2o"))
    audience = np.where(np.arange(N) % 2 == 0, bit, np.uint8(0)).astype(np.uint8)
    members = int((audience != 0).sum())
    levels = (1, 10, 100, 1000)
    reached = [_week(spec, level, audience=audience).reach["qr_o2o"] for level in levels]
    assert all(np.diff(reached) > 0)
    assert reached[-1] <= members and reached[-1] > 0.95 * members
    # non-members are never reached: no lift for them
    lift = _week(spec, 1000, audience=audience).lift
    assert np.all(lift[audience == 0] == 1.0) and np.all(lift[audience != 0] > 1.0)


def test_repeated_exposure_adds_less_and_responsiveness_recovers():
    spec = _qr_only()
    e = np.array([1.0, 2.0, 4.0, 8.0], dtype=np.float32)
    effective, worn = marketing.effective_impressions(e, np.float32(1.0), spec.wearout)
    assert np.all(np.diff(effective / e) < 0)  # each further impression adds less
    assert np.all(worn < 1.0) and np.all(np.diff(worn) < 0)
    q = np.ones(N, dtype=np.float32)
    first = _week(spec, 10, responsiveness=q)
    again = _week(spec, 10, responsiveness=first.responsiveness)
    assert first.responsiveness.mean() < 1.0
    assert again.lift.mean() < first.lift.mean()  # the same spend persuades less: wear-out
    rest = _week(spec, 0, responsiveness=again.responsiveness)  # a week without ads
    assert rest.responsiveness.mean() > again.responsiveness.mean()


def test_location_based_ads_reach_nearer_districts_more():
    spec = _qr_only(marketing__districts=4)
    channels = dict(spec.channels)
    channels["qr_o2o"] = channels["qr_o2o"].model_copy(
        update={"audience_share": 1.0, "distance_decay": 0.3}
    )
    spec = spec.model_copy(update={"channels": channels})
    district = (np.arange(N) % 4).astype(np.uint8)
    week = _week(spec, 2, district=district, merchants=1)  # merchant slot 0: district 0
    assert o2o.merchant_districts(1, 4).tolist() == [0]
    by_tier = [week.lift[district == d].mean() for d in range(4)]
    assert by_tier[0] > by_tier[1] > by_tier[2] > by_tier[3] > 1.0
    kernel = o2o.tier_kernel(4, 0.3)
    assert np.allclose(kernel.sum(axis=1), 1.0) and kernel[0, 0] > kernel[0, 1] > kernel[0, 3]
    # not location-based: every district alike
    flat = _week(_qr_only(marketing__districts=4), 2, district=district, merchants=1)
    assert np.allclose([flat.lift[district == d].mean() for d in range(4)], flat.lift.mean())


def test_targeting_puts_impressions_on_past_buyers_and_interested_consumers():
    spec = _qr_only(marketing__targeting="data")
    has_ordered = np.arange(N) % 4 == 0
    interest = np.where(np.arange(N) % 2 == 0, 2.0, 0.5).astype(np.float32)
    week = _week(spec, 1, has_ordered=has_ordered, interest=interest)
    assert week.lift[has_ordered].mean() > week.lift[~has_ordered].mean()
    assert week.lift[interest > 1].mean() > week.lift[interest < 1].mean()
    untargeted = _week(_qr_only(), 1, has_ordered=has_ordered, interest=interest)
    # the same impressions in total
    assert week.impressions["qr_o2o"] == pytest.approx(untargeted.impressions["qr_o2o"])


def _state_funded(multiple: float, **values):
    """Baseline world with the four paid channels paid by the state at ``multiple`` x budget."""
    sc = load_scenario("scenarios/baseline.yaml")
    paid = {c: ch.budget_share for c, ch in sc.marketing.channels.items() if c != "kol_campaign"}
    total = sum(paid.values())
    overrides = {f"marketing.channels.{c}.budget_share": 0.0 for c in paid}
    overrides.update(values)
    overrides["policies"] = [
        {"lever": f"channel_{c}", "start": 1, "ramp": 0, "strength": multiple * s / total}
        for c, s in paid.items() if multiple > 0
    ]
    return load_scenario("scenarios/baseline.yaml", overrides)


def _orders_and_spend(scenario, seed):
    model = MarketModel(scenario, seed=seed)
    orders = spend = 0.0
    for _ in range(scenario.simulation.steps):
        model.step()
        orders += model.market.last.orders
        spend += sum(model.last_week.signals.channel_subsidy_spend.values())
    return orders, spend


@pytest.mark.slow
def test_orders_respond_concavely_to_channel_spend_crn():
    """Orders vs state-funded channel spend at 0-8x the base budget, merchants held fixed.

    Every merchant uses mobile channels and none exits, enters or abandons, so what is
    measured is the consumers' response to advertising (the ad_concave fact measures it
    with merchant adoption responding too). The same seeds at every level (CRN), orders
    and spend summed over the seeds: marginal orders per yuan between consecutive levels.

    Size: 10,000 consumers (400 merchants, 40 KOLs), seeds 1-12, 156 weeks (about two
    minutes). History: on 2,000 consumers and seeds 1-3 (this test until 2026-12-07) the
    marginals were 0.019, -0.002, 0.002, 0.003, 0.001 and the test was a known failure:
    one step of spend moves orders by about 1%, less than the runs' spread at that size.
    At 10,000 consumers (2026-12-07, at 3c68d82): seeds 1-6 pooled 0.0117, 0.0073,
    0.0029, 0.0013, 0.0004; seeds 7-12, run once as a replication, 0.0125, 0.0063,
    0.0028, 0.0009, 0.0005. After KOL followers began to come back (fade37f) seeds 1-6,
    then the test's seeds, gave 0.0115, 0.0050, 0.0015, 0.0015, 0.00007 (the third and
    fourth steps equal: the test failed) and seeds 7-12 0.0115, 0.0034, 0.0028, 0.0006,
    0.0004; the test was then widened to seeds 1-12, so its pass is not independent
    evidence: seeds 13-24, run once afterwards, are (docs/validation.md, ``ad_concave``).
    Single seeds are noisier: on several the second step added more per yuan than the
    first.
    """
    multiples = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
    seeds = tuple(range(1, 13))
    world = {
        "population.consumers": 10_000,
        "population.merchants": 400,
        "population.kols": 40,
        "simulation.steps": 156,
        "merchants.initial_adoption": 1.0,
        "merchant_dynamics.exit_rate": 0.0,
        "merchant_dynamics.abandon_rate": 0.0,
        "merchant_dynamics.entry_rate": 0.0,
    }
    orders = np.zeros(len(multiples))
    spend = np.zeros(len(multiples))
    for i, multiple in enumerate(multiples):
        for seed in seeds:  # CRN: the same seeds at every level
            o, s = _orders_and_spend(_state_funded(multiple, **world), seed)
            orders[i] += o
            spend[i] += s
    marginal = np.diff(orders) / np.diff(spend)
    assert np.all(marginal > 0), marginal
    assert np.all(np.diff(marginal) < 0), marginal


def test_marketing_is_deterministic_with_targeting_and_districts():
    sc = small_scenario(marketing__targeting="data")

    def run():
        model = MarketModel(sc, seed=11)
        for _ in range(8):
            model.step()
        return model

    a, b = run(), run()
    assert np.array_equal(a.consumers.ad_responsiveness, b.consumers.ad_responsiveness)
    assert np.array_equal(a.consumers.channel_audience, b.consumers.channel_audience)
    assert np.array_equal(a.consumers.district, b.consumers.district)
    assert a.datacollector.get_model_vars_dataframe().equals(
        b.datacollector.get_model_vars_dataframe()
    )
    assert a.consumers.ad_responsiveness.min() < 1.0  # ads were seen and wore out
