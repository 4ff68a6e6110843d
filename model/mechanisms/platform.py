"""The super-app platform layer: users, stores, content, follow ties and the platform levers.

Rules, per week (docs/platform.md has the full account):

- **Users (multi-homing).** A consumer may use several platforms (state ``member``,
  n x P). A connected consumer who does not use platform p joins it with chance
  ``innovation_p + imitation_p * (friends using p / friends)`` (adoption over the graph,
  independently per platform), times ``1 - multihoming_cost`` if it already uses
  another platform (the attention and switching cost of a second app). At start each
  connected consumer uses p with chance ``initial_users_p`` (independently).
- **Wallets** (state ``wallet``, n x P, a subset of ``member``). A platform's wallet is
  its payment. A user of p pays with p's wallet at p's stores and QR codes; with
  another wallet it holds only when the platforms are interoperable (chance
  ``interoperability``, mechanisms/ordering.py and o2o.py). A user without any wallet
  activates the wallet of the platform it first pays with; after the week, a user who
  pays by mobile and still holds none activates one of its platforms' (drawn at
  random). A user of p who holds another wallet activates p's at checkout at p's store
  when its wallet does not work there (chance ``checkout_activation``, else the payment
  fails), and each week with chance ``wallet_imitation * (friends holding p's wallet /
  friends)`` while it pays by mobile (transfers and red packets among friends). So
  interoperability, which lets one wallet work everywhere, removes the need for a
  second wallet. Sources: Rysman (2007), An empirical analysis of payment card usage,
  J. Industrial Economics 55(1) (consumers hold several networks' cards and
  concentrate use on one; merchants' acceptance drives which); Armstrong (2006),
  Competition in two-sided markets, RAND J. Economics 37(3) (multi-homing consumers,
  competitive bottlenecks); in China most mobile payers hold both WeChat Pay and
  Alipay (CGAP 2017, "most users have both wallets"; Statista 2023: 92% and 85% of
  online payment customers used each in the past year).
- **Stores.** A merchant has at most one official account / in-app store. At start a
  share ``store_share_p`` of merchants have one on p; each week an adopting merchant
  without one opens one with chance ``store_adoption_p * exp(-fee_sensitivity * fee_p)``
  on a platform drawn in proportion to its users. The platform pays nothing; the
  merchant pays ``fee_p`` of the goods value of every order at its listed store by a
  platform user (also when, at a merchant not accepting mobile payment, it is paid
  another way).
- **Real-name verification.** Each week the platform checks each unverified store with
  chance ``verification_p`` raised by the ``platform_verification`` lever; a store whose
  integrity is below ``verification_cutoff`` is delisted (it keeps selling outside the
  platform; its followers lose the tie), the others are verified (a badge: the
  ordering's ``verified_weight`` applies to them in the platform's channels).
- **Closed businesses and their slots.** A merchant that left the market
  (mechanisms/merchant_adoption.py, Exit) closes its store: it is no longer listed or
  checked and its followers lose the tie. A new merchant that took a vacated slot last
  week (``merchants.entry_week``) starts with no store, no delisting and no channel
  totals: nothing of the slot's earlier occupant.
- **Content.** Each followed, listed store posts ``posts_per_week`` times a week to each
  follower (times ``1 - spam control``). A platform user satisfied last week shares the
  store with chance ``share_rate``; each user picks up one share of a friend (at
  random among friends who shared). Group buying: mechanisms/group_buying.py.
- **Follow ties** (n x K slots, bounded memory). After a genuine in-app purchase, a user
  follows the store with chance ``after_purchase`` (``after_share`` if a friend shared
  it, ``after_ad`` if an ad led it there); after paying by QR offline it follows a listed
  store of its region with chance ``after_qr_scan``. A full set of slots replaces slot
  0. A follower unfollows a store that sold it a counterfeit with chance
  ``unfollow_after_counterfeit``, and each tie
  with chance ``1 - (1 - unfollow_per_post) ** (excess / ties)`` when it received
  ``excess`` posts above ``post_tolerance`` this week.

- **After the week's sales** (:func:`after_sales`): users join, wallets are activated,
  stores open and are checked, follow ties change as above, and each merchant's orders
  and goods value are added up by channel (mechanisms/attribution.py), with the week's
  platform counts for the metrics (users and wallet holders per platform, multi-homing,
  platform payments by wallet).

Levers (model/levers.py; applied in model/policy.py, which hands the week's numbers
over as ``EffectiveParameters.platform``; no effect without platforms):
``platform_fee`` cuts every platform's fee by share L (a fee cap);
``platform_verification`` adds L to the weekly chance of a check; ``interoperability``
closes share L of the gap to full interoperability (payment of platform A at stores and
QR codes of platform B); ``spam_control`` blocks share L of marketing messages
(official-account posts and group-buying offers).

Source: docs/domain.md, Mechanisms > Social commerce and Mobile payment; Policy levers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.mechanisms import attribution, group_buying, o2o
from model.mechanisms.attribution import CHANNELS
from model.mechanisms.group_buying import GroupBuyWeek
from model.network import SocialGraph
from model.policy import PlatformParams
from model.scenario import Platforms, Scenario
from model.state import ConsumerState, MerchantState, PlatformState

if TYPE_CHECKING:
    from model.mechanisms.fulfilment import Fulfilment
    from model.mechanisms.ordering import Orders


def _assign(shares: np.ndarray, eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row, a platform drawn with the given shares (-1: none), only where eligible."""
    total = float(shares.sum())
    if total > 1.0:
        shares = shares / total
    cdf = np.cumsum(shares)
    u = rng.random(eligible.size)
    code = np.searchsorted(cdf, u, side="right")
    return np.where(eligible & (code < shares.size), code, -1).astype(np.int8)


def build_state(
    scenario: Scenario,
    graph: SocialGraph,
    consumers: ConsumerState,
    merchants: MerchantState,
    rng: np.random.Generator,
) -> PlatformState:
    """Return the platform state at start (empty, and no draws, without ``platforms:``)."""
    spec = scenario.platforms
    if spec is None:
        return PlatformState()
    n, m = consumers.n, merchants.n
    specs = list(spec.platforms.values())
    initial = np.array([p.initial_users for p in specs])
    member = consumers.has_access[:, None] & (rng.random((n, len(specs))) < initial)
    store = _assign(np.array([p.store_share for p in specs]), merchants.active, rng)
    group = group_buying.build_group_chats(graph, spec.group_buying.group_size, rng)
    return PlatformState(
        member=member,
        wallet=np.zeros_like(member),
        group=group,
        follows=np.full((n, spec.follows.slots), -1, dtype=np.int32),
        qr_paid=np.zeros(n, dtype=bool),
        qr_paid_ever=np.zeros(n, dtype=bool),
        store=store,
        store_verified=np.zeros(m, dtype=bool),
        delisted=np.zeros(m, dtype=bool),
        channel_orders=np.zeros((m, len(CHANNELS)), dtype=np.int64),
        channel_value=np.zeros((m, len(CHANNELS))),
        merchant_records=(),
        qr_acceptance=o2o.initial_qr_acceptance(spec, len(scenario.region_names)),
    )


@dataclass
class PlatformWeek:
    """What the platform layer offers each consumer this week (read by the ordering).

    Attributes:
        params: the week's platform parameters.
        member: n x P, the consumer uses platform p.
        wallet: n x P, the consumer holds platform p's wallet.
        store: per merchant, its listed store's platform (-1 none or delisted).
        store_verified: per merchant, verified by its platform.
        follow_merchant: per consumer, the followed store it may buy again from (-1).
        posts: per consumer, posts received from followed stores this week.
        shared_merchant: per consumer, a store a friend shared this week (-1).
        shared_in_group: per consumer, that friend shared it in their group chat.
        group_buy: this week's group buying (deals per consumer).
        intention: per consumer, received platform content about a store this week.
        qr_touch: per consumer, paid a QR code offline last week.
        group: per consumer, its group chat.
    """

    params: PlatformParams
    member: np.ndarray
    wallet: np.ndarray
    store: np.ndarray
    store_verified: np.ndarray
    follow_merchant: np.ndarray
    posts: np.ndarray
    shared_merchant: np.ndarray
    shared_in_group: np.ndarray
    group_buy: GroupBuyWeek
    intention: np.ndarray
    qr_touch: np.ndarray
    group: np.ndarray


def content(
    spec: Platforms,
    params: PlatformParams,
    rng: np.random.Generator,
    graph: SocialGraph,
    *,
    member: np.ndarray,
    wallet: np.ndarray,
    group: np.ndarray,
    follows: np.ndarray,
    store: np.ndarray,
    store_verified: np.ndarray,
    qr_paid: np.ndarray,
    selling: np.ndarray,
    has_access: np.ndarray,
    satisfied: np.ndarray,
    last_order_merchant: np.ndarray,
) -> PlatformWeek:
    """Draw the posts, shares and group-buying offers of the week (see module docstring)."""
    n = member.shape[0]
    is_user = member.any(axis=1)
    listed = (store >= 0) & selling
    # followed stores that still sell on the platform; one drawn to buy again from
    slot_ok = follows >= 0
    slot_ok[slot_ok] = listed[follows[slot_ok]]
    ties = slot_ok.sum(axis=1)
    posts = (params.posts_per_week * ties).astype(np.float32)
    key = np.where(slot_ok, rng.random(follows.shape), -1.0)
    pick = key.argmax(axis=1)
    follow_merchant = np.where(ties > 0, follows[np.arange(n), pick], -1).astype(np.int64)
    # friends' shares (Moments or group chats)
    last = last_order_merchant.astype(np.int64)
    shares_ok = is_user & satisfied & (last >= 0)
    shares_ok[shares_ok] = listed[last[shares_ok]]
    sharers = shares_ok & (rng.random(n) < spec.sharing.share_rate)
    via = group_buying.neighbour_pick(graph, sharers, rng)
    got = is_user & (via >= 0)
    shared_merchant = np.where(got, last[np.maximum(via, 0)], -1)
    shared_in_group = got & (group >= 0) & (group[np.maximum(via, 0)] == group)
    stores = np.flatnonzero(listed)
    deal = group_buying.group_buy(  # eligible: users who can shop by mobile (connected, aware)
        spec.group_buying, graph, group, is_user & has_access, stores, params.offer_rate, rng
    )
    intention = is_user & ((posts > 0) | got | deal.invited)
    return PlatformWeek(
        params=params,
        member=member,
        wallet=wallet,
        store=np.where(listed, store, -1).astype(np.int8),
        store_verified=store_verified,
        follow_merchant=follow_merchant,
        posts=posts,
        shared_merchant=shared_merchant,
        shared_in_group=shared_in_group,
        group_buy=deal,
        intention=intention,
        qr_touch=qr_paid & is_user,
        group=group,
    )


def adopt_platforms(
    spec: Platforms,
    graph: SocialGraph,
    member: np.ndarray,
    has_access: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return n x P platform use after this week's joining (see module docstring)."""
    specs = list(spec.platforms.values())
    n = member.shape[0]
    degree = np.maximum(graph.degree, 1)
    probs = np.empty((n, len(specs)))
    for p, ps in enumerate(specs):
        if graph.fully_mixed:
            share = np.full(n, float(member[:, p].mean()))
        else:
            share = graph.neighbour_counts(member[:, p], track=f"platform_user_{p}") / degree
        probs[:, p] = ps.innovation + ps.imitation * share
    if len(specs) > 1:  # a second app costs attention: joining is less likely
        others = member.sum(axis=1, keepdims=True) - member > 0
        probs = np.where(others, probs * (1.0 - spec.multihoming_cost), probs)
    joins = ~member & has_access[:, None] & (rng.random((n, len(specs))) < probs)
    return member | joins


def activate_wallets(
    spec: Platforms,
    graph: SocialGraph,
    rng: np.random.Generator,
    member: np.ndarray,
    wallet: np.ndarray,
    pays: np.ndarray,
    paid_consumer: np.ndarray,
    paid_wallet: np.ndarray,
) -> np.ndarray:
    """Return n x P wallets after this week's activations (see module docstring).

    Args:
        spec: the ``platforms:`` section.
        graph: the social graph.
        rng: the phase's generator.
        member: n x P, platform use (after this week's joining).
        wallet: n x P, wallets held at the start of the week.
        pays: per consumer, pays by mobile.
        paid_consumer: the week's platform payments (in-app orders, QR), their payers.
        paid_wallet: their wallets (activated at checkout when not held).
    """
    out = wallet.copy()
    out[paid_consumer, paid_wallet] = True
    n, count = member.shape
    # a paying user without any wallet activates one of its platforms' (at random)
    first = np.flatnonzero(pays & member.any(axis=1) & ~out.any(axis=1))
    if first.size:
        key = np.where(member[first], rng.random((first.size, count)), -1.0)
        out[first, key.argmax(axis=1)] = True
    # a second wallet from friends who hold it (only with two or more platforms)
    held = out.any(axis=1)
    if count > 1 and spec.wallet_imitation > 0:
        degree = np.maximum(graph.degree, 1)
        for p in range(count):
            cand = np.flatnonzero(member[:, p] & ~out[:, p] & held & pays)
            if graph.fully_mixed:
                share = np.full(cand.size, float(wallet[:, p].mean()))
            else:
                counts = graph.neighbour_counts(wallet[:, p], track=f"platform_wallet_{p}")
                share = counts[cand] / degree[cand]
            out[cand[rng.random(cand.size) < spec.wallet_imitation * share], p] = True
    return out


def open_stores(
    spec: Platforms,
    params: PlatformParams,
    store: np.ndarray,
    delisted: np.ndarray,
    adopted: np.ndarray,
    active: np.ndarray,
    member: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the stores after this week's openings (see module docstring)."""
    specs = list(spec.platforms.values())
    users = member.sum(axis=0).astype(float)
    weight = users / users.sum() if users.sum() > 0 else np.full(len(specs), 1.0 / len(specs))
    which = np.searchsorted(np.cumsum(weight), rng.random(store.size) * weight.sum(), side="right")
    which = np.minimum(which, len(specs) - 1)
    rate = np.array([p.store_adoption for p in specs]) * np.exp(-spec.fee_sensitivity * params.fee)
    opens = (store < 0) & ~delisted & adopted & active & (rng.random(store.size) < rate[which])
    return np.where(opens, which, store).astype(np.int8)


def verify_stores(
    spec: Platforms,
    params: PlatformParams,
    store: np.ndarray,
    verified: np.ndarray,
    integrity: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Platform real-name checks: (store, verified, newly delisted) after this week."""
    listed = store >= 0
    chance = params.verification[np.maximum(store, 0).astype(np.int64)]
    checked = listed & ~verified & (rng.random(store.size) < chance)
    fails = checked & (integrity < spec.verification_cutoff)
    passes = checked & ~fails
    return (
        np.where(fails, -1, store).astype(np.int8),
        verified | passes,
        fails,
    )


def follow_updates(
    spec: Platforms,
    rng: np.random.Generator,
    follows: np.ndarray,
    posts: np.ndarray,
    new_consumer: np.ndarray,
    new_merchant: np.ndarray,
    cheated_consumer: np.ndarray,
    cheated_merchant: np.ndarray,
    dropped_merchants: np.ndarray,
) -> np.ndarray:
    """Follow slots after this week's follows and unfollows (see module docstring).

    Args:
        spec: the platform parameters.
        rng: the phase's generator.
        follows: n x K slots at the start of the week.
        posts: per consumer, posts received this week.
        new_consumer: new ties, their consumers (one per consumer at most).
        new_merchant: new ties, their merchants.
        cheated_consumer: counterfeit purchases of the week, their consumers.
        cheated_merchant: counterfeit purchases of the week, their merchants.
        dropped_merchants: per merchant, delisted or closed this week (its ties end).
    """
    f = spec.follows
    out = follows.copy()
    full = out >= 0
    # ties of delisted and closed stores end
    if dropped_merchants.any():
        gone = full.copy()
        gone[full] = dropped_merchants[out[full]]
        out[gone] = -1
    # too many posts
    ties = (out >= 0).sum(axis=1)
    excess = np.maximum(posts - f.post_tolerance, 0.0)
    annoyed = np.flatnonzero((excess > 0) & (ties > 0))
    if annoyed.size and f.unfollow_per_post > 0:
        per_tie = excess[annoyed] / ties[annoyed]
        drop_p = 1.0 - (1.0 - f.unfollow_per_post) ** per_tie
        rows = out[annoyed]
        drop = (rows >= 0) & (rng.random(rows.shape) < drop_p[:, None])
        rows[drop] = -1
        out[annoyed] = rows
    # counterfeits
    if cheated_consumer.size:
        rows = out[cheated_consumer]
        hit = (rows == cheated_merchant[:, None]) & (
            rng.random(cheated_consumer.size) < f.unfollow_after_counterfeit
        )[:, None]
        rows[hit] = -1
        out[cheated_consumer] = rows
    # new ties
    if new_consumer.size:
        rows = out[new_consumer]
        j = new_merchant.astype(np.int32)
        fresh = ~(rows == j[:, None]).any(axis=1)
        rows, j, who = rows[fresh], j[fresh], new_consumer[fresh]
        empty = rows < 0
        has_empty = empty.any(axis=1)
        slot = np.where(has_empty, empty.argmax(axis=1), 0)
        rows[np.arange(rows.shape[0]), slot] = j
        out[who] = rows
    return out


@dataclass
class PlatformTies:
    """The platform state after the week's sales (``PlatformState`` fields; see there).

    Attributes:
        member: n x P, platform use after this week's joining.
        wallet: n x P, wallets held after this week's activations.
        store: per merchant, its store's platform after openings and delistings (-1 none).
        store_verified: per merchant, verified by its platform.
        delisted: per merchant, ever delisted.
        follows: n x K follow slots after this week's follows and unfollows.
        qr_paid: per consumer, paid offline by QR code this week.
        qr_paid_ever: per consumer, has ever paid offline by QR code.
        channel_orders: merchants x channels, mobile orders so far.
        channel_value: merchants x channels, their goods value so far.
        merchant_records: the recorded (step, orders, value) tables.
        last: the week's platform counts (read by the metrics).
    """

    member: np.ndarray
    wallet: np.ndarray
    store: np.ndarray
    store_verified: np.ndarray
    delisted: np.ndarray
    follows: np.ndarray
    qr_paid: np.ndarray
    qr_paid_ever: np.ndarray
    channel_orders: np.ndarray
    channel_value: np.ndarray
    merchant_records: tuple
    last: dict[str, Any]


def after_sales(
    spec: Platforms,
    graph: SocialGraph,
    rng: np.random.Generator,
    *,
    t: int,
    n_regions: int,
    member: np.ndarray,
    wallet: np.ndarray,
    follows: np.ndarray,
    store: np.ndarray,
    store_verified: np.ndarray,
    delisted: np.ndarray,
    delisted_so_far: int,
    qr_paid_ever: np.ndarray,
    channel_orders: np.ndarray,
    channel_value: np.ndarray,
    merchant_records: tuple,
    integrity: np.ndarray,
    adopted: np.ndarray,
    active: np.ndarray,
    entry_week: np.ndarray,
    merchant_region: np.ndarray,
    consumer_region: np.ndarray,
    has_access: np.ndarray,
    pays: np.ndarray,
    orders: Orders,
    outcome: Fulfilment,
    week: PlatformWeek,
) -> PlatformTies:
    """Update users, stores, checks, follow ties and channel totals after the week's sales.

    Args:
        spec: the ``platforms:`` section.
        graph: the social graph.
        rng: the phase's generator.
        t: the step this week becomes (its merchant records are labelled with it).
        n_regions: number of regions.
        member: n x P, platform use.
        wallet: n x P, wallets held.
        follows: n x K follow slots (merchant ids, -1 empty).
        store: per merchant, its store's platform (-1: none).
        store_verified: per merchant, verified by its platform.
        delisted: per merchant, ever delisted (its current occupant).
        delisted_so_far: stores delisted before this week (the metric counts them all,
            also those of merchants whose slots were retaken).
        qr_paid_ever: per consumer, has ever paid offline by QR code.
        channel_orders: merchants x channels, mobile orders so far (current occupant).
        channel_value: merchants x channels, their goods value so far.
        merchant_records: the recorded (step, orders, value) tables so far.
        integrity: per merchant, integrity (the checks delist stores below the cutoff).
        adopted: per merchant, sells through mobile channels.
        active: per merchant, in the market.
        entry_week: per merchant, the week its current merchant entered (a slot retaken
            last week starts empty).
        merchant_region: per merchant, its region.
        consumer_region: per consumer, its region.
        has_access: per consumer, mobile access this week.
        pays: per consumer, pays by mobile.
        orders: the week's orders.
        outcome: their fulfilment (genuine or counterfeit).
        week: the week's platform content and parameters.
    """
    params, verified = week.params, store_verified
    # closed businesses close their stores (their ties end below); a slot retaken last
    # week starts empty (a closed store was already closed when its merchant left)
    closing = ~active & (store >= 0)
    retaken = (entry_week == t - 1) & (entry_week > 0)
    if closing.any():
        store = np.where(closing, -1, store).astype(np.int8)
        verified = verified & ~closing
    if retaken.any():
        delisted = delisted & ~retaken
        channel_orders = np.where(retaken[:, None], 0, channel_orders)
        channel_value = np.where(retaken[:, None], 0.0, channel_value)
    new_member = adopt_platforms(spec, graph, member, has_access, rng)
    opened = open_stores(spec, params, store, delisted, adopted, active, member, rng)
    new_store, new_verified, fails = verify_stores(spec, params, opened, verified, integrity, rng)
    channel = orders.channel if orders.channel is not None else np.zeros(0, np.int8)
    new_c, new_m = _new_ties(
        spec,
        rng,
        member,
        merchant_region,
        consumer_region,
        n_regions,
        orders,
        outcome,
        week,
        channel,
    )
    cheated = ~outcome.genuine
    new_follows = follow_updates(
        spec,
        rng,
        follows,
        week.posts,
        new_c,
        new_m,
        orders.consumer[cheated],
        orders.merchant[cheated],
        fails | closing,
    )
    week_orders, week_value = attribution.merchant_channel_counts(
        orders.merchant, channel, orders.goods_value, integrity.size
    )
    totals_orders = channel_orders + week_orders
    totals_value = channel_value + week_value
    records = merchant_records
    every = spec.record_merchants_every
    if every and t % every == 0:
        records = (*records, (t, totals_orders.copy(), totals_value.copy()))
    qr = orders.qr
    n, count = member.shape
    qr_paid = np.zeros(n, dtype=bool)
    qr_value = 0.0
    if qr is not None:
        qr_paid[qr.payer] = True
        qr_value = float(qr.value.sum())
    # the week's platform payments: wallet per in-app order and per QR payment
    order_wallet = orders.wallet if orders.wallet is not None else np.zeros(0, np.int64)
    in_wallet = order_wallet >= 0
    paid_consumer = orders.consumer[in_wallet]
    paid_wallet = order_wallet[in_wallet].astype(np.int64)
    if qr is not None and qr.payer.size:
        paid_consumer = np.concatenate([paid_consumer, qr.payer])
        paid_wallet = np.concatenate([paid_wallet, qr.platform.astype(np.int64)])
    new_wallet = activate_wallets(
        spec, graph, rng, new_member, wallet, pays, paid_consumer, paid_wallet
    )
    by_channel = attribution.by_channel(channel)
    ordered = np.zeros(n, dtype=bool)
    ordered[orders.consumer] = True
    users = member.any(axis=1)
    ties = (new_follows >= 0).sum(axis=1)
    gb = week.group_buy
    last = {
        "orders": int(channel.size),
        "users": float(users.mean()) if users.size else 0.0,
        "follows_per_user": float(ties[users].mean()) if users.any() else 0.0,
        "orders_by_channel": by_channel,
        "value_by_channel": attribution.by_channel(channel, orders.goods_value),
        "platform_orders": int(by_channel[attribution.PLATFORM_MASK].sum()),
        "intentions": int(week.intention.sum()),
        "intention_purchases": int((week.intention & ordered).sum()),
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
        "stores_delisted": delisted_so_far + int(fails.sum()),
        "stores_checked": int((new_verified & ~verified).sum() + fails.sum()),
        **_multihoming_counts(member, wallet, paid_wallet, count),
    }
    return PlatformTies(
        member=new_member,
        wallet=new_wallet,
        store=new_store,
        store_verified=new_verified,
        delisted=delisted | fails,
        follows=new_follows,
        qr_paid=qr_paid,
        qr_paid_ever=qr_paid_ever | qr_paid,
        channel_orders=totals_orders,
        channel_value=totals_value,
        merchant_records=records,
        last=last,
    )


def _multihoming_counts(
    member: np.ndarray, wallet: np.ndarray, paid_wallet: np.ndarray, count: int
) -> dict[str, Any]:
    """Return the week's multi-homing counts (read by the metrics; see model/metrics.py).

    Platform use and wallets are as they were during the week's sales (before this
    week's joining and activations); payments are the week's in-app orders and QR
    payments, by the wallet they were paid with.
    """
    n = max(member.shape[0], 1)
    homes = member.sum(axis=1)
    wallets = wallet.sum(axis=1)
    payments = np.bincount(paid_wallet, minlength=count)
    return {
        "users_by_platform": member.sum(axis=0) / n,
        "multihoming_users": int((homes >= 2).sum()),
        "platform_users_count": int((homes >= 1).sum()),
        "wallet_holders": wallet.sum(axis=0) / n,
        "multihoming_wallets": int((wallets >= 2).sum()),
        "wallet_holders_count": int((wallets >= 1).sum()),
        "wallet_payments": payments,
        "wallet_payments_total": int(payments.sum()),
    }


def _new_ties(
    spec: Platforms,
    rng: np.random.Generator,
    member: np.ndarray,
    merchant_region: np.ndarray,
    consumer_region: np.ndarray,
    n_regions: int,
    orders: Orders,
    outcome: Fulfilment,
    week: PlatformWeek,
    channel: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return new follow ties (consumers, merchants; one per consumer): in-app purchases, QR."""
    buyer_user = member[orders.consumer].any(axis=1)
    bought_store = week.store[orders.merchant].astype(np.int64)
    code = attribution.CODE
    shared = np.isin(channel, (code["friend_share"], code["group"]))
    ad = np.isin(channel, (code["kol_post"], code["short_video"], code["app_market"]))
    f = spec.follows
    chance = np.select([shared, ad], [f.after_share, f.after_ad], f.after_purchase)
    follow = (
        outcome.genuine
        & buyer_user
        & (bought_store >= 0)
        & (rng.random(channel.size) < chance)
    )
    new_c, new_m = orders.consumer[follow], orders.merchant[follow]
    qr = orders.qr
    if qr is not None and qr.payer.size:  # a listed store of the payer's region
        listed = np.flatnonzero(week.store >= 0)
        scan = qr.payer[rng.random(qr.payer.size) < f.after_qr_scan]
        if listed.size and scan.size:
            by_region = listed[np.argsort(merchant_region[listed], kind="stable")]
            counts = np.bincount(merchant_region[listed], minlength=n_regions)
            start = np.concatenate([[0], np.cumsum(counts)[:-1]])
            home = consumer_region[scan].astype(np.int64)
            has = counts[home] > 0
            scan, home = scan[has], home[has]
            pick = start[home] + (rng.random(scan.size) * counts[home]).astype(np.int64)
            first = ~np.isin(scan, new_c)
            new_c = np.concatenate([new_c, scan[first]])
            new_m = np.concatenate([new_m, by_region[pick][first]])
    new_c, first = np.unique(new_c, return_index=True)
    return new_c, new_m[first]
