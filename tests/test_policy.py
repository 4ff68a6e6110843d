"""The policy timeline (model/policy.py): levels, ramps, overlaps, costs, validation, effects."""

from __future__ import annotations

import numpy as np
import pytest

from model.policy import LEVER_MAX, ParameterSchedule, PolicyTimeline, ramp_fraction
from model.scenario import LEVERS, ScenarioError, load_scenario, scenario_from_dict


def _scenario(*policies: dict, **extra):
    return scenario_from_dict({"policies": list(policies), **extra}, source="test.yaml")


def _timeline(*policies: dict) -> PolicyTimeline:
    return PolicyTimeline(_scenario(*policies).policies)


# ----------------------------------------------------------------------------- levels


def test_start_end_ramp_give_documented_level_at_every_step():
    # acts on 5 <= t < 15; ramp 4: level strength * min(1, (k+1)/4) at step 5+k
    tl = _timeline({"lever": "payment_security", "start": 5, "end": 15, "ramp": 4, "strength": 0.6})
    expected = {t: 0.0 for t in range(0, 5)}
    expected.update({5: 0.15, 6: 0.3, 7: 0.45})
    expected.update({t: 0.6 for t in range(8, 15)})
    expected.update({t: 0.0 for t in range(15, 25)})
    got = {t: tl.level("payment_security", t) for t in range(25)}
    assert got == pytest.approx(expected, abs=1e-12)
    # every other lever stays at 0
    for t in range(25):
        levels = tl.levels(t)
        assert set(levels) == set(LEVERS)
        assert all(v == 0.0 for k, v in levels.items() if k != "payment_security")


@pytest.mark.parametrize("ramp", [0, 1])
def test_ramp_zero_or_one_is_full_strength_at_start(ramp):
    tl = _timeline({"lever": "integrity", "start": 3, "ramp": ramp, "strength": 0.4})
    assert [tl.level("integrity", t) for t in range(2, 6)] == [0.0, 0.4, 0.4, 0.4]


def test_no_end_acts_until_the_end_of_the_run():
    tl = _timeline({"lever": "rigid_demand", "start": 1, "strength": 0.2})
    assert tl.level("rigid_demand", 0) == 0.0
    assert all(tl.level("rigid_demand", t) == 0.2 for t in (1, 10, 156, 10_000))


def test_ramp_longer_than_the_window_never_reaches_full_strength():
    tl = _timeline({"lever": "infrastructure", "start": 10, "end": 12, "ramp": 10, "strength": 1})
    assert [tl.level("infrastructure", t) for t in (9, 10, 11, 12)] == pytest.approx(
        [0.0, 0.1, 0.2, 0.0]
    )
    iv = _scenario({"lever": "infrastructure", "start": 10, "ramp": 10}).policies[0]
    assert ramp_fraction(iv, 19) == 1.0 and ramp_fraction(iv, 18) == pytest.approx(0.9)


def test_overlapping_interventions_add_up():
    tl = _timeline(
        {"lever": "merchant_promotion", "start": 1, "end": 10, "strength": 0.2},
        {"lever": "merchant_promotion", "start": 5, "strength": 0.3, "ramp": 2},
    )
    assert tl.level("merchant_promotion", 4) == pytest.approx(0.2)
    assert tl.level("merchant_promotion", 5) == pytest.approx(0.2 + 0.15)
    assert tl.level("merchant_promotion", 6) == pytest.approx(0.5)
    assert tl.level("merchant_promotion", 10) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("lever", "strengths"),
    [
        ("payment_security", (0.7, 0.5)),
        ("consumer_incentives", (0.6, 0.6)),
        ("channel_short_video", (8.0, 4.0)),
    ],
)
def test_overlapping_sum_is_capped_at_lever_max(lever, strengths):
    tl = _timeline(*({"lever": lever, "start": 1, "strength": s} for s in strengths))
    assert tl.level(lever, 1) == LEVER_MAX[lever]
    assert sum(strengths) > LEVER_MAX[lever]


def test_lever_max_covers_every_lever():
    assert set(LEVER_MAX) == set(LEVERS)
    assert LEVER_MAX["consumer_incentives"] == 0.9
    assert all(LEVER_MAX[f"channel_{c}"] == 10.0 for c in ("qr_o2o", "short_video"))


def test_unknown_lever_level_raises_key_error():
    with pytest.raises(KeyError, match="unknown lever"):
        _timeline().level("teleportation", 1)


# ----------------------------------------------------------------------------- costs


def test_cost_follows_the_ramp_and_ignores_the_cap():
    tl = _timeline(
        {
            "lever": "payment_security",
            "start": 2,
            "end": 6,
            "ramp": 2,
            "strength": 0.8,
            "cost_per_step": 100.0,
        },
        {"lever": "payment_security", "start": 3, "strength": 0.5, "cost_per_step": 40.0},
        {"lever": "integrity", "start": 1, "strength": 0.3, "cost_per_step": 10.0},
    )
    # step 2: first at half ramp (50), integrity 10; step 3: 100 + 40 + 10 even though capped
    assert [tl.cost(t) for t in range(0, 8)] == pytest.approx(
        [0.0, 10.0, 60.0, 150.0, 150.0, 150.0, 50.0, 50.0]
    )
    assert tl.level("payment_security", 3) == 1.0
    by_lever = tl.cost_by_lever(3)
    assert by_lever["payment_security"] == pytest.approx(140.0)
    assert by_lever["integrity"] == pytest.approx(10.0)
    assert sum(by_lever.values()) == pytest.approx(tl.cost(3))


def test_no_policies_cost_nothing():
    tl = _timeline()
    assert tl.cost(5) == 0.0 and all(v == 0.0 for v in tl.levels(5).values())


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        (
            {"lever": "payment_security", "start": 10, "end": 5},
            "end (5) must come after start (10)",
        ),
        ({"lever": "payment_security", "start": 4, "end": 4}, "end (4) must come after start (4)"),
        ({"lever": "payment_securty"}, "did you mean 'payment_security'"),
        ({"lever": "integrity", "strength": -0.2}, "policies.0.strength: -0.2: out of range"),
        ({"lever": "integrity", "strength": 1.5}, "above its maximum 1.0"),
        ({"lever": "consumer_incentives", "strength": 0.95}, "above its maximum 0.9"),
        ({"lever": "channel_short_video", "strength": 11}, "above its maximum 10.0"),
        ({"lever": "integrity", "start": -1}, "policies.0.start: -1: out of range"),
        ({"lever": "integrity", "ramp": -2}, "policies.0.ramp: -2: out of range"),
        ({"lever": "integrity", "cost_per_step": -5}, "policies.0.cost_per_step: -5"),
        ({"lever": "integrity", "strenght": 0.5}, "did you mean 'strength'"),
        ({"start": 3}, "policies.0.lever: required key is missing"),
    ],
)
def test_bad_timeline_rejected_with_clear_error(policy, fragment):
    with pytest.raises(ScenarioError) as info:
        _scenario(policy)
    message = str(info.value)
    assert fragment in message
    assert message.startswith("test.yaml: policies.0")
    assert "\n" not in message  # one problem, one line


def test_bad_timeline_in_a_file_names_the_file_and_key(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text("simulation:\n  steps: 20\n")
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: parent.yaml\n"
        "policies:\n"
        "  - {lever: integrity, start: 2, strength: 0.3}\n"
        "  - {lever: rigid_demand, start: 8, end: 3}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    message = str(info.value)
    assert message.startswith(f"{child}: policies.1:")
    assert "end (3) must come after start (8)" in message


def test_override_cannot_push_a_strength_above_max(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("policies:\n  - {lever: kol_disclosure, start: 1, strength: 0.5}\n")
    assert load_scenario(path).policies[0].strength == 0.5
    with pytest.raises(ScenarioError, match="above its maximum 1.0"):
        load_scenario(path, ["policies.0.strength=3"])
    ok = load_scenario(path, {"policies.0.strength": 0.9, "policies.0.label": "disclosure"})
    assert ok.policies[0].strength == 0.9 and ok.policies[0].label == "disclosure"


# ----------------------------------------------------------------------------- effects


def _at(t: int, *policies: dict, **extra):
    return ParameterSchedule(_scenario(*policies, **extra)).at(t)


def test_no_policy_leaves_scenario_values():
    sc = _scenario()
    p = ParameterSchedule(sc).at(0)
    # the lever-set parameters are per region (levers may act in some countries only)
    assert (p.fraud_rate == sc.payment.fraud_rate).all()
    assert (p.perceived_risk == sc.payment.perceived_risk).all()
    assert p.reliability == pytest.approx(sc.ordering.reliability)
    assert (p.promotion_rate == sc.merchants.promotion_rate).all()
    assert p.detection_probability == pytest.approx(sc.merchants.detection_probability)
    assert (p.verification_rate == 0.0).all() and p.coupon == 0.0 and p.disclosure == 0.0
    assert (p.rigid_demand_rate == sc.payment.rigid_demand_rate).all()
    assert p.programme_overhead == 0.0
    access = np.array([r.mobile_access for r in sc.regions.values()])
    assert p.mobile_access == pytest.approx(access)


def test_infrastructure_closes_access_gap_and_failures():
    base = _at(10)
    half = _at(10, {"lever": "infrastructure", "start": 1, "strength": 0.5})
    full = _at(10, {"lever": "infrastructure", "start": 1, "strength": 1.0})
    assert half.mobile_access == pytest.approx(base.mobile_access + 0.5 * (1 - base.mobile_access))
    assert full.mobile_access == pytest.approx(np.ones_like(base.mobile_access))
    assert 1 - half.reliability == pytest.approx(0.5 * (1 - base.reliability))
    assert full.reliability == pytest.approx(1.0)


def _regions(curve: str, access: float = 0.3, growth: float = 0.004) -> dict:
    return {
        "regions": {
            name: {"mobile_access": access, "access_growth": growth, "access_curve": curve}
            for name in ("domestic", "foreign")
        }
    }


def test_linear_access_grows_by_access_growth_each_step_up_to_one():
    sc = _scenario(**_regions("linear"))
    sched = ParameterSchedule(sc)
    growth = np.array([r.access_growth for r in sc.regions.values()])
    assert sched.at(50).mobile_access - sched.at(0).mobile_access == pytest.approx(50 * growth)
    assert (sched.at(100_000).mobile_access == 1.0).all()


def test_logistic_access_starts_at_access_growth_and_slows_towards_everyone():
    sc = _scenario(**_regions("logistic"))
    sched = ParameterSchedule(sc)
    share = np.array([sched.at(t).mobile_access[0] for t in range(0, 601)])
    assert share[0] == pytest.approx(0.3)
    # the slope at step 0 is access_growth (a centred difference of the curve)
    from model.mechanisms.access import natural_access_share

    half_step = natural_access_share(
        np.array([0.3]), np.array([0.004]), np.array([True]), 1
    ) - natural_access_share(np.array([0.3]), np.array([0.004]), np.array([True]), 0)
    assert half_step[0] == pytest.approx(0.004, rel=0.01)
    # log-odds rise by the same amount every step: the logistic curve
    logit = np.log(share / (1 - share))
    assert np.diff(logit[:500]) == pytest.approx(0.004 / (0.3 * 0.7), rel=1e-6)
    growth = np.diff(share)
    assert (growth > 0).all() and (share < 1.0).all()
    # growth is fastest at half the population and slows after it
    peak = int(np.argmax(growth))
    assert share[peak] == pytest.approx(0.5, abs=0.01)
    assert growth[peak + 300] < growth[peak] / 2
    assert share[-1] > 0.99


def test_logistic_and_linear_access_agree_at_the_start_and_part_later():
    logistic = ParameterSchedule(_scenario(**_regions("logistic", access=0.6, growth=0.001)))
    linear = ParameterSchedule(_scenario(**_regions("linear", access=0.6, growth=0.001)))
    assert logistic.at(1).mobile_access == pytest.approx(linear.at(1).mobile_access, abs=1e-5)
    # past half the population the S-curve grows slower than the straight line
    assert (logistic.at(300).mobile_access < linear.at(300).mobile_access - 0.02).all()


def test_logistic_access_cannot_start_from_nobody():
    with pytest.raises(ScenarioError, match="access_curve: linear"):
        _scenario(**_regions("logistic", access=0.0, growth=0.001))
    # without growth, or on the linear curve, a region may start unconnected
    _scenario(**_regions("logistic", access=0.0, growth=0.0))
    assert ParameterSchedule(_scenario(**_regions("linear", access=0.0))).at(10).mobile_access[
        0
    ] == pytest.approx(0.04)


def test_payment_security_cuts_fraud_and_perceived_risk():
    base = _at(5)
    pol = _at(5, {"lever": "payment_security", "start": 1, "strength": 0.75})
    assert pol.fraud_rate == pytest.approx(0.25 * base.fraud_rate)
    assert pol.perceived_risk == pytest.approx(0.25 * base.perceived_risk)


def test_merchant_promotion_and_rigid_demand_add_chances():
    base = _at(5)
    pol = _at(
        5,
        {"lever": "merchant_promotion", "start": 1, "strength": 0.1},
        {"lever": "rigid_demand", "start": 1, "strength": 0.05},
    )
    assert pol.promotion_rate == pytest.approx(base.promotion_rate + 0.1)
    assert pol.rigid_demand_rate == pytest.approx(base.rigid_demand_rate + 0.05)
    top = _at(5, {"lever": "merchant_promotion", "start": 1, "strength": 1.0})
    assert (top.promotion_rate == 1.0).all()


def test_integrity_raises_verification_and_detection():
    base = _at(5)
    pol = _at(5, {"lever": "integrity", "start": 1, "strength": 0.4})
    assert pol.verification_rate == pytest.approx(0.4)
    assert 1 - pol.detection_probability == pytest.approx(0.6 * (1 - base.detection_probability))


def test_channel_lever_adds_budget_to_its_channel_only():
    sc = _scenario()
    base = ParameterSchedule(sc).at(5)
    pol = _at(5, {"lever": "channel_short_video", "start": 1, "strength": 2.0})
    budget = sc.marketing.budget_per_merchant
    assert pol.channel_budget["short_video"] == pytest.approx(
        base.channel_budget["short_video"] + 2.0 * budget
    )
    for name, value in base.channel_budget.items():
        if name != "short_video":
            assert pol.channel_budget[name] == value


def test_cross_border_facilitation_cuts_cross_border_friction_only():
    base = _at(5)
    pol = _at(5, {"lever": "cross_border_facilitation", "start": 1, "strength": 24 / 27})
    cross = ~np.eye(len(base.logistics_cost), dtype=bool)
    diag = np.eye(len(base.logistics_cost), dtype=bool)
    assert pol.logistics_cost[cross] == pytest.approx(base.logistics_cost[cross] * (3 / 27))
    assert pol.tariff[cross] == pytest.approx(base.tariff[cross] * (3 / 27))
    assert pol.logistics_cost[diag] == pytest.approx(base.logistics_cost[diag])
    assert pol.delivery_days[diag] == pytest.approx(base.delivery_days[diag])
    # docs/domain.md's case (Figures used as targets): 30 days down to 6
    # (domestic 3 + the extra 27 days cut by 24/27)
    assert base.delivery_days[cross] == pytest.approx(30.0)
    assert pol.delivery_days[cross] == pytest.approx(6.0)


def test_incentives_disclosure_and_cost_pass_through():
    pol = _at(
        7,
        {
            "lever": "consumer_incentives",
            "start": 5,
            "ramp": 4,
            "strength": 0.4,
            "cost_per_step": 80,
        },
        {"lever": "kol_disclosure", "start": 1, "strength": 0.6, "cost_per_step": 5},
    )
    assert pol.coupon == pytest.approx(0.3)  # third ramp step: 0.4 * 3/4
    assert pol.disclosure == pytest.approx(0.6)
    assert pol.programme_overhead == pytest.approx(80 * 0.75 + 5)
    assert pol.t == 7


def test_platform_levers_are_applied_in_the_effective_parameters():
    assert _at(3).platform is None  # no platforms: no platform numbers
    apps = {
        "platforms": {
            "platforms": {
                "a": {"fee": 0.04, "verification": 0.1},
                "b": {"fee": 0.02, "verification": 0.95},
            },
            "interoperability": 0.2,
        }
    }
    base = _at(3, **apps).platform
    assert base.fee == pytest.approx([0.04, 0.02])
    pol = _at(
        3,
        {"lever": "platform_fee", "start": 1, "strength": 0.5},
        {"lever": "platform_verification", "start": 1, "strength": 0.1},
        {"lever": "interoperability", "start": 1, "strength": 0.5},
        {"lever": "spam_control", "start": 1, "strength": 0.25},
        **apps,
    ).platform
    assert pol.fee == pytest.approx([0.02, 0.01])  # the fee cap halves every fee
    assert pol.verification == pytest.approx([0.2, 1.0])  # capped at 1
    assert pol.interoperability == pytest.approx(0.6)
    assert pol.posts_per_week == pytest.approx(0.75 * base.posts_per_week)
    assert pol.offer_rate == pytest.approx(0.75 * base.offer_rate)
