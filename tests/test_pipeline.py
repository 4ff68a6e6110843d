"""The week as a declared pipeline of phases: declarations hold, updates are synchronous."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, SMALL, small_scenario

from model.market import MarketModel
from model.phases import PHASES
from model.scenario import load_scenario
from model.week import Phase, PhaseContractError, StateView, Week, check_sequence


def _week(model: MarketModel) -> Week:
    return Week(
        t=model.steps,
        scenario=model.scenario,
        schedule=model.parameters,
        graph=model.graph,
        n_regions=model.n_regions,
        states=model._states,
        seed=model.seed,
    )


def test_sequence_declares_every_signal_before_use():
    check_sequence(PHASES)  # also runs at import; must not raise
    names = [phase.name for phase in PHASES]
    assert names[0] == "policy" and len(set(names)) == len(names)
    for phase in PHASES:
        assert phase.doc, f"phase {phase.name} has no docstring"


def test_use_before_produce_is_rejected():
    early = Phase("early", lambda week: None, uses=("orders",))
    late = Phase("late", lambda week: None, produces=("orders",))
    with pytest.raises(PhaseContractError, match="no earlier phase produces"):
        check_sequence((early, late))


def test_staged_writes_are_invisible_until_the_end_of_the_week():
    model = MarketModel(small_scenario(), seed=3)
    before = model.consumers.aware.copy()
    seen = {}

    def writer(week):
        week.stage("consumers", aware=np.ones(week.consumers.n, dtype=bool))

    def reader(week):
        seen["aware"] = week.consumers.aware.copy()

    phases = (
        Phase("writer", writer, writes=("consumers.aware",)),
        Phase("reader", reader, reads=("consumers.aware",)),
    )
    week = _week(model)
    week.run(phases)
    # the later phase read the start-of-week value, not the one staged before it
    np.testing.assert_array_equal(seen["aware"], before)
    np.testing.assert_array_equal(model.consumers.aware, before)
    week.commit()
    assert model.consumers.aware.all()


@pytest.mark.parametrize(
    "body, declared, message",
    [
        # writing into a state array in place during the week
        (lambda w: w.consumers.aware.__setitem__(0, True), {"reads": ("consumers.aware",)},
         "in place"),
        # assigning a state field directly
        (lambda w: setattr(w.consumers, "aware", None), {}, "directly"),
        # reading a field that is not declared
        (lambda w: w.consumers.trust_domestic, {}, "without declaring it in reads"),
        # staging an undeclared write
        (lambda w: w.stage("consumers", aware=None), {}, "without declaring it in writes"),
        # reading a signal that no phase produced
        (lambda w: w.signals.orders, {"uses": ()}, "without declaring it in uses"),
        # setting an undeclared signal
        (lambda w: setattr(w.signals, "orders", 1), {}, "without declaring it in produces"),
    ],
)
def test_phase_contract_violations_raise(body, declared, message):
    model = MarketModel(small_scenario(), seed=3)
    phase = Phase("bad", body, **declared)
    with pytest.raises(PhaseContractError, match=message):
        _week(model).run((phase,))
    # the arrays are writable again after the week (agents write through them)
    model.consumers.aware[0] = model.consumers.aware[0]


TOUCH_WORLDS = ("baseline", "platform_superapp", "platform_two_apps", "combined_package")
"""Worlds the declarations are checked over: the core, one and two platforms, a policy mix."""


def test_declared_reads_and_uses_are_exactly_what_each_phase_touches(monkeypatch):
    """The declarations in model/phases.py (and docs/architecture.md) match the code.

    Over the worlds of ``TOUCH_WORLDS``, each phase reads every state field and uses every
    signal it declares in at least one world, and nothing else (an undeclared read
    raises). A field a phase reads only with platforms is declared all the same.
    """
    from model.scenario import load_scenario
    from model.week import Signals

    reads: dict[str, set[str]] = {phase.name: set() for phase in PHASES}
    uses: dict[str, set[str]] = {phase.name: set() for phase in PHASES}
    read_field, read_signal = StateView.__getattr__, Signals.__getattr__

    def recording_field(self, name):
        phase = self._running.phase
        if phase is not None and name != "n":
            reads[phase.name].add(f"{self._group}.{name}")
        return read_field(self, name)

    def recording_signal(self, name):
        phase = self._phase
        if phase is not None and name not in phase.produces:
            uses[phase.name].add(name)
        return read_signal(self, name)

    monkeypatch.setattr(StateView, "__getattr__", recording_field)
    monkeypatch.setattr(Signals, "__getattr__", recording_signal)
    for world in TOUCH_WORLDS:
        scenario = load_scenario(ROOT / "scenarios" / f"{world}.yaml", SMALL)
        model = MarketModel(scenario, seed=5)
        for _ in range(14):  # the policy mix's first levers start in week 13
            model.step()
        produced = set(model.last_week.signals.as_dict())
        for phase in PHASES:
            assert set(phase.produces) <= produced, (world, phase.name)
    for phase in PHASES:
        assert reads[phase.name] == set(phase.reads), phase.name
        assert uses[phase.name] == set(phase.uses), phase.name


def test_step_commits_every_declared_write():
    model = MarketModel(small_scenario(), seed=5)
    model.step()
    written = {entry for phase in PHASES for entry in phase.writes}
    assert "consumers.aware" in written and "market.last" in written
    assert model.last is model.market.last
    assert model.cumulative_policy_cost == model.market.cumulative_policy_cost


def test_architecture_doc_has_the_current_phase_table():
    from pathlib import Path

    from model.phases import phase_table

    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    start = doc.index("<!-- phase-table:start -->\n") + len("<!-- phase-table:start -->\n")
    end = doc.index("<!-- phase-table:end -->")
    assert doc[start:end] == phase_table(), "regenerate docs/architecture.md's phase table"


def test_each_phase_draws_from_its_own_stream():
    """How many numbers one phase draws never changes another phase's draws (CRN)."""
    model = MarketModel(small_scenario(), seed=3)
    seen = {}

    def greedy(count):
        def run(week):
            week.rng.random(count)

        return run

    def reader(week):
        seen.setdefault("draws", []).append(week.rng.random(3))

    for count in (1, 1000):
        phases = (Phase("greedy", greedy(count)), Phase("reader", reader))
        _week(model).run(phases)
    first, second = seen["draws"]
    np.testing.assert_array_equal(first, second)
    # and different weeks, seeds or phases give different streams
    from model.week import phase_generator

    a = phase_generator(3, 0, "reader").random(3)
    assert not np.array_equal(a, phase_generator(3, 1, "reader").random(3))
    assert not np.array_equal(a, phase_generator(4, 0, "reader").random(3))
    assert not np.array_equal(a, phase_generator(3, 0, "other").random(3))


def test_one_consumers_state_does_not_move_the_others_draws():
    """Common random numbers within a phase: every need draws its uniforms, used or not.

    Forty aware consumers who pay by mobile made unaware before week 5 cannot order by
    mobile that week; the other consumers (but their neighbours, whom word of mouth may
    reach) order the same, from the same merchants, and their orders are genuine or not
    the same, as in the run without the change.
    """
    runs = []
    for flip in (False, True):
        model = MarketModel(load_scenario(ROOT / "scenarios" / "china_2013.yaml"), seed=5)
        for _ in range(4):
            model.step()
        c = model.consumers
        chosen = np.flatnonzero(c.aware & c.has_access & c.payment)[:40]
        if flip:
            c.aware[chosen] = False
        model.step()
        s = model.last_week.signals
        runs.append((chosen, s.orders.consumer, s.orders.merchant, s.fulfilment.genuine))
    chosen = runs[0][0]
    assert chosen.size == 40
    near = np.union1d(chosen, model.graph.neighbours_of(chosen))
    kept = []
    for _, consumer, merchant, genuine in runs:
        keep = ~np.isin(consumer, near)
        kept.append((consumer[keep], merchant[keep], genuine[keep]))
        assert keep.sum() >= 10  # enough orders to compare
    for before, after in zip(*kept, strict=True):
        np.testing.assert_array_equal(before, after)
    # the change itself did something: the chosen consumers' orders differ
    mine = [set(consumer[np.isin(consumer, chosen)].tolist()) for _, consumer, _, _ in runs]
    assert mine[0] != mine[1]


def test_a_finished_week_is_freed_at_once():
    """No reference cycle keeps old weeks (and their n-sized signals) alive between GC runs."""
    import gc
    import weakref

    model = MarketModel(small_scenario(), seed=3)
    model.step()
    first = weakref.ref(model.last_week)
    gc.disable()
    try:
        model.step()
        assert first() is None
    finally:
        gc.enable()
