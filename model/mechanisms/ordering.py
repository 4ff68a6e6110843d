"""Ordering: who buys, from which region's sellers and which merchant.

Rule, per step, for an aware consumer i with mobile access:

1. Desire: i wants to buy with probability
   ``purchase_rate * (1 + incentive_elasticity * coupon) * lift_i * exp(-memory_i)``
   (capped at 1), where ``coupon`` is the ``consumer_incentives`` lever, ``lift_i``
   the KOL purchase lift and ``memory_i`` the memory of bad experiences.
2. Where: only merchants that sell through mobile channels are in the choice
   set. Merchant j has utility ``u_j = -price_weight * ln(price_j (1 - coupon)) +
   reputation_weight * reputation_j + visibility_weight * ln(1 + vis_j / mean vis)``.
   Region b is chosen by a logit over
   ``V_ib = ln sum_{j in b} exp(u_j) - price_weight * ln(1 + cost_bi + tariff_bi)
   - delay_weight * days_bi / 7 + trust_weight * tau_ib``
   (``tau_ib``: trust in own-region sellers when b is i's region, else in foreign).
3. Trust gate: i buys from b with probability ``gate(tau_ib)`` (trust above
   ``purchase_threshold``, scaled to [0, 1]): coupons raise desire but cannot
   create purchases where there is no trust.
4. Payment: i must pay by mobile; a non-payer adopts at checkout with
   probability ``checkout_adoption * (1 - risk_i)`` or gives up.
5. Reliability: the transaction completes with probability ``reliability``.
6. Merchant: within region b, merchant j is drawn with probability
   proportional to ``exp(u_j)``. The order's value is
   ``mean_order_value * price_j * (1 - coupon) * (1 + cost + tariff) * (0.5 + tau_ib)``:
   large baskets stay rare while trust is low.

A cross-border order is one where consumer and merchant are in different regions.

Source (DOMAIN.md, mechanism 6): "An aware, trusting consumer with mobile access
and payment buys with some probability per period, choosing among merchants by
price, reputation, trust and the cost and delay of delivery. Cross-border orders
face extra cost, delay and lower trust".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.mechanisms.trust import purchase_gate
from model.scenario import Ordering


@dataclass
class Orders:
    """The orders of one step (one row per order).

    Attributes:
        consumer: buying consumer.
        merchant: selling merchant.
        value: amount paid (currency units).
        cross_border: consumer and merchant are in different regions.
        adopted_at_checkout: consumers who took up mobile payment to complete an order.
        failed_transactions: orders lost to an unreliable transaction system.
    """

    consumer: np.ndarray
    merchant: np.ndarray
    value: np.ndarray
    cross_border: np.ndarray
    adopted_at_checkout: np.ndarray
    failed_transactions: int

    @property
    def count(self) -> int:
        """Number of orders."""
        return int(self.consumer.size)


def merchant_utility(
    spec: Ordering,
    price: np.ndarray,
    reputation: np.ndarray,
    visibility: np.ndarray,
    available: np.ndarray,
    coupon: float,
) -> np.ndarray:
    """Utility of each merchant (``-inf`` where it does not sell through mobile channels)."""
    vis = visibility[available]
    scale = float(vis.mean()) if vis.size and vis.mean() > 0 else 1.0
    u = (
        -spec.price_weight * np.log(price.astype(np.float64) * (1.0 - coupon))
        + spec.reputation_weight * reputation
        + spec.visibility_weight * np.log1p(visibility / scale)
    )
    return np.where(available, u, -np.inf)


def region_values(
    spec: Ordering,
    utility: np.ndarray,
    merchant_region: np.ndarray,
    n_regions: int,
    logistics_cost: np.ndarray,
    delivery_days: np.ndarray,
    tariff: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Region values V[consumer region, seller region] and per-region merchant draw tables.

    Returns:
        (V, members, cdf): ``V`` is R x R (``-inf``: no seller there); ``members[b]`` the
        selling merchants of region b and ``cdf[b]`` their cumulative choice probabilities.
    """
    inclusive = np.full(n_regions, -np.inf)
    members, cdfs = [], []
    for b in range(n_regions):
        idx = np.flatnonzero((merchant_region == b) & np.isfinite(utility))
        members.append(idx)
        if idx.size:
            u = utility[idx]
            top = u.max()
            w = np.exp(u - top)
            inclusive[b] = top + np.log(w.sum())
            cdf = np.cumsum(w)
            cdfs.append(cdf / cdf[-1])
        else:
            cdfs.append(np.empty(0))
    # matrices are [origin (seller), destination (consumer)]; V is [consumer, seller]
    friction = spec.price_weight * np.log1p(logistics_cost + tariff) + spec.delay_weight * delivery_days / 7.0
    values = inclusive[None, :] - friction.T
    return values, members, cdfs


def choose_orders(
    spec: Ordering,
    rng: np.random.Generator,
    candidates: np.ndarray,
    consumer_region: np.ndarray,
    trust_domestic: np.ndarray,
    trust_foreign: np.ndarray,
    threshold: float,
    values: np.ndarray,
    members: list[np.ndarray],
    cdfs: list[np.ndarray],
    payment: np.ndarray,
    risk: np.ndarray,
    checkout_adoption: float,
    reliability: float,
    merchant_price: np.ndarray,
    merchant_region: np.ndarray,
    logistics_cost: np.ndarray,
    tariff: np.ndarray,
    coupon: float,
) -> Orders:
    """Turn this step's would-be buyers (``candidates``) into orders."""
    empty = np.empty(0, dtype=np.int64)
    n_regions = values.shape[0]
    if candidates.size == 0 or not np.isfinite(values).any():
        return Orders(empty, empty, np.empty(0), np.empty(0, bool), empty, 0)
    home = consumer_region[candidates].astype(np.int64)
    trust = np.repeat(trust_foreign[candidates, None].astype(np.float64), n_regions, axis=1)
    trust[np.arange(candidates.size), home] = trust_domestic[candidates]
    score = values[home] + spec.trust_weight * trust
    top = np.max(np.where(np.isfinite(score), score, -np.inf), axis=1, keepdims=True)
    weight = np.where(np.isfinite(score), np.exp(score - top), 0.0)
    cum = np.cumsum(weight, axis=1)
    draw = rng.random(candidates.size) * cum[:, -1]
    region = np.minimum((cum < draw[:, None]).sum(axis=1), n_regions - 1)
    chosen_trust = trust[np.arange(candidates.size), region]
    keep = rng.random(candidates.size) < purchase_gate(chosen_trust, threshold)
    # payment: non-payers may adopt at checkout
    pays = payment[candidates]
    checkout = ~pays & (rng.random(candidates.size) < checkout_adoption * (1.0 - risk[candidates]))
    keep &= pays | checkout
    adopted_at_checkout = candidates[keep & checkout]
    completed = rng.random(candidates.size) < reliability
    failed = int((keep & ~completed).sum())
    keep &= completed
    buyers, region, chosen_trust = candidates[keep], region[keep], chosen_trust[keep]
    merchant = np.empty(buyers.size, dtype=np.int64)
    u = rng.random(buyers.size)
    for b in range(n_regions):
        sel = region == b
        if sel.any():
            pos = np.searchsorted(cdfs[b], u[sel], side="right")
            merchant[sel] = members[b][np.minimum(pos, members[b].size - 1)]
    origin = merchant_region[merchant].astype(np.int64)
    dest = consumer_region[buyers].astype(np.int64)
    markup = 1.0 + logistics_cost[origin, dest] + tariff[origin, dest]
    value = (
        spec.mean_order_value
        * merchant_price[merchant]
        * (1.0 - coupon)
        * markup
        * (0.5 + chosen_trust)
    )
    return Orders(buyers, merchant, value, origin != dest, adopted_at_checkout, failed)
