"""One week's context: what every phase of a step works on, and how a phase is declared.

A step (one week) is a declared sequence of phases (model/phases.py). Each phase is a
function of the :class:`Week` declared where it is written, with the :func:`phase`
decorator: the state it reads, the signals it uses and produces, the state it writes.
The phases share one :class:`Week`:

- ``week.scenario``, ``week.rng``, ``week.graph``, ``week.n_regions``: the world.
  ``week.rng`` is the running phase's own generator, seeded from (model seed, week,
  phase name): a lever that changes how many draws one phase makes leaves every other
  phase's draws as they were, so paired runs (common random numbers) stay paired;
- ``week.consumers``, ``week.merchants``, ``week.kols``, ``week.market``,
  ``week.platforms``: the state **as it was at the start of the week**, read-only. A
  phase may read only the fields it declares in ``reads``; assigning to them, or
  writing into their arrays in place, raises :class:`PhaseContractError`;
- ``week.signals``: this week's :class:`Signals` (effective parameters, exposures,
  neighbour counts, orders, fulfilment outcomes, ...), one typed field each. A phase
  sets only the signals it declares in ``produces`` and reads only those in ``uses``,
  which earlier phases must have produced;
- ``week.stage(group, field=value, ...)``: the only way to change agent state. Staged
  values are invisible to every phase and are committed together, in one place, when
  the week ends (:meth:`Week.commit`): the synchronous-update rule is structural.

The checks cost a few dictionary look-ups per phase, nothing per agent.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from model.mechanisms.fulfilment import Fulfilment
    from model.mechanisms.kol import Endorsements, KOLPosts
    from model.mechanisms.merchant_adoption import MerchantWeek
    from model.mechanisms.ordering import Orders
    from model.mechanisms.platform import PlatformWeek
    from model.network import SocialGraph
    from model.policy import EffectiveParameters, ParameterSchedule
    from model.scenario import Scenario

STATE_GROUPS: tuple[str, ...] = ("consumers", "merchants", "kols", "market", "platforms")
"""Groups of state a phase may read and stage writes to (``group.field``).

``market`` is model-level state: ``last`` (the week's counters, read by the metrics)
and ``cumulative_policy_cost``. ``platforms`` is the super-app layer
(model/state.py PlatformState; empty arrays without a ``platforms:`` section).
"""


def phase_generator(seed: int, t: int, name: str) -> np.random.Generator:
    """Return the generator of phase ``name`` in week ``t`` of a run with ``seed``.

    Seeded from ``SeedSequence([seed, t, crc32(name)])``: independent streams per phase
    and week, the same for the same seed whatever the other phases draw.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([int(seed), int(t), zlib.crc32(name.encode())]))
    )


class PhaseContractError(RuntimeError):
    """A phase read or wrote something it did not declare, or broke the synchronous update."""


@dataclass(frozen=True)
class Phase:
    """One phase of the week: a function of the :class:`Week` and what it touches.

    Attributes:
        name: short name (shown in docs/architecture.md and in error messages); it also
            seeds the phase's generator, so renaming a phase changes its draws.
        run: the function ``run(week) -> None``.
        reads: state fields it reads, as ``group.field`` (start-of-week values).
        uses: signals it reads (produced by earlier phases this week).
        produces: signals it sets.
        writes: state fields it stages for the end of the week, as ``group.field``.
    """

    name: str
    run: Callable[[Week], None]
    reads: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        """First paragraph of the phase function's docstring."""
        text = (self.run.__doc__ or "").strip()
        return " ".join(text.split("\n\n")[0].split())


def phase(
    name: str, *, reads: str = "", uses: str = "", produces: str = "", writes: str = ""
) -> Callable[[Callable[[Week], None]], Phase]:
    """Declare the function below as the phase ``name``; return its :class:`Phase`.

    Each declaration is a list of names separated by spaces (like ``namedtuple`` field
    names), state fields as ``group.field``::

        @phase("fulfilment", reads="merchants.integrity merchants.verified",
               uses="params orders", produces="fulfilment")
        def fulfilment_phase(week: Week) -> None: ...

    :func:`check_sequence` checks the declarations of a sequence; :class:`Week` enforces
    them while the phase runs.
    """

    def declare(run: Callable[[Week], None]) -> Phase:
        return Phase(
            name,
            run,
            reads=tuple(reads.split()),
            uses=tuple(uses.split()),
            produces=tuple(produces.split()),
            writes=tuple(writes.split()),
        )

    return declare


def check_sequence(phases: tuple[Phase, ...]) -> None:
    """Check a phase sequence's declarations: every signal used is produced earlier.

    Also checks that every signal is a field of :class:`Signals`, that no signal is
    produced twice and that every ``group.field`` names a known group. Raises
    :class:`PhaseContractError` naming the phase and the signal or field.
    """
    produced: dict[str, str] = {}
    for step in phases:
        for name in step.uses + step.produces:
            if name not in SIGNAL_NAMES:
                raise PhaseContractError(
                    f"phase {step.name!r}: {name!r} is not a signal (a field of week.Signals)"
                )
        for name in step.uses:
            if name not in produced:
                raise PhaseContractError(
                    f"phase {step.name!r} uses signal {name!r}, which no earlier phase produces"
                )
        for name in step.produces:
            if name in produced:
                raise PhaseContractError(
                    f"phase {step.name!r} produces signal {name!r}, already produced by "
                    f"{produced[name]!r}"
                )
            produced[name] = step.name
        for entry in step.reads + step.writes:
            group, _, field = entry.partition(".")
            if group not in STATE_GROUPS or not field.isidentifier():
                raise PhaseContractError(
                    f"phase {step.name!r}: {entry!r} is not group.field "
                    f"(groups: {', '.join(STATE_GROUPS)})"
                )


def markdown_table(phases: tuple[Phase, ...]) -> str:
    """Return the phases' declarations as a Markdown table, one row per phase, in order."""

    def cell(items: tuple[str, ...]) -> str:
        return ", ".join(f"`{item}`" for item in items) or "—"

    rows = [
        "| # | phase | what it does | reads (start of week) | uses | produces "
        "| writes (end of week) |",
        "|---:|---|---|---|---|---|---|",
    ]
    for number, step in enumerate(phases, start=1):
        rows.append(
            f"| {number} | `{step.name}` | {step.doc} | {cell(step.reads)} | "
            f"{cell(step.uses)} | {cell(step.produces)} | {cell(step.writes)} |"
        )
    return "\n".join(rows) + "\n"


@dataclass(init=False, repr=False, eq=False)
class Signals:
    """The week's signals, one typed field each; access is checked against the running phase.

    A phase sets only the signals it declares in ``produces`` and reads only those in
    ``uses`` (else :class:`PhaseContractError`). The values live in one dictionary, so
    every access goes through the check: a dictionary look-up and a tuple test. Per
    consumer / merchant / KOL / region means an array with one entry each.
    """

    params: EffectiveParameters  # the week's parameters after every lever (model/policy.py)
    has_access: np.ndarray  # bool per consumer: usable mobile access this week
    connected: np.ndarray  # int per region: consumers with access
    connected_by_policy: int  # consumers connected this week only by the infrastructure lever
    marketing_awareness: np.ndarray  # float per consumer: chance marketing makes it aware
    marketing_lift: np.ndarray  # float per consumer: conversion multiplier of the channels, >= 1
    visibility: np.ndarray  # float32 per merchant: reach of its channels (own and subsidised)
    merchant_kol_budget: np.ndarray  # float per merchant: own budget for KOL posts (yuan)
    campaign_budget: float  # the state's KOL campaign budget (yuan)
    marketing_spend_by_merchant: np.ndarray  # float per merchant: own non-KOL spend (yuan)
    channel_subsidy_spend: dict[str, float]  # per channel: the state's subsidy spent (yuan)
    posts: KOLPosts  # the week's KOL posts, one row per post
    endorsements: Endorsements | None  # the week's KOL endorsements as followers see them
    kol_domestic: np.ndarray  # float32 per consumer: genuine endorsements of own-region sellers
    kol_foreign: np.ndarray  # float32 per consumer: genuine endorsements of other regions'
    kol_total: np.ndarray  # float32 per consumer: exposure to all KOL posts
    conversion_lift: np.ndarray  # float per consumer: channels times KOLs, >= 1
    kol_fees_by_kol: np.ndarray  # float per KOL: fees earned (yuan)
    kol_fees_by_merchant: np.ndarray  # float per merchant: fees paid for its own posts
    kol_campaign_spend: float  # fees paid by the state's KOL campaign (yuan)
    forgets: np.ndarray  # bool per consumer: aware consumers who lapse to unaware
    stops_paying: np.ndarray  # bool per consumer: payers who stop paying by mobile
    becomes_aware: np.ndarray  # bool per consumer: aware of mobile shopping from this week
    recommendations_domestic: np.ndarray  # float32 per consumer: neighbours satisfied, own region
    recommendations_foreign: np.ndarray  # float32 per consumer: ... by other regions' sellers
    warnings_domestic: np.ndarray  # float32 per consumer: neighbours cheated, own region
    warnings_foreign: np.ndarray  # float32 per consumer: ... by other regions' sellers
    fraud_news: np.ndarray  # float32 per consumer: neighbours defrauded last week
    warned_merchant: np.ndarray  # int32 per consumer: a merchant a neighbour warns of (-1 none)
    risk: np.ndarray  # float per consumer: perceived payment risk, 0..1
    victims: np.ndarray  # bool per consumer: defrauded this week
    pays: np.ndarray  # bool per consumer: pays by mobile (before checkout adoption)
    platform_week: PlatformWeek | None  # the super-app's content (None without platforms)
    orders: Orders  # the week's mobile orders and other shopping choices
    fulfilment: Fulfilment  # per order genuine / detected; per merchant sales, fines
    satisfied_from: np.ndarray  # int16 per consumer: region of a genuine purchase (-1 none)
    cheated_from: np.ndarray  # int16 per consumer: region of a counterfeit purchase (-1 none)
    merchant_week: MerchantWeek  # merchants' money this week, verifications, exits, entries

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_phase", None)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        phase: Phase | None = self._phase
        if phase is not None and name not in phase.uses and name not in phase.produces:
            raise PhaseContractError(
                f"phase {phase.name!r} reads signal {name!r} without declaring it in uses"
            )
        try:
            return self._values[name]
        except KeyError:
            raise PhaseContractError(
                f"signal {name!r} read before any phase produced it this week"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        phase: Phase | None = self._phase
        if phase is not None and name not in phase.produces:
            raise PhaseContractError(
                f"phase {phase.name!r} sets signal {name!r} without declaring it in produces"
            )
        self._values[name] = value

    def as_dict(self) -> dict[str, Any]:
        """All signals produced so far (for inspection and tests)."""
        return dict(self._values)


SIGNAL_NAMES: frozenset[str] = frozenset(f.name for f in fields(Signals))
"""Every signal a phase may use or produce."""


class RunningPhase:
    """Which phase is running (shared by a week and its views).

    No reference back to the week, so a finished week is freed at once instead of waiting
    for the cycle collector.

    Attributes:
        phase: the running phase, or None between phases.
    """

    __slots__ = ("phase",)

    def __init__(self) -> None:
        self.phase: Phase | None = None


class StateView:
    """Read-only view of one group's start-of-week state, limited to declared fields."""

    __slots__ = ("_state", "_group", "_running")

    def __init__(self, state: Any, group: str, running: RunningPhase) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_running", running)

    def __getattr__(self, name: str) -> Any:
        if name == "n":
            return self._state.n
        phase = self._running.phase
        key = f"{self._group}.{name}"
        if phase is not None and key not in phase.reads:
            raise PhaseContractError(
                f"phase {phase.name!r} reads {key} without declaring it in reads"
            )
        return getattr(self._state, name)

    def __setattr__(self, name: str, value: Any) -> None:
        phase = self._running.phase
        who = f"phase {phase.name!r}" if phase is not None else "a phase"
        raise PhaseContractError(
            f"{who} assigns {self._group}.{name} directly; stage it with week.stage() "
            "(state changes are committed at the end of the week)"
        )


class Week:
    """The context of one step: world, start-of-week state, signals and staged writes.

    Attributes:
        t: the step being simulated (``model.steps`` at its start).
        scenario: the validated scenario.
        rng: the running phase's generator (``phase_generator(seed, t, phase.name)``);
            before and after the phases, a generator for (seed, t) alone.
        schedule: the policy timeline's effective parameters per step (model/policy.py).
        graph: the social graph.
        n_regions: number of regions.
        price_level: per region, the price index of its sellers.
        consumers: read-only view of the consumers' start-of-week state.
        merchants: read-only view of the merchants' start-of-week state.
        kols: read-only view of the KOLs' start-of-week state.
        signals: this week's signals.
    """

    def __init__(
        self,
        t: int,
        scenario: Scenario,
        schedule: ParameterSchedule,
        graph: SocialGraph,
        n_regions: int,
        states: dict[str, Any],
        price_level: np.ndarray | None = None,
        seed: int = 0,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.t = t
        self.scenario = scenario
        self.seed = seed
        # the generator is made on first use (most phases draw nothing; making one costs
        # about 40 us): the same draws as making it up front, since each phase's stream is
        # seeded from (seed, t, phase name) alone
        self._rng: np.random.Generator | None = rng
        self._rng_name = ""
        self.schedule = schedule
        self.graph = graph
        self.n_regions = n_regions
        self.price_level = np.ones(n_regions) if price_level is None else price_level
        self._states = states
        self._running = RunningPhase()
        self._staged: dict[str, dict[str, Any]] = {group: {} for group in states}
        self._frozen: list[np.ndarray] = []
        self.signals = Signals()
        self.consumers = StateView(states["consumers"], "consumers", self._running)
        self.merchants = StateView(states["merchants"], "merchants", self._running)
        self.kols = StateView(states["kols"], "kols", self._running)
        self.market = StateView(states["market"], "market", self._running)
        self.platforms = StateView(
            states["platforms"] if "platforms" in states else _empty_platforms(),
            "platforms",
            self._running,
        )

    @property
    def rng(self) -> np.random.Generator:
        """The running phase's generator (made on first use)."""
        if self._rng is None:
            self._rng = phase_generator(self.seed, self.t, self._rng_name)
        return self._rng

    @rng.setter
    def rng(self, generator: np.random.Generator) -> None:
        self._rng = generator

    @property
    def _phase(self) -> Phase | None:
        return self._running.phase

    @_phase.setter
    def _phase(self, phase: Phase | None) -> None:
        self._running.phase = phase

    def stage(self, group: str, **values: Any) -> None:
        """Stage new values of ``group``'s fields; they take effect at :meth:`commit`."""
        phase = self._phase
        for name, value in values.items():
            key = f"{group}.{name}"
            if phase is not None and key not in phase.writes:
                raise PhaseContractError(
                    f"phase {phase.name!r} stages {key} without declaring it in writes"
                )
            if name in self._staged[group]:
                raise PhaseContractError(f"{key} is staged twice this week")
            self._staged[group][name] = value

    def run(self, phases: tuple[Phase, ...]) -> None:
        """Run the phases in order, with the state arrays read-only throughout."""
        self._freeze()
        try:
            for phase in phases:
                self._rng, self._rng_name = None, phase.name
                self._phase = phase
                object.__setattr__(self.signals, "_phase", phase)
                try:
                    phase.run(self)
                except ValueError as exc:
                    if "read-only" not in str(exc):
                        raise
                    raise PhaseContractError(
                        f"phase {phase.name!r} writes into a state array in place; stage the "
                        "new values with week.stage() (committed at the end of the week)"
                    ) from exc
        finally:
            self._phase = None
            object.__setattr__(self.signals, "_phase", None)
            self._thaw()

    def commit(self) -> None:
        """Apply every staged write (the one place agent state changes)."""
        for group, values in self._staged.items():
            state = self._states[group]
            for name, value in values.items():
                setattr(state, name, value)
            values.clear()

    # -- read-only arrays during the phases (in-place writes raise ValueError) --

    def _freeze(self) -> None:
        for group in ("consumers", "merchants", "kols", "platforms"):
            if group not in self._states:
                continue
            state = self._states[group]
            for f in fields(state):
                array = getattr(state, f.name)
                if isinstance(array, np.ndarray) and array.flags.writeable:
                    array.flags.writeable = False
                    self._frozen.append(array)

    def _thaw(self) -> None:
        for array in self._frozen:
            array.flags.writeable = True
        self._frozen.clear()


def _empty_platforms() -> Any:
    """Return an empty platform state, for contexts built without one (tests, notebooks)."""
    from model.state import PlatformState

    return PlatformState()
