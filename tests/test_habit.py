"""A consumer's mobile shopping habit (mechanisms/ordering.py rule 10).

The habit stock grows by one with each completed mobile order and decays by
``ordering.habit_decay`` a week; every mobile alternative gets
``habit_weight * ln(1 + h)``, in the welfare utility (experienced convenience).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL, small_scenario

from model.market import MarketModel
from model.mechanisms.ordering import habit_utility, update_habit

pytestmark = pytest.mark.quick

ACTIVE = {  # mobile shopping under way from the start
    "word_of_mouth__initial_aware": 0.6,
    "regions__domestic__initial_payment_adoption": 0.5,
    "regions__foreign__initial_payment_adoption": 0.5,
    "merchants__initial_adoption": 0.6,
}


def _model(seed: int = 1, **overrides) -> MarketModel:
    return MarketModel(small_scenario(**{**ACTIVE, **overrides}), seed=seed)


def test_update_habit_decays_without_orders_and_grows_with_them():
    habit = np.array([0.0, 2.0, 2.0, 10.0], dtype=np.float32)
    after = update_habit(habit, np.array([0, 2]), 0.1)
    assert after.dtype == np.float32
    np.testing.assert_allclose(after, [1.0, 1.8, 2.8, 9.0], rtol=1e-6)
    assert habit[1] == 2.0  # the input is unchanged
    # a consumer appears at most once a week: the stock grows by one, not by repeats
    np.testing.assert_allclose(update_habit(np.zeros(2, np.float32), np.array([1, 1]), 0.1), [0, 1])
    # without orders it decays towards 0 and stays >= 0
    h = np.full(3, 5.0, dtype=np.float32)
    for _ in range(200):
        h = update_habit(h, np.empty(0, dtype=np.int64), 0.05)
    assert (h >= 0).all() and h.max() < 5.0 * 0.95**199


def test_habit_utility_is_zero_without_habit_and_rises_concavely():
    u = habit_utility(0.5, np.array([0.0, 1.0, 3.0, 7.0]))
    np.testing.assert_allclose(u, 0.5 * np.log([1.0, 2.0, 4.0, 8.0]))
    assert (np.diff(u) > 0).all() and np.diff(u)[1] / 2 < np.diff(u)[0]
    assert not habit_utility(0.0, np.array([5.0])).any()


def test_the_week_updates_each_consumers_habit_stock():
    model = _model(ordering__habit_decay=0.05)
    grown = 0
    for _ in range(15):
        before = model.consumers.mobile_habit.copy()
        model.step()
        buyers = model.last_week.signals.orders.consumer
        expected = before * np.float32(0.95)
        expected[buyers] += 1.0
        np.testing.assert_allclose(model.consumers.mobile_habit, expected, rtol=1e-6)
        assert model.consumers.mobile_habit.dtype == np.float32
        grown += buyers.size
    assert grown > 20  # the rule was exercised


def test_consumers_who_shopped_before_week_0_start_with_a_habit():
    model = _model(regions__domestic__initial_shopper_share=0.3)
    c = model.consumers
    assert c.has_ordered.any()
    np.testing.assert_array_equal(c.mobile_habit, c.has_ordered.astype(np.float32))


def _mobile_orders_by_half(
    habit_weight: float, seed: int = 1, weeks: int = 12, mobile_appeal: float | None = None
):
    """Give the even consumers a habit stock of 20 at week 0; mobile orders of each half."""
    extra = {} if mobile_appeal is None else {"ordering__mobile_appeal": mobile_appeal}
    model = _model(
        seed, ordering__habit_weight=habit_weight, ordering__habit_decay=0.02, **extra
    )
    even = np.arange(model.consumers.n) % 2 == 0
    model.consumers.mobile_habit[even] = 20.0
    counts = np.zeros(2)
    for _ in range(weeks):
        model.step()
        ordered = np.zeros(model.consumers.n, dtype=bool)
        ordered[model.last_week.signals.orders.consumer] = True
        counts += [ordered[even].sum(), ordered[~even].sum()]
    return counts


def test_a_consumer_with_more_habit_orders_by_mobile_more_often():
    # at a mobile appeal where mobile is a minority choice (the fitted appeal makes it
    # most eligible consumers' choice already, and a logit share near 1 cannot rise much)
    with_habit, without = _mobile_orders_by_half(1.0, mobile_appeal=0.0)
    assert with_habit > 1.3 * without


def test_with_habit_weight_0_the_habit_has_no_effect_on_choices():
    """Habit stocks set or not, habit_weight 0 gives the same orders (same draws too)."""
    plain = _model(2, ordering__habit_weight=0.0)
    primed = _model(2, ordering__habit_weight=0.0)
    primed.consumers.mobile_habit[::2] = 20.0
    for _ in range(10):
        plain.step()
        primed.step()
        a, b = plain.last_week.signals.orders, primed.last_week.signals.orders
        np.testing.assert_array_equal(a.consumer, b.consumer)
        np.testing.assert_array_equal(a.merchant, b.merchant)
        assert a.consumer_surplus == b.consumer_surplus


def test_habit_raises_the_surplus_of_the_same_needs():
    """Habit is experienced convenience (welfare utility), so it raises the logsum surplus."""
    surplus = []
    for weight in (0.0, 1.0):
        model = _model(3, ordering__habit_weight=weight)
        model.consumers.mobile_habit[:] = 10.0
        model.step()
        surplus.append(model.last_week.signals.orders.consumer_surplus)
    assert surplus[1] > surplus[0]


def test_habit_is_deterministic():
    runs = []
    for _ in range(2):
        model = _model(4, ordering__habit_weight=0.5)
        for _ in range(10):
            model.step()
        runs.append((model.consumers.mobile_habit.copy(), model.last.gmv))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_habit_parameters_are_bounded():
    from model.scenario import ScenarioError

    for key, value in (("habit_weight", -0.1), ("habit_decay", 0.0), ("habit_decay", 1.5)):
        with pytest.raises((ScenarioError, ValueError)):
            small_scenario(**{f"ordering__{key}": value})
    assert SMALL["population.consumers"] <= 1000
