"""MarketModel: the Mesa model that builds the world and orders the phases of a step."""

from __future__ import annotations

import gc

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network as MesaNetwork

from model.agents import KOL, Consumer, Merchant
from model.group_table import GroupRecorder
from model.mechanisms import access, merchant_adoption, platform, targeting, word_of_mouth
from model.mechanisms import marketing as marketing_mechanism
from model.metrics import (
    CONSUMER_RECORD_FIELDS,
    consumer_record,
    platform_reporters,
    reporters_for,
)
from model.network import build_social_graph, kol_followers, region_sizes
from model.phases import PHASES
from model.policy import EffectiveParameters, ParameterSchedule
from model.population import ConsumerAttributes, draw_attributes
from model.scenario import Scenario
from model.state import (
    NEVER_ORDERED,
    ConsumerState,
    KOLState,
    MarketState,
    MerchantState,
    StepCounters,
    beta_around,
)
from model.week import Week

TRUST_CONCENTRATION = 10.0
"""Beta concentration of starting trust around each region's mean."""

COLLECT_AFTER_EAGER_BUILD = 10_000
"""From this many consumers (with the agents and the space built at start) the build ends
with one full garbage collection. Python's collector makes a full pass over every tracked
object once those that survived since the last full pass exceed a quarter of the older
ones; the agents, cells and their dictionaries of an eager build (about 600,000 objects at
100,000 consumers) trigger that pass in the first weeks, where it cost about 0.3 s, about
a tenth of 100 weeks' stepping (measured 2026-12-07, docs/scale.md). Collected at the end
of the build, the cost is the build's and the weekly step does not carry it; nothing is
frozen (objects that become garbage later are collected as usual) and results are
unchanged. Smaller builds skip it: their pass is short, and a sweep builds many of them."""


class MarketModel(mesa.Model):
    """Consumers, merchants and KOLs on a social network, under a policy timeline.

    A step is one week: the phases of ``model.phases.PHASES`` run in order (policy,
    access, marketing, KOL posts, lapse, word of mouth, payment, platform, ordering,
    fulfilment, trust, platform ties, acceptance, merchants, consumer records, accounts)
    on one :class:`model.week.Week` context; each reads the state as it was at the start
    of the week, draws from its own generator (``week.rng``, seeded by the run's seed,
    the week and the phase's name) and stages its writes, which are committed together
    at the end (synchronous update); then the DataCollector records the metrics
    (model/metrics.py). The building of the world draws from ``self.rng``.
    docs/architecture.md lists what each phase reads and writes.

    Attributes:
        scenario: the validated scenario.
        seed: the run's seed (all randomness flows from it).
        region_names: region names by code.
        graph: the social graph (model/network.py SocialGraph: CSR adjacency, degrees).
        consumers: consumer state arrays.
        merchants: merchant state arrays.
        kols: KOL state arrays and follower sets.
        parameters: effective parameters per step (the policy timeline).
        current: the effective parameters of the last step.
        market: model-level state (``last``: counts of the last step, read by the
            metrics; ``cumulative_policy_cost``: policy spending so far).
        last_week: the context of the last step (its signals: orders, exposures, ...),
            for inspection and the browser view; None before the first step.
        datacollector: Mesa DataCollector with the model-level reporters.
        consumer_agents: the Consumer agents (Mesa AgentSet). Above
            ``simulation.space_max_consumers`` they, like ``space``, are created on
            first use (also through ``agents`` and ``agents_by_type``), with the same
            unique ids (1..n) they would have had at start.
        merchant_agents: the Merchant agents.
        kol_agents: the KOL agents.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.simulation.seed if seed is None else int(seed)
        self._market_scenario = scenario
        super().__init__(rng=seed)
        self.seed = seed
        self.region_names = scenario.region_names
        self.n_regions = len(self.region_names)
        self.price_level = np.array([r.price_level for r in scenario.regions.values()])
        self.parameters = ParameterSchedule(scenario)
        self.current: EffectiveParameters = self.parameters.at(0)
        self.market = MarketState()
        self.last_week: Week | None = None
        self._space: MesaNetwork | None = None
        self._placing = False

        regions = list(scenario.regions.values())
        n = scenario.population.consumers
        population_share = np.array([r.population_share for r in regions], dtype=float)
        sizes = region_sizes(n, population_share)
        # who the consumers are (model/population.py; no draws without population.attributes)
        attributes = draw_attributes(scenario, sizes, self.rng)
        self.graph = build_social_graph(scenario, sizes, self.rng, groups=attributes.group)
        self.consumers = self._build_consumers(sizes, attributes)
        self.merchants = self._build_merchants()
        self.kols = self._build_kols(population_share)
        # the super-app layer (mechanisms/platform.py): empty, and no draws, without one
        self.platforms = platform.build_state(
            scenario, self.graph, self.consumers, self.merchants, self.rng
        )
        # channel audiences, interest profiles, districts (mechanisms/marketing.py): drawn
        # last, so the draws above are those of a build without them
        marketing_mechanism.build_consumer_marketing(scenario.marketing, self.consumers, self.rng)
        self._states = {
            "consumers": self.consumers,
            "merchants": self.merchants,
            "kols": self.kols,
            "market": self.market,
            "platforms": self.platforms,
        }

        # Mesa agent objects: consumers first (unique ids 1..n), then merchants and KOLs.
        # Above simulation.space_max_consumers the consumer objects, like the space, are
        # created on first use (model.consumer_agents, model.agents, model.space): the
        # step never needs them, and a million of them cost seconds and ~0.5 GB. Their
        # ids are reserved now, so they are the same either way.
        self._consumer_agents: mesa.AgentSet | None = None
        self._first_consumer_id = self.agent_id_counter
        eager = n <= scenario.simulation.space_max_consumers
        if eager:
            self._create_consumer_agents()
        else:
            self.agent_id_counter += n
        self.merchant_agents = Merchant.create_agents(
            self, self.merchants.n, index=np.arange(self.merchants.n)
        )
        self.kol_agents = KOL.create_agents(self, self.kols.n, index=np.arange(self.kols.n))
        if eager:
            _ = self.space
            if n >= COLLECT_AFTER_EAGER_BUILD:
                gc.collect()  # the build's objects, once, here (COLLECT_AFTER_EAGER_BUILD)

        self.datacollector = mesa.DataCollector(
            model_reporters=reporters_for(self.region_names)
            | (
                platform_reporters(list(scenario.platforms.platforms))
                if scenario.platforms is not None
                else {}
            )
        )
        self.datacollector.collect(self)
        # per-consumer history only when asked (simulation.record_consumers_every)
        self._consumer_records: list[tuple[int, dict[str, np.ndarray]]] = []
        # the group table only when asked (track_groups; model/group_table.py)
        self._groups: GroupRecorder | None = None
        self._record_consumers()

    @property
    def scenario(self) -> Scenario:
        """The mtsim scenario of this model (Mesa's own scenario object is ``mesa_scenario``)."""
        return self._market_scenario

    @scenario.setter
    def scenario(self, value) -> None:
        # mesa.Model.__init__ assigns its own Scenario object here; keep it apart
        if isinstance(value, Scenario):
            self._market_scenario = value
        else:
            self.mesa_scenario = value
            value.model = self

    # ------------------------------------------------------------------ building

    def _build_consumers(self, sizes: np.ndarray, attributes: ConsumerAttributes) -> ConsumerState:
        sc, rng = self.scenario, self.rng
        n = int(sizes.sum())
        regions = list(sc.regions.values())
        region = np.repeat(np.arange(self.n_regions, dtype=np.uint8), sizes)
        access_draw = rng.random(n, dtype=np.float32)
        has_access = access.consumer_access(
            sc, access_draw, region, attributes.group, self.current.mobile_access
        )
        trust_domestic = np.empty(n, dtype=np.float32)
        trust_foreign = np.empty(n, dtype=np.float32)
        pay_share = np.empty(n, dtype=np.float64)
        shop_share = np.zeros(n, dtype=np.float64)
        start = 0
        for r, size in zip(regions, sizes, strict=True):
            stop = start + int(size)
            trust_domestic[start:stop] = beta_around(
                r.initial_trust_domestic, TRUST_CONCENTRATION, int(size), rng
            )
            trust_foreign[start:stop] = beta_around(
                r.initial_trust_foreign, TRUST_CONCENTRATION, int(size), rng
            )
            pay_share[start:stop] = r.initial_payment_adoption
            shop_share[start:stop] = r.initial_shopper_share
            start = stop
        if sc.population.attributes is not None:  # who pays at start follows propensity,
            # normalised over each region's connected residents, so the share of the
            # connected who pay is the region's initial_payment_adoption (CNNIC's measure)
            prop = attributes.payment_propensity.astype(np.float64)
            for r in range(self.n_regions):
                connected = has_access & (region == r)
                mean = float(prop[connected].mean()) if connected.any() else 1.0
                here = region == r
                pay_share[here] = pay_share[here] * prop[here] / max(mean, 1e-12)
            pay_share = np.minimum(1.0, pay_share)
        payment_state = has_access & (rng.random(n) < pay_share)
        wom = sc.word_of_mouth
        aware = np.zeros(n, dtype=bool)
        if wom.initial_aware_nodes is not None:
            nodes = np.asarray(wom.initial_aware_nodes, dtype=np.int64)
            if nodes.size and nodes.max() >= n:
                from model.errors import UserError

                raise UserError(
                    f"word_of_mouth.initial_aware_nodes: id {int(nodes.max())} is not a consumer "
                    f"(ids are 0..{n - 1})"
                )
            aware[nodes] = True
        else:
            count = (
                wom.initial_aware_count
                if wom.initial_aware_count is not None
                else int(round(wom.initial_aware * n))
            )
            count = min(count, n)
            if count:  # random (the classic draw), degree, region:<name>, payers
                aware[
                    targeting.seed_consumers(
                        wom.initial_aware_by,
                        count,
                        n,
                        rng,
                        degree=self.graph.degree,
                        region=region,
                        region_names=self.region_names,
                        payment=payment_state,
                    )
                ] = True
        threshold = (
            word_of_mouth.draw_thresholds(wom, n, rng)
            if wom.rule == "linear_threshold"
            else np.zeros(0)
        )
        # who shopped by mobile before week 0 (drawn only when asked, so the random
        # stream of a scenario without initial shoppers is unchanged). A mobile order is
        # paid by mobile (mechanisms/ordering.py, rule 2), so the initial shoppers are a
        # region's connected payers first, and connected non-payers only for the share
        # beyond its payers (CNNIC end-2013: shoppers 28.8%, payers 25.1% of mobile
        # users): the shoppers' share among the connected stays the region's.
        if shop_share.any():
            draw = rng.random(n)
            chance = np.zeros(n, dtype=np.float64)
            for r in range(self.n_regions):
                connected = has_access & (region == r)
                if not connected.any():
                    continue
                share = float(regions[r].initial_shopper_share)
                payers = float(payment_state[connected].mean())
                chance[connected & payment_state] = min(1.0, share / payers) if payers else 0.0
                chance[connected & ~payment_state] = (
                    max(0.0, share - payers) / (1.0 - payers) if payers < 1.0 else 0.0
                )
            has_ordered = draw < chance
            aware |= has_ordered
        else:
            has_ordered = np.zeros(n, dtype=bool)
        # an initial shopper used mobile shopping in the 26 weeks before week 0 (CNNIC's
        # "users in the last six months"): its last order fell in one of weeks -25..0,
        # uniformly (assumption: when within those weeks is not known), so they leave
        # the active shoppers week by week, not all in week 26
        last_order_week = np.full(n, NEVER_ORDERED, dtype=np.int32)
        shoppers = np.flatnonzero(has_ordered)
        if shoppers.size:
            last_order_week[shoppers] = -rng.integers(0, 26, shoppers.size, dtype=np.int32)
        none = np.full(n, -1, dtype=np.int16)
        return ConsumerState(
            region=region,
            access_draw=access_draw,
            has_access=has_access,
            aware=aware,
            newly_aware=aware.copy(),
            threshold=threshold,
            trust_domestic=trust_domestic,
            trust_foreign=trust_foreign,
            payment=payment_state,
            risk_extra=np.zeros(n, dtype=np.float32),
            bad_memory=np.zeros(n, dtype=np.float32),
            has_ordered=has_ordered,
            has_ordered_cross_border=np.zeros(n, dtype=bool),
            satisfied_from=none.copy(),
            cheated_from=none.copy(),
            defrauded=np.zeros(n, dtype=bool),
            last_order_merchant=np.full(n, -1, dtype=np.int32),
            last_order_week=last_order_week,
            mobile_habit=has_ordered.astype(np.float32),  # ordering.py rule 10: h = 1
            urban=attributes.urban,
            income_band=attributes.income_band,
            age_band=attributes.age_band,
            attribute_group=attributes.group,
            payment_propensity=attributes.payment_propensity,
            purchase_frequency=attributes.purchase_frequency,
            spending=attributes.spending,
        )

    def _build_merchants(self) -> MerchantState:
        """Merchant arrays sized to the entry cap (``Scenario.merchant_slots``, slots for entry)."""
        sc, rng = self.scenario, self.rng
        spec = sc.merchants
        m = sc.population.merchants
        cap = sc.merchant_slots
        regions = list(sc.regions.values())
        shares = np.array([r.merchant_share for r in regions], dtype=float)
        sizes = region_sizes(m, shares) if m else np.zeros(self.n_regions, dtype=np.int64)
        region = np.repeat(np.arange(self.n_regions, dtype=np.uint8), sizes)
        price, integrity = merchant_adoption.new_merchants(spec, self.price_level[region], rng)
        verified = rng.random(m) < spec.verified_share
        adopted = rng.random(m) < spec.initial_adoption
        free = cap - m

        def padded(values: np.ndarray, fill) -> np.ndarray:
            return np.concatenate([values, np.full(free, fill, dtype=values.dtype)])

        return MerchantState(
            region=padded(region, 0),
            price=padded(price, 1.0),
            integrity=padded(integrity, spec.integrity_mean),
            reputation=np.full(cap, spec.initial_reputation, dtype=np.float32),
            verified=padded(verified, False),
            adopted=padded(adopted, False),
            visibility=np.zeros(cap, dtype=np.float32),
            revenue=np.zeros(cap, dtype=np.float32),
            sales=np.zeros(cap, dtype=np.int32),
            counterfeits=np.zeros(cap, dtype=np.int32),
            penalties=np.zeros(cap, dtype=np.float32),
            active=np.arange(cap) < m,
            exited=np.zeros(cap, dtype=bool),
            profit=np.zeros(cap, dtype=np.float32),
            mobile_margin=np.zeros(cap, dtype=np.float32),
            adoption_week=np.zeros(cap, dtype=np.int32),
            accepts_mobile_payment=padded(
                _initial_acceptance(sc.payment.initial_acceptance, m, rng), False
            ),
            entry_week=np.zeros(cap, dtype=np.int32),
        )

    def _build_kols(self, population_share: np.ndarray) -> KOLState:
        spec = self.scenario.kols
        k = self.scenario.population.kols
        followers, region = kol_followers(
            spec, k, self.consumers.region, population_share, self.rng
        )
        return KOLState(
            region=region,
            followers=followers,
            audience=followers.copy(),
            follower_count=np.diff(followers.indptr).astype(np.int32),
            credibility=np.full(k, spec.initial_credibility, dtype=np.float32),
            posted=np.zeros(k, dtype=bool),
            sponsored=np.zeros(k, dtype=bool),
            disclosed=np.zeros(k, dtype=bool),
            endorsed_merchant=np.full(k, -1, dtype=np.int64),
        )

    def _create_consumer_agents(self) -> mesa.AgentSet:
        """Create the Consumer agents (ids from the reserved first id), once."""
        if self._consumer_agents is None:
            next_id = self.agent_id_counter
            self.agent_id_counter = self._first_consumer_id
            n = self.consumers.n
            try:
                self._consumer_agents = Consumer.create_agents(self, n, index=np.arange(n))
            finally:
                self.agent_id_counter = max(next_id, self.agent_id_counter)
        return self._consumer_agents

    @property
    def consumer_agents(self) -> mesa.AgentSet:
        """The Consumer agents (created on first use above ``space_max_consumers``)."""
        return self._create_consumer_agents()

    @property
    def agents(self) -> mesa.AgentSet:
        """All agents (Mesa's registry); creates deferred consumer agents first."""
        if getattr(self, "_consumer_agents", False) is None:
            self._create_consumer_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.AgentSet]:
        """Agents by class (Mesa's registry); creates deferred consumer agents first."""
        if getattr(self, "_consumer_agents", False) is None:
            self._create_consumer_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Agent classes in the model; creates deferred consumer agents first."""
        if getattr(self, "_consumer_agents", False) is None:
            self._create_consumer_agents()
        return super().agent_types

    @property
    def space(self) -> MesaNetwork:
        """Mesa's Network space over the social graph, every consumer on its node.

        Built at start for populations up to ``simulation.space_max_consumers``,
        otherwise on first use (it costs about 1 s per 100,000 consumers).
        """
        if self._space is None:
            self._placing = True
            try:
                graph = self.graph.to_networkx()
                space = MesaNetwork(graph, layout=None, capacity=1, random=self.random)
                for agent in self.consumer_agents:
                    agent.cell = space._cells[agent.index]
                self._space = space
            finally:
                self._placing = False
        return self._space

    # ------------------------------------------------------------------ stepping

    def step(self) -> None:
        """Advance the market by one week: run ``model.phases.PHASES``, commit, collect."""
        week = Week(
            t=self.steps,
            scenario=self.scenario,
            schedule=self.parameters,
            graph=self.graph,
            n_regions=self.n_regions,
            states=self._states,
            price_level=self.price_level,
            seed=self.seed,
        )
        week.run(PHASES)
        week.commit()
        self.current = week.signals.params
        self.last_week = week
        self.datacollector.collect(self)
        self._record_consumers()
        if self._groups is not None:
            self._groups.record(self.steps, self.consumers, week.signals.orders)

    @property
    def last(self) -> StepCounters:
        """Counts of the last step (orders, frauds, spending...), read by the metrics."""
        return self.market.last

    @property
    def cumulative_policy_cost(self) -> float:
        """Policy spending so far."""
        return self.market.cumulative_policy_cost

    # ------------------------------------------------------------------ reading

    def consumer_stage(self) -> np.ndarray:
        """Each consumer's adoption stage code (see model.metrics.STAGES)."""
        c = self.consumers
        stage = np.zeros(c.n, dtype=np.int8)
        stage[c.aware] = 1
        stage[c.payment] = 2
        stage[c.has_ordered] = 3
        stage[c.has_ordered_cross_border] = 4
        return stage

    def _record_consumers(self) -> None:
        every = self.scenario.simulation.record_consumers_every
        if every and self.steps % every == 0:
            self._consumer_records.append((int(self.steps), consumer_record(self)))

    def consumer_history(self) -> pd.DataFrame:
        """Every consumer's recorded states, one row per record and consumer.

        Records are kept only when ``simulation.record_consumers_every`` is K > 0: at
        step 0 and every K-th step. Columns: ``step``, ``consumer`` (row index 0..n-1;
        the agent's unique id is ``consumer + 1``), ``region`` (name) and
        ``model.metrics.CONSUMER_RECORD_FIELDS`` (``stage`` codes as in
        ``model.metrics.STAGES``). Empty (with these columns) when nothing was recorded.
        """
        n = self.consumers.n
        records = self._consumer_records
        steps = np.repeat(np.array([t for t, _ in records], dtype=np.int32), n)
        consumer = np.tile(np.arange(n, dtype=np.int32), len(records))
        codes = np.tile(self.consumers.region, len(records))
        table = {
            "step": steps,
            "consumer": consumer,
            "region": pd.Categorical.from_codes(codes.astype(np.int16), self.region_names),
        }
        for name in CONSUMER_RECORD_FIELDS:
            parts = [record[name] for _, record in records]
            if parts:
                table[name] = np.concatenate(parts)
            else:
                dtype = np.int8 if name == "stage" else getattr(self.consumers, name).dtype
                table[name] = np.zeros(0, dtype=dtype)
        return pd.DataFrame(table)

    def track_groups(self) -> None:
        """Record the group table (model/group_table.py) from now on, starting with this step.

        Opt-in because it costs a few passes over the consumers per step. Call it
        right after building the model to have every step from 0.
        """
        if self._groups is None:
            self._groups = GroupRecorder(self.scenario, self.consumers)
            last = self.last_week.signals.orders if self.last_week is not None else None
            self._groups.record(int(self.steps), self.consumers, last)

    def group_table(self) -> pd.DataFrame:
        """Return the main metrics by country, region, urban/rural and income band per step.

        One row per recorded step and group (columns ``model.group_table.COLUMNS``; see
        docs/population.md). Empty unless :meth:`track_groups` was called.
        """
        if self._groups is None:
            return GroupRecorder(self.scenario, self.consumers).table()
        return self._groups.table()

    def timeseries(self) -> pd.DataFrame:
        """Return the run table so far.

        Column ``step`` (0 = initial state) and one column per metric.
        """
        table = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        table.insert(0, "step", np.arange(len(table), dtype=np.int64))
        return table


def _initial_acceptance(share: float, m: int, rng: np.random.Generator) -> np.ndarray:
    """Merchants accepting mobile payment at step 0 (no draw when the share is 0 or 1)."""
    if share >= 1.0 or share <= 0.0:
        return np.full(m, share >= 1.0, dtype=bool)
    return rng.random(m) < share


def run_model(
    scenario: Scenario, seed: int | None = None, steps: int | None = None
) -> pd.DataFrame:
    """Run one model and return its run table (a pure function of scenario and seed).

    Args:
        scenario: the validated scenario.
        seed: the seed (default: ``scenario.simulation.seed``).
        steps: steps to run (default: ``scenario.simulation.steps``).

    Returns:
        One row per step from 0 (initial state) to ``steps``: ``step`` and the metrics.
    """
    model = MarketModel(scenario, seed=seed)
    for _ in range(scenario.simulation.steps if steps is None else int(steps)):
        model.step()
    return model.timeseries()
