"""Who the consumers are: attributes, their effects on access and multipliers, homophily."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario

from model.market import MarketModel
from model.mechanisms.access import group_access_shares
from model.network import build_social_graph, region_sizes
from model.population import (
    draw_attributes,
    group_access_shift,
    group_layout,
    group_multipliers,
    group_shares,
)
from model.scenario import ScenarioError
from model.state import NEVER_ORDERED

ATTRIBUTES = {
    "homophily": 0.0,
    "area": {"rural": {"payment": 0.5, "frequency": 0.8, "spending": 0.7}},
    "income": {
        "low": {"share": 0.381, "spending": 0.6},
        "middle": {"share": 0.326},
        "high": {"share": 0.293, "spending": 1.6, "payment": 1.3},
    },
}


def with_attributes(attributes=None, **overrides):
    return small_scenario(
        **{"population.attributes": ATTRIBUTES if attributes is None else attributes},
        **overrides,
    )


def test_without_attributes_nothing_is_drawn():
    sc = small_scenario(**{"population.attributes": None})  # the baseline has them
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    attrs = draw_attributes(sc, np.array([300, 300]), rng)
    assert rng.bit_generator.state == state
    assert attrs.urban.all() and not attrs.income_band.any() and not attrs.age_band.any()
    for field in ("payment_propensity", "purchase_frequency", "spending"):
        values = getattr(attrs, field)
        assert values.dtype == np.float32 and np.all(values == 1.0)
    model = MarketModel(sc, seed=2)
    assert np.all(model.consumers.spending == 1.0) and model.consumers.urban.all()
    # the baseline's consumers differ (CNNIC's shares; docs/population.md)
    shipped = MarketModel(small_scenario(), seed=2).consumers
    assert 0.2 < 1 - shipped.urban.mean() < 0.6 and np.unique(shipped.income_band).size == 3


def test_default_shares_are_cnnic_2020():
    sc = with_attributes({})
    attrs = draw_attributes(sc, np.array([200_000]), np.random.default_rng(0))
    # rural residents: 309 million rural users / 55.9% penetration of ~1.405 billion
    assert 1.0 - attrs.urban.mean() == pytest.approx(0.393, abs=0.005)
    income = np.bincount(attrs.income_band, minlength=3) / attrs.income_band.size
    assert income == pytest.approx([0.381, 0.326, 0.293], abs=0.005)
    age = np.bincount(attrs.age_band, minlength=3) / attrs.age_band.size
    assert age[0] == pytest.approx(0.549, abs=0.005) and age[2] == pytest.approx(0.112, abs=0.005)


def test_default_access_shift_reproduces_urban_and_rural_penetration():
    """At CNNIC's 70.4% national penetration: 79.8% urban, 55.9% rural, 31% of users rural."""
    sc = with_attributes({}, **{"regions.foreign.urban_share": 0.607})
    shares = group_shares(sc)
    p = group_access_shares(np.array([0.704, 0.704]), shares, group_access_shift(sc))
    layout = group_layout(sc)
    urban, _, _ = layout.decode(np.arange(layout.n_groups))
    assert p[0, urban] == pytest.approx(0.798, abs=0.002)
    assert p[0, ~urban] == pytest.approx(0.559, abs=0.002)
    connected = shares[0] * p[0]
    assert connected[~urban].sum() / connected.sum() == pytest.approx(309 / 989, abs=0.003)


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3, 0.7, 0.99, 1.0])
def test_access_by_group_keeps_the_region_share_and_grows(share):
    sc = with_attributes()
    shares = group_shares(sc)
    shift = group_access_shift(sc)
    p = group_access_shares(np.array([share, share]), shares, shift)
    assert (shares * p).sum(axis=1) / shares.sum(axis=1) == pytest.approx([share, share], abs=1e-9)
    higher = group_access_shares(np.array([share, share]) + 0.005, shares, shift)
    assert np.all(higher >= p - 1e-12)


def test_rural_consumers_have_less_access_and_access_only_grows():
    model = MarketModel(with_attributes(**{"population.consumers": 2000}), seed=3)
    c = model.consumers
    before = c.has_access.copy()
    for _ in range(10):
        model.step()
        assert np.all(c.has_access >= before)
        before = c.has_access.copy()
    assert c.has_access[c.urban].mean() > c.has_access[~c.urban].mean() + 0.1
    for r, share in enumerate(model.current.mobile_access):
        assert c.has_access[c.region == r].mean() == pytest.approx(share, abs=0.05)


def test_multipliers_have_mean_one_per_region_and_follow_the_levels():
    sc = with_attributes(**{"regions.foreign.urban_share": 0.9})
    shares = group_shares(sc)
    for name, table in group_multipliers(sc).items():
        assert (shares * table).sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-6), name
    model = MarketModel(sc, seed=5)
    c = model.consumers
    assert c.spending[c.income_band == 2].mean() > c.spending[c.income_band == 0].mean() * 2
    assert c.payment_propensity[~c.urban].mean() < c.payment_propensity[c.urban].mean()
    assert c.purchase_frequency.dtype == np.float32
    foreign = c.region == 1
    assert c.urban[foreign].mean() == pytest.approx(0.9, abs=0.05)


def test_initial_payers_follow_payment_propensity():
    sc = with_attributes(
        {"area": {"rural": {"payment": 0.2}}},
        **{
            "population.consumers": 2000,
            "regions.domestic.initial_payment_adoption": 0.5,
            "regions.foreign.initial_payment_adoption": 0.5,
        },
    )
    c = MarketModel(sc, seed=6).consumers
    connected = c.has_access
    assert c.payment[connected & c.urban].mean() > 2 * c.payment[connected & ~c.urban].mean()
    # ... while the share of the connected who pay stays the scenario's (CNNIC's measure)
    for r in (0, 1):
        here = connected & (c.region == r)
        assert c.payment[here].mean() == pytest.approx(0.5, abs=0.06)


def test_initial_shoppers_are_connected_aware_and_have_ordered():
    share = 0.3
    sc = small_scenario(
        **{
            "population.consumers": 3000,
            "regions.domestic.initial_shopper_share": share,
            "regions.foreign.initial_shopper_share": share,
        }
    )
    model = MarketModel(sc, seed=4)
    c = model.consumers
    shoppers = c.has_ordered
    assert not (shoppers & ~c.has_access).any()  # only the connected have shopped by mobile
    assert c.aware[shoppers].all()
    weeks = c.last_order_week[shoppers]  # their last order: in the 26 weeks before week 0
    assert ((weeks <= 0) & (weeks >= -25)).all()
    assert (c.last_order_week[~shoppers] == NEVER_ORDERED).all()
    assert shoppers[c.has_access].mean() == pytest.approx(share, abs=0.04)
    row = model.timeseries().iloc[0]
    assert row["shopper_share"] == pytest.approx(shoppers.mean())
    # without initial shoppers nobody has shopped, and the draw is not made at all
    plain = MarketModel(small_scenario(**{"population.consumers": 3000}), seed=4).consumers
    assert not plain.has_ordered.any()
    assert (plain.has_access == c.has_access).all()


def test_initial_shoppers_are_payers_first():
    """A mobile order is paid by mobile: the initial shoppers are the connected payers
    first, non-payers only for the share beyond the payers; the shoppers' share among
    the connected is the region's either way."""
    for pay, shop in ((0.25, 0.29), (0.5, 0.3)):
        values = {"population.consumers": 4000}
        for r in ("domestic", "foreign"):
            values[f"regions.{r}.initial_payment_adoption"] = pay
            values[f"regions.{r}.initial_shopper_share"] = shop
        c = MarketModel(small_scenario(**values), seed=6).consumers
        connected = c.has_access
        payers = c.payment & connected
        assert c.has_ordered[connected].mean() == pytest.approx(shop, abs=0.03)
        if shop >= pay:  # every connected payer shopped, and some non-payers too
            assert c.has_ordered[payers].all()
            assert 0 < c.has_ordered[connected & ~c.payment].mean() < 0.1
        else:  # no non-payer shopped; shop / (the payers' realised share) of them did
            assert not c.has_ordered[connected & ~c.payment].any()
            paying = payers.sum() / connected.sum()
            assert c.has_ordered[payers].mean() == pytest.approx(shop / paying, abs=0.05)


def _same_group_share(sc, seed=0):
    sizes = region_sizes(sc.population.consumers, np.array([0.8, 0.2]))
    rng = np.random.default_rng(seed)
    attrs = draw_attributes(sc, sizes, rng)
    graph = build_social_graph(sc, sizes, rng, groups=attrs.group)
    same = attrs.group[graph.source] == attrs.group[graph.target]
    return same.mean(), 2 * graph.n_edges / graph.n


def test_homophily_raises_ties_within_groups_and_keeps_the_mean_degree():
    base = {"population.consumers": 2000}
    random_mix, degree0 = _same_group_share(with_attributes({"homophily": 0.0}, **base))
    some, degree1 = _same_group_share(with_attributes({"homophily": 0.5}, **base))
    full, degree2 = _same_group_share(with_attributes({"homophily": 1.0}, **base))
    assert random_mix < 0.2
    assert some == pytest.approx(0.5 * 0.95 + random_mix, abs=0.06)
    assert full > 0.9
    for degree in (degree0, degree1, degree2):
        assert degree == pytest.approx(10.0, rel=0.05)


def test_homophily_keeps_the_cross_region_share():
    sc = with_attributes({"homophily": 0.8}, **{"population.consumers": 2000})
    sizes = region_sizes(2000, np.array([0.8, 0.2]))
    rng = np.random.default_rng(3)
    attrs = draw_attributes(sc, sizes, rng)
    graph = build_social_graph(sc, sizes, rng, groups=attrs.group)
    region = np.repeat([0, 1], sizes)
    crossing = (region[graph.source] != region[graph.target]).mean()
    assert crossing == pytest.approx(sc.network.cross_region_fraction, abs=0.02)


@pytest.mark.parametrize(
    "attributes, message",
    [
        ({"homophily": 1.5}, "population.attributes.homophily"),
        ({"income": {"a": {"share": -1}}}, "population.attributes.income.a.share"),
        ({"income": {"a": {"share": 0}, "b": {"share": 0}}}, "shares must not all be 0"),
        ({"age": {str(k): {} for k in range(9)}}, "population.attributes.age"),
        ({"area": {"suburb": {}}}, "unknown key"),
        ({"area": {"rural": {"spending": 0}}}, "population.attributes.area.rural.spending"),
    ],
)
def test_bad_attributes_are_reported_in_one_line(attributes, message):
    with pytest.raises(ScenarioError, match=message) as info:
        with_attributes(attributes)
    assert "Traceback" not in str(info.value)


def test_initial_shoppers_leave_the_active_shoppers_week_by_week_without_new_orders():
    """CNNIC's shoppers used mobile shopping in the last six months: with nobody to buy
    from, the initial shoppers' last orders age out one 26th a week, not all in week 26."""
    share = 0.3
    sc = small_scenario(
        **{
            "population.consumers": 3000,
            "population.merchants": 0,
            "simulation.steps": 30,
            "regions.domestic.initial_shopper_share": share,
            "regions.foreign.initial_shopper_share": share,
        }
    )
    model = MarketModel(sc, seed=5)
    start = model.consumers.has_ordered.mean()
    active = [model.timeseries().iloc[0]["active_shopper_share"]]
    for _ in range(26):
        model.step()
        active.append(model.timeseries().iloc[-1]["active_shopper_share"])
    assert active[0] == pytest.approx(start)
    assert np.all(np.diff(active) <= 0)  # no orders: only ageing out
    for week in (6, 13, 20):  # a 26th of the initial shoppers leaves each week
        assert active[week] == pytest.approx(start * (26 - week) / 26, rel=0.12)
    assert active[26] == 0.0
