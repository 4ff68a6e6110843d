"""Levers for one country beyond infrastructure and facilitation (issue 27): payment
security, integrity, merchant promotion and rigid demand with ``countries: [..]``.

Each sets per-region parameters read by the consumer's or the merchant's region
(model/policy.py), so the other country's parameters are untouched; its activity cost is
paid by the regions where the activity is (mechanisms/accounts.py, ``reach``), and the
countries' parts add up to the totals. Directions are measured on CRN pairs on
scenarios/four_regions.yaml (home: domestic + inland; partner: foreign + foreign_south).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_trade_fiscal import four_regions

from model.levers import COUNTRY_LEVERS, LEVERS
from model.market import MarketModel, run_model
from model.policy import ParameterSchedule
from model.scenario import ScenarioError

pytestmark = pytest.mark.quick

SEEDS = range(3)
STEPS = 30

PARAMETERS = {  # lever -> the per-region parameters it sets
    "payment_security": ("fraud_rate", "perceived_risk"),
    "integrity": ("verification_rate", "detection_probability"),
    "merchant_promotion": ("promotion_rate",),
    "rigid_demand": ("rigid_demand_rate",),
}
STRENGTH = {
    "payment_security": 0.8,
    "integrity": 0.3,
    "merchant_promotion": 0.3,
    "rigid_demand": 0.05,
}


def _regions(scenario) -> tuple[list[int], list[int]]:
    names = scenario.region_names
    return (
        [names.index("domestic"), names.index("inland")],
        [names.index("foreign"), names.index("foreign_south")],
    )


def test_the_four_levers_may_carry_countries():
    assert set(PARAMETERS) <= set(COUNTRY_LEVERS)
    for lever in PARAMETERS:
        four_regions(policies=[{"lever": lever, "strength": 0.5, "countries": ["home"]}])


@pytest.mark.parametrize("lever", [lever for lever in LEVERS if lever not in COUNTRY_LEVERS])
def test_the_other_levers_still_refuse_countries(lever):
    """Levers that act through one number for the whole world cannot be scoped."""
    with pytest.raises(ScenarioError, match=f"lever '{lever}' acts on the whole world"):
        four_regions(policies=[{"lever": lever, "strength": 0.5, "countries": ["home"]}])


@pytest.mark.parametrize("lever", list(PARAMETERS))
def test_a_lever_for_one_country_leaves_the_other_countrys_parameters_alone(lever):
    policy = {"lever": lever, "strength": STRENGTH[lever]}
    base = ParameterSchedule(four_regions()).at(5)
    scoped = ParameterSchedule(four_regions(policies=[{**policy, "countries": ["partner"]}])).at(5)
    everywhere = ParameterSchedule(four_regions(policies=[policy])).at(5)
    home, partner = _regions(four_regions())
    for name in PARAMETERS[lever]:
        got, before, all_over = (getattr(p, name) for p in (scoped, base, everywhere))
        assert got.shape == (4,)
        assert np.array_equal(got[home], before[home]), name  # the other country: unchanged
        assert np.array_equal(got[partner], all_over[partner]), name  # as if everywhere
        assert not np.array_equal(got[partner], before[partner]), name
    assert (scoped.region_levels[lever][home] == 0).all()
    assert scoped.levels[lever] == pytest.approx(STRENGTH[lever])


def test_every_country_listed_is_the_same_run_as_no_countries():
    """The per-region rule without ``countries:`` is the world-wide one, bit for bit."""
    policies = [
        {"lever": lever, "strength": STRENGTH[lever], "cost_per_step": 3.0} for lever in PARAMETERS
    ]
    listed = [{**p, "countries": ["home", "partner"]} for p in policies]
    a = run_model(four_regions(policies=policies, simulation__steps=15), seed=4)
    b = run_model(four_regions(policies=listed, simulation__steps=15), seed=4)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_payment_security_and_integrity_for_one_country_are_paid_by_it():
    """Each week: the lever's cost is its activity in the home regions only (payers
    protected; merchants verified and inspected), the partner pays nothing, and the
    countries' and regions' parts add up to the total."""
    ps, integ = 0.6, 0.4
    scenario = four_regions(
        policies=[
            {
                "lever": "payment_security",
                "strength": ps,
                "cost_per_step": 2.0,
                "countries": ["home"],
            },
            {"lever": "integrity", "strength": integ, "cost_per_step": 3.0, "countries": ["home"]},
        ]
    )
    unit = scenario.policy_costs
    home, _ = _regions(scenario)
    home_country = scenario.country_names.index("home")
    partner_country = scenario.country_names.index("partner")
    model = MarketModel(scenario, seed=1)
    at_home_c = np.isin(model.consumers.region, home)
    verified_abroad = 0
    paid = np.zeros(2)
    for _ in range(25):
        m = model.merchants
        at_home_m = np.isin(m.region, home)
        active, verified = m.active.copy(), m.verified.copy()
        model.step()
        last, pays = model.last, model.last_week.signals.pays
        newly = model.merchants.verified & ~verified & active
        verified_abroad += int((newly & ~at_home_m).sum())
        assert last.policy_cost_by_lever["payment_security"] == pytest.approx(
            (pays & at_home_c).sum() * ps * unit.per_payer_protected
        )
        assert last.policy_cost_by_lever["integrity"] == pytest.approx(
            newly.sum() * unit.per_merchant_verified
            + (active & at_home_m).sum() * integ * unit.per_merchant_inspected
        )
        assert last.policy_cost_by_country[partner_country] == 0.0
        assert last.policy_cost_by_country.sum() == pytest.approx(last.policy_cost)
        assert last.policy_cost_by_region.sum() == pytest.approx(last.policy_cost)
        assert last.net_fiscal_cost_by_country.sum() == pytest.approx(last.net_fiscal_cost)
        paid += last.policy_cost_by_country
    assert verified_abroad == 0  # the partner's merchants never verify
    assert paid[home_country] > 25 * 5.0  # the overheads and the activity
    table = run_model(scenario, seed=1)
    assert table["policy_cost.foreign"].sum() == 0.0
    assert table["policy_cost.foreign_south"].sum() == 0.0
    regions = [f"policy_cost.{r}" for r in scenario.region_names]
    np.testing.assert_allclose(table[regions].sum(axis=1), table["policy_cost"], atol=1e-9)


def test_merchant_promotion_and_rigid_demand_for_one_country_are_paid_by_it():
    scenario = four_regions(
        policies=[
            {"lever": "merchant_promotion", "strength": 0.3, "countries": ["partner"]},
            {"lever": "rigid_demand", "strength": 0.05, "countries": ["partner"]},
        ]
    )
    table = run_model(scenario, seed=2)
    assert table["policy_cost"].iloc[1:].sum() > 0.0
    assert table["policy_cost.domestic"].sum() == 0.0
    assert table["policy_cost.inland"].sum() == 0.0
    regions = [f"policy_cost.{r}" for r in scenario.region_names]
    np.testing.assert_allclose(table[regions].sum(axis=1), table["policy_cost"], atol=1e-9)


def _by_country(policies: list[dict], seed: int) -> dict[str, float]:
    """Means over the run of the home and partner consumers' / merchants' outcomes."""
    scenario = four_regions(policies=policies, simulation__steps=STEPS)
    home, _ = _regions(scenario)
    model = MarketModel(scenario, seed=seed)
    at_home_c = np.isin(model.consumers.region, home)
    out: dict[str, float] = {}

    def add(key: str, home_value: float, partner_value: float) -> None:
        out[f"{key}_home"] = out.get(f"{key}_home", 0.0) + float(home_value) / STEPS
        out[f"{key}_partner"] = out.get(f"{key}_partner", 0.0) + float(partner_value) / STEPS

    for _ in range(STEPS):
        model.step()
        s, m = model.last_week.signals, model.merchants
        at_home_m, active = np.isin(m.region, home), m.active
        add("risk", s.risk[at_home_c].mean(), s.risk[~at_home_c].mean())
        add(
            "verified",
            m.verified[at_home_m & active].mean(),
            m.verified[~at_home_m & active].mean(),
        )
        add("adopted", m.adopted[at_home_m & active].mean(), m.adopted[~at_home_m & active].mean())
        add(
            "payment",
            model.consumers.payment[at_home_c].mean(),
            model.consumers.payment[~at_home_c].mean(),
        )
    return out


def _paired(lever: str) -> dict[str, float]:
    """Mean CRN-paired change (lever on the partner minus no lever) over the seeds."""
    policy = [{"lever": lever, "strength": STRENGTH[lever], "countries": ["partner"]}]
    diffs: dict[str, float] = {}
    for seed in SEEDS:
        base, scoped = _by_country([], seed), _by_country(policy, seed)
        for key in base:
            diffs[key] = diffs.get(key, 0.0) + (scoped[key] - base[key]) / len(SEEDS)
    return diffs


def test_payment_security_on_one_country_lowers_perceived_risk_there_only():
    d = _paired("payment_security")
    assert d["risk_partner"] < -0.3  # base risk 0.56 cut by 80% there
    assert abs(d["risk_home"]) < 0.01  # home: only what spills over (fraud news)
    assert d["payment_partner"] > 0.0


def test_integrity_on_one_country_verifies_its_merchants_not_the_others():
    d = _paired("integrity")
    assert d["verified_partner"] > 0.5
    assert abs(d["verified_home"]) < 0.02


def test_merchant_promotion_and_rigid_demand_act_in_the_country_they_target():
    promo = _paired("merchant_promotion")
    assert promo["adopted_partner"] > 0.05
    assert promo["adopted_partner"] > 2 * abs(promo["adopted_home"])  # home: trade spillover
    rigid = _paired("rigid_demand")
    assert rigid["payment_partner"] > 0.02
    assert abs(rigid["payment_home"]) < 0.005
