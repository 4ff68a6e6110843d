"""The super-app platform layer: users, stores, content, follow ties and the platform levers.

Rules, per week (docs/platform.md has the full account):

- **Users.** A connected consumer who uses no platform joins platform p with chance
  ``innovation_p + imitation_p * (friends using p / friends)`` (adoption over the graph;
  one draw decides among the platforms). At start a share ``initial_users_p`` of the
  connected consumers use p.
- **Stores.** A merchant has at most one official account / in-app store. At start a
  share ``store_share_p`` of merchants have one on p; each week an adopting merchant
  without one opens one with chance ``store_adoption_p * exp(-fee_sensitivity * fee_p)``
  on a platform drawn in proportion to its users. The platform pays nothing; the
  merchant pays ``fee_p`` of the goods value of every in-app order (an order at its
  store by a user of a platform whose payment works there).
- **Real-name verification.** Each week the platform checks each unverified store with
  chance ``verification_p`` raised by the ``platform_verification`` lever; a store whose
  integrity is below ``verification_cutoff`` is delisted (it keeps selling outside the
  platform; its followers lose the tie), the others are verified (a badge: the
  ordering's ``verified_weight`` applies to them in the platform's channels).
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

Levers (model/levers.py; no effect without platforms): ``platform_fee`` cuts every
platform's fee by share L (a fee cap); ``platform_verification`` adds L to the weekly
chance of a check; ``interoperability`` closes share L of the gap to full
interoperability (payment of platform A at stores and QR codes of platform B);
``spam_control`` blocks share L of marketing messages (official-account posts and
group-buying offers).

Source: docs/domain.md, Mechanisms > Social commerce and Mobile payment; Policy levers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.mechanisms import group_buying
from model.mechanisms.attribution import CHANNELS
from model.mechanisms.group_buying import GroupBuyWeek
from model.network import SocialGraph
from model.scenario import Platforms, Scenario
from model.state import ConsumerState, MerchantState, PlatformState


@dataclass(frozen=True)
class PlatformParams:
    """The platform numbers of one week, after the platform levers.

    Attributes:
        fee: per platform, fee share of in-app goods value.
        verification: per platform, weekly chance a store is checked.
        qr_acceptance: per platform, share of offline retailers accepting its QR code.
        interoperability: chance one platform's payment works at another's store/code.
        posts_per_week: posts per followed store per follower.
        offer_rate: weekly chance a group gets a group-buying offer.
    """

    fee: np.ndarray
    verification: np.ndarray
    qr_acceptance: np.ndarray
    interoperability: float
    posts_per_week: float
    offer_rate: float


def effective(spec: Platforms, levels: dict[str, float]) -> PlatformParams:
    """Return the week's platform parameters from the scenario and the lever levels."""
    specs = list(spec.platforms.values())
    fee = np.array([p.fee for p in specs]) * (1.0 - levels.get("platform_fee", 0.0))
    check = np.minimum(
        1.0, np.array([p.verification for p in specs]) + levels.get("platform_verification", 0.0)
    )
    base = spec.interoperability
    interop = base + (1.0 - base) * levels.get("interoperability", 0.0)
    spam = levels.get("spam_control", 0.0)
    return PlatformParams(
        fee=fee,
        verification=check,
        qr_acceptance=np.array([p.qr_acceptance for p in specs]),
        interoperability=float(interop),
        posts_per_week=spec.follows.posts_per_week * (1.0 - spam),
        offer_rate=spec.group_buying.offer_rate * (1.0 - spam),
    )


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
    user = _assign(np.array([p.initial_users for p in specs]), consumers.has_access, rng)
    store = _assign(np.array([p.store_share for p in specs]), merchants.active, rng)
    group = group_buying.build_group_chats(graph, spec.group_buying.group_size, rng)
    return PlatformState(
        user=user,
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
    )


@dataclass
class PlatformWeek:
    """What the platform layer offers each consumer this week (read by the ordering).

    Attributes:
        params: the week's platform parameters.
        user: per consumer, its platform (-1 none).
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
    user: np.ndarray
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
    user: np.ndarray,
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
    n = user.size
    is_user = user >= 0
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
        user=user,
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
    user: np.ndarray,
    has_access: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the new platform per consumer after this week's joining (see module docstring)."""
    specs = list(spec.platforms.values())
    n = user.size
    degree = np.maximum(graph.degree, 1)
    probs = np.empty((len(specs), n))
    for p, ps in enumerate(specs):
        if graph.fully_mixed:
            share = np.full(n, float((user == p).mean()))
        else:
            share = graph.neighbour_counts(user == p, track=f"platform_user_{p}") / degree
        probs[p] = ps.innovation + ps.imitation * share
    cdf = np.cumsum(probs, axis=0)
    u = rng.random(n)
    code = (cdf < u).sum(axis=0)
    joins = (user < 0) & has_access & (code < len(specs))
    return np.where(joins, code, user).astype(np.int8)


def open_stores(
    spec: Platforms,
    params: PlatformParams,
    store: np.ndarray,
    delisted: np.ndarray,
    adopted: np.ndarray,
    active: np.ndarray,
    user: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the stores after this week's openings (see module docstring)."""
    specs = list(spec.platforms.values())
    users = np.bincount(user[user >= 0], minlength=len(specs)).astype(float)
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
        rng: the model's generator.
        follows: n x K slots at the start of the week.
        posts: per consumer, posts received this week.
        new_consumer: new ties, their consumers (one per consumer at most).
        new_merchant: new ties, their merchants.
        cheated_consumer: counterfeit purchases of the week, their consumers.
        cheated_merchant: counterfeit purchases of the week, their merchants.
        dropped_merchants: per merchant, delisted this week (its ties end).
    """
    f = spec.follows
    out = follows.copy()
    full = out >= 0
    # ties of delisted stores end
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
