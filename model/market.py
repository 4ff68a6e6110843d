"""MarketModel: the Mesa model that builds the world and orders the phases of a step."""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network as MesaNetwork

from model.agents import KOL, Consumer, Merchant
from model.mechanisms import (
    access,
    fulfilment,
    kol,
    marketing,
    merchant_adoption,
    ordering,
    payment,
    trust,
    word_of_mouth,
)
from model.metrics import CONSUMER_RECORD_FIELDS, REPORTERS, consumer_record
from model.network import build_social_graph, kol_followers, region_sizes
from model.policy import EffectiveParameters, ParameterSchedule
from model.scenario import Scenario
from model.state import ConsumerState, KOLState, MerchantState, beta_around

TRUST_CONCENTRATION = 10.0
"""Beta concentration of starting trust around each region's mean."""


@dataclass
class StepCounters:
    """Counts of the last step, read by the metrics.

    Attributes:
        orders: orders placed.
        cross_border_orders: orders across regions.
        gmv: value of the orders.
        counterfeit_incidents: counterfeit sales.
        fraud_incidents: payment frauds.
        failed_transactions: orders lost to transaction failures.
        policy_cost: policy spending.
    """

    orders: int = 0
    cross_border_orders: int = 0
    gmv: float = 0.0
    counterfeit_incidents: int = 0
    fraud_incidents: int = 0
    failed_transactions: int = 0
    policy_cost: float = 0.0


class MarketModel(mesa.Model):
    """Consumers, merchants and KOLs on a social network, under a policy timeline.

    A step is one week. Its phases run in this fixed order; each is a vectorised
    function of the state arrays (model/mechanisms/), and within a phase everyone
    reacts to the state at the start of the step (synchronous update):

    1. policy: the timeline gives the effective parameters at step t (model/policy.py);
    2. access: who has usable mobile access (mechanisms/access.py);
    3. marketing: adopting merchants' channel reach (mechanisms/marketing.py);
    4. KOL posts: sponsorship, endorsements, follower exposure (mechanisms/kol.py);
    5. word of mouth: new awareness, and last step's recommendations and warnings
       counted over the graph (mechanisms/word_of_mouth.py);
    6. payment: adoption, fraud, abandonment (mechanisms/payment.py);
    7. ordering: desire, region and merchant choice, trust gate, checkout
       (mechanisms/ordering.py);
    8. fulfilment and integrity: genuine or counterfeit, detection, fines,
       reputation (mechanisms/fulfilment.py);
    9. trust update from own experience, word of mouth and KOLs (mechanisms/trust.py);
    10. merchant updates: adoption by imitation and promotion, verification
        (mechanisms/merchant_adoption.py, fulfilment.py); KOL credibility (kol.py);
    11. data collection (model/metrics.py).

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
        last: counts of the last step.
        cumulative_policy_cost: policy spending so far.
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
        self.parameters = ParameterSchedule(scenario)
        self.current: EffectiveParameters = self.parameters.at(0)
        self.last = StepCounters()
        self.cumulative_policy_cost = 0.0
        self._space: MesaNetwork | None = None
        self._placing = False

        regions = list(scenario.regions.values())
        n = scenario.population.consumers
        population_share = np.array([r.population_share for r in regions], dtype=float)
        sizes = region_sizes(n, population_share)
        self.graph = build_social_graph(scenario, sizes, self.rng)
        self.consumers = self._build_consumers(sizes)
        self.merchants = self._build_merchants()
        self.kols = self._build_kols(population_share)

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

        self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS))
        self.datacollector.collect(self)
        # per-consumer history only when asked (simulation.record_consumers_every)
        self._consumer_records: list[tuple[int, dict[str, np.ndarray]]] = []
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

    def _build_consumers(self, sizes: np.ndarray) -> ConsumerState:
        sc, rng = self.scenario, self.rng
        n = int(sizes.sum())
        regions = list(sc.regions.values())
        region = np.repeat(np.arange(self.n_regions, dtype=np.uint8), sizes)
        access_draw = rng.random(n, dtype=np.float32)
        has_access = access.mobile_access(access_draw, region, self.current.mobile_access)
        trust_domestic = np.empty(n, dtype=np.float32)
        trust_foreign = np.empty(n, dtype=np.float32)
        pay_share = np.empty(n, dtype=np.float64)
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
            start = stop
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
            if count:
                aware[rng.choice(n, size=count, replace=False)] = True
        threshold = (
            word_of_mouth.draw_thresholds(wom, n, rng)
            if wom.rule == "linear_threshold"
            else np.zeros(0)
        )
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
            has_ordered=np.zeros(n, dtype=bool),
            has_ordered_cross_border=np.zeros(n, dtype=bool),
            satisfied_from=none.copy(),
            cheated_from=none.copy(),
            defrauded=np.zeros(n, dtype=bool),
            last_order_merchant=np.full(n, -1, dtype=np.int32),
        )

    def _build_merchants(self) -> MerchantState:
        sc, rng = self.scenario, self.rng
        spec = sc.merchants
        m = sc.population.merchants
        regions = list(sc.regions.values())
        shares = np.array([r.merchant_share for r in regions], dtype=float)
        sizes = region_sizes(m, shares) if m else np.zeros(self.n_regions, dtype=np.int64)
        region = np.repeat(np.arange(self.n_regions, dtype=np.uint8), sizes)
        level = np.array([r.price_level for r in regions])[region]
        price = (level * np.exp(rng.normal(0.0, spec.price_dispersion, size=m))).astype(np.float32)
        integrity = beta_around(spec.integrity_mean, spec.integrity_concentration, m, rng)
        return MerchantState(
            region=region,
            price=price,
            integrity=integrity,
            reputation=np.full(m, spec.initial_reputation, dtype=np.float32),
            verified=rng.random(m) < spec.verified_share,
            adopted=rng.random(m) < spec.initial_adoption,
            visibility=np.zeros(m, dtype=np.float32),
            revenue=np.zeros(m, dtype=np.float32),
            sales=np.zeros(m, dtype=np.int32),
            counterfeits=np.zeros(m, dtype=np.int32),
            penalties=np.zeros(m, dtype=np.float32),
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
        """Advance the market by one week (the phases are listed in the class docstring)."""
        sc, rng = self.scenario, self.rng
        c, m, k = self.consumers, self.merchants, self.kols
        n, n_regions = c.n, self.n_regions
        adjacency, degree = self.graph.adjacency, self.graph.degree

        # 1. policy
        p = self.parameters.at(self.steps)
        self.current = p

        # 2. access
        c.has_access = access.mobile_access(c.access_draw, c.region, p.mobile_access)
        connected = np.bincount(c.region[c.has_access], minlength=n_regions)

        # 3. marketing
        marketing_p, visibility, kol_budget = marketing.marketing_reach(
            m.region, m.adopted, p.channel_budget, sc.marketing.channels, connected
        )

        # 4. KOL posts
        integrity_now = fulfilment.effective_integrity(sc.merchants, m.integrity, m.verified)
        posts = kol.kol_posts(
            sc.kols,
            k.credibility,
            k.region,
            k.follower_count,
            m.region,
            m.adopted,
            kol_budget,
            p.disclosure,
            rng,
        )
        exposure = kol.follower_exposure(k.followers, posts, m.region, n_regions)
        visibility = visibility + kol.endorsement_visibility(k.follower_count, posts, m.n)
        kol_domestic, kol_foreign = trust.split_by_home(exposure, c.region)
        kol_total = kol_domestic + kol_foreign
        credibility, _fake_endorsements = kol.update_credibility(
            sc.kols, k.credibility, posts, integrity_now, rng
        )

        # 5. word of mouth
        satisfied_any = c.satisfied_from >= 0
        graph = self.graph
        wom_p = word_of_mouth.awareness_probability(
            sc.word_of_mouth,
            adjacency,
            degree,
            c.aware,
            c.newly_aware,
            satisfied_any,
            c.threshold,
            count=graph.neighbour_counts,
        )
        marketing_each = np.where(c.has_access, marketing_p[c.region], 0.0)
        kol_each = 1.0 - np.exp(-sc.kols.awareness_gain * kol_total)
        aware_p = 1.0 - (1.0 - wom_p) * (1.0 - marketing_each) * (1.0 - kol_each)
        becomes_aware = ~c.aware & (rng.random(n) < aware_p)
        # neighbours satisfied / cheated by sellers of the own region and of other regions
        # (exact integer counts, the same numbers as word_of_mouth.region_signals split by
        # trust.split_by_home, without the n x R products)
        rec_dom, rec_for = graph.neighbour_counts_by_region(c.satisfied_from, c.region)
        warn_dom, warn_for = graph.neighbour_counts_by_region(c.cheated_from, c.region)
        rec_dom, rec_for = rec_dom.astype(np.float32), rec_for.astype(np.float32)
        warn_dom, warn_for = warn_dom.astype(np.float32), warn_for.astype(np.float32)
        fraud_news = graph.neighbour_counts(c.defrauded).astype(np.float32)

        # 6. payment
        risk = payment.perceived_risk(p.perceived_risk, c.risk_extra)
        if self.graph.fully_mixed:
            peer_share = np.full(n, float(c.payment.mean()))
        else:
            paying_neighbours = graph.neighbour_counts(c.payment, track="payment").astype(
                np.float32
            )
            peer_share = np.where(degree > 0, paying_neighbours / np.maximum(degree, 1), 0.0)
        adopt_p = payment.adoption_probability(sc.payment, p.rigid_demand_rate, peer_share, risk)
        adopts = c.has_access & ~c.payment & (rng.random(n) < adopt_p)
        victims = payment.fraud_victims(c.payment, p.fraud_rate, rng)
        abandons = victims & (rng.random(n) < sc.payment.abandon_after_fraud)
        pays = (c.payment | adopts) & ~abandons

        # 7. ordering
        spec = sc.ordering
        desire = (
            spec.purchase_rate
            * (1.0 + spec.incentive_elasticity * p.coupon)
            * (1.0 + sc.kols.purchase_lift * np.minimum(1.0, kol_total))
            * np.exp(-c.bad_memory)
        )
        want = c.aware & c.has_access & (rng.random(n) < np.minimum(1.0, desire))
        utility = ordering.merchant_utility(
            spec, m.price, m.reputation, visibility, m.adopted, p.coupon
        )
        values, members, cdfs = ordering.region_values(
            spec, utility, m.region, n_regions, p.logistics_cost, p.delivery_days, p.tariff
        )
        orders = ordering.choose_orders(
            spec,
            rng,
            np.flatnonzero(want),
            c.region,
            c.trust_domestic,
            c.trust_foreign,
            sc.trust.purchase_threshold,
            values,
            members,
            cdfs,
            pays,
            risk,
            sc.payment.checkout_adoption,
            p.reliability,
            m.price,
            m.region,
            p.logistics_cost,
            p.tariff,
            p.coupon,
        )

        # 8. fulfilment and integrity
        outcome = fulfilment.fulfil(
            sc.merchants,
            rng,
            orders.merchant,
            orders.value,
            m.integrity,
            m.verified,
            m.price,
            p.detection_probability,
            spec.mean_order_value,
        )

        # 9. trust
        tr = sc.trust
        seller_region = m.region[orders.merchant].astype(np.int16)
        satisfied_from = np.full(n, -1, dtype=np.int16)
        cheated_from = np.full(n, -1, dtype=np.int16)
        satisfied_from[orders.consumer[outcome.genuine]] = seller_region[outcome.genuine]
        cheated_from[orders.consumer[~outcome.genuine]] = seller_region[~outcome.genuine]
        good_dom, good_for = trust.one_hot_experience(satisfied_from, c.region)
        bad_dom, bad_for = trust.one_hot_experience(cheated_from, c.region)
        leak = rng.random(n) < tr.privacy_leak_rate
        shock = (victims | leak).astype(np.float32)
        s = tr.foreign_spillover
        warn_weight = tr.wom_gain * sc.word_of_mouth.negative_weight
        gain_dom = (
            tr.experience_gain * trust.mix(good_dom, good_for, s)
            + tr.wom_gain * trust.mix(rec_dom, rec_for, s)
            + tr.kol_gain * trust.mix(kol_domestic, kol_foreign, s)
        )
        gain_for = (
            tr.experience_gain * trust.mix(good_for, good_dom, s)
            + tr.wom_gain * trust.mix(rec_for, rec_dom, s)
            + tr.kol_gain * trust.mix(kol_foreign, kol_domestic, s)
        )
        loss_dom = (
            tr.counterfeit_loss * trust.mix(bad_dom, bad_for, s)
            + warn_weight * trust.mix(warn_dom, warn_for, s)
            + tr.fraud_loss * shock
        )
        loss_for = (
            tr.counterfeit_loss * trust.mix(bad_for, bad_dom, s)
            + warn_weight * trust.mix(warn_for, warn_dom, s)
            + tr.fraud_loss * s * shock
        )
        c.trust_domestic = trust.update_trust(c.trust_domestic, gain_dom, loss_dom)
        c.trust_foreign = trust.update_trust(c.trust_foreign, gain_for, loss_for)
        bad_event = (cheated_from >= 0) | victims
        c.bad_memory = (
            c.bad_memory * np.float32(1.0 - tr.memory_decay)
            + np.float32(tr.memory_gain) * bad_event
        ).astype(np.float32)
        c.risk_extra = payment.update_risk(sc.payment, c.risk_extra, victims, fraud_news)

        # 10. merchants and KOLs
        m.integrity, m.reputation = fulfilment.update_merchants_after_sales(
            sc.merchants, m.integrity, m.reputation, outcome
        )
        m.revenue = outcome.revenue_by_merchant.astype(np.float32)
        m.sales = outcome.sales_by_merchant.astype(np.int32)
        m.counterfeits = outcome.counterfeits_by_merchant.astype(np.int32)
        m.penalties = (m.penalties + outcome.fines_by_merchant).astype(np.float32)
        m.visibility = visibility.astype(np.float32)
        adopt_m = merchant_adoption.adoption_probability(
            sc.merchants,
            p.promotion_rate,
            m.region,
            m.adopted,
            outcome.revenue_by_merchant,
            n_regions,
        )
        m.adopted = m.adopted | (rng.random(m.n) < adopt_m)
        m.verified = fulfilment.verify(m.verified, p.verification_rate, rng)
        k.credibility = credibility
        k.posted, k.sponsored, k.disclosed = posts.posted, posts.sponsored, posts.disclosed
        k.endorsed_merchant = posts.endorsed_merchant

        # commit consumer state (synchronous: everything above read the old state)
        c.newly_aware = becomes_aware
        c.aware = c.aware | becomes_aware
        pays[orders.adopted_at_checkout] = True
        c.payment = pays
        c.has_ordered[orders.consumer] = True
        c.has_ordered_cross_border[orders.consumer[orders.cross_border]] = True
        c.satisfied_from, c.cheated_from, c.defrauded = satisfied_from, cheated_from, victims
        c.last_order_merchant.fill(-1)
        c.last_order_merchant[orders.consumer] = orders.merchant

        # 11. data collection
        self.last = StepCounters(
            orders=orders.count,
            cross_border_orders=int(orders.cross_border.sum()),
            gmv=float(orders.value.sum()),
            counterfeit_incidents=int((~outcome.genuine).sum()),
            fraud_incidents=int(victims.sum()),
            failed_transactions=orders.failed_transactions,
            policy_cost=p.policy_cost,
        )
        self.cumulative_policy_cost += p.policy_cost
        self.datacollector.collect(self)
        self._record_consumers()

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

    def timeseries(self) -> pd.DataFrame:
        """The run table so far: column ``step`` (0 = initial state) and one column per metric."""
        table = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        table.insert(0, "step", np.arange(len(table), dtype=np.int64))
        return table


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
