"""Fiscal accounts and trade accounting (issue 27): net fiscal cost, forgone tariffs,
levers that target a country, trade created and diverted as trade economics defines them.

docs/economics.md, sections 2 and 8; mechanisms/accounts.py (fiscal accounts),
mechanisms/ordering.py rule 6 (created and diverted), model/policy.py (``countries:``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import small_scenario

from model.market import MarketModel, run_model
from model.mechanisms.accounts import PARTIES
from model.policy import ParameterSchedule
from model.scenario import ScenarioError, load_scenario

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parents[1]
FOUR = ROOT / "scenarios" / "four_regions.yaml"
SEEDS = range(3)
FACILITATION = {"lever": "cross_border_facilitation", "strength": 0.9, "cost_per_step": 2.0}


def four_regions(**overrides):
    """The four-region scenario (home: domestic + inland; partner: foreign + foreign_south).

    Small, with a market that already shops by mobile (so a short run has cross-border
    orders between every pair of countries).
    """
    values = {
        "population.consumers": 900,
        "population.merchants": 40,
        "population.kols": 4,
        "simulation.steps": 30,
    }
    for region in ("domestic", "inland", "foreign", "foreign_south"):
        values[f"regions.{region}.initial_trust_foreign"] = 0.8
        values[f"regions.{region}.initial_shopper_share"] = 0.5
        values[f"regions.{region}.initial_payment_adoption"] = 0.6
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_scenario(FOUR, values)


def _totals(table) -> dict[str, float]:
    weeks = table.iloc[1:]
    return {
        "spending": float(weeks["policy_cost"].sum()),
        "tariffs": float(weeks["state_tariff_revenue"].sum()),
        "fines": float(weeks["merchant_fines"].sum()),
        "net": float(table["cumulative_net_fiscal_cost"].iloc[-1]),
        "forgone": float(weeks["forgone_tariff_revenue"].sum()),
    }


# ----------------------------------------------------------------------------- 1. fiscal


def test_net_fiscal_cost_is_spending_minus_tariffs_and_fines_every_week():
    table = run_model(small_scenario(simulation__steps=30, policies=[FACILITATION]), seed=0)
    np.testing.assert_allclose(
        table["net_fiscal_cost"],
        table["policy_cost"] - table["state_tariff_revenue"] - table["merchant_fines"],
        atol=1e-9,
    )
    np.testing.assert_allclose(
        table["cumulative_net_fiscal_cost"], table["net_fiscal_cost"].cumsum(), atol=1e-6
    )


@pytest.mark.parametrize("scope", ["both", "ecommerce"])
def test_facilitation_net_fiscal_cost_includes_the_tariffs_it_gives_up(scope):
    """Over CRN pairs: d(net) = d(spending) + (tariffs_base - tariffs_policy) - d(fines)."""
    base = small_scenario(simulation__steps=40, trade__facilitation_tariff_scope=scope)
    lever = small_scenario(
        simulation__steps=40, trade__facilitation_tariff_scope=scope, policies=[FACILITATION]
    )
    d_net = d_spending = lost_tariffs = d_fines = forgone = 0.0
    for seed in SEEDS:
        b, p = _totals(run_model(base, seed=seed)), _totals(run_model(lever, seed=seed))
        assert b["forgone"] == 0.0  # no tariff cut, nothing forgone
        d_net += p["net"] - b["net"]
        d_spending += p["spending"] - b["spending"]
        lost_tariffs += b["tariffs"] - p["tariffs"]
        d_fines += p["fines"] - b["fines"]
        forgone += p["forgone"]
    assert d_net == pytest.approx(d_spending + lost_tariffs - d_fines, rel=1e-9, abs=1e-6)
    assert forgone > 0.0
    if scope == "both":  # the tariff cut reaches traditional imports: revenue falls
        assert lost_tariffs > 0.0
        assert d_net > d_spending  # the net fiscal cost exceeds the computed lever cost


def test_forgone_tariff_revenue_is_the_base_rates_minus_the_collected_tariffs():
    scenario = small_scenario(
        simulation__steps=25, trade__facilitation_tariff_scope="both", policies=[FACILITATION]
    )
    model = MarketModel(scenario, seed=3)
    markup = 1.0 + scenario.ordering.traditional_import_markup
    for _ in range(25):
        model.step()
        orders, params = model.last_week.signals.orders, model.current
        origin = model.merchants.region[orders.merchant].astype(np.int64)
        dest = model.consumers.region[orders.consumer].astype(np.int64)
        at_base = (orders.goods_value * params.base_tariff[origin, dest]).sum() + (
            orders.import_spending / markup * params.base_tariff
        ).sum()
        collected = orders.tariff_value.sum() + orders.import_tariff.sum()
        assert model.last.forgone_tariff_revenue == pytest.approx(
            at_base - collected, rel=1e-9, abs=1e-9
        )


@pytest.mark.parametrize(
    ("scope", "mobile_cut", "traditional_cut"),
    [("ecommerce", True, False), ("traditional", False, True), ("both", True, True)],
)
def test_the_tariff_scope_says_which_imports_the_cut_reaches(scope, mobile_cut, traditional_cut):
    sc = small_scenario(
        trade__facilitation_tariff_scope=scope,
        policies=[{"lever": "cross_border_facilitation", "strength": 0.5}],
    )
    p = ParameterSchedule(sc).at(1)
    cross = p.cross_border
    assert np.allclose(p.tariff[cross], p.base_tariff[cross] * (0.5 if mobile_cut else 1.0))
    assert np.allclose(
        p.import_tariff[cross], p.base_tariff[cross] * (0.5 if traditional_cut else 1.0)
    )
    # the logistics and delivery parts act on mobile orders whatever the scope
    assert np.allclose(p.logistics_cost[cross], p.base_logistics_cost[cross] * 0.5)


def test_the_default_tariff_scope_is_e_commerce():
    assert small_scenario().trade.facilitation_tariff_scope == "ecommerce"


# ----------------------------------------------------------------------------- 2. trade


def _assert_pairs_add_up(table):
    pairs = [c.split(".", 1)[1] for c in table.columns if c.startswith("cross_border_value.")]
    assert pairs
    for pair in pairs:
        np.testing.assert_allclose(
            table[f"cross_border_created_value.{pair}"]
            + table[f"cross_border_diverted_value.{pair}"],
            table[f"cross_border_value.{pair}"],
            rtol=1e-9,
            atol=1e-9,
        )
    np.testing.assert_allclose(
        table["cross_border_created_value"] + table["cross_border_diverted_value"],
        table["cross_border_value"],
        rtol=1e-9,
        atol=1e-9,
    )


def test_created_plus_diverted_is_the_cross_border_value_per_pair_every_week():
    table = run_model(four_regions(policies=[FACILITATION]), seed=1)
    assert table["cross_border_value"].sum() > 0
    # two foreign regions: mobile orders from the other one are a diversion source
    assert table["cross_border_diverted_value"].sum() > 0
    _assert_pairs_add_up(table)


def test_created_plus_diverted_adds_up_with_platform_alternatives():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = load_scenario(
            ROOT / "scenarios" / "platform_superapp.yaml",
            {
                "population.consumers": 600,
                "simulation.steps": 25,
                "policies": [FACILITATION],
                **{
                    f"regions.{region}.{key}": value
                    for region in ("domestic", "foreign")
                    for key, value in (
                        ("initial_trust_foreign", 0.8),
                        ("initial_shopper_share", 0.5),
                        ("initial_payment_adoption", 0.6),
                    )
                },
            },
        )
    table = run_model(scenario, seed=2)
    assert table["cross_border_value"].sum() > 0
    _assert_pairs_add_up(table)


NO_TRADITIONAL_IMPORTS = {"ordering.traditional_import_appeal": -50.0}


def test_a_switch_from_a_domestic_seller_to_a_foreign_one_is_created_trade():
    """No traditional imports; no purchase and offline unattractive: the alternative is
    mostly a domestic mobile order (the old rule called that part diverted)."""
    scenario = small_scenario(
        simulation__steps=40,
        policies=[{"lever": "cross_border_facilitation", "strength": 1.0}],
        **{
            **NO_TRADITIONAL_IMPORTS,
            "ordering.no_purchase_appeal": -20.0,
            "ordering.offline_appeal": -20.0,
        },
    )
    table = run_model(scenario, seed=0)
    value = table["cross_border_value"].sum()
    assert value > 0
    # the counterfactual is (almost only) a domestic mobile order: imports replacing home
    # supply, so created; nothing is diverted (two regions: no other foreign source)
    assert table["cross_border_created_value"].sum() == pytest.approx(value, rel=1e-9)
    assert table["cross_border_diverted_value"].sum() == pytest.approx(0.0, abs=1e-9)


def test_a_switch_from_traditional_imports_to_e_commerce_is_diverted_trade():
    """No domestic sellers, no purchase and offline unattractive: the rest is imports."""
    scenario = small_scenario(
        simulation__steps=40,
        policies=[{"lever": "cross_border_facilitation", "strength": 1.0}],
        **{
            "regions.domestic.merchant_share": 0.0,
            "ordering.no_purchase_appeal": -50.0,
            "ordering.offline_appeal": -50.0,
        },
    )
    table = run_model(scenario, seed=0)
    value = table["cross_border_value"].sum()
    assert value > 0
    assert table["cross_border_diverted_value"].sum() == pytest.approx(value, rel=1e-9)


# ----------------------------------------------------------------------------- 3. countries


def test_a_lever_for_one_country_leaves_the_other_countrys_parameters_alone():
    names = four_regions().region_names
    home = [names.index("domestic"), names.index("inland")]
    partner = [names.index("foreign"), names.index("foreign_south")]
    policies = [
        {"lever": "infrastructure", "strength": 0.6, "countries": ["partner"]},
        {"lever": "cross_border_facilitation", "strength": 0.8, "countries": ["partner"]},
    ]
    base = ParameterSchedule(four_regions()).at(5)
    scoped = ParameterSchedule(four_regions(policies=policies)).at(5)
    everywhere = ParameterSchedule(
        four_regions(policies=[{k: v for k, v in p.items() if k != "countries"} for p in policies])
    ).at(5)
    # the other country: its access, reliability and its imports' trade costs unchanged
    assert np.array_equal(scoped.mobile_access[home], base.mobile_access[home])
    assert np.array_equal(scoped.reliability[home], base.reliability[home])
    for matrix in ("tariff", "import_tariff", "logistics_cost", "delivery_days"):
        assert np.array_equal(getattr(scoped, matrix)[:, home], getattr(base, matrix)[:, home])
    for lever in ("infrastructure", "cross_border_facilitation"):
        assert (scoped.region_levels[lever][home] == 0).all()
        assert np.allclose(scoped.region_levels[lever][partner], everywhere.levels[lever])
        assert scoped.levels[lever] == pytest.approx(scoped.region_levels[lever].max())
    # the country it targets: as if the lever acted everywhere
    assert np.array_equal(scoped.mobile_access[partner], everywhere.mobile_access[partner])
    assert np.array_equal(scoped.reliability[partner], everywhere.reliability[partner])
    for matrix in ("tariff", "logistics_cost", "delivery_days"):
        got, want = getattr(scoped, matrix)[:, partner], getattr(everywhere, matrix)[:, partner]
        assert np.array_equal(got, want)
        assert not np.array_equal(got, getattr(base, matrix)[:, partner])


def test_a_lever_for_one_country_is_paid_by_that_country():
    policies = [
        {"lever": "infrastructure", "strength": 0.5, "cost_per_step": 3.0, "countries": ["home"]},
        {
            "lever": "cross_border_facilitation",
            "strength": 0.8,
            "cost_per_step": 2.0,
            "countries": ["home"],
        },
    ]
    scenario = four_regions(policies=policies)
    model = MarketModel(scenario, seed=0)
    home = scenario.country_names.index("home")
    partner = scenario.country_names.index("partner")
    paid = np.zeros(2)
    for _ in range(20):
        model.step()
        last = model.last
        assert last.policy_cost_by_country.sum() == pytest.approx(last.policy_cost)
        assert last.net_fiscal_cost_by_country.sum() == pytest.approx(last.net_fiscal_cost)
        assert last.policy_cost_by_region.sum() == pytest.approx(last.policy_cost)
        paid += last.policy_cost_by_country
    assert paid[home] > 20 * 5.0  # the overheads and the activity
    assert paid[partner] == 0.0
    # the run table: per region columns; the partner's regions pay nothing
    table = run_model(scenario, seed=0)
    assert table["policy_cost.foreign"].sum() == 0.0
    assert table["policy_cost.foreign_south"].sum() == 0.0
    regions = [f"policy_cost.{r}" for r in scenario.region_names]
    np.testing.assert_allclose(table[regions].sum(axis=1), table["policy_cost"], atol=1e-9)


def test_an_unscoped_lever_is_shared_and_the_countries_add_up():
    scenario = four_regions(
        policies=[
            {"lever": "integrity", "strength": 0.3, "cost_per_step": 4.0},
            {"lever": "consumer_incentives", "strength": 0.2},
            FACILITATION,
        ]
    )
    table = run_model(scenario, seed=1)
    for name in ("policy_cost", "net_fiscal_cost"):
        columns = [f"{name}.{r}" for r in scenario.region_names]
        np.testing.assert_allclose(table[columns].sum(axis=1), table[name], atol=1e-8)
        assert (table[columns].iloc[1:].abs().sum() > 0).all()


def test_countries_only_on_levers_that_can_be_scoped_and_only_known_countries():
    with pytest.raises(ScenarioError, match="only infrastructure, cross_border_facilitation"):
        four_regions(
            policies=[{"lever": "consumer_incentives", "strength": 0.5, "countries": ["home"]}]
        )
    with pytest.raises(ScenarioError, match="not a country of the regions"):
        four_regions(policies=[{"lever": "infrastructure", "countries": ["atlantis"]}])
    # a region without a country is its own country, named after it
    sc = small_scenario(policies=[{"lever": "infrastructure", "countries": ["foreign"]}])
    p = ParameterSchedule(sc).at(1)
    assert list(p.region_levels["infrastructure"]) == [0.0, 1.0]


# ----------------------------------------------------------------------------- 4. money


def test_money_still_balances_with_the_fiscal_accounts():
    scenario = four_regions(
        policies=[
            {"lever": "consumer_incentives", "strength": 0.3},
            {**FACILITATION, "countries": ["partner"]},
            {"lever": "integrity", "strength": 0.3, "cost_per_step": 5},
            {"lever": "infrastructure", "strength": 0.4, "countries": ["home"]},
        ],
        trade__facilitation_tariff_scope="both",
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(25):
        model.step()
        ledger, last = model.last.ledger, model.last
        assert sum(ledger.net(p) for p in PARTIES) == pytest.approx(0.0, abs=1e-6)
        assert ledger.paid("state") == pytest.approx(last.policy_cost)
        assert last.net_fiscal_cost == pytest.approx(
            ledger.paid("state") - ledger.received("state")
        )
        assert last.net_fiscal_cost_by_region.sum() == pytest.approx(last.net_fiscal_cost)
    assert model.market.cumulative_net_fiscal_cost != 0.0
