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
    acceptance,
    access,
    accounts,
    attribution,
    fulfilment,
    kol,
    lapse,
    marketing,
    merchant_adoption,
    ordering,
    payment,
    platform,
    trust,
    word_of_mouth,
)
from model.mechanisms.merchant_adoption import MerchantWeek
from model.state import StepCounters, beta_around
from model.week import Phase, Week, check_sequence


def policy_phase(week: Week) -> None:
    """Ask the policy timeline for the week's effective parameters (model/policy.py).

    Produces ``params``: mobile access shares, fraud rate, channel budgets, trade
    frictions, coupon level, ... after every lever acting this week.
    """
    week.signals.params = week.schedule.at(week.t)


def access_phase(week: Week) -> None:
    """Who has usable mobile access this week (mechanisms/access.py).

    Produces ``has_access`` (per consumer), ``connected`` (consumers with access per
    region) and ``connected_by_policy`` (consumers newly connected this week above the
    access they would have without the infrastructure lever). With consumer attributes,
    who in a region is connected depends on the consumer's group (urban/rural, income,
    age; model/population.py).
    """
    c, s, p = week.consumers, week.signals, week.signals.params
    has_access = access.consumer_access(
        week.scenario, c.access_draw, c.region, c.attribute_group, p.mobile_access
    )
    s.has_access = has_access
    s.connected = np.bincount(c.region[has_access], minlength=week.n_regions)
    # consumers connected this week only thanks to the infrastructure lever (its cost)
    was_connected = c.has_access
    if p.levels["infrastructure"] > 0:
        natural = access.consumer_access(
            week.scenario, c.access_draw, c.region, c.attribute_group, p.natural_mobile_access
        )
        s.connected_by_policy = int((has_access & ~was_connected & ~natural).sum())
    else:
        s.connected_by_policy = 0
    week.stage("consumers", has_access=has_access)


def marketing_phase(week: Week) -> None:
    """Merchants' channel spend, reach and effects per channel (mechanisms/marketing.py).

    Produces ``marketing_awareness`` (per consumer chance of becoming aware),
    ``marketing_lift`` (per consumer conversion multiplier), ``visibility`` (per
    merchant, from its own spend plus the channel subsidies), ``merchant_kol_budget``
    and ``campaign_budget`` (money for KOL posts), and the money signals
    ``marketing_spend_by_merchant`` (own spend on the other channels) and
    ``channel_subsidy_spend`` (per channel, the state's subsidy spent).
    """
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
    )
    s.marketing_awareness, s.marketing_lift = result.awareness, result.lift
    s.visibility = result.visibility
    s.merchant_kol_budget, s.campaign_budget = result.own_kol_budget, result.campaign_budget
    s.marketing_spend_by_merchant = result.own_spend
    s.channel_subsidy_spend = result.subsidy_spend


def kol_phase(week: Week) -> None:
    """KOL market: posts bought and posted, follower exposure, credibility, unfollowing.

    (mechanisms/kol.py.) Produces ``posts``, ``kol_domestic`` / ``kol_foreign``
    (exposure to genuine endorsements of own-region / other-region merchants: the part
    that builds trust), ``kol_total`` (all exposure), ``merchant_visibility`` (own
    channels plus endorsements), ``conversion_lift`` (channels times KOLs, >= 1), and
    the money: ``kol_fees_by_kol``, ``kol_fees_by_merchant`` (merchants' own purchases)
    and ``kol_campaign_spend`` (fees paid from the state's campaign). Stages the KOLs'
    credibility, last posts and, after unfollowing, their followers.
    """
    sc, s = week.scenario, week.signals
    m, k, c = week.merchants, week.kols, week.consumers
    spec = sc.kols
    # the KOL market draws a budget-dependent number of numbers: it takes them from its
    # own generator, seeded by one draw of the model's, so the model's stream (and the
    # pairing of common-random-number runs) does not shift with the budgets
    rng = np.random.default_rng(week.rng.integers(2**63)) if k.n else week.rng
    integrity_now = fulfilment.effective_integrity(sc.merchants, m.integrity, m.verified)
    follower_degree = (
        kol.followers_mean_degree(k.followers, week.graph.degree)
        if spec.campaign_targeting == "well_connected" and k.n
        else None
    )
    posts = kol.kol_market(
        spec=spec,
        credibility=k.credibility,
        kol_region=k.region,
        follower_count=k.follower_count,
        follower_degree=follower_degree,
        merchant_region=m.region,
        adopted=m.adopted,
        merchant_kol_budget=s.merchant_kol_budget,
        campaign_budget=s.campaign_budget,
        disclosure=s.params.disclosure,
        merchant_integrity=integrity_now,
        rng=rng,
    )
    exposure, genuine = kol.follower_exposure(k.followers, posts, m.region, week.n_regions)
    s.merchant_visibility = s.visibility + kol.endorsement_visibility(
        k.follower_count, posts, m.n
    )
    all_dom, all_for = trust.split_by_home(exposure, c.region)
    s.kol_total = all_dom + all_for
    s.kol_domestic, s.kol_foreign = trust.split_by_home(genuine, c.region)
    s.posts = posts
    s.conversion_lift = s.marketing_lift * (1.0 + spec.purchase_lift * -np.expm1(-s.kol_total))
    s.kol_fees_by_kol = np.bincount(posts.kol, weights=posts.fee, minlength=k.n)
    merchant_paid = posts.sponsored & ~posts.campaign
    s.kol_fees_by_merchant = np.bincount(
        posts.merchant[merchant_paid], weights=posts.fee[merchant_paid], minlength=m.n
    )
    s.kol_campaign_spend = float(posts.fee[posts.campaign].sum())
    followers = kol.unfollow(spec, k.followers, k.credibility, rng)
    extra = {}
    if followers is not None:
        extra = dict(
            followers=followers, follower_count=np.diff(followers.indptr).astype(np.int32)
        )
    week.stage(
        "kols",
        credibility=kol.update_credibility(spec, k.credibility, posts),
        posted=posts.posted,
        sponsored=posts.any_sponsored,
        disclosed=posts.any_disclosed,
        endorsed_merchant=posts.endorsed_merchant,
        **extra,
    )


def lapse_phase(week: Week) -> None:
    """Who lapses this week: forgets mobile shopping, or stops paying (mechanisms/lapse.py).

    Produces ``forgets`` (aware consumers who become unaware; staged by the
    word-of-mouth phase) and ``stops_paying`` (payers who stop; carried by the payment
    phase's ``pays``). Nobody lapses in a model without merchants.
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    c = week.consumers
    wom, n = sc.word_of_mouth, c.n
    if sc.population.merchants == 0:
        s.forgets = s.stops_paying = np.zeros(n, dtype=bool)
        return
    s.forgets = lapse.forgetting(
        wom.forget_rate, wom.lapse_after_harm, c.aware, c.satisfied_from >= 0, c.bad_memory, rng
    )
    s.stops_paying = lapse.stopping_payment(sc.payment.lapse_rate, c.payment, c.risk_extra, rng)


def word_of_mouth_phase(week: Week) -> None:
    """Awareness along ties, marketing and KOLs, minus lapses; last week's word of mouth.

    (mechanisms/word_of_mouth.py.) Produces ``becomes_aware``, and the neighbour counts
    ``recommendations_domestic`` / ``_foreign`` (neighbours satisfied last week by
    sellers of the consumer's own / other regions), ``warnings_domestic`` /
    ``_foreign`` (cheated), ``fraud_news`` (neighbours defrauded) and
    ``warned_merchant`` (a merchant a cheated neighbour bought a fake from, -1 none).
    Stages awareness.
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
    kol_each = 1.0 - np.exp(-sc.kols.awareness_gain * s.kol_total)
    aware_p = 1.0 - (1.0 - wom_p) * (1.0 - s.marketing_awareness) * (1.0 - kol_each)
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
    s.warned_merchant = word_of_mouth.merchant_warnings(
        graph, c.cheated_from >= 0, c.last_order_merchant
    )
    week.stage(
        "consumers", newly_aware=becomes_aware, aware=(c.aware & ~s.forgets) | becomes_aware
    )


def payment_phase(week: Week) -> None:
    """Mobile payment adoption, fraud, abandonment and lapse (mechanisms/payment.py).

    Adoption is faster where more merchants accept mobile payment
    (mechanisms/acceptance.py) and scales with the consumer's ``payment_propensity``
    (model/population.py). Produces ``risk`` (perceived payment risk per
    consumer), ``victims`` (defrauded this week) and ``pays`` (pays by mobile before
    checkout adoption: adopters in, abandoning victims and lapsing payers out).
    """
    sc, s, rng, graph = week.scenario, week.signals, week.rng, week.graph
    c, m = week.consumers, week.merchants
    n, degree = c.n, graph.degree
    p = s.params
    risk = payment.perceived_risk(p.perceived_risk, c.risk_extra)
    if graph.fully_mixed:
        peer_share = np.full(n, float(c.payment.mean()))
    else:
        paying_neighbours = graph.neighbour_counts(c.payment, track="payment").astype(np.float32)
        peer_share = np.where(degree > 0, paying_neighbours / np.maximum(degree, 1), 0.0)
    adopt_p = payment.adoption_probability(sc.payment, p.rigid_demand_rate, peer_share, risk)
    adopt_p = adopt_p * c.payment_propensity  # consumer attributes (model/population.py; 1 without)
    if sc.payment.acceptance_weight > 0.0 and m.n:
        share = acceptance.acceptance_share(
            m.accepts_mobile_payment, m.adopted, m.region, week.n_regions
        )
        adopt_p = adopt_p * acceptance.adoption_factor(sc.payment.acceptance_weight, share)[
            c.region
        ]
    adopts = s.has_access & ~c.payment & (rng.random(n) < adopt_p)
    victims = payment.fraud_victims(c.payment, p.fraud_rate, rng)
    abandons = victims & (rng.random(n) < sc.payment.abandon_after_fraud)
    s.risk, s.victims = risk, victims
    s.pays = (c.payment | adopts) & ~abandons & ~s.stops_paying


def platform_phase(week: Week) -> None:
    """The super-app's content of the week: posts, friends' shares, group-buying offers.

    (mechanisms/platform.py, mechanisms/group_buying.py.) Produces ``platform_week`` (what
    each consumer sees on the platform: the followed store it may buy again from, posts,
    a friend's or group share, a group-buying deal; the week's platform parameters after
    the platform levers), or None without a ``platforms:`` section (no draws then).
    """  # noqa: D401 (the first line is this phase's row in docs/architecture.md)
    sc, s, pl, m, c = week.scenario, week.signals, week.platforms, week.merchants, week.consumers
    user, group, follows = pl.user, pl.group, pl.follows
    store, store_verified, qr_paid = pl.store, pl.store_verified, pl.qr_paid
    adopted, active = m.adopted, m.active
    satisfied, last_merchant, aware = c.satisfied_from, c.last_order_merchant, c.aware
    if sc.platforms is None:
        s.platform_week = None
        return
    params = platform.effective(sc.platforms, s.params.levels)
    s.platform_week = platform.content(
        sc.platforms,
        params,
        week.rng,
        week.graph,
        user=user,
        group=group,
        follows=follows,
        store=store,
        store_verified=store_verified,
        qr_paid=qr_paid,
        selling=adopted & active,
        has_access=s.has_access & aware,
        satisfied=satisfied >= 0,
        last_order_merchant=last_merchant,
    )


def _marketing_touch(week: Week) -> np.ndarray:
    """Per consumer, the marketing channel code that led it to buy (-1: none); platforms only.

    A consumer counts as led by marketing with chance ``(lift - 1) / lift`` (the part of
    its purchase propensity the channels add: the attributable fraction); the channel
    is drawn in proportion to each channel's spend x reach x conversion effect.
    """
    sc, s = week.scenario, week.signals
    lift = s.marketing_lift
    led = week.rng.random(lift.size) < (lift - 1.0) / np.maximum(lift, 1.0)
    reached = np.flatnonzero(led)
    out = np.full(lift.size, -1, dtype=np.int8)
    names = {"mobile_search": "search", "app_market": "app_market", "qr_o2o": "qr_o2o",
             "short_video": "short_video"}
    weights, codes = [], []
    for name, label in names.items():
        ch = sc.marketing.channels.get(name)
        if ch is None:
            continue
        weights.append(
            s.params.channel_budget.get(name, 0.0) * ch.reach_per_unit * ch.conversion_lift
        )
        codes.append(attribution.CODE[label])
    total = float(sum(weights))
    if reached.size and total > 0:
        cdf = np.cumsum(weights) / total
        pick = np.minimum(
            np.searchsorted(cdf, week.rng.random(reached.size), side="right"), len(codes) - 1
        )
        out[reached] = np.array(codes, dtype=np.int8)[pick]
    return out


def ordering_phase(week: Week) -> None:
    """The weekly shopping choice: need, outside options, mobile sellers (mechanisms/ordering.py).

    Each consumer with a shopping need chooses not to buy, to buy offline or through a
    traditional import, or to order by mobile from a region's sellers (only if aware,
    connected, trusting and paying). Produces ``orders`` (an ``ordering.Orders``).
    """  # noqa: D401 (the first line is this phase's row in docs/architecture.md)
    sc, s, rng = week.scenario, week.signals, week.rng
    c, m = week.consumers, week.merchants
    n, p, spec = c.n, s.params, sc.ordering
    need_p = spec.occasion_rate * c.purchase_frequency
    needs = np.flatnonzero(rng.random(n) < need_p)
    choice = None
    if sc.platforms is not None:  # joining a successful group-buying offer is a need
        pw = s.platform_week
        needs = np.union1d(needs, np.flatnonzero(pw.group_buy.deal_merchant >= 0))
        choice = ordering.PlatformChoice(
            spec=sc.platforms,
            week=pw,
            kol_touch=s.kol_total > 0,
            marketing_channel=_marketing_touch(week),
        )
    if not needs.size:
        s.orders = ordering.no_orders(week.n_regions)
        return
    tables = ordering.seller_tables(
        spec,
        price=m.price,
        reputation=m.reputation,
        verified=m.verified,
        visibility=s.merchant_visibility,
        selling=m.adopted & m.active,
        merchant_region=m.region,
        n_regions=week.n_regions,
        coupon=p.coupon,
        logistics_cost=p.logistics_cost,
        tariff=p.tariff,
    )
    s.orders = ordering.choose(
        spec,
        rng,
        consumer_region=c.region,
        needs=needs,
        basket=spec.mean_order_value * c.spending,
        mobile_ok=c.aware & s.has_access,
        trust_domestic=c.trust_domestic,
        trust_foreign=c.trust_foreign,
        threshold=sc.trust.purchase_threshold,
        pays=s.pays,
        risk=s.risk,
        checkout_adoption=sc.payment.checkout_adoption,
        lift=s.conversion_lift,
        memory=c.bad_memory,
        tables=tables,
        price_level=week.price_level,
        delivery_days=p.delivery_days,
        logistics_cost=p.logistics_cost,
        tariff=p.tariff,
        cross_border=p.cross_border,
        coupon=p.coupon,
        reliability=p.reliability,
        merchant_price=m.price,
        merchant_region=m.region,
        platform=choice,
        warned_merchant=s.warned_merchant,
    )


def fulfilment_phase(week: Week) -> None:
    """Genuine or counterfeit, detection, fines (mechanisms/fulfilment.py).

    Produces ``fulfilment`` (a ``fulfilment.Fulfilment``: per order genuine/detected,
    per merchant sales, counterfeits, goods revenue, fines).
    """
    sc, s = week.scenario, week.signals
    m, orders = week.merchants, s.orders
    s.fulfilment = fulfilment.fulfil(
        sc.merchants,
        week.rng,
        orders.merchant,
        orders.goods_value,
        m.integrity,
        m.verified,
        s.params.detection_probability,
    )


def trust_phase(week: Week) -> None:
    """Trust from experience, people one knows and credible KOLs; losses from harm.

    (mechanisms/trust.py.) Also the memory of counterfeits and the personal payment
    risk. Each harmful event acts once per party (mechanisms/trust.py, "One event,
    its effects"): a counterfeit lowers the buyer's trust in the seller's region and adds
    to its bad memory; payment fraud raises the victim's payment risk (not its trust in
    sellers, who did not cause it); a privacy leak lowers trust. Produces
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
    shock = leak.astype(np.float32)
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
    bad_event = cheated_from >= 0
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


def platform_ties_phase(week: Week) -> None:
    """After the week's sales: platform users, stores, checks, follow ties, channel totals.

    (mechanisms/platform.py.) Users join platforms over the graph; adopting merchants
    open stores (less often when the fee is high); platforms check stores' real names
    and delist those failing; buyers follow stores after genuine in-app purchases
    (or a nearby store after paying by QR offline) and unfollow after a counterfeit or
    too many posts; each merchant's orders by channel are added up. Stages the
    platform state, with the week's platform counts in ``platforms.last``. Nothing
    without a ``platforms:`` section.
    """
    sc, s, rng, pl = week.scenario, week.signals, week.rng, week.platforms
    m, c = week.merchants, week.consumers
    user, follows, store, verified = pl.user, pl.follows, pl.store, pl.store_verified
    delisted, qr_ever = pl.delisted, pl.qr_paid_ever
    channel_orders, channel_value, records = (
        pl.channel_orders,
        pl.channel_value,
        pl.merchant_records,
    )
    integrity, adopted, active, m_region, c_region = (
        m.integrity, m.adopted, m.active, m.region, c.region
    )
    spec = sc.platforms
    if spec is None:
        return
    pw, orders, outcome = s.platform_week, s.orders, s.fulfilment
    params = pw.params
    new_user = platform.adopt_platforms(spec, week.graph, user, s.has_access, rng)
    opened = platform.open_stores(spec, params, store, delisted, adopted, active, user, rng)
    new_store, new_verified, fails = platform.verify_stores(
        spec, params, opened, verified, integrity, rng
    )
    # follow ties: after genuine in-app purchases, after QR payments offline
    channel = orders.channel if orders.channel is not None else np.zeros(0, np.int8)
    buyer_user = user[orders.consumer].astype(np.int64)
    bought_store = pw.store[orders.merchant].astype(np.int64)
    genuine = outcome.genuine
    code = attribution.CODE
    shared = np.isin(channel, (code["friend_share"], code["group"]))
    ad = np.isin(channel, (code["kol_post"], code["short_video"], code["app_market"]))
    chance = np.select(
        [shared, ad], [spec.follows.after_share, spec.follows.after_ad], spec.follows.after_purchase
    )
    follow = genuine & (buyer_user >= 0) & (bought_store >= 0) & (rng.random(channel.size) < chance)
    new_c, new_m = orders.consumer[follow], orders.merchant[follow]
    qr = orders.qr
    if qr is not None and qr.payer.size:
        listed = np.flatnonzero(pw.store >= 0)
        scan = qr.payer[rng.random(qr.payer.size) < spec.follows.after_qr_scan]
        if listed.size and scan.size:
            by_region = listed[np.argsort(m_region[listed], kind="stable")]
            counts = np.bincount(m_region[listed], minlength=week.n_regions)
            start = np.concatenate([[0], np.cumsum(counts)[:-1]])
            home = c_region[scan].astype(np.int64)
            has = counts[home] > 0
            scan, home = scan[has], home[has]
            pick = start[home] + (rng.random(scan.size) * counts[home]).astype(np.int64)
            first = ~np.isin(scan, new_c)
            new_c = np.concatenate([new_c, scan[first]])
            new_m = np.concatenate([new_m, by_region[pick][first]])
    new_c, first = np.unique(new_c, return_index=True)
    new_m = new_m[first]
    cheated = ~genuine
    new_follows = platform.follow_updates(
        spec, rng, follows, pw.posts, new_c, new_m,
        orders.consumer[cheated], orders.merchant[cheated], fails,
    )
    # channel totals per merchant
    week_orders, week_value = attribution.merchant_channel_counts(
        orders.merchant, channel, orders.goods_value, m.n
    )
    totals_orders = channel_orders + week_orders
    totals_value = channel_value + week_value
    every = spec.record_merchants_every
    if every and week.t % every == 0:  # week.t: the step this week becomes (Mesa counts first)
        records = (*records, (week.t, totals_orders.copy(), totals_value.copy()))
    qr_paid = np.zeros(user.size, dtype=bool)
    qr_value = 0.0
    if qr is not None:
        qr_paid[qr.payer] = True
        qr_value = float(qr.value.sum())
    by_channel = attribution.by_channel(channel)
    ordered = np.zeros(user.size, dtype=bool)
    ordered[orders.consumer] = True
    users = user >= 0
    ties = (new_follows >= 0).sum(axis=1)
    gb = pw.group_buy
    last = {
        "orders": int(channel.size),
        "users": float(users.mean()) if users.size else 0.0,
        "follows_per_user": float(ties[users].mean()) if users.any() else 0.0,
        "orders_by_channel": by_channel,
        "value_by_channel": attribution.by_channel(channel, orders.goods_value),
        "platform_orders": int(by_channel[attribution.PLATFORM_MASK].sum()),
        "intentions": int(pw.intention.sum()),
        "intention_purchases": int((pw.intention & ordered).sum()),
        "searches": orders.searches,
        "search_actions": orders.search_actions,
        "search_purchases": orders.search_purchases,
        "group_buy_offers": gb.offers,
        "group_buy_successes": gb.successes,
        "group_buy_buyers": gb.buyers,
        "offline_qr_payments": int(qr.payer.size) if qr is not None else 0,
        "offline_qr_value": qr_value,
        "qr_first_payments": int(qr.first_time.size) if qr is not None else 0,
        "cross_platform_failures": orders.cross_platform_failures,
        "platform_fees": (
            float(orders.platform_fee.sum()) if orders.platform_fee is not None else 0.0
        ),
        "qr_fees": qr_value * spec.o2o.qr_fee,
        "stores": int(((new_store >= 0) & active).sum()),
        "stores_verified": int((new_verified & (new_store >= 0) & active).sum()),
        "stores_delisted": int((delisted | fails).sum()),
        "stores_checked": int((new_verified & ~verified).sum() + fails.sum()),
    }
    week.stage(
        "platforms",
        user=new_user,
        store=new_store,
        store_verified=new_verified,
        delisted=delisted | fails,
        follows=new_follows,
        qr_paid=qr_paid,
        qr_paid_ever=qr_ever | qr_paid,
        channel_orders=totals_orders,
        channel_value=totals_value,
        merchant_records=records,
        last=last,
    )


def acceptance_phase(week: Week) -> None:
    """Merchants decide whether to accept mobile payment (mechanisms/acceptance.py).

    A merchant accepts when the sales it expects from its customers who already pay by
    mobile are worth the fee; it may also stop. Stages
    ``merchants.accepts_mobile_payment``.
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    c, m = week.consumers, week.merchants
    spec = sc.payment
    if m.n == 0 or sc.population.merchants == 0 or spec.acceptance_rate <= 0.0:
        return
    orders = s.orders
    residents = np.bincount(c.region, minlength=week.n_regions)
    payers = np.bincount(c.region[s.pays], minlength=week.n_regions)
    region_share = np.where(residents > 0, payers / np.maximum(residents, 1), 0.0)
    share = acceptance.customer_payment_share(
        orders.merchant, s.pays[orders.consumer], m.n, m.region, region_share
    )
    week.stage(
        "merchants",
        accepts_mobile_payment=acceptance.decide(
            m.accepts_mobile_payment,
            m.adopted,
            share,
            spec.acceptance_fee,
            spec.acceptance_gain,
            spec.acceptance_rate,
            rng,
        ),
    )


def merchant_phase(week: Week) -> None:
    """Merchants after the week's sales: profit, integrity, reputation, adoption, exit, entry.

    (mechanisms/fulfilment.py, mechanisms/merchant_adoption.py.) Profit is the week's
    goods revenue net of the cost of goods, marketing, KOL fees, fines, platform fees,
    the mobile channels' cost and fixed costs, plus the traditional margin; adoption weighs the
    channels' cost against adopters' margins; merchants losing money exit; entrants
    come where profits are high. Produces ``merchant_week`` (this week's per-merchant
    money and the counts of verifications, exits and entries).
    """
    sc, s, rng = week.scenario, week.signals, week.rng
    m, p, outcome = week.merchants, s.params, s.fulfilment
    acc, dyn = sc.accounts, sc.merchant_dynamics
    active, adopted = m.active, m.adopted
    channel_cost = acc.mobile_channel_cost + sc.marketing.budget_per_merchant
    integrity, reputation = fulfilment.update_merchants_after_sales(
        sc.merchants, m.integrity, m.reputation, outcome
    )
    revenue = outcome.revenue_by_merchant
    orders = s.orders
    platform_fees = (
        np.bincount(orders.merchant, weights=orders.platform_fee, minlength=m.n)
        if orders.platform_fee is not None
        else 0.0
    )
    mobile_margin_week = (
        revenue * (1.0 - acc.cost_of_goods_share)
        - s.marketing_spend_by_merchant
        - s.kol_fees_by_merchant
        - outcome.fines_by_merchant
        - platform_fees
        - np.where(adopted & active, acc.mobile_channel_cost, 0.0)
    )
    profit_week = np.where(
        active, mobile_margin_week + acc.traditional_margin - acc.fixed_cost, 0.0
    )
    profit = merchant_adoption.smoothed(m.profit, profit_week, dyn.profit_memory)
    mobile_margin = merchant_adoption.smoothed(
        m.mobile_margin, np.where(adopted, mobile_margin_week, 0.0), dyn.profit_memory
    )
    adopt_p = merchant_adoption.adoption_probability(
        sc.merchants,
        acc,
        p.promotion_rate,
        channel_cost,
        m.region,
        active,
        adopted,
        mobile_margin,
        week.n_regions,
    )
    draws = rng.random((3, m.n))
    new_adopted = adopted | (draws[0] < adopt_p)
    give_up = merchant_adoption.abandons(
        dyn, adopted, active, mobile_margin, channel_cost, draws[1]
    )
    leaving = merchant_adoption.exits(dyn, active, profit, draws[2])
    verified = fulfilment.verify(sc.merchants, m.verified, p.verification_rate, rng)
    newly_verified = int((verified & ~m.verified & active).sum())
    still = active & ~leaving
    new_adopted = new_adopted & ~give_up & still
    # entry into free slots (never used before) where profits are high
    region, price = m.region, m.price
    exited = m.exited | leaving
    free = np.flatnonzero(~active & ~m.exited)
    entrants = merchant_adoption.entrants_per_region(
        dyn, acc, m.region, still, profit, free.size, week.n_regions, rng
    )
    entered = int(entrants.sum())
    if entered:
        slots = free[:entered]
        new_region = np.repeat(np.arange(week.n_regions, dtype=region.dtype), entrants)
        region, price = region.copy(), price.copy()
        region[slots] = new_region
        spec = sc.merchants
        price[slots] = (
            week.price_level[new_region]
            * np.exp(rng.normal(0.0, spec.price_dispersion, size=entered))
        ).astype(price.dtype)
        integrity = integrity.copy()
        integrity[slots] = beta_around(
            spec.integrity_mean, spec.integrity_concentration, entered, rng
        )
        reputation = reputation.copy()
        reputation[slots] = spec.initial_reputation
        still = still.copy()
        still[slots] = True
        new_adopted[slots] = True
        verified = verified.copy()
        verified[slots] = False
        profit = profit.copy()
        profit[slots] = 0.0
        mobile_margin = mobile_margin.copy()
        mobile_margin[slots] = 0.0
    s.merchant_week = MerchantWeek(
        revenue=revenue,
        fines=outcome.fines_by_merchant,
        profit=profit_week,
        mobile_margin=mobile_margin_week,
        newly_verified=newly_verified,
        exits=int(leaving.sum()),
        entries=entered,
        abandonments=int(give_up.sum()),
    )
    week.stage(
        "merchants",
        integrity=integrity,
        reputation=reputation,
        revenue=revenue.astype(np.float32),
        sales=outcome.sales_by_merchant.astype(np.int32),
        counterfeits=outcome.counterfeits_by_merchant.astype(np.int32),
        penalties=(m.penalties + outcome.fines_by_merchant).astype(np.float32),
        visibility=s.merchant_visibility.astype(np.float32),
        adopted=new_adopted,
        verified=verified & (still | m.verified),
        active=still,
        exited=exited,
        region=region,
        price=price,
        profit=profit,
        mobile_margin=mobile_margin,
    )


def consumer_record_phase(week: Week) -> None:
    """Consumers' purchase records and payment after checkout.

    Stages who pays by mobile (including adoption at checkout), who has ever ordered
    (and across countries), the week of the last mobile order, last week's satisfied /
    cheated / defrauded signals that next week's word of mouth reads, and each
    consumer's last merchant.
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
    last_order_week = c.last_order_week.copy()
    last_order_week[orders.consumer] = week.t
    week.stage(
        "consumers",
        payment=pays,
        has_ordered=has_ordered,
        has_ordered_cross_border=has_ordered_cross_border,
        satisfied_from=s.satisfied_from,
        cheated_from=s.cheated_from,
        defrauded=s.victims,
        last_order_merchant=last_order_merchant,
        last_order_week=last_order_week,
    )


def accounts_phase(week: Week) -> None:
    """Book every payment of the week and the policy costs (mechanisms/accounts.py).

    Produces the week's ``StepCounters`` for the metrics (model/metrics.py): orders,
    the ledger of payments between parties, policy spending by lever, consumer
    surplus, trade created and diverted, exports and imports per region.
    """
    sc, s, p = week.scenario, week.signals, week.signals.params
    c, m, k = week.consumers, week.merchants, week.kols
    orders, outcome, mw = s.orders, s.fulfilment, s.merchant_week
    acc, levels, R = sc.accounts, p.levels, week.n_regions
    origin = m.region[orders.merchant].astype(np.int64)
    dest = c.region[orders.consumer].astype(np.int64)
    cross = orders.cross_border
    # policy activity
    facilitated = levels["cross_border_facilitation"] > 0
    subsidy_share = (p.base_logistics_cost - p.logistics_cost)[origin, dest]
    logistics_subsidy = float((orders.goods_value * subsidy_share).sum()) if facilitated else 0.0
    channel_subsidies = s.channel_subsidy_spend
    if isinstance(channel_subsidies, dict):
        channel_subsidies = sum(channel_subsidies.values())
    active_count = int(m.active.sum())
    non_adopters = int((m.active & ~m.adopted).sum())
    cost = accounts.policy_cost(
        sc.policy_costs,
        levels,
        coupons=float(orders.coupon_value.sum()),
        kol_campaign=float(s.kol_campaign_spend),
        channel_subsidies=float(channel_subsidies),
        logistics_subsidy=logistics_subsidy,
        parcels_facilitated=int(cross.sum()) if facilitated else 0,
        merchants_verified=mw.newly_verified if levels["integrity"] > 0 else 0,
        merchants_inspected=active_count * levels["integrity"],
        payers=int(s.pays.sum()),
        new_connections=s.connected_by_policy,
        merchants_trained=non_adopters * levels["merchant_promotion"],
        kols=k.n,
        non_payers_reached=float((s.has_access & ~s.pays).sum()) * levels["rigid_demand"],
        overhead=p.programme_overhead,
    )
    # the ledger
    ledger = accounts.Ledger()
    goods = float(orders.goods_value.sum())
    coupons = float(orders.coupon_value.sum())
    basket = sc.ordering.mean_order_value * c.spending
    fraud_value = float((acc.fraud_loss * basket[s.victims]).sum())
    adopters = int((m.adopted & m.active).sum())
    ledger.pay("consumers", "merchants", goods - coupons)
    ledger.pay("state", "merchants", coupons)
    ledger.pay("consumers", "carriers", float(orders.logistics_value.sum()))
    ledger.pay("state", "carriers", logistics_subsidy)
    ledger.pay(
        "consumers", "state", float(orders.tariff_value.sum()) + float(orders.import_tariff.sum())
    )
    ledger.pay(
        "consumers",
        "offline_retail",
        float(orders.offline_spending.sum()) + float(orders.import_spending.sum()),
    )
    ledger.pay("consumers", "fraudsters", fraud_value)
    ledger.pay(
        "merchants",
        "suppliers",
        acc.cost_of_goods_share * float(mw.revenue.sum()) + acc.fixed_cost * active_count,
    )
    ledger.pay("outside_buyers", "merchants", acc.traditional_margin * active_count)
    ledger.pay(
        "merchants",
        "platforms",
        float(s.marketing_spend_by_merchant.sum()) + acc.mobile_channel_cost * adopters,
    )
    ledger.pay("merchants", "kols", float(s.kol_fees_by_merchant.sum()))
    ledger.pay("state", "kols", cost.kol_campaign)
    ledger.pay("state", "platforms", cost.channel_subsidies)
    ledger.pay("merchants", "state", float(mw.fines.sum()))
    ledger.pay("state", "contractors", cost.to_contractors)
    # platform fees (mechanisms/platform.py; h14): merchants pay their platform for in-app
    # orders, offline retailers for QR payments. Nothing without a ``platforms:`` section.
    if orders.platform_fee is not None:
        ledger.pay("merchants", "platforms", float(orders.platform_fee.sum()))
    if orders.qr is not None and sc.platforms is not None:
        ledger.pay(
            "offline_retail", "platforms", float(orders.qr.value.sum()) * sc.platforms.o2o.qr_fee
        )
    # trade by region
    cb_value = orders.goods_value * cross
    exports_value = np.bincount(origin, weights=cb_value, minlength=R)
    imports_value = np.bincount(dest, weights=cb_value, minlength=R)
    exports_orders = np.bincount(origin[cross], minlength=R)
    imports_orders = np.bincount(dest[cross], minlength=R)
    created = np.zeros((R, R))
    np.add.at(created, (origin, dest), orders.created_value)
    flows = np.zeros((R, R))
    np.add.at(flows, (origin, dest), cb_value)
    counters = StepCounters(
        orders=orders.count,
        cross_border_orders=int(cross.sum()),
        gmv=goods,
        counterfeit_incidents=int((~outcome.genuine).sum()),
        fraud_incidents=int(s.victims.sum()),
        failed_transactions=orders.failed_transactions,
        policy_cost=cost.total,
        ledger=ledger,
        policy_cost_by_lever=cost.by_lever,
        consumer_surplus=orders.consumer_surplus,
        counterfeit_loss_value=float(orders.goods_value[~outcome.genuine].sum()),
        fraud_loss_value=fraud_value,
        mobile_spending=float(orders.value.sum()),
        offline_spending=float(orders.offline_spending.sum()),
        traditional_import_spending=float(
            orders.import_spending.sum() + orders.import_tariff.sum()
        ),
        basket_value=float(orders.basket_value.sum()),
        needs=orders.needs,
        unmet_needs=orders.unmet_needs,
        cross_border_value=float(cb_value.sum()),
        created_by_pair=created,
        cross_border_by_pair=flows,
        exports_value=exports_value,
        imports_value=imports_value,
        exports_orders=exports_orders,
        imports_orders=imports_orders,
        merchant_profit=float(mw.profit.sum()),
        active_merchants=int(m.active.sum()) - mw.exits + mw.entries,
        merchant_exits=mw.exits,
        merchant_entries=mw.entries,
        merchant_abandonments=mw.abandonments,
    )
    week.stage(
        "market",
        last=counters,
        cumulative_policy_cost=week.market.cumulative_policy_cost + cost.total,
    )


PHASES: tuple[Phase, ...] = (
    Phase("policy", policy_phase, produces=("params",)),
    Phase(
        "access",
        access_phase,
        reads=(
            "consumers.access_draw",
            "consumers.region",
            "consumers.attribute_group",
            "consumers.has_access",
        ),
        uses=("params",),
        produces=("has_access", "connected", "connected_by_policy"),
        writes=("consumers.has_access",),
    ),
    Phase(
        "marketing",
        marketing_phase,
        reads=("merchants.region", "merchants.adopted", "merchants.revenue", "consumers.region"),
        uses=("params", "has_access", "connected"),
        produces=(
            "marketing_awareness",
            "marketing_lift",
            "visibility",
            "merchant_kol_budget",
            "campaign_budget",
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
        uses=("params", "merchant_kol_budget", "campaign_budget", "visibility", "marketing_lift"),
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
            "kols.followers",
            "kols.follower_count",
        ),
    ),
    Phase(
        "lapse",
        lapse_phase,
        reads=(
            "consumers.aware",
            "consumers.satisfied_from",
            "consumers.bad_memory",
            "consumers.payment",
            "consumers.risk_extra",
        ),
        produces=("forgets", "stops_paying"),
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
            "consumers.last_order_merchant",
        ),
        uses=("marketing_awareness", "kol_total", "forgets"),
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
        reads=(
            "consumers.payment",
            "consumers.risk_extra",
            "consumers.region",
            "consumers.payment_propensity",
            "merchants.accepts_mobile_payment",
            "merchants.adopted",
            "merchants.region",
        ),
        uses=("params", "has_access", "stops_paying"),
        produces=("risk", "victims", "pays"),
    ),
    Phase(
        "platform",
        platform_phase,
        reads=(
            "platforms.user",
            "platforms.group",
            "platforms.follows",
            "platforms.store",
            "platforms.store_verified",
            "platforms.qr_paid",
            "merchants.adopted",
            "merchants.active",
            "consumers.satisfied_from",
            "consumers.last_order_merchant",
            "consumers.aware",
        ),
        uses=("params", "has_access"),
        produces=("platform_week",),
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
            "consumers.purchase_frequency",
            "consumers.spending",
            "merchants.price",
            "merchants.reputation",
            "merchants.verified",
            "merchants.adopted",
            "merchants.active",
            "merchants.region",
        ),
        uses=(
            "params",
            "has_access",
            "merchant_visibility",
            "conversion_lift",
            "pays",
            "risk",
            "platform_week",
            "kol_total",
            "marketing_lift",
            "warned_merchant",
        ),
        produces=("orders",),
    ),
    Phase(
        "fulfilment",
        fulfilment_phase,
        reads=("merchants.integrity", "merchants.verified"),
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
        "platform_ties",
        platform_ties_phase,
        reads=(
            "platforms.user",
            "platforms.follows",
            "platforms.store",
            "platforms.store_verified",
            "platforms.delisted",
            "platforms.qr_paid_ever",
            "platforms.channel_orders",
            "platforms.channel_value",
            "platforms.merchant_records",
            "merchants.integrity",
            "merchants.adopted",
            "merchants.active",
            "merchants.region",
            "consumers.region",
        ),
        uses=("params", "has_access", "orders", "fulfilment", "platform_week"),
        writes=(
            "platforms.user",
            "platforms.store",
            "platforms.store_verified",
            "platforms.delisted",
            "platforms.follows",
            "platforms.qr_paid",
            "platforms.qr_paid_ever",
            "platforms.channel_orders",
            "platforms.channel_value",
            "platforms.merchant_records",
            "platforms.last",
        ),
    ),
    Phase(
        "acceptance",
        acceptance_phase,
        reads=(
            "consumers.region",
            "merchants.accepts_mobile_payment",
            "merchants.adopted",
            "merchants.region",
        ),
        uses=("orders", "pays"),
        writes=("merchants.accepts_mobile_payment",),
    ),
    Phase(
        "merchants",
        merchant_phase,
        reads=(
            "merchants.integrity",
            "merchants.reputation",
            "merchants.region",
            "merchants.price",
            "merchants.adopted",
            "merchants.active",
            "merchants.exited",
            "merchants.verified",
            "merchants.penalties",
            "merchants.profit",
            "merchants.mobile_margin",
        ),
        uses=(
            "params",
            "orders",
            "fulfilment",
            "merchant_visibility",
            "marketing_spend_by_merchant",
            "kol_fees_by_merchant",
        ),
        produces=("merchant_week",),
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
            "merchants.active",
            "merchants.exited",
            "merchants.region",
            "merchants.price",
            "merchants.profit",
            "merchants.mobile_margin",
        ),
    ),
    Phase(
        "consumer_records",
        consumer_record_phase,
        reads=(
            "consumers.has_ordered",
            "consumers.has_ordered_cross_border",
            "consumers.last_order_week",
        ),
        uses=("orders", "pays", "satisfied_from", "cheated_from", "victims"),
        writes=(
            "consumers.payment",
            "consumers.has_ordered",
            "consumers.has_ordered_cross_border",
            "consumers.satisfied_from",
            "consumers.cheated_from",
            "consumers.defrauded",
            "consumers.last_order_merchant",
            "consumers.last_order_week",
        ),
    ),
    Phase(
        "accounts",
        accounts_phase,
        reads=(
            "consumers.region",
            "consumers.spending",
            "merchants.region",
            "merchants.active",
            "merchants.adopted",
            "market.cumulative_policy_cost",
        ),
        uses=(
            "params",
            "orders",
            "fulfilment",
            "victims",
            "pays",
            "has_access",
            "connected_by_policy",
            "merchant_week",
            "channel_subsidy_spend",
            "kol_campaign_spend",
            "marketing_spend_by_merchant",
            "kol_fees_by_merchant",
        ),
        writes=("market.last", "market.cumulative_policy_cost"),
    ),
)
"""The week, in order. Data collection (model/metrics.py) follows the commit."""

check_sequence(PHASES)


def phase_table() -> str:
    """Return the phases as a Markdown table.

    docs/architecture.md embeds it; a test keeps it current.
    """

    def cell(items: tuple[str, ...]) -> str:
        return ", ".join(f"`{item}`" for item in items) or "—"

    rows = [
        "| # | phase | what it does | reads (start of week) | uses | produces "
        "| writes (end of week) |",
        "|---:|---|---|---|---|---|---|",
    ]
    for number, phase in enumerate(PHASES, start=1):
        rows.append(
            f"| {number} | `{phase.name}` | {phase.doc} | {cell(phase.reads)} | "
            f"{cell(phase.uses)} | {cell(phase.produces)} | {cell(phase.writes)} |"
        )
    return "\n".join(rows) + "\n"
