"""Countries and regions apart: cross-border means between countries, not between regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import small_scenario

from model.market import MarketModel
from model.policy import ParameterSchedule, trade_matrices
from model.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
FOUR = ROOT / "scenarios" / "four_regions.yaml"
SMALL = {
    "population.consumers": 1500,
    "population.merchants": 60,
    "population.kols": 5,
    "simulation.steps": 20,
}


def four_regions(**overrides):
    values = dict(SMALL)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_scenario(FOUR, values)


def test_two_region_scenarios_are_two_countries():
    sc = small_scenario()
    assert sc.region_countries == ("domestic", "foreign")
    assert sc.country_names == ["domestic", "foreign"]
    params = ParameterSchedule(sc).at(0)
    assert params.cross_border.tolist() == [[False, True], [True, False]]
    cost, days, tariff = trade_matrices(sc)
    tr = sc.trade
    assert np.allclose(np.diag(cost), tr.domestic_logistics_cost)
    assert cost[0, 1] == cost[1, 0] == tr.cross_border_logistics_cost
    assert days[0, 1] == tr.cross_border_delivery_days
    assert tariff[0, 1] == tr.tariff and np.all(np.diag(tariff) == 0.0)


def test_four_region_scenario_has_two_countries():
    sc = four_regions()
    assert sc.region_names == ["domestic", "foreign", "inland", "foreign_south"]
    assert sc.region_countries == ("home", "partner", "home", "partner")
    assert sc.country_names == ["home", "partner"]
    assert sc.region_country_codes == (0, 1, 0, 1)


def test_cross_border_only_between_countries_and_trade_costs_follow():
    sc = four_regions()
    names = sc.region_names
    d, f, i, s = (names.index(x) for x in ("domestic", "foreign", "inland", "foreign_south"))
    params = ParameterSchedule(sc).at(0)
    cb = params.cross_border
    assert not cb[d, i] and not cb[i, d] and not cb[f, s]
    assert cb[d, f] and cb[i, s] and cb[s, d]
    tr = sc.trade
    # domestic inter-region trade: domestic logistics, no tariff, the link's delivery days
    assert params.tariff[d, i] == 0.0 and params.tariff[i, d] == 0.0
    assert params.logistics_cost[d, i] == tr.domestic_logistics_cost
    assert params.delivery_days[d, i] == 5.0
    assert params.tariff[d, f] == tr.tariff
    assert params.logistics_cost[i, s] == tr.cross_border_logistics_cost


def test_cross_border_facilitation_leaves_domestic_pairs_alone():
    sc = four_regions(
        policies=[{"lever": "cross_border_facilitation", "start": 1, "strength": 0.5}]
    )
    names = sc.region_names
    d, f, i = (names.index(x) for x in ("domestic", "foreign", "inland"))
    schedule = ParameterSchedule(sc)
    before, after = schedule.at(0), schedule.at(1)
    assert after.logistics_cost[d, i] == before.logistics_cost[d, i]
    assert after.delivery_days[d, i] == before.delivery_days[d, i]
    assert after.tariff[d, f] == pytest.approx(0.5 * before.tariff[d, f])
    assert after.logistics_cost[d, f] == pytest.approx(0.5 * before.logistics_cost[d, f])


def test_domestic_inter_region_orders_are_not_cross_border():
    """Orders between the home country's regions happen, at domestic terms (60 weeks:
    mobile shopping spreads from person to person and takes a while to start, issue 26)."""
    model = MarketModel(four_regions(**{"simulation.steps": 60}), seed=4)
    region = model.consumers.region
    domestic_between_regions = 0
    for _ in range(60):
        model.step()
        orders = model.last_week.signals.orders
        params = model.current
        seller = model.merchants.region[orders.merchant]
        buyer = region[orders.consumer]
        flags = params.cross_border[seller, buyer]
        between = (seller != buyer) & ~flags
        domestic_between_regions += int(between.sum())
        assert np.all(params.tariff[seller[between], buyer[between]] == 0.0)
    assert domestic_between_regions > 0


def test_country_name_is_checked():
    with pytest.raises(ScenarioError, match="regions.domestic.country"):
        four_regions(**{"regions.domestic.country": ""})


def test_trust_sorts_experiences_and_news_by_country_as_ordering_does():
    """An experience with a seller of another region of the own country is domestic.

    Ordering draws with trust in own-country sellers (params.cross_border); trust must
    learn on the same line, else a coast consumer's purchase inland would move the trust
    it never uses for inland sellers.
    """
    from model.mechanisms.trust import country_codes, one_hot_experience, split_by_home

    sc = four_regions()  # regions domestic, foreign, inland, foreign_south
    country = country_codes(sc)
    assert country.tolist() == [0, 1, 0, 1]
    assert country_codes(small_scenario()) is None  # each region its own country
    region = np.array([0, 0, 0, 2, 1])  # consumers: coast x3, inland, partner
    source = np.array([2, 1, -1, 0, 3])  # inland, partner, none, coast, partner south
    dom, foreign = one_hot_experience(source, region, country)
    assert dom.tolist() == [1, 0, 0, 1, 1] and foreign.tolist() == [0, 1, 0, 0, 0]
    by_region = one_hot_experience(source, region)  # the region line it replaces
    assert by_region[0].tolist() == [0, 0, 0, 0, 0]
    signal = np.array([[1.0, 2.0, 4.0, 8.0]] * 5, dtype=np.float32)  # per source region
    own, other = split_by_home(signal, region, country)
    assert own.tolist() == [5.0, 5.0, 5.0, 5.0, 10.0]  # own country's two regions
    assert other.tolist() == [10.0, 10.0, 10.0, 10.0, 5.0]


def test_a_purchase_from_another_region_of_the_own_country_raises_domestic_trust():
    """trust_week with the four-region world: a coast buyer's genuine purchase from an
    inland merchant moves its domestic trust by the full gain, its foreign trust by the
    spillover share only; from a partner-country merchant, the other way round."""
    from model.mechanisms.fulfilment import Fulfilment
    from model.mechanisms.trust import trust_week

    sc = four_regions(**{"trust.privacy_leak_rate": 0.0, "trust.drift_rate": 0.0})
    n = 2
    zeros = np.zeros(n, dtype=np.float32)
    half = np.full(n, 0.5, dtype=np.float32)
    result = trust_week(
        sc,
        np.random.default_rng(0),
        region=np.array([0, 0], dtype=np.uint8),  # both on the coast ("domestic")
        trust_domestic=half.copy(),
        trust_foreign=half.copy(),
        bad_memory=zeros.copy(),
        risk_extra=zeros.copy(),
        merchant_region=np.array([2, 1], dtype=np.uint8),  # inland (home), partner
        buyers=np.array([0, 1]),
        sellers=np.array([0, 1]),
        outcome=Fulfilment(
            genuine=np.array([True, True]),
            detected=np.array([False, False]),
            counterfeits_by_merchant=np.zeros(2),
            sales_by_merchant=np.ones(2),
            revenue_by_merchant=np.ones(2),
            detections_by_merchant=np.zeros(2),
            fines_by_merchant=np.zeros(2),
        ),
        victims=np.zeros(n, dtype=bool),
        recommendations=(zeros, zeros),
        warnings=(zeros, zeros),
        kol=(zeros, zeros),
        fraud_news=zeros,
    )
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    gain, spill = sc.trust.experience_gain, sc.trust.foreign_spillover
    dom, foreign = logit(result.trust_domestic.astype(float)), logit(
        result.trust_foreign.astype(float)
    )
    assert dom[0] == pytest.approx(gain, abs=1e-4)  # inland seller: domestic
    assert foreign[0] == pytest.approx(spill * gain, abs=1e-4)
    assert foreign[1] == pytest.approx(gain, abs=1e-4)  # partner-country seller: foreign
    assert dom[1] == pytest.approx(spill * gain, abs=1e-4)
