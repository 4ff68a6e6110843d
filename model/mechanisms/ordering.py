"""Ordering: the weekly shopping choice, with outside options, and the merchant chosen.

Rule, per week, for each consumer i with a shopping need (probability
``occasion_rate * purchase_frequency_i``) and a basket worth
``B_i = mean_order_value * spending_i`` at price level 1:

1. Alternatives and their utilities (``a`` = ``price_weight``; prices are in baskets):

   - not buying: ``no_purchase_appeal``;
   - offline at home: ``offline_appeal - a * level_h * offline_price_markup``;
   - a traditional import from region b of another country:
     ``traditional_import_appeal - a * level_b * (1 + traditional_import_markup + tariff_bh)
     - delay_weight * traditional_import_days / 7``;
   - a mobile order from region b's sellers:
     ``mobile_appeal + I_bh + variety_weight * ln M_b - delay_weight * days_bh / 7
     + trust_weight * tau_ib + ln lift_i - memory_i``, where
     ``I_bh = ln mean_{j in b} exp(u_jh)`` over the M_b merchants of b selling through
     mobile channels, with
     ``u_jh = -a * price_j * (1 - coupon + logistics_bh + tariff_bh)
     + reputation_weight * rep_j + verified_weight * verified_j
     + visibility_weight * ln(1 + vis_j / mean vis)``,
     ``tau_ib`` the trust in own-country sellers when b is in i's country (else in
     foreign sellers), ``lift_i`` the conversion lift of marketing and KOLs and
     ``memory_i`` the memory of bad experiences.

2. Mobile alternatives exist for i only if i is aware of mobile shopping, has mobile
   access, passes the trust gate for b (probability ``gate(tau_ib)``, zero below
   ``purchase_threshold``: coupons cannot buy trust) and pays by mobile or would adopt
   at checkout (probability ``checkout_adoption * (1 - risk_i)``).
3. i chooses alternative k with logit probability ``P_ik = exp(V_ik) / sum exp(V_i.)``.
   Within region b, merchant j is drawn with probability proportional to ``exp(u_jh)``.
   A chosen mobile order completes with probability ``reliability`` (else a failed
   transaction: the need goes unmet this week).
4. Money: the consumer pays ``B_i * price_j * (1 - coupon + logistics + tariff)``; the
   merchant receives ``B_i * price_j`` (the state reimburses the coupon), the carrier
   the logistics, the state the tariff. Offline and traditional-import spending goes
   to retailers outside the model (tariffs on imports to the state).
5. Consumer surplus of a need is the logit inclusive value in money:
   ``B_i / a * ln sum_k exp(V_ik)`` (Small and Rosen 1981; a level up to a constant,
   compare it between scenarios).
6. Trade created and diverted (the logit counterfactual): a cross-border mobile order
   of value v by i would otherwise, by the independence of irrelevant alternatives,
   have gone to the other alternatives in proportion to their probabilities. The part
   that would have been no purchase or offline at home is *created*
   (``v * (P_none + P_offline) / (1 - P_cross_border)``); the part that would have been
   a domestic mobile order or a traditional import is *diverted*.

Cross-border means between countries (``params.cross_border``).

Source (docs/domain.md, Mechanisms > Ordering): "An aware, trusting consumer with
mobile access and payment buys with some probability per period, choosing among
merchants by price, reputation, trust and the cost and delay of delivery.
Cross-border orders face extra cost, delay and lower trust"; Mechanisms > Trust:
"Trust gates buying".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.mechanisms.trust import purchase_gate
from model.scenario import Ordering

#: alternative kinds, in the column order of the choice matrix per region block
NONE, OFFLINE = 0, 1


@dataclass
class Orders:
    """This week's mobile orders and the rest of the shopping choices.

    Attributes:
        consumer: ordering consumer per mobile order.
        merchant: merchant per mobile order.
        goods_value: price of the goods per order (currency), what the merchant receives.
        coupon_value: the part of ``goods_value`` paid by coupons (by the state).
        logistics_value: logistics paid per order (to carriers).
        tariff_value: tariff paid per order (to the state).
        cross_border: per order, seller in another country.
        created_value: per order, the part of ``goods_value`` that is created trade
            (0 for orders that are not cross-border).
        adopted_at_checkout: consumers who adopted mobile payment at checkout.
        failed_transactions: mobile orders lost to transaction failures.
        offline_spending: per region of the consumers, spending offline at home.
        import_spending: [origin, destination] spending on traditional imports, goods.
        import_tariff: [origin, destination] tariffs on traditional imports.
        needs: consumers with a shopping need this week.
        unmet_needs: needs not met (no purchase chosen, or a failed transaction).
        consumer_surplus: sum over needs of the inclusive value in money.
        basket_value: per region of the consumers, sum of baskets of all needs (the
            consumption that could be bought; the denominator of the mobile share).
    """

    consumer: np.ndarray
    merchant: np.ndarray
    goods_value: np.ndarray
    coupon_value: np.ndarray
    logistics_value: np.ndarray
    tariff_value: np.ndarray
    cross_border: np.ndarray
    created_value: np.ndarray
    adopted_at_checkout: np.ndarray
    failed_transactions: int
    offline_spending: np.ndarray
    import_spending: np.ndarray
    import_tariff: np.ndarray
    needs: int
    unmet_needs: int
    consumer_surplus: float
    basket_value: np.ndarray

    @property
    def count(self) -> int:
        """Number of mobile orders."""
        return int(self.consumer.size)

    @property
    def value(self) -> np.ndarray:
        """What the consumer pays per order (goods net of coupon, logistics, tariff)."""
        return self.goods_value - self.coupon_value + self.logistics_value + self.tariff_value


@dataclass
class SellerTables:
    """Per (seller region b, consumer region h): inclusive value and merchant draw table.

    Attributes:
        inclusive: R x R, ``I_bh + variety_weight * ln M_b`` (``-inf``: no seller in b).
        members: per b, the merchants of b selling through mobile channels.
        cdfs: per (b, h), cumulative choice probabilities over ``members[b]``.
    """

    inclusive: np.ndarray
    members: list[np.ndarray]
    cdfs: dict[tuple[int, int], np.ndarray]


def seller_tables(
    spec: Ordering,
    price: np.ndarray,
    reputation: np.ndarray,
    verified: np.ndarray,
    visibility: np.ndarray,
    selling: np.ndarray,
    merchant_region: np.ndarray,
    n_regions: int,
    coupon: float,
    logistics_cost: np.ndarray,
    tariff: np.ndarray,
) -> SellerTables:
    """Merchant utilities per consumer region, their inclusive values and draw tables."""
    vis = visibility[selling]
    scale = float(vis.mean()) if vis.size and vis.mean() > 0 else 1.0
    base = (
        spec.reputation_weight * reputation.astype(np.float64)
        + spec.verified_weight * verified
        + spec.visibility_weight * np.log1p(visibility.astype(np.float64) / scale)
    )
    inclusive = np.full((n_regions, n_regions), -np.inf)
    members: list[np.ndarray] = []
    cdfs: dict[tuple[int, int], np.ndarray] = {}
    for b in range(n_regions):
        idx = np.flatnonzero(selling & (merchant_region == b))
        members.append(idx)
        if not idx.size:
            continue
        p = price[idx].astype(np.float64)
        for h in range(n_regions):
            u = base[idx] - spec.price_weight * p * (1.0 - coupon + logistics_cost[b, h] + tariff[b, h])
            top = u.max()
            w = np.exp(u - top)
            total = w.sum()
            inclusive[b, h] = top + np.log(total / idx.size) + spec.variety_weight * np.log(idx.size)
            cdf = np.cumsum(w)
            cdfs[(b, h)] = cdf / cdf[-1]
    return SellerTables(inclusive, members, cdfs)


def choose(
    spec: Ordering,
    rng: np.random.Generator,
    *,
    consumer_region: np.ndarray,
    needs: np.ndarray,
    basket: np.ndarray,
    mobile_ok: np.ndarray,
    trust_domestic: np.ndarray,
    trust_foreign: np.ndarray,
    threshold: float,
    pays: np.ndarray,
    risk: np.ndarray,
    checkout_adoption: float,
    lift: np.ndarray,
    memory: np.ndarray,
    tables: SellerTables,
    price_level: np.ndarray,
    delivery_days: np.ndarray,
    logistics_cost: np.ndarray,
    tariff: np.ndarray,
    cross_border: np.ndarray,
    coupon: float,
    reliability: float,
    merchant_price: np.ndarray,
    merchant_region: np.ndarray,
) -> Orders:
    """Make this week's shopping choices and draw the mobile orders (see module docstring).

    Args:
        spec: the ordering parameters.
        rng: the model's generator.
        consumer_region: region per consumer.
        needs: consumers with a shopping need this week (indices).
        basket: per consumer, the basket value at price level 1 (currency).
        mobile_ok: per consumer, aware and with mobile access.
        trust_domestic: trust in own-country sellers.
        trust_foreign: trust in foreign sellers.
        threshold: the trust gate's threshold.
        pays: per consumer, pays by mobile.
        risk: per consumer, perceived payment risk.
        checkout_adoption: chance a non-payer adopts at checkout (before risk).
        lift: per consumer, conversion lift (>= 1).
        memory: per consumer, memory of bad experiences.
        tables: the seller tables of this week.
        price_level: per region, the price index.
        delivery_days: [origin, destination] delivery days of mobile orders.
        logistics_cost: [origin, destination] logistics share of the price.
        tariff: [origin, destination] tariff share of the price.
        cross_border: [origin, destination] True between countries.
        coupon: coupon share of the price on mobile orders.
        reliability: chance a mobile transaction completes.
        merchant_price: price index per merchant.
        merchant_region: region per merchant.
    """
    n_regions = price_level.size
    a = spec.price_weight
    count = needs.size
    home = consumer_region[needs].astype(np.int64)
    # columns: 0 none, 1 offline at home, 2..R+1 traditional import from b, R+2.. mobile from b
    n_alt = 2 + 2 * n_regions
    v = np.full((count, n_alt), -np.inf)
    v[:, NONE] = spec.no_purchase_appeal
    v[:, OFFLINE] = spec.offline_appeal - a * price_level[home] * spec.offline_price_markup
    for b in range(n_regions):
        imports = cross_border[b, home]
        value = (
            spec.traditional_import_appeal
            - a * price_level[b] * (1.0 + spec.traditional_import_markup + tariff[b, home])
            - spec.delay_weight * spec.traditional_import_days / 7.0
        )
        v[:, 2 + b] = np.where(imports, value, -np.inf)
    # mobile alternatives: gate and payment draws only for those who could buy by mobile
    can = mobile_ok[needs] & np.isfinite(tables.inclusive).any()
    gate_draw = rng.random(count) if can.any() else np.ones(count)
    payer = pays[needs]
    checkout_ok = ~payer & (
        rng.random(count) < checkout_adoption * (1.0 - risk[needs])
    ) if can.any() else np.zeros(count, dtype=bool)
    can &= payer | checkout_ok
    t_dom = trust_domestic[needs].astype(np.float64)
    t_for = trust_foreign[needs].astype(np.float64)
    personal = np.log(np.maximum(lift[needs], 1e-12)) - memory[needs].astype(np.float64)
    for b in range(n_regions):
        foreign = cross_border[b, home]
        tau = np.where(foreign, t_for, t_dom)
        ok = can & (gate_draw < purchase_gate(tau, threshold)) & np.isfinite(tables.inclusive[b, home])
        value = (
            spec.mobile_appeal
            + tables.inclusive[b, home]
            - spec.delay_weight * delivery_days[b, home] / 7.0
            + spec.trust_weight * tau
            + personal
        )
        v[:, 2 + n_regions + b] = np.where(ok, value, -np.inf)
    top = v.max(axis=1, keepdims=True)
    w = np.exp(v - top)
    total = w.sum(axis=1)
    prob = w / total[:, None]
    basket_i = basket[needs].astype(np.float64)
    surplus = float((basket_i / max(a, 1e-12) * (top[:, 0] + np.log(total))).sum()) if a > 0 else 0.0
    cum = np.cumsum(prob, axis=1)
    choice = np.minimum((cum < rng.random(count)[:, None]).sum(axis=1), n_alt - 1)

    # offline and traditional imports
    offline = choice == OFFLINE
    offline_spending = np.bincount(
        home[offline],
        weights=basket_i[offline] * price_level[home[offline]] * spec.offline_price_markup,
        minlength=n_regions,
    )
    import_spending = np.zeros((n_regions, n_regions))
    import_tariff = np.zeros((n_regions, n_regions))
    for b in range(n_regions):
        sel = choice == 2 + b
        if sel.any():
            goods = basket_i[sel] * price_level[b] * (1.0 + spec.traditional_import_markup)
            duty = basket_i[sel] * price_level[b] * tariff[b, home[sel]]
            np.add.at(import_spending[b], home[sel], goods)
            np.add.at(import_tariff[b], home[sel], duty)

    # mobile orders
    mobile = choice >= 2 + n_regions
    completed = rng.random(count) < reliability
    failed = int((mobile & ~completed).sum())
    unmet = int((choice == NONE).sum()) + failed
    keep = mobile & completed
    buyers_pos = np.flatnonzero(keep)
    buyers = needs[buyers_pos]
    seller_region = choice[buyers_pos] - (2 + n_regions)
    buyer_home = home[buyers_pos]
    merchant = np.empty(buyers.size, dtype=np.int64)
    u = rng.random(buyers.size)
    for b in range(n_regions):
        for h in range(n_regions):
            sel = (seller_region == b) & (buyer_home == h)
            if sel.any():
                cdf = tables.cdfs[(b, h)]
                pos = np.searchsorted(cdf, u[sel], side="right")
                merchant[sel] = tables.members[b][np.minimum(pos, cdf.size - 1)]
    adopted_at_checkout = buyers[~payer[buyers_pos]]
    goods = basket_i[buyers_pos] * merchant_price[merchant].astype(np.float64)
    origin = merchant_region[merchant].astype(np.int64)
    is_cross = cross_border[origin, buyer_home]
    # logit counterfactual: where would a cross-border order's money have gone?
    cb_cols = 2 + n_regions + np.arange(n_regions)
    p_buyers = prob[buyers_pos]
    cb_mask = cross_border[:, buyer_home].T  # buyers x seller regions
    p_cross = (p_buyers[:, cb_cols] * cb_mask).sum(axis=1)
    p_created = p_buyers[:, NONE] + p_buyers[:, OFFLINE]
    rest = np.maximum(1.0 - p_cross, 1e-12)
    created_share = np.where(is_cross, np.clip(p_created / rest, 0.0, 1.0), 0.0)
    basket_value = np.bincount(
        home, weights=basket_i * price_level[home], minlength=n_regions
    )
    return Orders(
        consumer=buyers,
        merchant=merchant,
        goods_value=goods,
        coupon_value=goods * coupon,
        logistics_value=goods * logistics_cost[origin, buyer_home],
        tariff_value=goods * tariff[origin, buyer_home],
        cross_border=is_cross,
        created_value=goods * created_share,
        adopted_at_checkout=adopted_at_checkout,
        failed_transactions=failed,
        offline_spending=offline_spending,
        import_spending=import_spending,
        import_tariff=import_tariff,
        needs=int(count),
        unmet_needs=unmet,
        consumer_surplus=surplus,
        basket_value=basket_value,
    )


def no_orders(n_regions: int) -> Orders:
    """An empty week (no needs)."""
    empty = np.empty(0, dtype=np.int64)
    zero = np.empty(0)
    return Orders(
        consumer=empty,
        merchant=empty,
        goods_value=zero,
        coupon_value=zero,
        logistics_value=zero,
        tariff_value=zero,
        cross_border=np.empty(0, dtype=bool),
        created_value=zero,
        adopted_at_checkout=empty,
        failed_transactions=0,
        offline_spending=np.zeros(n_regions),
        import_spending=np.zeros((n_regions, n_regions)),
        import_tariff=np.zeros((n_regions, n_regions)),
        needs=0,
        unmet_needs=0,
        consumer_surplus=0.0,
        basket_value=np.zeros(n_regions),
    )
