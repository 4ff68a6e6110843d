"""Ordering: the weekly shopping choice, with outside options, and the merchant chosen.

Rule, per week, for each consumer i with a shopping need (probability
``occasion_rate * purchase_frequency_i``) and a basket worth
``B_i = mean_order_value * spending_i`` at price level 1:

1. Alternatives and their utilities (``a`` = ``price_weight``; prices are in baskets):

   - not buying: ``no_purchase_appeal``;
   - offline at home: ``offline_appeal - a * level_h * offline_price_markup``;
   - a traditional import from region b of another country:
     ``traditional_import_appeal - a * level_b * (1 + traditional_import_markup + T_bh)
     - delay_weight * traditional_import_days / 7``, with ``T_bh`` the tariff on
     traditional imports (``params.import_tariff``: the facilitation lever cuts it only
     when ``trade.facilitation_tariff_scope`` is ``traditional`` or ``both``);
   - a mobile order from region b's sellers:
     ``mobile_appeal + I_bh + variety_weight * ln(M_b / M) - delay_weight * days_bh / 7
     + trust_weight * tau_ib + ln lift_i - memory_i``, where
     ``I_bh = ln mean_{j in b} exp(u_jh)`` over the M_b merchants of b selling through
     mobile channels (M: the merchant slots, ``Scenario.merchant_slots``, the entry cap
     with exited and unused slots: a constant, so the utility does not change with the
     number of agents), with
     ``u_jh = -a * price_j * (1 - coupon + logistics_bh + tariff_bh)
     + reputation_weight * rep_j + verified_weight * verified_j
     + visibility_weight * ln(1 + vis_j / visibility_scale)``,
     ``tau_ib`` the trust in own-country sellers when b is in i's country (else in
     foreign sellers), ``lift_i`` the conversion lift of marketing and KOLs and
     ``memory_i`` the memory of bad experiences.

2. Mobile alternatives exist for i only if i is aware of mobile shopping, has mobile
   access, passes the trust gate for b (probability ``gate(tau_ib)``, zero below
   ``purchase_threshold``: coupons cannot buy trust) and pays by mobile or would adopt
   at checkout (probability ``checkout_adoption * (1 - risk_i)``).
3. i chooses alternative k with logit probability ``P_ik = exp(V_ik) / sum exp(V_i.)``.
   Within region b, merchant j is drawn with probability proportional to ``exp(u_jh)``,
   except that a follower who has one of b's KOL-endorsed merchants in mind (chance
   ``1 - exp(-reach_rate * e_ib)``, mechanisms/kol.py) buys from that merchant: an
   endorsement reaches the followers who see it, not every consumer.
   A chosen mobile order completes with probability ``reliability`` of the buyer's
   region (the infrastructure lever raises it where it acts; else a failed
   transaction: the need goes unmet this week).
4. Money: a mobile order holds ``s_i = 1 - order_size_confidence * (1 - tau_ib (1 -
   risk_i))`` of the basket (:func:`order_size_factor`: large transactions stay rare
   while distrust lasts), and ``B_i`` below is that share of it for mobile orders.
   The consumer pays ``B_i * price_j * (1 - coupon + logistics + tariff)``; the
   merchant receives ``B_i * price_j`` (the state reimburses the coupon), the carrier
   the logistics, the state the tariff. Offline and traditional-import spending goes
   to retailers outside the model (tariffs on imports to the state).
5. Consumer surplus of a need is measured with the welfare utility, not the choice
   utility: choices use ``V_ik`` above, but its persuasion terms ``s_ik`` change choices,
   not the value of the goods (the persuasive view of advertising: Dixit and Norman 1978;
   Bagwell 2007, "The economic analysis of advertising", Handbook of Industrial
   Organization vol. 3, sections 3-4). With decision utility ``V = W + s`` and
   experienced (welfare) utility ``W``, the expected welfare utility of the choice is the
   logsum of the decision utility minus the expected persuasion under the choice
   probabilities (Train 2009, Discrete Choice Methods with Simulation, section 3.5;
   Leggett 2002, "Environmental valuation with imperfectly informed consumers", Land
   Economics 78(3)), so in money, per need (Small and Rosen 1981 for the logsum):
   ``CS_i = B_i / a * (ln sum_k exp(V_ik) - sum_k P_ik s_ik)``
   (:func:`welfare_surplus`; a level up to a constant: compare it between scenarios).
   Persuasion ``s_ik``: ``ln lift_i`` on every mobile alternative (the conversion lift of
   marketing channels and KOLs, given awareness) and, with platforms, ``post_appeal`` on
   the followed store that posted this week (the store's own marketing message to a
   consumer who already has it in its list). Information, kept in ``W``: awareness (which
   alternatives exist), visibility (consideration: how far marketing puts a merchant in
   the choice set, mechanisms/marketing.py; Goeree 2008), reputation, verification,
   trust and ``memory_i`` (experience), habit (rule 10: learned convenience), a friend's
   share (a satisfied friend's unpaid recommendation), search, loyalty (ease of
   re-purchase), prices, coupons and deals.
   ``persuasion_value = sum_i B_i / a * sum_k P_ik s_ik`` is what the old logsum counted
   on top. The week's counterfeit and fraud losses are subtracted from the surplus in
   the accounts (mechanisms/accounts.py; docs/economics.md, Welfare).
6. Trade created and diverted, as trade economics defines them (Viner 1950, The
   Customs Union Issue, ch. 4: creation replaces home supply by imports, diversion
   moves imports from one foreign source to another; the counterfactual is the logit
   one). A cross-border mobile order of goods value v by i from sellers of region b
   would otherwise, had mobile shopping from b not existed (every mobile alternative
   of b's sellers removed: b's region alternative and the platform alternatives whose
   store is in b), have gone to the remaining alternatives in proportion to their
   probabilities (independence of irrelevant alternatives). With ``P_b`` the
   probability of the removed alternatives:

   - *created* (imports replacing home supply or no purchase):
     ``v * (P_none + P_offline + P_domestic_mobile) / (1 - P_b)``, where domestic
     mobile is every mobile alternative whose seller is in i's country;
   - *diverted* (from other foreign sources):
     ``v * (P_traditional_imports + P_other_foreign_mobile) / (1 - P_b)``: traditional
     imports from any country (from b too: traditional trade moved to e-commerce) and
     mobile orders from foreign regions other than b.

   The two parts are computed separately and add up to v (every remaining
   alternative is in one of them), so per region pair created + diverted is the
   pair's cross-border value.

Cross-border means between countries (``params.cross_border``).

7. With a ``platforms:`` section (mechanisms/platform.py), three more mobile
   alternatives may exist for a consumer, each one merchant j with the mobile utility
   above using ``u_jh`` in place of ``I_bh`` (plus ``verified_weight`` if its platform
   verified the store): the **followed** store it may buy again from (``+ loyalty``,
   ``+ post_appeal`` if it posted this week), the store a **friend shared**
   (``+ share_appeal``), and its **group-buying deal** (price cut by the deal's
   discount; joining a successful offer is a shopping need this week). A consumer who
   searched and acted on the results has ``+ search_appeal`` on every mobile
   alternative. A platform user's order at a listed store of platform p is paid in the
   app: with p's wallet if it holds it (a user of p without any wallet activates p's);
   else with a wallet it holds (of another platform) with chance ``interoperability``;
   else, if it uses p, it activates p's wallet at checkout with chance
   ``checkout_activation``; otherwise the payment fails (a failed transaction).
   Multi-homing and wallets: mechanisms/platform.py. Each order's channel is
   recorded (mechanisms/attribution.py); offline purchases are split into cash and QR
   payments (mechanisms/o2o.py); in-app orders pay the platform its fee.
   Without platforms none of this runs and no extra random numbers are drawn.

8. After the week (:func:`purchase_records`), each consumer's records: pays by mobile
   (with checkout adoption), has ever ordered (and across countries), the merchant and
   the week of its last mobile order.

9. Payment binds (merchants decide to accept mobile payment in mechanisms/acceptance.py).
   Every mobile buyer pays by mobile or adopts mobile payment at checkout (rule 2). After
   its merchant is drawn (and after the warned buyer's second draw and the
   cross-platform check), a buyer whose merchant does not accept mobile payment
   (``merchants.accepts_mobile_payment``) pays another way (cash on delivery, a bank
   card) with chance ``payment.other_payment``, else it does not buy: a failed
   transaction, the need unmet this week (``Orders.payment_refused``). No mobile payment
   and no checkout adoption at such a merchant. ``Orders.paid_by_mobile`` marks the
   orders paid by mobile; on each the merchant pays the payment provider
   ``payment.acceptance_fee`` of the goods value (``Orders.payment_fee``, booked
   ``merchants -> payment_providers`` in mechanisms/accounts.py and part of the
   merchant's costs). The platform fee of an in-app order (rule 7) is the platform's
   commission and comes on top. One uniform per need (drawn for every need, used for
   the orders), with and without platforms.
   Source: docs/domain.md, Mechanisms > Mobile payment (two-sided adoption: a payment
   means works only where the seller accepts it); cash on delivery and bank cards as
   the other ways to pay for online orders; ``other_payment`` 0.57 = 1 - the 42-44% of
   online shoppers who would stop a purchase without their favourite payment method
   (PPRO 2020, US and UK; stated intentions).

10. Habit: shopping by mobile gets easier with practice. Each consumer has a mobile
    shopping habit stock ``h_i >= 0`` (``consumers.mobile_habit``); after each week
    (:func:`update_habit`, in :func:`purchase_records`)
    ``h_i <- (1 - habit_decay) * h_i + o_i``, with ``o_i`` 1 if i completed a mobile
    order this week (at most one need a week), else 0: an exponentially smoothed count
    of past orders (the brand-loyalty variable of Guadagni and Little 1983, "A logit
    model of brand choice calibrated on scanner data", Marketing Science 2(3)), at most
    ``1 / habit_decay``. Every mobile alternative (rule 1's regions and rule 7's platform
    alternatives) gets ``+ habit_weight * ln(1 + h_i)`` (:func:`habit_utility`): concave
    in the stock, as automaticity rises with repetitions towards an asymptote (Lally et
    al. 2010, "How are habits formed", European Journal of Social Psychology 40(6)).
    Consumers who shopped by mobile before week 0 start with ``h = 1`` (one order
    remembered: their last, in the 26 weeks before week 0), the others with 0. Habit is
    experienced convenience (a learned routine: less effort to find, order and pay), so
    it is part of the welfare utility ``W``, not persuasion (rule 5): it raises the
    surplus of a habitual shopper's needs. Direction sourced: online shopping habit and
    experience raise repurchase intention (Khalifa and Liu 2007, "Online consumer
    retention: contingent effects of online shopping habit and online shopping
    experience", European Journal of Information Systems 16(6)); habit is a driver of
    continued use of a B2C web site besides usefulness and trust (Liao, Palvia and Lin
    2006, "The roles of habit and web site quality in e-commerce", International Journal
    of Information Management 26(6); Gefen 2003, "TAM or just plain habit", Journal of
    Organizational and End User Computing 15(3)); habit, from the frequency of past
    use, carries continued use beyond intention (Limayem, Hirt and Cheung 2007, MIS
    Quarterly 31(4)). These are survey studies of the sign; the size (``habit_weight``)
    is fitted with the volume series (docs/calibration.md), the memory (``habit_decay``)
    is an assumption.

Source (docs/domain.md, Mechanisms > Ordering): "An aware, trusting consumer with
mobile access and payment buys with some probability per period, choosing among
merchants by price, reputation, trust and the cost and delay of delivery.
Cross-border orders face extra cost, delay and lower trust"; Mechanisms > Trust:
"Trust gates buying".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.mechanisms import attribution, o2o
from model.mechanisms.trust import purchase_gate
from model.scenario import Ordering, Platforms

if TYPE_CHECKING:
    from model.mechanisms.kol import Endorsements
    from model.policy import EffectiveParameters
    from model.scenario import Scenario

#: alternative kinds, in the column order of the choice matrix per region block
NONE, OFFLINE = 0, 1


@dataclass
class Orders:
    """One week's mobile orders and the rest of the shopping choices.

    Attributes:
        consumer: ordering consumer per mobile order.
        merchant: merchant per mobile order.
        goods_value: price of the goods per order (yuan), what the merchant receives.
        coupon_value: the part of ``goods_value`` paid by coupons (by the state).
        logistics_value: logistics paid per order (to carriers).
        tariff_value: tariff paid per order (to the state).
        cross_border: per order, seller in another country.
        created_value: per order, the part of ``goods_value`` that is created trade
            (0 for orders that are not cross-border; rule 6).
        diverted_value: per order, the part of ``goods_value`` that is diverted trade
            (0 for orders that are not cross-border; rule 6).
        adopted_at_checkout: consumers who adopted mobile payment at checkout.
        failed_transactions: mobile orders lost to transaction failures.
        offline_spending: per region of the consumers, spending offline at home.
        import_spending: [origin, destination] spending on traditional imports, goods.
        import_tariff: [origin, destination] tariffs on traditional imports.
        needs: consumers with a shopping need this week.
        unmet_needs: needs not met (no purchase chosen, or a failed transaction).
        consumer_surplus: sum over needs of the expected welfare utility of the choice
            in money (rule 5: the inclusive value without persuasion; before the
            week's counterfeit and fraud losses, which the accounts subtract).
        persuasion_value: sum over needs of the expected persuasion term in money
            (rule 5; the old logsum was ``consumer_surplus + persuasion_value``).
        basket_value: per region of the consumers, sum of baskets of all needs (the
            consumption that could be bought; the denominator of the mobile share).
        channel: per order, its channel code (mechanisms/attribution.py); None
            without platforms.
        platform_fee: per order, the fee the merchant pays its platform (in-app
            orders); None without platforms.
        qr: this week's offline QR payments (mechanisms/o2o.py); None without platforms.
        searches: needs that searched (0 without platforms).
        search_actions: searches followed by an action.
        search_purchases: actions followed by a mobile order this week.
        cross_platform_failures: in-app payments that failed at another platform's store.
        wallet: per order, the platform wallet it was paid with (-1: not an in-app
            payment); None without platforms.
        paid_by_mobile: per order, paid by mobile payment (the buyer pays by mobile or
            adopted at checkout, and the merchant accepts mobile payment; rule 9).
        payment_fee: per order, the payment provider's fee the merchant pays
            (``payment.acceptance_fee`` x goods value on orders paid by mobile, else 0).
        payment_refused: chosen mobile orders lost because the merchant does not accept
            mobile payment and the buyer would not pay another way (rule 9; also in
            ``failed_transactions``).
    """

    consumer: np.ndarray
    merchant: np.ndarray
    goods_value: np.ndarray
    coupon_value: np.ndarray
    logistics_value: np.ndarray
    tariff_value: np.ndarray
    cross_border: np.ndarray
    created_value: np.ndarray
    diverted_value: np.ndarray
    adopted_at_checkout: np.ndarray
    failed_transactions: int
    offline_spending: np.ndarray
    import_spending: np.ndarray
    import_tariff: np.ndarray
    needs: int
    unmet_needs: int
    consumer_surplus: float
    persuasion_value: float
    basket_value: np.ndarray
    paid_by_mobile: np.ndarray
    payment_fee: np.ndarray
    channel: np.ndarray | None = None
    platform_fee: np.ndarray | None = None
    qr: o2o.QrWeek | None = None
    searches: int = 0
    search_actions: int = 0
    search_purchases: int = 0
    cross_platform_failures: int = 0
    payment_refused: int = 0
    wallet: np.ndarray | None = None

    @property
    def count(self) -> int:
        """Number of mobile orders."""
        return int(self.consumer.size)

    @property
    def value(self) -> np.ndarray:
        """What the consumer pays per order (goods net of coupon, logistics, tariff)."""
        return self.goods_value - self.coupon_value + self.logistics_value + self.tariff_value


def welfare_surplus(
    basket: np.ndarray, price_weight: float, total: np.ndarray, persuasion: np.ndarray
) -> tuple[float, float]:
    """Consumer surplus of the needs when choice utility includes persuasion (rule 5).

    Args:
        basket: per need, the basket value ``B_i`` (yuan).
        price_weight: ``a``, the utility of one basket's worth of money.
        total: per need, ``sum_k exp(V_ik)`` over the alternatives (decision utilities).
        persuasion: per need, ``sum_k exp(V_ik) * s_ik`` (``s``: the persuasion terms).

    Returns:
        ``(surplus, persuasion_value)``: the sums over needs of
        ``B_i / a * (ln total_i - persuasion_i / total_i)`` and of
        ``B_i / a * persuasion_i / total_i`` (both 0 when ``a`` is 0: no money scale).
    """
    if price_weight <= 0 or not basket.size:
        return 0.0, 0.0
    money = basket / price_weight
    expected = persuasion / total  # sum_k P_ik s_ik
    return float((money * (np.log(total) - expected)).sum()), float((money * expected).sum())


@dataclass
class SellerTables:
    """Per (seller region b, consumer region h): inclusive value and merchant draw table.

    Attributes:
        inclusive: R x R, ``I_bh + variety_weight * ln(M_b / M)`` (``-inf``: no seller in b).
        members: per b, the merchants of b selling through mobile channels.
        cdfs: per (b, h), cumulative choice probabilities over ``members[b]``.
        base: per merchant, the price-free part of its utility.
        selling: per merchant, sells through mobile channels.
    """

    inclusive: np.ndarray
    members: list[np.ndarray]
    cdfs: dict[tuple[int, int], np.ndarray]
    base: np.ndarray | None = None
    selling: np.ndarray | None = None


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
    scale = spec.visibility_scale  # fixed: more reach raises the region's value
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
            markup = 1.0 - coupon + logistics_cost[b, h] + tariff[b, h]
            u = base[idx] - spec.price_weight * p * markup
            top = u.max()
            w = np.exp(u - top)
            variety = spec.variety_weight * np.log(idx.size / merchant_region.size)
            inclusive[b, h] = top + np.log(w.sum() / idx.size) + variety
            cdf = np.cumsum(w)
            cdfs[(b, h)] = cdf / cdf[-1]
    return SellerTables(inclusive, members, cdfs, base, selling)


@dataclass
class PlatformChoice:
    """What the platform layer adds to a week's choice (mechanisms/platform.py).

    Attributes:
        spec: the ``platforms:`` section.
        week: the platform week (``platform.PlatformWeek``: content, deals, stores,
            users and the week's platform parameters).
        kol_touch: per consumer, saw a KOL post this week.
        marketing_channel: per consumer, the marketing channel code that reached it (-1).
        qr_acceptance: regions x platforms, share of offline retailers accepting each
            platform's QR code (``platforms.qr_acceptance``, mechanisms/o2o.py).
    """

    spec: Platforms
    week: Any
    kol_touch: np.ndarray
    marketing_channel: np.ndarray
    qr_acceptance: np.ndarray


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
    traditional_tariff: np.ndarray | None = None,
    coupon: float,
    reliability: float | np.ndarray,
    merchant_price: np.ndarray,
    merchant_region: np.ndarray,
    platform: PlatformChoice | None = None,
    warned_merchant: np.ndarray | None = None,
    accepts: np.ndarray | None = None,
    other_payment: float = 1.0,
    payment_fee: float = 0.0,
    habit: np.ndarray | None = None,
    endorsements: Endorsements | None = None,
) -> Orders:
    """Make this week's shopping choices and draw the mobile orders (see module docstring).

    Args:
        spec: the ordering parameters.
        rng: the phase's generator.
        consumer_region: region per consumer.
        needs: consumers with a shopping need this week (indices).
        basket: per consumer, the basket value at price level 1 (yuan).
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
        traditional_tariff: [origin, destination] tariff share of traditional imports
            (None: ``tariff``).
        coupon: coupon share of the price on mobile orders.
        reliability: chance a mobile transaction completes (a number, or per region of
            the buyer).
        merchant_price: price index per merchant.
        merchant_region: region per merchant.
        platform: the platform layer's additions (None: no platform, no extra draws).
        warned_merchant: per consumer, a merchant a neighbour warned about this week
            (-1: none); a buyer who draws it draws once more.
        accepts: per merchant, accepts mobile payment (rule 9; None: every merchant
            accepts, and no draws).
        other_payment: chance a buyer at a merchant that does not accept mobile payment
            pays another way (rule 9).
        payment_fee: the payment provider's fee on an order paid by mobile [share of
            goods value].
        habit: per consumer, its mobile shopping habit stock (rule 10; None: no habit).
        endorsements: the week's KOL endorsements as their followers see them (rule 3: a
            follower who has an endorsed merchant of the chosen region in mind buys from
            it; None: no posts, and no draws).
    """
    if traditional_tariff is None:
        traditional_tariff = tariff
    n_regions = price_level.size
    a = spec.price_weight
    count = needs.size
    home = consumer_region[needs].astype(np.int64)
    basket_i = basket[needs].astype(np.float64)
    # Outside options depend only on the home region: weights exp(V) per region, columns
    # 0 none, 1 offline at home, 2 + b traditional import from region b.
    outside = np.zeros((n_regions, 2 + n_regions))
    for h in range(n_regions):
        outside[h, NONE] = np.exp(spec.no_purchase_appeal)
        outside[h, OFFLINE] = np.exp(
            spec.offline_appeal - a * price_level[h] * spec.offline_price_markup
        )
        for b in range(n_regions):
            if cross_border[b, h]:
                outside[h, 2 + b] = np.exp(
                    spec.traditional_import_appeal
                    - a
                    * price_level[b]
                    * (1.0 + spec.traditional_import_markup + traditional_tariff[b, h])
                    - spec.delay_weight * spec.traditional_import_days / 7.0
                )
    outside_total = outside.sum(axis=1)
    outside_cdf = np.cumsum(outside, axis=1) / outside_total[:, None]
    # Mobile alternatives, only for those who could buy by mobile: aware and connected,
    # paying or adopting at checkout, and past the trust gate of the seller's region.
    mobile_weight = np.zeros((count, n_regions))
    can = mobile_ok[needs] & bool(np.isfinite(tables.inclusive).any())
    capable = np.flatnonzero(can)
    payer = pays[needs]
    checkout_ok = np.zeros(count, dtype=bool)
    extra = (
        _PlatformAlternatives.start(platform, rng, mobile_ok[needs])
        if platform is not None
        else None
    )
    # every need draws its uniforms, used or not, so one consumer's state does not
    # move the draws of the others (common random numbers between scenarios)
    uniforms = rng.random((8, count))
    gate_all, checkout_all, merchant_u, again_u, pay_u = uniforms[:5]
    if capable.size:
        gate_draw = gate_all[capable]
        checkout_ok[capable] = ~payer[capable] & (
            checkout_all[capable] < checkout_adoption * (1.0 - risk[needs[capable]])
        )
        ok_pay = payer[capable] | checkout_ok[capable]
        who = needs[capable]
        h_cap = home[capable]
        t_dom = trust_domestic[who].astype(np.float64)
        t_for = trust_foreign[who].astype(np.float64)
        lift_term = np.log(np.maximum(lift[who], 1e-12))  # persuasion (rule 5)
        personal = lift_term - memory[who].astype(np.float64)
        if habit is not None and spec.habit_weight > 0.0:  # rule 10: welfare, not persuasion
            personal = personal + habit_utility(spec.habit_weight, habit[who])
        for b in range(n_regions):
            foreign = cross_border[b, h_cap]
            tau = np.where(foreign, t_for, t_dom)
            inclusive = tables.inclusive[b, h_cap]
            ok = ok_pay & (gate_draw < purchase_gate(tau, threshold)) & np.isfinite(inclusive)
            value = (
                spec.mobile_appeal
                + np.where(ok, inclusive, 0.0)
                - spec.delay_weight * delivery_days[b, h_cap] / 7.0
                + spec.trust_weight * tau
                + personal
            )
            mobile_weight[capable, b] = np.where(ok, np.exp(value), 0.0)
        if extra is not None:
            extra.weigh(
                spec, platform, capable, who, h_cap, ok_pay, gate_draw, t_dom, t_for, personal,
                threshold, tables, delivery_days, logistics_cost, tariff, cross_border, coupon,
                merchant_price, merchant_region, mobile_weight,
            )
    base_total = outside_total[home]
    # only the capable have mobile weights (the others' row sums are 0: total = base)
    total = base_total.copy()
    persuasion = np.zeros(count)  # per need: sum_k exp(V_ik) * s_ik (rule 5)
    if capable.size:
        offered = _row_sums(mobile_weight[capable])
        total[capable] += offered
        if extra is not None:
            offered = offered + extra.weight[capable].sum(axis=1)
        persuasion[capable] = lift_term * offered
    if extra is not None:
        total = total + extra.weight.sum(axis=1)
        persuasion = persuasion + extra.persuasion
    surplus, persuaded = welfare_surplus(basket_i, a, total, persuasion)
    draw = rng.random(count) * total
    is_mobile = draw >= base_total
    # outside choices: position within the home region's outside cdf (its thresholds
    # cdf * total per home region are non-decreasing, so the count of those below the
    # draw, capped at the last column, is the count over all but the last column);
    # -1 for the needs that chose a mobile alternative
    threshold_by_home = outside_cdf * outside_total[:, None]
    outside_choice = np.zeros(count, dtype=np.intp)
    for k in range(1 + n_regions):
        outside_choice += threshold_by_home[:, k][home] < draw
    outside_choice[is_mobile] = -1

    # offline and traditional imports
    offline = outside_choice == OFFLINE
    spent = basket_i * price_level[home]  # per need, the basket at its home prices
    offline_value = spent * spec.offline_price_markup
    offline_spending = np.bincount(  # the others add 0.0: the same sums
        home, weights=np.where(offline, offline_value, 0.0), minlength=n_regions
    )
    import_spending = np.zeros((n_regions, n_regions))
    import_tariff = np.zeros((n_regions, n_regions))
    for b in range(n_regions):
        sel = outside_choice == 2 + b
        if sel.any():
            goods = basket_i[sel] * price_level[b] * (1.0 + spec.traditional_import_markup)
            duty = basket_i[sel] * price_level[b] * traditional_tariff[b, home[sel]]
            import_spending[b] += np.bincount(home[sel], weights=goods, minlength=n_regions)
            import_tariff[b] += np.bincount(home[sel], weights=duty, minlength=n_regions)

    # mobile orders
    rel = np.asarray(reliability, dtype=np.float64)
    completed = rng.random(count) < (rel[home] if rel.ndim else rel)
    failed = int(np.count_nonzero(is_mobile & ~completed))
    unmet = int(np.count_nonzero(outside_choice == NONE)) + failed
    keep = is_mobile & completed
    buyers_pos = np.flatnonzero(keep)
    buyers = needs[buyers_pos]
    # mobile choices: which seller region (the orders' rows only)
    seller_region = np.minimum(
        (
            np.cumsum(mobile_weight[buyers_pos], axis=1)
            < (draw[buyers_pos] - base_total[buyers_pos])[:, None]
        ).sum(axis=1),
        n_regions - 1,
    )
    if extra is not None:  # an order of a platform alternative has its merchant already
        picked = extra.pick(draw - base_total, mobile_weight, buyers_pos)
        seller_region = np.where(picked >= 0, -1, seller_region)
    buyer_home = home[buyers_pos]
    merchant = np.empty(buyers.size, dtype=np.int64)
    u = merchant_u[buyers_pos]
    # a consumer warned about a merchant this week draws again once if it drew that one
    again = again_u[buyers_pos] if warned_merchant is not None else None
    for b in range(n_regions):
        for h in range(n_regions):
            sel = (seller_region == b) & (buyer_home == h)
            if sel.any():
                cdf = tables.cdfs[(b, h)]
                pos = np.searchsorted(cdf, u[sel], side="right")
                merchant[sel] = tables.members[b][np.minimum(pos, cdf.size - 1)]
                if again is not None:
                    idx = np.flatnonzero(sel)
                    hit = idx[merchant[idx] == warned_merchant[buyers[idx]]]
                    if hit.size:
                        pos = np.searchsorted(cdf, again[hit], side="right")
                        merchant[hit] = tables.members[b][np.minimum(pos, cdf.size - 1)]
    if endorsements is not None and buyers.size:  # rule 3: an endorsement in mind
        endorsed = endorsements.pick(
            uniforms[5:, buyers_pos], buyers, seller_region, tables.selling
        )
        if warned_merchant is not None:
            endorsed[endorsed == warned_merchant[buyers]] = -1
        merchant = np.where(endorsed >= 0, endorsed, merchant)
    if extra is not None:  # platform alternatives: their merchant; cross-platform payment
        go = extra.settle(platform, rng, buyers_pos, buyers, merchant)
        failed += buyers.size - go.size
        unmet += buyers.size - go.size
        buyers_pos, buyers, merchant = buyers_pos[go], buyers[go], merchant[go]
        buyer_home = buyer_home[go]
    # payment binds (rule 9): no mobile payment at a merchant that does not accept it
    paid_by_mobile = np.ones(buyers.size, dtype=bool)
    refused = 0
    if accepts is not None:
        paid_by_mobile = accepts[merchant].astype(bool)
        go = np.flatnonzero(paid_by_mobile | (pay_u[buyers_pos] < other_payment))
        refused = buyers.size - go.size
        failed += refused
        unmet += refused
        buyers_pos, buyers, merchant = buyers_pos[go], buyers[go], merchant[go]
        buyer_home, paid_by_mobile = buyer_home[go], paid_by_mobile[go]
        if extra is not None:
            extra.column = extra.column[go]
            extra.wallet = np.where(paid_by_mobile, extra.wallet[go], -1)
    adopted_at_checkout = buyers[~payer[buyers_pos] & paid_by_mobile]
    goods = basket_i[buyers_pos] * merchant_price[merchant].astype(np.float64)
    if extra is not None:
        goods = goods * (1.0 - extra.discount[buyers_pos])
    origin = merchant_region[merchant].astype(np.int64)
    is_cross = cross_border[origin, buyer_home]
    if spec.order_size_confidence > 0.0:
        seller_trust = np.where(is_cross, trust_foreign[buyers], trust_domestic[buyers])
        goods = goods * order_size_factor(
            spec.order_size_confidence, seller_trust, risk[buyers]
        )
    created_share, diverted_share = _created_diverted(
        outside, mobile_weight, extra, cross_border, merchant_region, buyers_pos,
        buyer_home, origin, is_cross,
    )
    basket_value = np.bincount(home, weights=spent, minlength=n_regions)
    platform_fields: dict[str, Any] = {}
    if extra is not None:
        platform_fields = extra.outcome(
            platform, rng, needs, buyers_pos, buyers, merchant, goods, offline,
            offline_value, pays, risk,
            nearby=merchant_region[merchant].astype(np.int64) == buyer_home, home=home,
        )
        adopted_at_checkout = np.concatenate(
            [adopted_at_checkout, platform_fields["qr"].first_time]
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
        diverted_value=goods * diverted_share,
        adopted_at_checkout=adopted_at_checkout,
        failed_transactions=failed,
        offline_spending=offline_spending,
        import_spending=import_spending,
        import_tariff=import_tariff,
        needs=int(count),
        unmet_needs=unmet,
        consumer_surplus=surplus,
        persuasion_value=persuaded,
        basket_value=basket_value,
        paid_by_mobile=paid_by_mobile,
        payment_fee=np.where(paid_by_mobile, goods * payment_fee, 0.0),
        payment_refused=refused,
        **platform_fields,
    )


def _row_sums(weights: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``weights`` (a 2-D array), exactly as ``weights.sum(axis=1)``.

    Two columns (two regions) add as one vector addition: a sum of two numbers does not
    depend on the order, so the result is the same to the bit and much faster than
    NumPy's row reduction over a short axis.
    """
    if weights.shape[1] == 2:
        return weights[:, 0] + weights[:, 1]
    return weights.sum(axis=1)


def _created_diverted(
    outside: np.ndarray,
    mobile_weight: np.ndarray,
    extra: _PlatformAlternatives | None,
    cross_border: np.ndarray,
    merchant_region: np.ndarray,
    buyers_pos: np.ndarray,
    buyer_home: np.ndarray,
    origin: np.ndarray,
    is_cross: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per order, the created and the diverted share of its goods value (rule 6).

    Args:
        outside: [home region, alternative] weights ``exp(V)`` of the outside options
            (columns: none, offline at home, traditional import from each region).
        mobile_weight: [need, seller region] weights of the region alternatives.
        extra: the platform alternatives (None without platforms).
        cross_border: [origin, destination] True between countries.
        merchant_region: per merchant, its region.
        buyers_pos: per order, its need.
        buyer_home: per order, the buyer's region.
        origin: per order, the seller's region.
        is_cross: per order, cross-border.

    Both shares are 0 for orders that are not cross-border; for the others they add up
    to 1 (each alternative left after removing the origin's is created or diverted).
    """
    w = mobile_weight[buyers_pos]
    foreign = cross_border[:, buyer_home].T  # [order, seller region]
    kept = np.arange(w.shape[1])[None, :] != origin[:, None]  # b's alternative removed
    # sums over the kept alternatives (no subtraction: no cancellation when the removed
    # alternative dominates)
    domestic_mobile = (w * ~foreign).sum(axis=1)
    other_foreign = (w * (foreign & kept)).sum(axis=1)
    rest = outside[buyer_home].sum(axis=1) + (w * kept).sum(axis=1)
    if extra is not None:  # platform alternatives: by their store's region
        ew = extra.weight[buyers_pos]
        em = extra.merchant[buyers_pos]
        store_region = merchant_region[np.maximum(em, 0)].astype(np.int64)
        same = (em >= 0) & (store_region == origin[:, None])
        domestic_mobile = domestic_mobile + (ew * ~extra.cross[buyers_pos]).sum(axis=1)
        other_foreign = other_foreign + (ew * (extra.cross[buyers_pos] & ~same)).sum(axis=1)
        rest = rest + (ew * ~same).sum(axis=1)
    created_w = outside[buyer_home, NONE] + outside[buyer_home, OFFLINE] + domestic_mobile
    diverted_w = outside[buyer_home, 2:].sum(axis=1) + other_foreign
    rest = np.maximum(rest, 1e-300)
    created = np.where(is_cross, np.clip(created_w / rest, 0.0, 1.0), 0.0)
    diverted = np.where(is_cross, np.clip(diverted_w / rest, 0.0, 1.0), 0.0)
    return created, diverted


FOLLOW, SHARE, DEAL = 0, 1, 2
"""Columns of the platform alternatives: followed store, friend's share, group-buying deal."""


@dataclass
class _PlatformAlternatives:
    """Per need: the platform alternatives (rule 7 of the module docstring).

    Attributes:
        searched: searched this week.
        acted: acted on the search results.
        merchant: need x 3, the merchant of each platform alternative (-1 none).
        weight: need x 3, ``exp(V)`` of each (0: not available).
        cross: need x 3, its seller is in another country.
        discount: per need, the price cut of the order (the deal's, if chosen).
        column: per order, the platform alternative chosen (-1: a region's sellers).
        cross_platform_failures: in-app payments that failed at another platform's store.
        wallet: per order, the platform wallet it is paid with (-1: not in the app).
        persuasion: per need, ``exp(V) * post_appeal`` of the followed store that posted
            this week (the platform alternatives' persuasion beyond the lift, rule 5).
    """

    searched: np.ndarray
    acted: np.ndarray
    merchant: np.ndarray
    weight: np.ndarray
    cross: np.ndarray
    discount: np.ndarray
    column: np.ndarray | None = None
    cross_platform_failures: int = 0
    persuasion: np.ndarray | None = None
    wallet: np.ndarray | None = None

    @classmethod
    def start(cls, platform: PlatformChoice, rng: np.random.Generator, mobile_ok: np.ndarray):
        """Search draws of the needs (a search is made by a consumer with a need)."""
        count = mobile_ok.size
        search = platform.spec.search
        draws = rng.random((2, count))
        searched = mobile_ok & (draws[0] < search.search_rate)
        acted = searched & (draws[1] < search.action_rate)
        return cls(
            searched=searched,
            acted=acted,
            merchant=np.full((count, 3), -1, dtype=np.int64),
            weight=np.zeros((count, 3)),
            cross=np.zeros((count, 3), dtype=bool),
            discount=np.zeros(count),
            persuasion=np.zeros(count),
        )

    def weigh(
        self, spec, platform, capable, who, h_cap, ok_pay, gate_draw, t_dom, t_for, personal,
        threshold, tables, delivery_days, logistics_cost, tariff, cross_border, coupon,
        merchant_price, merchant_region, mobile_weight,
    ) -> None:
        """Apply the search bonus to the mobile weights; set the platform alternatives' weights."""
        pw, ps = platform.week, platform.spec
        bonus = np.where(self.acted[capable], ps.search.search_appeal, 0.0)
        mobile_weight[capable] *= np.exp(bonus)[:, None]
        a = spec.price_weight
        columns = (
            (
                pw.follow_merchant[who],
                ps.follows.loyalty + ps.follows.post_appeal * (pw.posts[who] > 0),
                0.0,
            ),
            (pw.shared_merchant[who], ps.sharing.share_appeal, 0.0),
            (pw.group_buy.deal_merchant[who], 0.0, pw.group_buy.deal_discount[who]),
        )
        for k, (chosen, appeal, discount) in enumerate(columns):
            chosen = np.asarray(chosen, dtype=np.int64)
            j = np.maximum(chosen, 0)
            exists = (chosen >= 0) & tables.selling[j]
            b = merchant_region[j].astype(np.int64)
            foreign = cross_border[b, h_cap]
            tau = np.where(foreign, t_for, t_dom)
            markup = (1.0 - discount) * (1.0 - coupon + logistics_cost[b, h_cap] + tariff[b, h_cap])
            value = (
                spec.mobile_appeal
                + tables.base[j]
                + spec.verified_weight * pw.store_verified[j]
                - a * merchant_price[j] * markup
                + appeal
                + bonus
                - spec.delay_weight * delivery_days[b, h_cap] / 7.0
                + spec.trust_weight * tau
                + personal
            )
            ok = ok_pay & exists & (gate_draw < purchase_gate(tau, threshold))
            self.weight[capable, k] = np.where(ok, np.exp(np.where(ok, value, 0.0)), 0.0)
            self.merchant[capable, k] = np.where(exists, chosen, -1)
            self.cross[capable, k] = exists & foreign
        # persuasion (rule 5): the followed store's own post this week
        posted = ps.follows.post_appeal * (pw.posts[who] > 0)
        self.persuasion[capable] = self.weight[capable, FOLLOW] * posted

    def pick(self, excess, mobile_weight, buyers_pos) -> np.ndarray:
        """Per order, the platform alternative chosen (-1: a region's sellers).

        Args:
            excess: per need, the choice draw minus the outside options' weight.
            mobile_weight: per need, the region alternatives' weights.
            buyers_pos: the needs that became orders.
        """
        over = excess[buyers_pos] - mobile_weight[buyers_pos].sum(axis=1)
        cum = np.cumsum(self.weight[buyers_pos], axis=1)
        on_platform = (over >= 0) & (cum[:, -1] > 0)
        self.column = np.where(on_platform, np.minimum((cum < over[:, None]).sum(axis=1), 2), -1)
        return self.column

    def settle(self, platform, rng, buyers_pos, buyers, merchant) -> np.ndarray:
        """Merchants of the platform alternatives chosen; in-app payments across platforms.

        Returns the positions (into the orders) of the orders that go through.
        """
        pw = platform.week
        column = self.column
        fixed = column >= 0
        merchant[fixed] = self.merchant[buyers_pos[fixed], column[fixed]]
        deal = column == DEAL
        self.discount[buyers_pos[deal]] = pw.group_buy.deal_discount[buyers[deal]]
        member, held = pw.member[buyers], pw.wallet[buyers]
        store = pw.store[merchant].astype(np.int64)
        p = np.maximum(store, 0)
        rows = np.arange(buyers.size)
        # the wallets it can pay with: those it holds, or (none yet) its platforms'
        means = held | (member & ~held.any(axis=1)[:, None])
        in_app = member.any(axis=1) & (store >= 0)
        own = in_app & means[rows, p]
        other = in_app & ~own
        interop = other & (rng.random(buyers.size) < pw.params.interoperability)
        need = np.flatnonzero(other & ~interop & member[rows, p])
        activate = np.zeros(buyers.size, dtype=bool)
        activate[need] = rng.random(need.size) < platform.spec.checkout_activation
        fails = other & ~interop & ~activate
        self.cross_platform_failures = int(fails.sum())
        wallet = np.where(own | activate, p, -1)
        wallet[interop] = means[interop].argmax(axis=1)  # the first wallet it holds
        go = np.flatnonzero(~fails)
        self.column = column[go]
        self.wallet = wallet[go]
        return go

    def outcome(
        self, platform, rng, needs, buyers_pos, buyers, merchant, goods, offline,
        offline_value, pays, risk, nearby, home,
    ) -> dict[str, Any]:
        """Channels and platform fees of the orders, offline QR payments, search counts.

        ``nearby``: per order, the seller is in the buyer's region (a QR/O2O touch counts
        only for a nearby store on the platform). ``home``: per need, the consumer's
        region (where it shops offline: its retailers' QR acceptance).
        """
        pw = platform.week
        code = attribution.CODE
        channel = attribution.last_touch(
            self.acted[buyers_pos],
            pw.qr_touch[buyers] & nearby & (pw.store[merchant] >= 0),
            platform.kol_touch[buyers],
            platform.marketing_channel[buyers],
        )
        column = self.column
        channel[column == FOLLOW] = code["official_account"]
        shared = column == SHARE
        channel[shared] = np.where(
            pw.shared_in_group[buyers[shared]], code["group"], code["friend_share"]
        )
        channel[column == DEAL] = code["group_buy"]
        store = pw.store[merchant].astype(np.int64)
        in_app = pw.member[buyers].any(axis=1) & (store >= 0)
        fee = np.where(in_app, pw.params.fee[np.maximum(store, 0)] * goods, 0.0)
        offline_pos = np.flatnonzero(offline)
        qr = o2o.split_offline(
            platform.spec.o2o,
            rng,
            needs[offline_pos],
            offline_value[offline_pos],
            (pw.member, pw.wallet),
            pays,
            risk,
            platform.qr_acceptance,
            pw.params.interoperability,
            home[offline_pos],
            platform.spec.checkout_activation,
        )
        ordered = np.zeros(needs.size, dtype=bool)
        ordered[buyers_pos] = True
        return dict(
            channel=channel,
            platform_fee=fee,
            qr=qr,
            searches=int(self.searched.sum()),
            search_actions=int(self.acted.sum()),
            search_purchases=int((self.acted & ordered).sum()),
            cross_platform_failures=self.cross_platform_failures,
            wallet=self.wallet,
        )


def no_orders(n_regions: int) -> Orders:
    """Return an empty week (no needs)."""
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
        diverted_value=zero,
        adopted_at_checkout=empty,
        failed_transactions=0,
        offline_spending=np.zeros(n_regions),
        import_spending=np.zeros((n_regions, n_regions)),
        import_tariff=np.zeros((n_regions, n_regions)),
        needs=0,
        unmet_needs=0,
        consumer_surplus=0.0,
        persuasion_value=0.0,
        basket_value=np.zeros(n_regions),
        paid_by_mobile=np.empty(0, dtype=bool),
        payment_fee=zero,
    )


def order_size_factor(
    sensitivity: float, trust: np.ndarray, risk: np.ndarray
) -> np.ndarray:
    """Share of its basket a buyer puts into a mobile order, given its confidence.

    ``1 - sensitivity * (1 - trust * (1 - risk))``: the whole basket at full trust in the
    seller's region and no perceived payment risk; ``1 - sensitivity`` of it with no
    confidence. Large transactions stay rare while distrust lasts (docs/domain.md):
    trust raises and perceived risk lowers the amount consumers commit online (Kim,
    Ferrin & Rao 2008, Decision Support Systems 44(2); Pavlou 2003, IJEC 7(3)); the
    linear form and its size are an assumption (``ordering.order_size_confidence``).
    """
    confidence = np.asarray(trust, np.float64) * (1.0 - np.asarray(risk, np.float64))
    return 1.0 - sensitivity * (1.0 - np.clip(confidence, 0.0, 1.0))


def week_orders(
    scenario: Scenario,
    params: EffectiveParameters,
    rng: np.random.Generator,
    *,
    price_level: np.ndarray,
    consumer_region: np.ndarray,
    purchase_frequency: np.ndarray,
    spending: np.ndarray,
    aware: np.ndarray,
    has_access: np.ndarray,
    trust_domestic: np.ndarray,
    trust_foreign: np.ndarray,
    bad_memory: np.ndarray,
    pays: np.ndarray,
    risk: np.ndarray,
    conversion_lift: np.ndarray,
    warned_merchant: np.ndarray,
    price: np.ndarray,
    reputation: np.ndarray,
    verified: np.ndarray,
    visibility: np.ndarray,
    selling: np.ndarray,
    merchant_region: np.ndarray,
    platform_week: Any,
    kol_exposure: np.ndarray,
    marketing_lift: np.ndarray,
    accepts: np.ndarray,
    qr_acceptance: np.ndarray | None,
    habit: np.ndarray | None = None,
    endorsements: Endorsements | None = None,
) -> Orders:
    """Draw who has a shopping need, then make the choices (:func:`choose`).

    A consumer has a need with chance ``occasion_rate * purchase_frequency``; with
    platforms, joining a successful group-buying offer is a need too, and each order's
    channel is attributed (mechanisms/attribution.py).

    Args:
        scenario: the scenario (``ordering``, ``trust``, ``payment``, ``marketing``,
            ``platforms``).
        params: the week's effective parameters (coupon, trade costs, reliability).
        rng: the phase's generator.
        price_level: per region, the price index.
        consumer_region: per consumer, its region.
        purchase_frequency: per consumer, its shopping frequency multiplier.
        spending: per consumer, its basket multiplier.
        aware: per consumer, aware of mobile shopping.
        has_access: per consumer, mobile access this week.
        trust_domestic: per consumer, trust in own-country sellers.
        trust_foreign: per consumer, trust in foreign sellers.
        bad_memory: per consumer, memory of bad experiences.
        pays: per consumer, pays by mobile.
        risk: per consumer, perceived payment risk.
        conversion_lift: per consumer, lift of marketing and KOLs (>= 1).
        warned_merchant: per consumer, a merchant a neighbour warned about (-1: none).
        price: per merchant, its price index.
        reputation: per merchant, reputation.
        verified: per merchant, real-name verified.
        visibility: per merchant, this week's visibility.
        selling: per merchant, sells through mobile channels this week.
        merchant_region: per merchant, its region.
        platform_week: the platform's content this week (``platform.PlatformWeek``;
            None without platforms).
        kol_exposure: per consumer, exposure to KOL posts (a touch for attribution).
        marketing_lift: per consumer, the channels' lift (attribution).
        accepts: per merchant, accepts mobile payment (rule 9: payment binds).
        qr_acceptance: regions x platforms, share of offline retailers accepting each
            platform's QR code (mechanisms/o2o.py; unused without platforms).
        habit: per consumer, its mobile shopping habit stock (rule 10; None: no habit).
        endorsements: the week's KOL endorsements as their followers see them (rule 3;
            None: no posts).
    """
    spec, n_regions = scenario.ordering, price_level.size
    need_p = spec.occasion_rate * purchase_frequency
    needs = np.flatnonzero(rng.random(need_p.size) < need_p)
    choice = None
    if scenario.platforms is not None:  # joining a successful group-buying offer is a need
        needs = np.union1d(needs, np.flatnonzero(platform_week.group_buy.deal_merchant >= 0))
        choice = PlatformChoice(
            spec=scenario.platforms,
            week=platform_week,
            kol_touch=kol_exposure > 0,
            marketing_channel=attribution.marketing_touch(
                scenario.marketing, params.channel_budget, marketing_lift, rng
            ),
            qr_acceptance=qr_acceptance,
        )
    if not needs.size:
        return no_orders(n_regions)
    tables = seller_tables(
        spec,
        price=price,
        reputation=reputation,
        verified=verified,
        visibility=visibility,
        selling=selling,
        merchant_region=merchant_region,
        n_regions=n_regions,
        coupon=params.coupon,
        logistics_cost=params.logistics_cost,
        tariff=params.tariff,
    )
    return choose(
        spec,
        rng,
        consumer_region=consumer_region,
        needs=needs,
        basket=spec.mean_order_value * spending,
        mobile_ok=aware & has_access,
        trust_domestic=trust_domestic,
        trust_foreign=trust_foreign,
        threshold=scenario.trust.purchase_threshold,
        pays=pays,
        risk=risk,
        checkout_adoption=scenario.payment.checkout_adoption,
        lift=conversion_lift,
        memory=bad_memory,
        tables=tables,
        price_level=price_level,
        delivery_days=params.delivery_days,
        logistics_cost=params.logistics_cost,
        tariff=params.tariff,
        cross_border=params.cross_border,
        traditional_tariff=params.import_tariff,
        coupon=params.coupon,
        reliability=params.reliability,
        merchant_price=price,
        merchant_region=merchant_region,
        platform=choice,
        warned_merchant=warned_merchant,
        accepts=accepts,
        other_payment=scenario.payment.other_payment,
        payment_fee=scenario.payment.acceptance_fee,
        habit=habit,
        endorsements=endorsements,
    )


@dataclass
class PurchaseRecords:
    """Each consumer's purchase records after the week (``ConsumerState`` fields).

    Attributes:
        payment: pays by mobile, including those who adopted at checkout.
        has_ordered: has ever ordered by mobile.
        has_ordered_cross_border: has ever ordered from another country.
        last_order_merchant: merchant of this week's order (-1: none).
        last_order_week: week of the last mobile order (``NEVER_ORDERED``: never).
        mobile_habit: the mobile shopping habit stock after the week (rule 10).
    """

    payment: np.ndarray
    has_ordered: np.ndarray
    has_ordered_cross_border: np.ndarray
    last_order_merchant: np.ndarray
    last_order_week: np.ndarray
    mobile_habit: np.ndarray


def purchase_records(
    orders: Orders,
    t: int,
    *,
    pays: np.ndarray,
    has_ordered: np.ndarray,
    has_ordered_cross_border: np.ndarray,
    last_order_week: np.ndarray,
    mobile_habit: np.ndarray,
    habit_decay: float,
) -> PurchaseRecords:
    """Return the consumers' records after the week's orders (new arrays; inputs unchanged).

    Args:
        orders: the week's orders.
        t: the week.
        pays: per consumer, pays by mobile before checkout adoption.
        has_ordered: per consumer, has ever ordered by mobile.
        has_ordered_cross_border: per consumer, has ever ordered from another country.
        last_order_week: per consumer, week of its last mobile order (``NEVER_ORDERED``:
            never).
        mobile_habit: per consumer, its mobile shopping habit stock before the week.
        habit_decay: share of the habit stock lost each week (rule 10).
    """
    payment = pays.copy()
    payment[orders.adopted_at_checkout] = True
    ordered = has_ordered.copy()
    ordered[orders.consumer] = True
    cross_border = has_ordered_cross_border.copy()
    cross_border[orders.consumer[orders.cross_border]] = True
    last_merchant = np.full(pays.size, -1, dtype=np.int32)
    last_merchant[orders.consumer] = orders.merchant
    last_week = last_order_week.copy()
    last_week[orders.consumer] = t
    habit = update_habit(mobile_habit, orders.consumer, habit_decay)
    return PurchaseRecords(payment, ordered, cross_border, last_merchant, last_week, habit)


def update_habit(habit: np.ndarray, buyers: np.ndarray, decay: float) -> np.ndarray:
    """Return the habit stock after a week (rule 10; a new float32 array, input unchanged).

    ``h_i <- (1 - decay) * h_i + o_i``, with ``o_i`` 1 if i completed a mobile order this
    week, else 0 (one need a week: at most one order each).

    Args:
        habit: per consumer, the habit stock before the week (>= 0).
        buyers: the consumers of this week's completed mobile orders.
        decay: share of the stock lost each week.
    """
    new = np.multiply(habit, np.float32(1.0 - decay), dtype=np.float32)  # one n-array
    new[buyers] += np.float32(1.0)
    return new


def habit_utility(weight: float, habit: np.ndarray) -> np.ndarray:
    """Return the habit term of every mobile alternative's utility, ``weight * ln(1 + h)``."""
    return weight * np.log1p(np.asarray(habit, dtype=np.float64))
