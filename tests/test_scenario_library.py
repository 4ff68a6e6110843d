"""The scenario library (scenarios/*.yaml): every file validates, runs, and says what it asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from model.market import run_model
from model.metrics import METRICS
from model.policy import PolicyTimeline
from model.scenario import LEVERS, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = {
    "population.consumers": 300,
    "population.merchants": 20,
    "population.kols": 3,
    "simulation.steps": 5,
}
SINGLE_LEVER = {
    "infrastructure": "infrastructure",
    "payment_security": "payment_security",
    "merchant_promotion": "merchant_promotion",
    "integrity": "integrity",
    "marketing_qr_o2o": "channel_qr_o2o",
    "marketing_app_market": "channel_app_market",
    "marketing_mobile_search": "channel_mobile_search",
    "marketing_short_video": "channel_short_video",
    "kol_campaign": "channel_kol_campaign",
    "cross_border_facilitation": "cross_border_facilitation",
    "consumer_incentives": "consumer_incentives",
    "kol_disclosure": "kol_disclosure",
    "rigid_demand": "rigid_demand",
    "platform_fee": "platform_fee",
    "platform_verification": "platform_verification",
    "platform_interoperability": "interoperability",
    "platform_spam_control": "spam_control",
}
OTHERS = (
    "combined_package",
    "payment_first",
    "shopping_first",
    "coupons_before_trust",
    "coupons_after_trust",
    "kol_campaign_credibility_risk",
    "kol_credibility_risk_world",
    "low_trust_coupons_before_trust",
    "low_trust_coupons_after_trust",
    "platform_state_integrity",
    "china_2013",  # the period's events: the COVID-19 push and the pilot zones
)
WORLDS = (
    "kol_credibility_risk_world",
    "low_trust_world",
    "counterfeit_heavy",
    "four_regions",
    "uniform_consumers",
    "platform_superapp",
    "platform_two_apps",
)
"""Worlds without a policy package: the references of the files that add one."""
LIBRARY = sorted([*SINGLE_LEVER, *OTHERS, *WORLDS])


def _path(name: str) -> Path:
    return SCENARIOS / f"{name}.yaml"


def test_every_expected_file_exists_and_nothing_is_unlisted():
    on_disk = {p.stem for p in SCENARIOS.glob("*.yaml")} - {"baseline"}
    assert set(LIBRARY) == on_disk, "list every scenario file in this test (and docs/policies.md)"
    assert set(SINGLE_LEVER.values()) == set(LEVERS)  # one file per lever


@pytest.mark.parametrize("name", LIBRARY)
def test_file_opens_with_its_question_and_extends_the_baseline(name):
    text = _path(name).read_text()
    first = text.lstrip().splitlines()[0]
    assert first.startswith("# Question:"), f"{name}.yaml must open with its question"
    raw = yaml.safe_load(text)
    assert raw["extends"] == "baseline.yaml" or Path(raw["extends"]).stem in LIBRARY
    assert raw["name"] == name  # its own name, not the inherited 'baseline'
    assert raw.get("description")


@pytest.mark.parametrize("name", LIBRARY)
def test_scenario_validates_and_runs_a_few_steps(name):
    scenario = load_scenario(_path(name), SMALL)
    assert scenario.name == name
    table = run_model(scenario, seed=3)
    assert list(table["step"]) == [0, 1, 2, 3, 4, 5]
    main = [m for m in METRICS if m != "kol_credibility"]
    assert np.isfinite(table[main].to_numpy(dtype=float)).all()
    # spending is at least the fixed programme overheads; the rest is computed from activity
    timeline = PolicyTimeline(scenario.policies)
    overhead = np.array([timeline.cost(t) for t in range(1, 6)])
    assert (table["policy_cost"].iloc[1:].to_numpy() >= overhead - 1e-9).all()


@pytest.mark.parametrize("name", LIBRARY)
def test_interventions_have_labels_costs_and_act_within_the_run(name):
    scenario = load_scenario(_path(name))
    if name in WORLDS:
        assert scenario.policies == ()
        return
    assert scenario.policies
    for iv in scenario.policies:
        assert iv.label and iv.cost_per_step >= 0 and iv.strength > 0  # costs are computed
        assert iv.start < scenario.simulation.steps
    if name in SINGLE_LEVER:
        assert {iv.lever for iv in scenario.policies} == {SINGLE_LEVER[name]}


def _total_cost(name: str) -> float:
    scenario = load_scenario(_path(name))
    timeline = PolicyTimeline(scenario.policies)
    return sum(timeline.cost(t) for t in range(1, scenario.simulation.steps + 1))


def _programmes(name: str) -> list[tuple]:
    scenario = load_scenario(_path(name))
    return sorted(
        (iv.lever, iv.strength, iv.cost_per_step, iv.ramp, (iv.end or 157) - iv.start)
        for iv in scenario.policies
    )


def test_payment_first_and_shopping_first_mirror_each_other():
    assert _programmes("payment_first") == _programmes("shopping_first")
    assert _total_cost("payment_first") == pytest.approx(_total_cost("shopping_first"))
    first = {iv.lever: iv.start for iv in load_scenario(_path("payment_first")).policies}
    second = {iv.lever: iv.start for iv in load_scenario(_path("shopping_first")).policies}
    assert first["rigid_demand"] < first["consumer_incentives"]
    assert second["consumer_incentives"] < second["rigid_demand"]


def test_coupon_timing_pair_differs_only_in_timing():
    assert _programmes("coupons_before_trust") == _programmes("coupons_after_trust")
    before = load_scenario(_path("coupons_before_trust")).policies[0]
    after = load_scenario(_path("coupons_after_trust")).policies[0]
    assert before.lever == after.lever == "consumer_incentives"
    assert before.end <= after.start


def test_kol_risk_pair_shares_the_campaign_and_the_world():
    campaign = load_scenario(_path("kol_campaign")).policies
    risky = load_scenario(_path("kol_campaign_credibility_risk"))
    world = load_scenario(_path("kol_credibility_risk_world"))
    strip = ("name", "description", "policies")
    risky_world = {k: v for k, v in risky.resolved().items() if k not in strip}
    plain_world = {k: v for k, v in world.resolved().items() if k not in strip}
    assert risky_world == plain_world
    assert [iv.model_dump(exclude={"label"}) for iv in risky.policies] == [
        iv.model_dump(exclude={"label"}) for iv in campaign
    ]
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    assert world.kols.fake_penalty > baseline.kols.fake_penalty
    assert world.merchants.integrity_mean < baseline.merchants.integrity_mean


def test_combined_package_uses_several_levers():
    package = load_scenario(_path("combined_package"))
    assert len({iv.lever for iv in package.policies}) >= 5
