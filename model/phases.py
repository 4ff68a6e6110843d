"""The week, phase by phase: the one place that says what a step of the model does.

``PHASES`` is the ordered sequence :class:`model.market.MarketModel` runs each week.
Every phase is a function of the week's context (:class:`model.week.Week`) with a
declaration of the start-of-week state it reads, the signals it uses and produces,
and the state it stages for the end of the week. Phases read the state as it was at
the start of the week; their writes are committed together after the last phase
(``Week.commit``), so the update is synchronous by construction.
``model.week.check_sequence`` checks the declarations when this module is imported, and
``Week`` enforces them while the phases run (docs/architecture.md).

Each phase calls the pure, vectorised functions of one mechanism module
(model/mechanisms/), whose docstrings give the rule and its source.
"""

from __future__ import annotations

import numpy as np

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
from model.state import StepCounters
from model.week import Phase, Week, check_sequence


def policy_phase(week: Week) -> None:
    """Ask the policy timeline for the week's effective parameters (model/policy.py).

    Produces ``params``: mobile access shares, fraud rate, channel budgets, trade
    frictions, coupon level, ... after every lever acting this week.
    """
    week.signals.params = week.schedule.at(week.t)


def access_phase(week: Week) -> None:
    """Who has usable mobile access this week (mechanisms/access.py).

    Produces ``has_access`` (per consumer) and ``connected`` (consumers with access
    per region). With consumer attributes, who in a region is connected depends on
    the consumer's group (urban/rural, income, age; model/population.py).
    """
    c, s = week.consumers, week.signals
    has_access = access.consumer_access(
        week.scenario, c.access_draw, c.region, c.attribute_group, s.params.mobile_access
    )
    s.has_access = has_access
    s.connected = np.bincount(c.region[has_access], minlength=week.n_regions)
    week.stage("consumers", has_access=has_access)


def marketing_phase(week: Week) -> None:
    """Adopting merchants' channel reach per region (mechanisms/marketing.py).

    Produces ``marketing_reach`` (chance per region that a connected consumer is
    reached), ``visibility`` (per merchant) and ``kol_budget`` (spend on KOL posts).
    """
    m, s = week.merchants, week.signals
    reach, visibility, kol_budget = marketing.marketing_reach(
        merchant_region=m.region,
        adopted=m.adopted,
        channel_budget=s.params.channel_budget,
        channels=week.scenario.marketing.channels,
        connected_per_region=s.connected,
    )
    s.marketing_reach, s.visibility, s.kol_budget = reach, visibility, kol_budget
    # money (contract with the accounts phase): the merchant's own spend, the state's
    # channel subsidies actually used (per channel)
    own = week.scenario.marketing.budget_per_merchant
    own_share = sum(
        ch.budget_share for name, ch in week.scenario.marketing.channels.items()
        if name != "kol_campaign"
    )
    s.marketing_spend_by_merchant = np.where(m.adopted, own * own_share, 0.0)
    s.channel_subsidy_spend = {name: 0.0 for name in s.params.channel_budget}


def kol_phase(week: Week) -> None:
    """KOL posts: sponsorship, endorsements, follower exposure, credibility (mechanisms/kol.py).

    Produces ``posts``, ``kol_domestic`` / ``kol_foreign`` (credibility-weighted exposure
    to endorsements of own-region / other-region merchants), ``kol_total``, the
    ``visibility`` including endorsements (as ``merchant_visibility``) and the KOLs'
    new ``credibility``. Stages the KOLs' credibility and last posts.
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    m, k, c = week.merchants, week.kols, week.consumers
    integrity_now = fulfilment.effective_integrity(sc.merchants, m.integrity, m.verified)
    posts = kol.kol_posts(
        spec=sc.kols,
        credibility=k.credibility,
        kol_region=k.region,
        follower_count=k.follower_count,
        merchant_region=m.region,
        adopted=m.adopted,
        kol_budget=s.kol_budget,
        disclosure=s.params.disclosure,
        rng=rng,
    )
    exposure = kol.follower_exposure(k.followers, posts, m.region, week.n_regions)
    s.merchant_visibility = s.visibility + kol.endorsement_visibility(
        k.follower_count, posts, m.n
    )
    s.kol_domestic, s.kol_foreign = trust.split_by_home(exposure, c.region)
    s.kol_total = s.kol_domestic + s.kol_foreign
    credibility, _fake_endorsements = kol.update_credibility(
        sc.kols, k.credibility, posts, integrity_now, rng
    )
    s.posts = posts
    # contract: effect on purchase (the ordering multiplies desire by it) and KOL money
    s.conversion_lift = 1.0 + sc.kols.purchase_lift * np.minimum(1.0, s.kol_total)
    s.kol_fees_by_kol = np.zeros(k.n, dtype=np.float64)
    s.kol_fees_by_merchant = np.zeros(m.n, dtype=np.float64)
    s.kol_campaign_spend = 0.0
    week.stage(
        "kols",
        credibility=credibility,
        posted=posts.posted,
        sponsored=posts.sponsored,
        disclosed=posts.disclosed,
        endorsed_merchant=posts.endorsed_merchant,
    )


def word_of_mouth_phase(week: Week) -> None:
    """Awareness along ties, marketing and KOLs; last week's recommendations and warnings.

    (mechanisms/word_of_mouth.py.) Produces ``becomes_aware``, and the neighbour counts
    ``recommendations_domestic`` / ``_foreign`` (neighbours satisfied last week by
    sellers of the consumer's own / other regions), ``warnings_domestic`` /
    ``_foreign`` (cheated), ``fraud_news`` (neighbours defrauded). Stages awareness.
    """
    sc, s, rng, graph = week.scenario, week.signals, week.rng, week.graph
    c = week.consumers
    n = c.n
    satisfied_any = c.satisfied_from >= 0
    wom_p = word_of_mouth.awareness_probability(
        sc.word_of_mouth,
        graph.adjacency,
        graph.degree,
        c.aware,
        c.newly_aware,
        satisfied_any,
        c.threshold,
        count=graph.neighbour_counts,
    )
    marketing_each = np.where(s.has_access, s.marketing_reach[c.region], 0.0)
    kol_each = 1.0 - np.exp(-sc.kols.awareness_gain * s.kol_total)
    aware_p = 1.0 - (1.0 - wom_p) * (1.0 - marketing_each) * (1.0 - kol_each)
    becomes_aware = ~c.aware & (rng.random(n) < aware_p)
    s.becomes_aware = becomes_aware
    # neighbours satisfied / cheated by sellers of the own region and of other regions
    # (exact integer counts, the same numbers as word_of_mouth.region_signals split by
    # trust.split_by_home, without the n x R products)
    rec_dom, rec_for = graph.neighbour_counts_by_region(c.satisfied_from, c.region)
    warn_dom, warn_for = graph.neighbour_counts_by_region(c.cheated_from, c.region)
    s.recommendations_domestic = rec_dom.astype(np.float32)
    s.recommendations_foreign = rec_for.astype(np.float32)
    s.warnings_domestic = warn_dom.astype(np.float32)
    s.warnings_foreign = warn_for.astype(np.float32)
    s.fraud_news = graph.neighbour_counts(c.defrauded).astype(np.float32)
    s.warned_merchant = np.full(n, -1, dtype=np.int32)  # contract: merchant warned about
    week.stage("consumers", newly_aware=becomes_aware, aware=c.aware | becomes_aware)


def payment_phase(week: Week) -> None:
    """Mobile payment adoption, fraud and abandonment (mechanisms/payment.py).

    Produces ``risk`` (perceived payment risk per consumer), ``victims`` (defrauded this
    week) and ``pays`` (pays by mobile before checkout adoption).
    """
    sc, s, rng, graph = week.scenario, week.signals, week.rng, week.graph
    c = week.consumers
    n, degree = c.n, graph.degree
    p = s.params
    risk = payment.perceived_risk(p.perceived_risk, c.risk_extra)
    if graph.fully_mixed:
        peer_share = np.full(n, float(c.payment.mean()))
    else:
        paying_neighbours = graph.neighbour_counts(c.payment, track="payment").astype(np.float32)
        peer_share = np.where(degree > 0, paying_neighbours / np.maximum(degree, 1), 0.0)
    adopt_p = payment.adoption_probability(sc.payment, p.rigid_demand_rate, peer_share, risk)
    adopts = s.has_access & ~c.payment & (rng.random(n) < adopt_p)
    victims = payment.fraud_victims(c.payment, p.fraud_rate, rng)
    abandons = victims & (rng.random(n) < sc.payment.abandon_after_fraud)
    s.risk, s.victims = risk, victims
    s.pays = (c.payment | adopts) & ~abandons


def ordering_phase(week: Week) -> None:
    """Purchase desire, region and merchant choice, trust gate, checkout (mechanisms/ordering.py).

    Produces ``orders`` (an ``ordering.Orders``: consumer, merchant, value, cross-border
    flag, checkout adoptions, failed transactions).
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    c, m = week.consumers, week.merchants
    n, p, spec = c.n, s.params, sc.ordering
    desire = (
        spec.purchase_rate
        * (1.0 + spec.incentive_elasticity * p.coupon)
        * (1.0 + sc.kols.purchase_lift * np.minimum(1.0, s.kol_total))
        * np.exp(-c.bad_memory)
    )
    want = c.aware & s.has_access & (rng.random(n) < np.minimum(1.0, desire))
    utility = ordering.merchant_utility(
        spec, m.price, m.reputation, s.merchant_visibility, m.adopted, p.coupon
    )
    values, members, cdfs = ordering.region_values(
        spec, utility, m.region, week.n_regions, p.logistics_cost, p.delivery_days, p.tariff
    )
    s.orders = ordering.choose_orders(
        spec=spec,
        rng=rng,
        candidates=np.flatnonzero(want),
        consumer_region=c.region,
        trust_domestic=c.trust_domestic,
        trust_foreign=c.trust_foreign,
        threshold=sc.trust.purchase_threshold,
        values=values,
        members=members,
        cdfs=cdfs,
        payment=s.pays,
        risk=s.risk,
        checkout_adoption=sc.payment.checkout_adoption,
        reliability=p.reliability,
        merchant_price=m.price,
        merchant_region=m.region,
        logistics_cost=p.logistics_cost,
        tariff=p.tariff,
        coupon=p.coupon,
    )


def fulfilment_phase(week: Week) -> None:
    """Genuine or counterfeit, detection, fines (mechanisms/fulfilment.py).

    Produces ``fulfilment`` (a ``fulfilment.Fulfilment``: per order genuine/detected,
    per merchant sales, counterfeits, revenue, fines).
    """
    sc, s = week.scenario, week.signals
    m, orders = week.merchants, s.orders
    s.fulfilment = fulfilment.fulfil(
        sc.merchants,
        week.rng,
        orders.merchant,
        orders.value,
        m.integrity,
        m.verified,
        m.price,
        s.params.detection_probability,
        sc.ordering.mean_order_value,
    )


def trust_phase(week: Week) -> None:
    """Trust from experience, recommendations and KOLs; losses from harm (mechanisms/trust.py).

    Also the memory of bad experiences and the personal payment risk. Produces
    ``satisfied_from`` / ``cheated_from`` (per consumer, the seller's region of this
    week's genuine / counterfeit purchase, -1 none).
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    c, m = week.consumers, week.merchants
    n, tr = c.n, sc.trust
    orders, outcome, victims = s.orders, s.fulfilment, s.victims
    seller_region = m.region[orders.merchant].astype(np.int16)
    satisfied_from = np.full(n, -1, dtype=np.int16)
    cheated_from = np.full(n, -1, dtype=np.int16)
    satisfied_from[orders.consumer[outcome.genuine]] = seller_region[outcome.genuine]
    cheated_from[orders.consumer[~outcome.genuine]] = seller_region[~outcome.genuine]
    good_dom, good_for = trust.one_hot_experience(satisfied_from, c.region)
    bad_dom, bad_for = trust.one_hot_experience(cheated_from, c.region)
    leak = rng.random(n) < tr.privacy_leak_rate
    shock = (victims | leak).astype(np.float32)
    mix, spill = trust.mix, tr.foreign_spillover
    rec_dom, rec_for = s.recommendations_domestic, s.recommendations_foreign
    warn_dom, warn_for = s.warnings_domestic, s.warnings_foreign
    kol_dom, kol_for = s.kol_domestic, s.kol_foreign
    warn_weight = tr.wom_gain * sc.word_of_mouth.negative_weight
    gain_dom = (
        tr.experience_gain * mix(good_dom, good_for, spill)
        + tr.wom_gain * mix(rec_dom, rec_for, spill)
        + tr.kol_gain * mix(kol_dom, kol_for, spill)
    )
    gain_for = (
        tr.experience_gain * mix(good_for, good_dom, spill)
        + tr.wom_gain * mix(rec_for, rec_dom, spill)
        + tr.kol_gain * mix(kol_for, kol_dom, spill)
    )
    loss_dom = (
        tr.counterfeit_loss * mix(bad_dom, bad_for, spill)
        + warn_weight * mix(warn_dom, warn_for, spill)
        + tr.fraud_loss * shock
    )
    loss_for = (
        tr.counterfeit_loss * mix(bad_for, bad_dom, spill)
        + warn_weight * mix(warn_for, warn_dom, spill)
        + tr.fraud_loss * spill * shock
    )
    bad_event = (cheated_from >= 0) | victims
    s.satisfied_from, s.cheated_from = satisfied_from, cheated_from
    week.stage(
        "consumers",
        trust_domestic=trust.update_trust(c.trust_domestic, gain_dom, loss_dom),
        trust_foreign=trust.update_trust(c.trust_foreign, gain_for, loss_for),
        bad_memory=(
            c.bad_memory * np.float32(1.0 - tr.memory_decay)
            + np.float32(tr.memory_gain) * bad_event
        ).astype(np.float32),
        risk_extra=payment.update_risk(sc.payment, c.risk_extra, victims, s.fraud_news),
    )


def merchant_phase(week: Week) -> None:
    """Merchants after the week's sales: integrity, reputation, adoption, verification.

    (mechanisms/fulfilment.py, mechanisms/merchant_adoption.py.) Adoption spreads by
    imitation of successful peers and by promotion; verification by the integrity lever.
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    m, p, outcome = week.merchants, s.params, s.fulfilment
    integrity, reputation = fulfilment.update_merchants_after_sales(
        sc.merchants, m.integrity, m.reputation, outcome
    )
    adopt_p = merchant_adoption.adoption_probability(
        sc.merchants,
        p.promotion_rate,
        m.region,
        m.adopted,
        outcome.revenue_by_merchant,
        week.n_regions,
    )
    adopted = m.adopted | (rng.random(m.n) < adopt_p)
    verified = fulfilment.verify(m.verified, p.verification_rate, rng)
    week.stage(
        "merchants",
        integrity=integrity,
        reputation=reputation,
        revenue=outcome.revenue_by_merchant.astype(np.float32),
        sales=outcome.sales_by_merchant.astype(np.int32),
        counterfeits=outcome.counterfeits_by_merchant.astype(np.int32),
        penalties=(m.penalties + outcome.fines_by_merchant).astype(np.float32),
        visibility=s.merchant_visibility.astype(np.float32),
        adopted=adopted,
        verified=verified,
    )


def consumer_record_phase(week: Week) -> None:
    """Consumers' purchase records and payment after checkout.

    Stages who pays by mobile (including adoption at checkout), who has ever ordered
    (and across regions), last week's satisfied / cheated / defrauded signals that
    next week's word of mouth reads, and each consumer's last merchant.
    """
    s, c = week.signals, week.consumers
    orders = s.orders
    pays = s.pays.copy()
    pays[orders.adopted_at_checkout] = True
    has_ordered = c.has_ordered.copy()
    has_ordered[orders.consumer] = True
    has_ordered_cross_border = c.has_ordered_cross_border.copy()
    has_ordered_cross_border[orders.consumer[orders.cross_border]] = True
    last_order_merchant = np.full(c.n, -1, dtype=np.int32)
    last_order_merchant[orders.consumer] = orders.merchant
    week.stage(
        "consumers",
        payment=pays,
        has_ordered=has_ordered,
        has_ordered_cross_border=has_ordered_cross_border,
        satisfied_from=s.satisfied_from,
        cheated_from=s.cheated_from,
        defrauded=s.victims,
        last_order_merchant=last_order_merchant,
    )


def accounts_phase(week: Week) -> None:
    """Count the week for the metrics (model/metrics.py) and add up the policy spending."""
    s, p = week.signals, week.signals.params
    orders, outcome = s.orders, s.fulfilment
    counters = StepCounters(
        orders=orders.count,
        cross_border_orders=int(orders.cross_border.sum()),
        gmv=float(orders.value.sum()),
        counterfeit_incidents=int((~outcome.genuine).sum()),
        fraud_incidents=int(s.victims.sum()),
        failed_transactions=orders.failed_transactions,
        policy_cost=p.policy_cost,
    )
    week.stage(
        "market",
        last=counters,
        cumulative_policy_cost=week.market.cumulative_policy_cost + p.policy_cost,
    )


PHASES: tuple[Phase, ...] = (
    Phase("policy", policy_phase, produces=("params",)),
    Phase(
        "access",
        access_phase,
        reads=("consumers.access_draw", "consumers.region", "consumers.attribute_group"),
        uses=("params",),
        produces=("has_access", "connected"),
        writes=("consumers.has_access",),
    ),
    Phase(
        "marketing",
        marketing_phase,
        reads=("merchants.region", "merchants.adopted"),
        uses=("params", "connected"),
        produces=(
            "marketing_reach",
            "visibility",
            "kol_budget",
            "marketing_spend_by_merchant",
            "channel_subsidy_spend",
        ),
    ),
    Phase(
        "kol_posts",
        kol_phase,
        reads=(
            "merchants.integrity",
            "merchants.verified",
            "merchants.region",
            "merchants.adopted",
            "kols.credibility",
            "kols.region",
            "kols.follower_count",
            "kols.followers",
            "consumers.region",
        ),
        uses=("params", "kol_budget", "visibility"),
        produces=(
            "posts",
            "merchant_visibility",
            "kol_domestic",
            "kol_foreign",
            "kol_total",
            "conversion_lift",
            "kol_fees_by_kol",
            "kol_fees_by_merchant",
            "kol_campaign_spend",
        ),
        writes=(
            "kols.credibility",
            "kols.posted",
            "kols.sponsored",
            "kols.disclosed",
            "kols.endorsed_merchant",
        ),
    ),
    Phase(
        "word_of_mouth",
        word_of_mouth_phase,
        reads=(
            "consumers.aware",
            "consumers.newly_aware",
            "consumers.satisfied_from",
            "consumers.cheated_from",
            "consumers.defrauded",
            "consumers.threshold",
            "consumers.region",
        ),
        uses=("has_access", "marketing_reach", "kol_total"),
        produces=(
            "becomes_aware",
            "recommendations_domestic",
            "recommendations_foreign",
            "warnings_domestic",
            "warnings_foreign",
            "fraud_news",
            "warned_merchant",
        ),
        writes=("consumers.aware", "consumers.newly_aware"),
    ),
    Phase(
        "payment",
        payment_phase,
        reads=("consumers.payment", "consumers.risk_extra"),
        uses=("params", "has_access"),
        produces=("risk", "victims", "pays"),
    ),
    Phase(
        "ordering",
        ordering_phase,
        reads=(
            "consumers.aware",
            "consumers.bad_memory",
            "consumers.region",
            "consumers.trust_domestic",
            "consumers.trust_foreign",
            "merchants.price",
            "merchants.reputation",
            "merchants.adopted",
            "merchants.region",
        ),
        uses=("params", "has_access", "kol_total", "merchant_visibility", "pays", "risk"),
        produces=("orders",),
    ),
    Phase(
        "fulfilment",
        fulfilment_phase,
        reads=("merchants.integrity", "merchants.verified", "merchants.price"),
        uses=("params", "orders"),
        produces=("fulfilment",),
    ),
    Phase(
        "trust",
        trust_phase,
        reads=(
            "consumers.region",
            "consumers.trust_domestic",
            "consumers.trust_foreign",
            "consumers.bad_memory",
            "consumers.risk_extra",
            "merchants.region",
        ),
        uses=(
            "orders",
            "fulfilment",
            "victims",
            "recommendations_domestic",
            "recommendations_foreign",
            "warnings_domestic",
            "warnings_foreign",
            "kol_domestic",
            "kol_foreign",
            "fraud_news",
        ),
        produces=("satisfied_from", "cheated_from"),
        writes=(
            "consumers.trust_domestic",
            "consumers.trust_foreign",
            "consumers.bad_memory",
            "consumers.risk_extra",
        ),
    ),
    Phase(
        "merchants",
        merchant_phase,
        reads=(
            "merchants.integrity",
            "merchants.reputation",
            "merchants.region",
            "merchants.adopted",
            "merchants.verified",
            "merchants.penalties",
        ),
        uses=("params", "fulfilment", "merchant_visibility"),
        writes=(
            "merchants.integrity",
            "merchants.reputation",
            "merchants.revenue",
            "merchants.sales",
            "merchants.counterfeits",
            "merchants.penalties",
            "merchants.visibility",
            "merchants.adopted",
            "merchants.verified",
        ),
    ),
    Phase(
        "consumer_records",
        consumer_record_phase,
        reads=("consumers.has_ordered", "consumers.has_ordered_cross_border"),
        uses=("orders", "pays", "satisfied_from", "cheated_from", "victims"),
        writes=(
            "consumers.payment",
            "consumers.has_ordered",
            "consumers.has_ordered_cross_border",
            "consumers.satisfied_from",
            "consumers.cheated_from",
            "consumers.defrauded",
            "consumers.last_order_merchant",
        ),
    ),
    Phase(
        "accounts",
        accounts_phase,
        reads=("market.cumulative_policy_cost",),
        uses=("params", "orders", "fulfilment", "victims"),
        writes=("market.last", "market.cumulative_policy_cost"),
    ),
)
"""The week, in order. Data collection (model/metrics.py) follows the commit."""

check_sequence(PHASES)


def phase_table() -> str:
    """The phases as a Markdown table (docs/architecture.md embeds it; a test keeps it current)."""

    def cell(items: tuple[str, ...]) -> str:
        return ", ".join(f"`{item}`" for item in items) or "—"

    rows = [
        "| # | phase | what it does | reads (start of week) | uses | produces | writes (end of week) |",
        "|---:|---|---|---|---|---|---|",
    ]
    for number, phase in enumerate(PHASES, start=1):
        rows.append(
            f"| {number} | `{phase.name}` | {phase.doc} | {cell(phase.reads)} | "
            f"{cell(phase.uses)} | {cell(phase.produces)} | {cell(phase.writes)} |"
        )
    return "\n".join(rows) + "\n"
