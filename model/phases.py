"""The week, phase by phase: the one place that says what a step of the model does.

``PHASES`` is the ordered sequence :class:`model.market.MarketModel` runs each week. Each
phase is declared where it is written (``model.week.phase``: what it reads, uses,
produces and writes) and is a short adapter: it gathers its inputs from the week, calls
a mechanism (model/mechanisms/, whose docstrings give the rule and its source), sets its
signals and stages its writes, committed together after the last phase. Each phase draws
from its own generator, ``week.rng``; model/week.py enforces the declarations.
"""

from __future__ import annotations

from model.mechanisms import (
    acceptance,
    access,
    accounts,
    fulfilment,
    kol,
    lapse,
    marketing,
    merchant_adoption,
    o2o,
    ordering,
    payment,
    platform,
    trust,
    word_of_mouth,
)
from model.week import Phase, Week, check_sequence, markdown_table, phase


@phase("policy", produces="params")
def policy_phase(week: Week) -> None:
    """Ask the policy timeline for the week's effective parameters (model/policy.py)."""
    week.signals.params = week.schedule.at(week.t)


@phase(
    "access",
    reads="consumers.access_draw consumers.region consumers.attribute_group consumers.has_access",
    uses="params",
    produces="has_access connected connected_by_policy",
    writes="consumers.has_access",
)
def access_phase(week: Week) -> None:
    """Who has usable mobile access this week (mechanisms/access.py)."""
    c, s = week.consumers, week.signals
    s.has_access, s.connected, s.connected_by_policy = access.access_week(
        week.scenario,
        s.params,
        access_draw=c.access_draw,
        region=c.region,
        group=c.attribute_group,
        had_access=c.has_access,
        n_regions=week.n_regions,
    )
    week.stage("consumers", has_access=s.has_access)


@phase(
    "marketing",
    reads="merchants.region merchants.adopted merchants.revenue consumers.region "
    "consumers.channel_audience consumers.ad_responsiveness consumers.interest "
    "consumers.has_ordered consumers.district",
    uses="params has_access connected",
    produces="marketing_awareness marketing_lift visibility merchant_kol_budget "
    "campaign_budget marketing_spend_by_merchant channel_subsidy_spend",
    writes="consumers.ad_responsiveness",
)
def marketing_phase(week: Week) -> None:
    """Merchants' channel spend, reach and effects per channel (mechanisms/marketing.py)."""
    m, c, s = week.merchants, week.consumers, week.signals
    result = marketing.run_marketing(
        spec=week.scenario.marketing,
        channel_budget=s.params.channel_budget,
        merchant_region=m.region,
        adopted=m.adopted,
        revenue=m.revenue,
        consumer_region=c.region,
        has_access=s.has_access,
        degree=week.graph.degree,
        region_names=week.scenario.region_names,
        connected=s.connected,
        audience=c.channel_audience,
        responsiveness=c.ad_responsiveness,
        interest=c.interest,
        has_ordered=c.has_ordered,
        consumer_district=c.district,
    )
    week.stage("consumers", ad_responsiveness=result.responsiveness)
    s.marketing_awareness, s.marketing_lift = result.awareness, result.lift
    s.visibility = result.visibility
    s.merchant_kol_budget, s.campaign_budget = result.own_kol_budget, result.campaign_budget
    s.marketing_spend_by_merchant = result.own_spend
    s.channel_subsidy_spend = result.subsidy_spend


@phase(
    "kol_posts",
    reads="merchants.integrity merchants.verified merchants.region merchants.adopted "
    "kols.credibility kols.region kols.follower_count kols.followers kols.audience "
    "consumers.region",
    uses="params merchant_kol_budget campaign_budget marketing_lift",
    produces="posts endorsements kol_domestic kol_foreign kol_total "
    "conversion_lift kol_fees_by_kol kol_fees_by_merchant kol_campaign_spend",
    writes="kols.credibility kols.posted kols.sponsored kols.disclosed "
    "kols.endorsed_merchant kols.followers kols.follower_count",
)
def kol_posts_phase(week: Week) -> None:
    """KOL market: posts bought and posted, follower exposure, credibility, unfollowing.

    (mechanisms/kol.py.)
    """
    sc, s, m, k = week.scenario, week.signals, week.merchants, week.kols
    result = kol.kol_week(
        sc.kols,
        sc.merchants,
        week.rng,
        credibility=k.credibility,
        kol_region=k.region,
        follower_count=k.follower_count,
        followers=k.followers,
        audience=k.audience,
        degree=week.graph.degree,
        merchant_region=m.region,
        adopted=m.adopted,
        integrity=m.integrity,
        verified=m.verified,
        merchant_kol_budget=s.merchant_kol_budget,
        campaign_budget=s.campaign_budget,
        disclosure=s.params.disclosure,
        marketing_lift=s.marketing_lift,
        consumer_region=week.consumers.region,
        n_regions=week.n_regions,
        country=trust.country_codes(sc),
    )
    posts = s.posts = result.posts
    s.conversion_lift = result.conversion_lift
    s.endorsements = result.endorsements
    s.kol_domestic, s.kol_foreign = result.genuine_domestic, result.genuine_foreign
    s.kol_total = result.exposure
    s.kol_fees_by_kol, s.kol_fees_by_merchant = result.fees_by_kol, result.fees_by_merchant
    s.kol_campaign_spend = result.campaign_spend
    week.stage(
        "kols",
        credibility=result.credibility,
        posted=posts.posted,
        sponsored=posts.any_sponsored,
        disclosed=posts.any_disclosed,
        endorsed_merchant=posts.endorsed_merchant,
    )
    if result.followers is not None:
        week.stage("kols", followers=result.followers, follower_count=result.follower_count)


@phase(
    "lapse",
    reads="consumers.aware consumers.satisfied_from consumers.bad_memory consumers.payment "
    "consumers.risk_extra consumers.cheated_from",
    produces="forgets stops_paying",
)
def lapse_phase(week: Week) -> None:
    """Who lapses this week: forgets mobile shopping, or stops paying (mechanisms/lapse.py)."""
    c, s = week.consumers, week.signals
    s.forgets, s.stops_paying = lapse.lapse_week(
        week.scenario,
        week.rng,
        aware=c.aware,
        satisfied_from=c.satisfied_from,
        bad_memory=c.bad_memory,
        payment=c.payment,
        risk_extra=c.risk_extra,
        cheated_from=c.cheated_from,
    )


@phase(
    "word_of_mouth",
    reads="consumers.aware consumers.newly_aware consumers.satisfied_from "
    "consumers.cheated_from consumers.defrauded consumers.threshold consumers.region "
    "consumers.last_order_merchant",
    uses="marketing_awareness kol_total forgets",
    produces="becomes_aware recommendations_domestic recommendations_foreign "
    "warnings_domestic warnings_foreign fraud_news warned_merchant",
    writes="consumers.aware consumers.newly_aware",
)
def word_of_mouth_phase(week: Week) -> None:
    """Awareness along ties, marketing and KOLs, minus lapses; last week's word of mouth.

    (mechanisms/word_of_mouth.py.)
    """
    sc, s, c = week.scenario, week.signals, week.consumers
    result = word_of_mouth.word_of_mouth_week(
        sc.word_of_mouth,
        week.graph,
        week.rng,
        aware=c.aware,
        newly_aware=c.newly_aware,
        satisfied_from=c.satisfied_from,
        cheated_from=c.cheated_from,
        defrauded=c.defrauded,
        threshold=c.threshold,
        region=c.region,
        last_order_merchant=c.last_order_merchant,
        forgets=s.forgets,
        marketing_awareness=s.marketing_awareness,
        kol_exposure=s.kol_total,
        kol_awareness_gain=sc.kols.awareness_gain,
        country=trust.country_codes(sc),
    )
    s.becomes_aware = result.becomes_aware
    s.recommendations_domestic = result.recommendations_domestic
    s.recommendations_foreign = result.recommendations_foreign
    s.warnings_domestic, s.warnings_foreign = result.warnings_domestic, result.warnings_foreign
    s.fraud_news, s.warned_merchant = result.fraud_news, result.warned_merchant
    week.stage("consumers", newly_aware=result.becomes_aware, aware=result.aware)


@phase(
    "payment",
    reads="consumers.payment consumers.risk_extra consumers.region "
    "consumers.payment_propensity consumers.satisfied_from "
    "merchants.accepts_mobile_payment merchants.adopted merchants.region",
    uses="params has_access stops_paying",
    produces="risk victims pays",
)
def payment_phase(week: Week) -> None:
    """Mobile payment adoption, fraud, abandonment and lapse (mechanisms/payment.py)."""
    s, c, m = week.signals, week.consumers, week.merchants
    result = payment.payment_week(
        week.scenario.payment,
        s.params,
        week.graph,
        week.rng,
        payment=c.payment,
        risk_extra=c.risk_extra,
        satisfied_from=c.satisfied_from,
        propensity=c.payment_propensity,
        region=c.region,
        has_access=s.has_access,
        stops_paying=s.stops_paying,
        accepts=m.accepts_mobile_payment,
        adopted=m.adopted,
        merchant_region=m.region,
        n_regions=week.n_regions,
    )
    s.risk, s.victims, s.pays = result.risk, result.victims, result.pays


@phase(
    "platform",
    reads="platforms.member platforms.wallet platforms.group platforms.follows platforms.store "
    "platforms.store_verified platforms.qr_paid merchants.adopted merchants.active "
    "consumers.satisfied_from consumers.last_order_merchant consumers.aware",
    uses="params has_access",
    produces="platform_week",
)
def platform_phase(week: Week) -> None:
    """The super-app's content of the week: posts, friends' shares, group-buying offers.

    (mechanisms/platform.py, mechanisms/group_buying.py.) None, and no draws, without a
    ``platforms:`` section.
    """  # noqa: D401 (the first line is this phase's row in docs/architecture.md)
    sc, s, pl, m, c = week.scenario, week.signals, week.platforms, week.merchants, week.consumers
    if sc.platforms is None:
        s.platform_week = None
        return
    s.platform_week = platform.content(
        sc.platforms,
        s.params.platform,
        week.rng,
        week.graph,
        member=pl.member,
        wallet=pl.wallet,
        group=pl.group,
        follows=pl.follows,
        store=pl.store,
        store_verified=pl.store_verified,
        qr_paid=pl.qr_paid,
        selling=m.adopted & m.active,
        has_access=s.has_access & c.aware,
        satisfied=c.satisfied_from >= 0,
        last_order_merchant=c.last_order_merchant,
    )


@phase(
    "ordering",
    reads="consumers.aware consumers.bad_memory consumers.region consumers.trust_domestic "
    "consumers.trust_foreign consumers.purchase_frequency consumers.spending "
    "merchants.price merchants.reputation merchants.verified merchants.adopted "
    "merchants.active merchants.region merchants.accepts_mobile_payment "
    "platforms.qr_acceptance consumers.mobile_habit",
    uses="params has_access visibility conversion_lift pays risk platform_week "
    "kol_total marketing_lift warned_merchant endorsements",
    produces="orders",
)
def ordering_phase(week: Week) -> None:
    """The weekly shopping choice: need, outside options, mobile sellers (mechanisms/ordering.py).

    Only aware, connected consumers past the trust gate who pay by mobile or adopt it at
    checkout can order by mobile.
    """  # noqa: D401 (the first line is this phase's row in docs/architecture.md)
    s, c, m = week.signals, week.consumers, week.merchants
    s.orders = ordering.week_orders(
        week.scenario,
        s.params,
        week.rng,
        price_level=week.price_level,
        consumer_region=c.region,
        purchase_frequency=c.purchase_frequency,
        spending=c.spending,
        aware=c.aware,
        has_access=s.has_access,
        trust_domestic=c.trust_domestic,
        trust_foreign=c.trust_foreign,
        bad_memory=c.bad_memory,
        pays=s.pays,
        risk=s.risk,
        conversion_lift=s.conversion_lift,
        warned_merchant=s.warned_merchant,
        price=m.price,
        reputation=m.reputation,
        verified=m.verified,
        visibility=s.visibility,
        selling=m.adopted & m.active,
        merchant_region=m.region,
        platform_week=s.platform_week,
        kol_exposure=s.kol_total,
        marketing_lift=s.marketing_lift,
        accepts=m.accepts_mobile_payment,
        qr_acceptance=(
            week.platforms.qr_acceptance if week.scenario.platforms is not None else None
        ),
        habit=c.mobile_habit,
        endorsements=s.endorsements,
    )


@phase(
    "fulfilment",
    reads="merchants.integrity merchants.verified merchants.region consumers.region",
    uses="params orders",
    produces="fulfilment",
)
def fulfilment_phase(week: Week) -> None:
    """Genuine or counterfeit, detection, fines (mechanisms/fulfilment.py)."""
    s, m = week.signals, week.merchants
    s.fulfilment = fulfilment.fulfil(
        week.scenario.merchants,
        week.rng,
        s.orders.merchant,
        s.orders.goods_value,
        m.integrity,
        m.verified,
        s.params.detection_probability[m.region],  # per merchant: its region's
        s.orders.consumer,
        week.consumers.region.size,
    )


@phase(
    "trust",
    reads="consumers.region consumers.trust_domestic consumers.trust_foreign "
    "consumers.bad_memory consumers.risk_extra merchants.region",
    uses="orders fulfilment victims recommendations_domestic recommendations_foreign "
    "warnings_domestic warnings_foreign kol_domestic kol_foreign fraud_news",
    produces="satisfied_from cheated_from",
    writes="consumers.trust_domestic consumers.trust_foreign consumers.bad_memory "
    "consumers.risk_extra",
)
def trust_phase(week: Week) -> None:
    """Trust from experience, people one knows and credible KOLs; losses from harm.

    (mechanisms/trust.py: also the memory of counterfeits and the payment risk.)
    """
    s, c = week.signals, week.consumers
    result = trust.trust_week(
        week.scenario,
        week.rng,
        region=c.region,
        trust_domestic=c.trust_domestic,
        trust_foreign=c.trust_foreign,
        bad_memory=c.bad_memory,
        risk_extra=c.risk_extra,
        merchant_region=week.merchants.region,
        buyers=s.orders.consumer,
        sellers=s.orders.merchant,
        outcome=s.fulfilment,
        victims=s.victims,
        recommendations=(s.recommendations_domestic, s.recommendations_foreign),
        warnings=(s.warnings_domestic, s.warnings_foreign),
        kol=(s.kol_domestic, s.kol_foreign),
        fraud_news=s.fraud_news,
    )
    s.satisfied_from, s.cheated_from = result.satisfied_from, result.cheated_from
    week.stage(
        "consumers",
        trust_domestic=result.trust_domestic,
        trust_foreign=result.trust_foreign,
        bad_memory=result.bad_memory,
        risk_extra=result.risk_extra,
    )


@phase(
    "platform_ties",
    reads="platforms.member platforms.wallet platforms.follows platforms.store "
    "platforms.store_verified platforms.delisted platforms.qr_paid_ever platforms.channel_orders "
    "platforms.channel_value platforms.merchant_records platforms.last merchants.integrity "
    "merchants.adopted merchants.active merchants.entry_week merchants.region consumers.region",
    uses="has_access pays orders fulfilment platform_week",
    writes="platforms.member platforms.wallet platforms.store platforms.store_verified "
    "platforms.delisted platforms.follows platforms.qr_paid platforms.qr_paid_ever "
    "platforms.channel_orders platforms.channel_value platforms.merchant_records platforms.last",
)
def platform_ties_phase(week: Week) -> None:
    """After the week's sales: platform users, stores, checks, follow ties, channel totals.

    (mechanisms/platform.py.) Nothing without a ``platforms:`` section.
    """
    sc, s, pl, m = week.scenario, week.signals, week.platforms, week.merchants
    if sc.platforms is None:
        return
    ties = platform.after_sales(
        sc.platforms,
        week.graph,
        week.rng,
        t=week.t,  # the step this week becomes (Mesa counts the step first)
        n_regions=week.n_regions,
        member=pl.member,
        wallet=pl.wallet,
        follows=pl.follows,
        store=pl.store,
        store_verified=pl.store_verified,
        delisted=pl.delisted,
        delisted_so_far=int(pl.last.get("stores_delisted", 0)),
        qr_paid_ever=pl.qr_paid_ever,
        channel_orders=pl.channel_orders,
        channel_value=pl.channel_value,
        merchant_records=pl.merchant_records,
        integrity=m.integrity,
        adopted=m.adopted,
        active=m.active,
        entry_week=m.entry_week,
        merchant_region=m.region,
        consumer_region=week.consumers.region,
        has_access=s.has_access,
        pays=s.pays,
        orders=s.orders,
        outcome=s.fulfilment,
        week=s.platform_week,
    )
    week.stage("platforms", **vars(ties))


@phase(
    "acceptance",
    reads="consumers.region merchants.accepts_mobile_payment merchants.adopted merchants.region "
    "merchants.active platforms.wallet platforms.qr_acceptance",
    uses="orders pays",
    writes="merchants.accepts_mobile_payment platforms.qr_acceptance",
)
def acceptance_phase(week: Week) -> None:
    """Merchants decide whether to accept mobile payment; offline retailers, QR codes.

    (mechanisms/acceptance.py; mechanisms/o2o.py, only with a ``platforms:`` section.)
    A merchant no longer in business accepts nothing (its slot may be retaken by an
    entrant, who starts without acceptance).
    """
    sc, s, m = week.scenario, week.signals, week.merchants
    if sc.platforms is not None:  # offline retailers' QR codes (no draws)
        pl = week.platforms
        week.stage(
            "platforms",
            qr_acceptance=o2o.qr_acceptance_week(
                sc.platforms.o2o,
                pl.qr_acceptance,
                user=(pl.wallet, pl.wallet),
                pays=s.pays,
                region=week.consumers.region,
            ),
        )
    if m.n == 0 or sc.population.merchants == 0:
        return
    if sc.payment.acceptance_rate <= 0.0:  # no revisions: only the closed stop accepting
        if (m.accepts_mobile_payment & ~m.active).any():
            week.stage("merchants", accepts_mobile_payment=m.accepts_mobile_payment & m.active)
        return
    accepts = acceptance.acceptance_week(
        sc.payment,
        week.rng,
        accepts=m.accepts_mobile_payment,
        adopted=m.adopted,
        merchant_region=m.region,
        consumer_region=week.consumers.region,
        pays=s.pays,
        order_consumer=s.orders.consumer,
        order_merchant=s.orders.merchant,
        n_regions=week.n_regions,
    )
    week.stage("merchants", accepts_mobile_payment=accepts & m.active)


@phase(
    "merchants",
    reads="merchants.integrity merchants.reputation merchants.region merchants.price "
    "merchants.adopted merchants.active merchants.exited merchants.verified "
    "merchants.penalties merchants.profit merchants.mobile_margin merchants.adoption_week "
    "merchants.entry_week",
    uses="params orders fulfilment visibility marketing_spend_by_merchant "
    "kol_fees_by_merchant",
    produces="merchant_week",
    writes="merchants.integrity merchants.reputation merchants.revenue merchants.sales "
    "merchants.counterfeits merchants.penalties merchants.visibility merchants.adopted "
    "merchants.verified merchants.active merchants.exited merchants.region merchants.price "
    "merchants.profit merchants.mobile_margin merchants.adoption_week merchants.entry_week",
)
def merchants_phase(week: Week) -> None:
    """Merchants after the week's sales: profit, integrity, reputation, adoption, exit, entry.

    (mechanisms/merchant_adoption.py, mechanisms/fulfilment.py.)
    """
    s, m = week.signals, week.merchants
    s.merchant_week, update = merchant_adoption.after_sales(
        week.scenario,
        s.params,
        week.rng,
        price_level=week.price_level,
        integrity=m.integrity,
        reputation=m.reputation,
        region=m.region,
        price=m.price,
        adopted=m.adopted,
        active=m.active,
        exited=m.exited,
        verified=m.verified,
        penalties=m.penalties,
        profit=m.profit,
        mobile_margin=m.mobile_margin,
        adoption_week=m.adoption_week,
        entry_week=m.entry_week,
        t=week.t,
        orders=s.orders,
        outcome=s.fulfilment,
        visibility=s.visibility,
        marketing_spend=s.marketing_spend_by_merchant,
        kol_fees=s.kol_fees_by_merchant,
    )
    week.stage("merchants", **vars(update))


@phase(
    "consumer_records",
    reads="consumers.has_ordered consumers.has_ordered_cross_border consumers.last_order_week "
    "consumers.mobile_habit",
    uses="orders pays satisfied_from cheated_from victims",
    writes="consumers.payment consumers.has_ordered consumers.has_ordered_cross_border "
    "consumers.satisfied_from consumers.cheated_from consumers.defrauded "
    "consumers.last_order_merchant consumers.last_order_week consumers.mobile_habit",
)
def consumer_records_phase(week: Week) -> None:
    """Consumers' purchase records and payment after checkout.

    (mechanisms/ordering.py.) Also this week's experiences, for next week's word of mouth.
    """
    s, c = week.signals, week.consumers
    records = ordering.purchase_records(
        s.orders,
        week.t,
        pays=s.pays,
        has_ordered=c.has_ordered,
        has_ordered_cross_border=c.has_ordered_cross_border,
        last_order_week=c.last_order_week,
        mobile_habit=c.mobile_habit,
        habit_decay=week.scenario.ordering.habit_decay,
    )
    week.stage(
        "consumers",
        satisfied_from=s.satisfied_from,
        cheated_from=s.cheated_from,
        defrauded=s.victims,
        **vars(records),
    )


@phase(
    "accounts",
    reads="consumers.region consumers.spending merchants.region merchants.active "
    "merchants.adopted market.cumulative_policy_cost market.cumulative_net_fiscal_cost",
    uses="params orders fulfilment victims pays has_access connected_by_policy merchant_week "
    "channel_subsidy_spend kol_campaign_spend marketing_spend_by_merchant kol_fees_by_merchant",
    writes="market.last market.cumulative_policy_cost market.cumulative_net_fiscal_cost",
)
def accounts_phase(week: Week) -> None:
    """Book every payment of the week and the policy costs (mechanisms/accounts.py)."""
    s, c, m = week.signals, week.consumers, week.merchants
    counters = accounts.week_accounts(
        week.scenario,
        s.params,
        week.n_regions,
        consumer_region=c.region,
        spending=c.spending,
        merchant_region=m.region,
        active=m.active,
        adopted=m.adopted,
        n_kols=week.kols.n,
        orders=s.orders,
        outcome=s.fulfilment,
        merchant_week=s.merchant_week,
        victims=s.victims,
        pays=s.pays,
        has_access=s.has_access,
        connected_by_policy=s.connected_by_policy,
        channel_subsidy_spend=s.channel_subsidy_spend,
        kol_campaign_spend=s.kol_campaign_spend,
        marketing_spend=s.marketing_spend_by_merchant,
        kol_fees=s.kol_fees_by_merchant,
    )
    week.stage(
        "market",
        last=counters,
        cumulative_policy_cost=week.market.cumulative_policy_cost + counters.policy_cost,
        cumulative_net_fiscal_cost=week.market.cumulative_net_fiscal_cost
        + counters.net_fiscal_cost,
    )


PHASES: tuple[Phase, ...] = (
    policy_phase,
    access_phase,
    marketing_phase,
    kol_posts_phase,
    lapse_phase,
    word_of_mouth_phase,
    payment_phase,
    platform_phase,
    ordering_phase,
    fulfilment_phase,
    trust_phase,
    platform_ties_phase,
    acceptance_phase,
    merchants_phase,
    consumer_records_phase,
    accounts_phase,
)
"""The week, in order. Data collection (model/metrics.py) follows the commit."""

check_sequence(PHASES)


def phase_table() -> str:
    """Return the phases as a Markdown table (docs/architecture.md embeds it; a test checks)."""
    return markdown_table(PHASES)
