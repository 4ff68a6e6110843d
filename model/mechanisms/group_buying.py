"""Group chats and group buying.

Rules:

- **Group chats** (built once). Each consumer becomes a group's founder with chance
  ``1 / group_size``; every other consumer joins the group of one of its friends who
  founded one (drawn at random among them), or no group if none did. A group is thus a
  founder and part of its circle of friends: a dense patch of the social graph
  (friends of one person share many ties when the graph has triangles).
- **Group buying** (each week). Each group gets an offer from a store with chance
  ``offer_rate`` (times ``1 - spam control``). The founder opens it if it is an eligible
  platform user. Then, for ``window`` rounds (days): each buyer shares the offer with
  chance ``share_rate``; a share reaches every member of the buyer's group when it
  joined that group's offer, and the buyer's friends (share to join); each eligible
  consumer reached and not yet in an offer joins with chance ``join_probability`` (the
  team of the sharer it joins). The offer succeeds when ``min_buyers`` or more have
  joined; its price falls with the team size: ``discount = min(max_discount,
  discount_per_buyer * (buyers - 1))``. Buyers of a successful offer have the deal on
  their next purchase this week (mechanisms/ordering.py); buyers of a failed one get
  nothing.

So success rises with the group's size (more members reached) and the share rate
(more rounds of reach), which a test checks.

Source: docs/domain.md, Mechanisms > Social commerce (group chats and group buying;
the specific rules are assumptions of the model, with parameters to vary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.network import SocialGraph
from model.scenario import GroupBuying


def neighbour_pick(
    graph: SocialGraph, candidate: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Per node, one of its neighbours with ``candidate`` set, drawn at random (-1: none).

    One pass over the edges: each candidate gets a random key and each node takes the
    neighbour with the largest key.
    """
    n = graph.n
    out = np.full(n, -1, dtype=np.int64)
    if graph.fully_mixed or graph.n_edges == 0 or not candidate.any():
        return out
    adj = graph.adjacency
    key = np.full(n, -1, dtype=np.int64)
    ids = np.flatnonzero(candidate)
    key[ids] = rng.integers(0, 1 << 20, size=ids.size) * np.int64(n) + ids
    if ids.size <= n // 16:  # few candidates: gather their neighbours only
        lengths = (adj.indptr[ids + 1] - adj.indptr[ids]).astype(np.int64)
        dst = graph.neighbours_of(ids)
        best = np.full(n, -1, dtype=np.int64)
        np.maximum.at(best, dst, np.repeat(key[ids], lengths))
        found = best >= 0
        out[found] = best[found] % n
        return out
    data = key[adj.indices]
    counts = np.diff(adj.indptr)
    rows = np.flatnonzero(counts > 0)
    best = np.maximum.reduceat(data, adj.indptr[rows]) if rows.size else np.zeros(0, np.int64)
    found = best >= 0
    out[rows[found]] = best[found] % n
    return out


def build_group_chats(graph: SocialGraph, group_size: int, rng: np.random.Generator) -> np.ndarray:
    """Per consumer, its group chat (the founder's id; -1: in no group)."""
    n = graph.n
    founder = rng.random(n) < 1.0 / group_size
    group = neighbour_pick(graph, founder, rng)
    group[founder] = np.flatnonzero(founder)
    return group.astype(np.int32)


@dataclass
class GroupBuyWeek:
    """One week's group buying.

    Attributes:
        offers: offers opened.
        successes: offers that reached ``min_buyers``.
        buyers: consumers in a team (successful or not).
        deal_merchant: per consumer, the store of its successful deal (-1: none).
        deal_discount: per consumer, the price cut of its deal.
        invited: per consumer, reached by an offer this week.
        team_size: per opened offer (by founder), its buyers.
    """

    offers: int
    successes: int
    buyers: int
    deal_merchant: np.ndarray
    deal_discount: np.ndarray
    invited: np.ndarray
    team_size: np.ndarray


def no_group_buying(n: int) -> GroupBuyWeek:
    """Return a week without offers."""
    return GroupBuyWeek(
        0, 0, 0, np.full(n, -1, np.int64), np.zeros(n), np.zeros(n, bool), np.zeros(0, np.int64)
    )


def group_buy(
    spec: GroupBuying,
    graph: SocialGraph,
    group: np.ndarray,
    eligible: np.ndarray,
    stores: np.ndarray,
    offer_rate: float,
    rng: np.random.Generator,
) -> GroupBuyWeek:
    """Run this week's group-buying offers (see module docstring).

    Args:
        spec: group-buying parameters.
        graph: the social graph.
        group: per consumer, its group chat (founder id, -1 none).
        eligible: per consumer, may join (a platform user with access).
        stores: merchants that can make offers (listed, selling stores).
        offer_rate: weekly chance a group gets an offer (after spam control).
        rng: the phase's generator.
    """
    n = graph.n
    founders = np.flatnonzero((group == np.arange(n)) & eligible)
    if not founders.size or not stores.size or offer_rate <= 0.0:
        return no_group_buying(n)
    opened = founders[rng.random(founders.size) < offer_rate]
    if not opened.size:
        return no_group_buying(n)
    offer_of_group = np.full(n, -1, dtype=np.int64)
    offer_of_group[opened] = opened
    team = np.full(n, -1, dtype=np.int64)  # the offer (founder id) a consumer joined
    team[opened] = opened
    invited = np.zeros(n, dtype=bool)
    in_group = group >= 0
    for _ in range(spec.window):
        buyers = team >= 0
        sharers = buyers & (rng.random(n) < spec.share_rate)
        if not sharers.any():
            continue
        # members of a group where a buyer of the group's own offer shared
        shared_groups = np.zeros(n, dtype=bool)
        own = sharers & in_group & (team == np.where(in_group, group, -2))
        shared_groups[group[own]] = True
        reach_group = (
            in_group
            & shared_groups[np.maximum(group, 0)]
            & (offer_of_group[np.maximum(group, 0)] >= 0)
        )
        # friends of a sharer (share to join): join the sharer's team
        via = neighbour_pick(graph, sharers, rng)
        reached = reach_group | (via >= 0)
        invited |= reached
        joins = reached & (team < 0) & eligible & (rng.random(n) < spec.join_probability)
        target = np.where(
            reach_group, offer_of_group[np.maximum(group, 0)], team[np.maximum(via, 0)]
        )
        team[joins] = target[joins]
    members = np.flatnonzero(team >= 0)
    size = np.bincount(team[members], minlength=n)
    team_size = size[opened]
    success = size >= spec.min_buyers
    discount = np.minimum(spec.max_discount, spec.discount_per_buyer * (size - 1.0))
    merchant_of_offer = np.full(n, -1, dtype=np.int64)
    merchant_of_offer[opened] = stores[rng.integers(0, stores.size, size=opened.size)]
    deal_merchant = np.full(n, -1, dtype=np.int64)
    deal_discount = np.zeros(n)
    won = members[success[team[members]]]
    deal_merchant[won] = merchant_of_offer[team[won]]
    deal_discount[won] = discount[team[won]]
    return GroupBuyWeek(
        offers=int(opened.size),
        successes=int(success[opened].sum()),
        buyers=int(members.size),
        deal_merchant=deal_merchant,
        deal_discount=deal_discount,
        invited=invited,
        team_size=team_size,
    )
