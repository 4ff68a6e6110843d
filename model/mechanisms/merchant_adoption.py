"""Merchants' response to profit: adopting mobile channels, abandoning them, exit and entry.

Rules, per week. Money is in yuan per week. A merchant's **net mobile margin** is
what its mobile channels add to its profit this week, every mobile cost subtracted once
(:func:`after_sales`)::

    revenue * (1 - cost_of_goods_share) - marketing - KOL fees - fines
        - platform fees - payment fees - mobile_channel_cost

(``revenue``: goods value of its mobile orders; payment fees: the provider's fee on the
orders paid by mobile, ``Orders.payment_fee``; ``mobile_channel_cost`` is 0 during the
platforms' launch period, below). Its profit is that margin plus
``traditional_margin - fixed_cost`` (a merchant keeps its traditional business whether
or not it sells by mobile, so the traditional margin is not a cost of adopting).
``m_j`` is merchant j's smoothed net mobile margin and ``pi_j`` its smoothed profit,
``x <- (1 - w) x + w * this week's value`` with ``w = profit_memory`` (a non-adopter's
this-week mobile margin is 0, so the memory of an abandoned channel's loss fades at that
rate).

- **Adoption** (:func:`adoption_probability`): a non-adopting active merchant of region
  r adopts when it *learns* of mobile channels this week and *expects them to pay*:

  - it learns with probability ``min(1, promotion_rate_r + imitation * V_r)``, where
    ``V_r`` is the share of r's active merchants that are *visible successful peers*
    (adopters with ``m > 0``) and ``promotion_rate_r`` includes the ``merchant_promotion``
    lever's level L in region r (promotion and training inform a non-adopter with
    chance L a week; the lever may act in some countries only: model/policy.py);
  - it expects the net gain ``g_j = E_r + min(0, m_j)``: ``E_r`` is the mean smoothed
    net mobile margin of r's active adopters (of all active adopters when r has none;
    0 when there are none at all), already net of every mobile cost, and ``min(0, m_j)``
    its own remembered loss if it dropped mobile channels before (fading as above);
  - it adopts when it has learned and ``g_j > 0``. The gain is compared once with zero,
    the gain of staying traditional (nothing is subtracted a second time). Promotion
    informs; it never makes a merchant adopt channels it expects to lose money on.
- **Trial** (:func:`on_trial`): a merchant that begins to use mobile channels at the end
  of week ``a_j`` (the starting adopters at week 0, an entrant in its week of entry;
  weeks are numbered from 1) gives them ``trial_weeks`` weeks before judging them: in
  weeks ``a_j < t <= a_j + trial_weeks`` it neither abandons them nor drops them when
  struck by a loss (below); its margin is remembered meanwhile, so it judges them after
  the trial on the smoothed margin of the trial's last weeks. A new channel's start-up
  losses are expected (few customers know it yet) and are judged over a longer horizon
  than a mature channel's.
- **Abandonment** (:func:`abandons`): an adopter past its trial whose own smoothed net
  mobile margin is below zero (``m_j < 0``) stops using mobile channels with
  probability ``abandon_rate`` per week. An adopter with ``m_j >= 0`` never abandons.
- **Exit** (:func:`exits`): an active merchant whose smoothed total profit is negative
  (``pi_j < 0``) is struck with probability ``exit_rate`` per week. If it is an adopter
  whose loss comes from its mobile channels (``m_j < 0``), it drops them instead of
  closing (counted as an abandonment): the cheaper way out of a loss-making channel is to
  stop it, not to close a business that covers its costs without it; during its trial
  it does neither (the loss is the trial's start-up cost). The others exit:
  a struck merchant stays in the arrays, flagged inactive, and never sells again; each
  exit is counted once, in the week it happens. (A merchant that dropped mobile channels
  can still exit while its remembered profit is negative: a run of losses can close a
  small firm.)
- **Entry** (:func:`entrants_per_region`): in region r,
  ``Poisson(entry_rate * N_r * max(0, pi_r) / traditional_margin)`` new merchants enter
  (``N_r`` active merchants, ``pi_r`` their mean smoothed profit) while the merchants in
  business stay under the cap (``max_merchants``, or ``max_merchants_ratio`` times the
  starting merchants). An entrant takes a free slot: one never used first, then one an
  exit vacated in an earlier week (lowest index first), so a firm that closes makes
  room for a new one. An entrant in a vacated slot is a new merchant: nothing of the
  slot's earlier occupant carries over (its fines, verification, acceptance of mobile
  payment, platform store, followers and channel totals); ``entry_week`` records the
  week it entered, from which the other layers reset their per-merchant state. Until
  2026-12-08 a slot was never reused: the cap counted merchants ever in business, and
  entry stopped for good once every slot had been used (in the third year of the
  shipped scenarios).
  Entrants sell through mobile channels from the start, with a price, integrity and
  reputation drawn as at the start of the run (:func:`new_merchants`: price
  ``level_r * exp(N(0, price_dispersion))``, integrity Beta around ``integrity_mean``).
  Merchants in business after a week = active at its start - exits + entries.
- **Launch period** (:func:`channel_cost`): in weeks ``t <= free_listing_weeks`` the
  platforms waive ``mobile_channel_cost`` (free stores and listing): adopters pay 0 for
  their channels, the platforms forgo the fee (the ledger's "mobile channels" flow is
  what adopters paid, :attr:`MerchantWeek.channel_fees`, so it is counted once).
- Integrity and reputation follow the week's sales (mechanisms/fulfilment.py).

Source (docs/domain.md, Mechanisms > Merchant adoption): "Adoption by merchants
spreads by imitation of successful peers and by government promotion and training";
Actors > Merchants: "many cling to traditional marketing". The decision rule (adopt
when informed and the expected net gain over the traditional alternative is positive;
drop a channel that loses money) is the standard expected-profit rule of technology
adoption with information diffusion (e.g. Griliches 1957; Mansfield 1961: the speed
of imitation rises with the profitability of the innovation and the share of firms
already using it); the promotion lever acts on information, as training programmes do
(docs/economics.md, section 4).

Trial and launch period (issue 26). Two-sided markets start with a chicken-and-egg problem: sellers
come where buyers are, and buyers where sellers are (Caillaud & Jullien 2003, RAND J.
Econ. 34(2); Rochet & Tirole 2003, JEEA 1(4); Parker & Van Alstyne 2005, Management
Science 51(10)); platforms that started made the seller side's first period cheap and
long: Taobao, from its launch in 2003, charged sellers no store or listing fees and no
commissions, and in November 2005 promised three more free years (to 2008; Reuters,
November 2005; china.org.cn, 2008-05-06), while eBay EachNet charged sellers (it dropped
its transaction fees in China in January 2006 and all fees in 2008; Bloomberg
Businessweek, 2006-04-02). Sellers joining such a platform kept a store open through
years of few buyers.
A firm adopting an innovation of uncertain profitability experiments before rejecting
it (Jensen 1982, J. Econ. Theory 27; McCardle 1985, Management Science 31(11)); the
chance to try an innovation on a limited basis first speeds its adoption (Rogers 2003,
Diffusion of Innovations, "trialability"). ``trial_weeks`` (26, two quarters) is an
assumption in that spirit (plausible range 13-52: a quarter to a year). The launch
period is the platforms' subsidy of the seller side ("divide and conquer": subsidise
one side to bring it in, Caillaud & Jullien 2003; the side whose participation creates
more value for the other is the one given the free good, Parker & Van Alstyne 2005):
``free_listing_weeks`` 156 is the three free years Taobao promised in 2005 (its free
period lasted five, 2003-2008; plausible range 104-260 weeks, the width an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.mechanisms import fulfilment
from model.scenario import Accounts, MerchantDynamics, Merchants
from model.state import beta_around

if TYPE_CHECKING:
    from model.mechanisms.fulfilment import Fulfilment
    from model.mechanisms.ordering import Orders
    from model.policy import EffectiveParameters
    from model.scenario import Scenario


def new_merchants(
    spec: Merchants, price_level: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the price and integrity (float32) of one new merchant per entry of ``price_level``.

    The same draw at the start of the run and for entrants: price
    ``level * exp(N(0, price_dispersion))``, integrity Beta around ``integrity_mean``.
    """
    size = price_level.size
    price = (price_level * np.exp(rng.normal(0.0, spec.price_dispersion, size=size))).astype(
        np.float32
    )
    return price, beta_around(spec.integrity_mean, spec.integrity_concentration, size, rng)


def smoothed(previous: np.ndarray, current: np.ndarray, memory: float) -> np.ndarray:
    """Exponentially smoothed value: ``(1 - memory) * previous + memory * current``."""
    return ((1.0 - memory) * previous.astype(np.float64) + memory * current).astype(np.float32)


def expected_gain(
    merchant_region: np.ndarray,
    active: np.ndarray,
    adopted: np.ndarray,
    mobile_margin: np.ndarray,
    n_regions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per region, the expected net mobile margin and the share of visible successful peers.

    Returns ``(E, V)``: ``E[r]`` the mean smoothed net mobile margin of r's active
    adopters (of all active adopters when r has none, 0 when nobody adopts), ``V[r]`` the
    share of r's active merchants that are adopters with a positive smoothed margin.
    """
    users = adopted & active
    region_users = merchant_region[users]
    margin = mobile_margin[users].astype(np.float64)
    total = np.bincount(merchant_region[active], minlength=n_regions).astype(np.float64)
    count = np.bincount(region_users, minlength=n_regions).astype(np.float64)
    summed = np.bincount(region_users, weights=margin, minlength=n_regions)
    overall = float(margin.mean()) if margin.size else 0.0
    mean = np.where(count > 0, summed / np.maximum(count, 1.0), overall)
    successful = np.bincount(region_users[margin > 0.0], minlength=n_regions)
    share = np.where(total > 0, successful / np.maximum(total, 1.0), 0.0)
    return mean, share


def adoption_probability(
    spec: Merchants,
    promotion_rate: float | np.ndarray,
    merchant_region: np.ndarray,
    active: np.ndarray,
    adopted: np.ndarray,
    mobile_margin: np.ndarray,
    n_regions: int,
) -> np.ndarray:
    """Per merchant chance to adopt mobile channels this week (0 for adopters and exited).

    The chance of learning of mobile channels, ``min(1, promotion_rate_r + imitation *
    V_r)``, where the merchant expects a positive net gain ``E_r + min(0, m_j)``; 0
    elsewhere (module docstring). ``promotion_rate``: per region, or one number.
    """
    mean, share = expected_gain(merchant_region, active, adopted, mobile_margin, n_regions)
    learn = np.minimum(1.0, promotion_rate + spec.imitation * share)[merchant_region]
    gain = mean[merchant_region] + np.minimum(mobile_margin.astype(np.float64), 0.0)
    return np.where(adopted | ~active | (gain <= 0.0), 0.0, learn)


def channel_cost(accounts: Accounts, dynamics: MerchantDynamics, t: int) -> float:
    """Return what an adopter pays the platforms for its mobile channels in week ``t``.

    ``mobile_channel_cost``, waived (0) in the launch period, weeks ``t <=
    free_listing_weeks`` (weeks are numbered from 1).
    """
    return 0.0 if t <= dynamics.free_listing_weeks else accounts.mobile_channel_cost


def on_trial(
    dynamics: MerchantDynamics, adopted: np.ndarray, adoption_week: np.ndarray, t: int
) -> np.ndarray:
    """Adopters in the trial of their mobile channels in week ``t`` (module docstring).

    ``0 < t - adoption_week <= trial_weeks``: the ``trial_weeks`` weeks after the week
    of adoption (none when ``trial_weeks`` is 0).
    """
    age = t - adoption_week.astype(np.int64)
    return adopted & (age > 0) & (age <= dynamics.trial_weeks)


def abandons(
    dynamics: MerchantDynamics,
    adopted: np.ndarray,
    active: np.ndarray,
    mobile_margin: np.ndarray,
    draw: np.ndarray,
    trial: np.ndarray | None = None,
) -> np.ndarray:
    """Adopters past their trial whose smoothed net mobile margin is below zero and who give up.

    ``trial``: adopters in their trial (:func:`on_trial`); None: nobody.
    """
    losing = adopted & active & (mobile_margin < 0.0)
    if trial is not None:
        losing &= ~trial
    return losing & (draw < dynamics.abandon_rate)


def exits(
    dynamics: MerchantDynamics,
    active: np.ndarray,
    adopted: np.ndarray,
    profit: np.ndarray,
    mobile_margin: np.ndarray,
    draw: np.ndarray,
    trial: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Active merchants with negative smoothed profit whose exit draw comes up this week.

    Returns ``(leaving, dropping)``: an adopter whose own smoothed net mobile margin is
    negative drops its mobile channels instead of closing (``dropping``, the cheaper way
    out of the loss), unless it is in its trial (``trial``, :func:`on_trial`; None:
    nobody), when it does neither; the others leave the market (``leaving``).
    """
    struck = active & (profit < 0.0) & (draw < dynamics.exit_rate)
    mobile_loss = struck & adopted & (mobile_margin < 0.0)
    dropping = mobile_loss if trial is None else mobile_loss & ~trial
    return struck & ~mobile_loss, dropping


def entrants_per_region(
    dynamics: MerchantDynamics,
    accounts: Accounts,
    merchant_region: np.ndarray,
    active: np.ndarray,
    profit: np.ndarray,
    free_slots: int,
    n_regions: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the number of entrants per region this week (no draw when entry is impossible)."""
    if free_slots <= 0 or dynamics.entry_rate <= 0.0:
        return np.zeros(n_regions, dtype=np.int64)
    count = np.bincount(merchant_region[active], minlength=n_regions).astype(np.float64)
    total = np.bincount(
        merchant_region[active], weights=profit[active].astype(np.float64), minlength=n_regions
    )
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    scale = max(accounts.traditional_margin, 1e-9)
    rate = dynamics.entry_rate * count * np.maximum(mean, 0.0) / scale
    entrants = rng.poisson(rate)
    overflow = int(entrants.sum()) - free_slots
    while overflow > 0:  # at most n_regions passes: trim the largest first
        r = int(np.argmax(entrants))
        cut = min(overflow, int(entrants[r]))
        entrants[r] -= cut
        overflow -= cut
    return entrants


@dataclass
class MerchantWeek:
    """The merchants' week in money and counts (for the accounts and the metrics).

    Attributes:
        revenue: per merchant, goods revenue from mobile orders.
        fines: per merchant, fines paid.
        profit: per merchant, this week's profit (0 for inactive merchants).
        mobile_margin: per merchant, this week's net mobile margin: the margin on mobile
            sales after every mobile cost (marketing, KOL fees, fines, platform and
            payment fees, channel cost), each subtracted once.
        newly_verified: active merchants verified this week.
        exits: merchants that exited this week.
        entries: merchants that entered this week.
        abandonments: adopters that stopped using mobile channels this week.
        channel_fees: what adopters paid the platforms for their mobile channels this
            week (0 in the launch period).
    """

    revenue: np.ndarray
    fines: np.ndarray
    profit: np.ndarray
    mobile_margin: np.ndarray
    newly_verified: int
    exits: int
    entries: int
    abandonments: int
    channel_fees: float = 0.0


@dataclass
class MerchantUpdate:
    """The merchants' state after the week (``MerchantState`` fields; see there).

    Attributes:
        integrity: per merchant, after reform, erosion and entry.
        reputation: per merchant, after the week's sales and entry.
        revenue: per merchant, this week's goods revenue.
        sales: per merchant, this week's orders.
        counterfeits: per merchant, this week's counterfeit sales.
        penalties: per merchant, fines so far.
        visibility: per merchant, this week's visibility (its own channels' reach).
        adopted: per merchant, sells through mobile channels.
        verified: per merchant, real-name verified.
        active: per merchant, in the market.
        exited: per merchant, its slot was vacated by an exit and is not yet retaken.
        region: per merchant, its region (entrants take free slots).
        price: per merchant, its price index.
        profit: per merchant, smoothed profit.
        mobile_margin: per merchant, smoothed margin from mobile channels.
        adoption_week: per merchant, the week it last began using mobile channels.
        entry_week: per merchant, the week its slot's current merchant entered (0: at
            the start, or a slot never used).
    """

    integrity: np.ndarray
    reputation: np.ndarray
    revenue: np.ndarray
    sales: np.ndarray
    counterfeits: np.ndarray
    penalties: np.ndarray
    visibility: np.ndarray
    adopted: np.ndarray
    verified: np.ndarray
    active: np.ndarray
    exited: np.ndarray
    region: np.ndarray
    price: np.ndarray
    profit: np.ndarray
    mobile_margin: np.ndarray
    adoption_week: np.ndarray
    entry_week: np.ndarray


def after_sales(
    scenario: Scenario,
    params: EffectiveParameters,
    rng: np.random.Generator,
    *,
    price_level: np.ndarray,
    integrity: np.ndarray,
    reputation: np.ndarray,
    region: np.ndarray,
    price: np.ndarray,
    adopted: np.ndarray,
    active: np.ndarray,
    exited: np.ndarray,
    verified: np.ndarray,
    penalties: np.ndarray,
    profit: np.ndarray,
    mobile_margin: np.ndarray,
    adoption_week: np.ndarray,
    entry_week: np.ndarray,
    t: int,
    orders: Orders,
    outcome: Fulfilment,
    visibility: np.ndarray,
    marketing_spend: np.ndarray,
    kol_fees: np.ndarray,
) -> tuple[MerchantWeek, MerchantUpdate]:
    """Update the merchants after the week's sales: profit, adoption, exit, entry, integrity.

    Args:
        scenario: the scenario (``merchants``, ``merchant_dynamics``, ``accounts``).
        params: the week's effective parameters (promotion and verification rates per
            region, read by the merchant's region).
        rng: the phase's generator.
        price_level: per region, the price index (entrants' prices).
        integrity: per merchant, chance a sale is genuine (before verification).
        reputation: per merchant, reputation.
        region: per merchant, its region.
        price: per merchant, its price index.
        adopted: per merchant, sells through mobile channels.
        active: per merchant, in the market.
        exited: per merchant, its slot was vacated by an exit (and not yet retaken).
        verified: per merchant, real-name verified.
        penalties: per merchant, fines so far.
        profit: per merchant, smoothed profit.
        mobile_margin: per merchant, smoothed margin from mobile channels.
        adoption_week: per merchant, the week it last began using mobile channels.
        entry_week: per merchant, the week its current merchant entered.
        t: this week's number (from 1; adoption weeks and trials count in it).
        orders: the week's orders.
        outcome: their fulfilment (sales, counterfeits, fines per merchant).
        visibility: per merchant, this week's visibility (its own channels' reach).
        marketing_spend: per merchant, own spend on the marketing channels.
        kol_fees: per merchant, fees paid for its own KOL posts.
    """
    acc, dyn, spec = scenario.accounts, scenario.merchant_dynamics, scenario.merchants
    m, n_regions = region.size, price_level.size
    new_integrity, new_reputation = fulfilment.update_merchants_after_sales(
        spec, integrity, reputation, outcome
    )
    revenue = outcome.revenue_by_merchant
    platform_fees = (
        np.bincount(orders.merchant, weights=orders.platform_fee, minlength=m)
        if orders.platform_fee is not None
        else 0.0
    )
    # the payment provider's fee on the orders paid by mobile (ordering.py)
    payment_fees = np.bincount(orders.merchant, weights=orders.payment_fee, minlength=m)
    # the net mobile margin: every mobile cost subtracted here, once
    paying = adopted & active
    fee = channel_cost(acc, dyn, t)
    mobile_margin_week = (
        revenue * (1.0 - acc.cost_of_goods_share)
        - marketing_spend
        - kol_fees
        - outcome.fines_by_merchant
        - platform_fees
        - payment_fees
        - np.where(paying, fee, 0.0)
    )
    profit_week = np.where(
        active, mobile_margin_week + acc.traditional_margin - acc.fixed_cost, 0.0
    )
    new_profit = smoothed(profit, profit_week, dyn.profit_memory)
    new_margin = smoothed(
        mobile_margin, np.where(adopted, mobile_margin_week, 0.0), dyn.profit_memory
    )
    adopt_p = adoption_probability(
        spec,
        params.promotion_rate,
        region,
        active,
        adopted,
        new_margin,
        n_regions,
    )
    draws = rng.random((3, m))
    new_adopted = adopted | (draws[0] < adopt_p)
    trial = on_trial(dyn, adopted, adoption_week, t)
    leaving, dropping = exits(dyn, active, adopted, new_profit, new_margin, draws[2], trial)
    give_up = abandons(dyn, adopted, active, new_margin, draws[1], trial) | dropping
    new_verified = fulfilment.verify(spec, verified, params.verification_rate[region], rng)
    newly_verified = int((new_verified & ~verified & active).sum())
    still = active & ~leaving
    new_adopted = new_adopted & ~give_up & still
    starting = new_adopted & ~adopted
    new_adoption_week = adoption_week
    if starting.any():
        new_adoption_week = np.where(starting, np.int32(t), adoption_week).astype(np.int32)
    # entry where profits are high, into free slots: never used first, then vacated ones
    new_region, new_price = region, price
    new_penalties = (penalties + outcome.fines_by_merchant).astype(np.float32)
    new_exited, new_entry_week = exited | leaving, entry_week
    free = np.concatenate([np.flatnonzero(~active & ~exited), np.flatnonzero(~active & exited)])
    entrants = entrants_per_region(dyn, acc, region, still, new_profit, free.size, n_regions, rng)
    entered = int(entrants.sum())
    if entered:  # (the arrays computed above are this week's own; the inputs are copied)
        slots = free[:entered]
        new_exited[slots] = False  # a new merchant: nothing of a vacated slot's past
        new_penalties[slots] = 0.0
        new_entry_week = entry_week.copy()
        new_entry_week[slots] = t
        entrant_region = np.repeat(np.arange(n_regions, dtype=region.dtype), entrants)
        new_region, new_price = region.copy(), price.copy()
        new_region[slots] = entrant_region
        new_price[slots], new_integrity[slots] = new_merchants(
            spec, price_level[entrant_region], rng
        )
        new_reputation[slots] = spec.initial_reputation
        still[slots] = True
        new_adopted[slots] = True
        new_verified = new_verified.copy()
        new_verified[slots] = False
        new_profit[slots] = 0.0
        new_margin[slots] = 0.0
        if new_adoption_week is adoption_week:
            new_adoption_week = adoption_week.copy()
        new_adoption_week[slots] = t
    merchant_week = MerchantWeek(
        revenue=revenue,
        fines=outcome.fines_by_merchant,
        profit=profit_week,
        mobile_margin=mobile_margin_week,
        newly_verified=newly_verified,
        exits=int(leaving.sum()),
        entries=entered,
        abandonments=int(give_up.sum()),
        channel_fees=fee * int(paying.sum()),
    )
    return merchant_week, MerchantUpdate(
        integrity=new_integrity,
        reputation=new_reputation,
        revenue=revenue.astype(np.float32),
        sales=outcome.sales_by_merchant.astype(np.int32),
        counterfeits=outcome.counterfeits_by_merchant.astype(np.int32),
        penalties=new_penalties,
        visibility=visibility.astype(np.float32),
        adopted=new_adopted,
        verified=new_verified & (still | verified),
        active=still,
        exited=new_exited,
        region=new_region,
        price=new_price,
        profit=new_profit,
        mobile_margin=new_margin,
        adoption_week=new_adoption_week,
        entry_week=new_entry_week,
    )
