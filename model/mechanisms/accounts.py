"""Accounts: every payment of the week, from payer to payee, and the policy costs.

Rule: each flow of money is recorded once, as ``payer -> payee: amount`` in a
ledger (a small matrix over the parties), so what one party pays another receives
by construction. The flows of a week (currency units):

==========================  ================  ===============  =============================
flow                        payer             payee            amount
==========================  ================  ===============  =============================
mobile goods                consumers         merchants        goods value - coupons
coupons                     state             merchants        coupons redeemed
logistics                   consumers         carriers         logistics share x goods
logistics subsidy           state             carriers         (base - facilitated) share
tariffs (mobile)            consumers         state            tariff share x goods
offline purchases           consumers         offline_retail   basket x offline price
traditional imports         consumers         offline_retail   basket x import price
tariffs (traditional)       consumers         state            tariff share x goods
payment fraud               consumers         fraudsters       fraud_loss baskets per fraud
cost of goods               merchants         suppliers        cost_of_goods_share x sales
fixed costs                 merchants         suppliers        fixed_cost per active merchant
traditional business        outside_buyers    merchants        traditional_margin per active
marketing                   merchants         platforms        own channel spend
mobile channels             merchants         platforms        mobile_channel_cost per adopter
KOL fees (merchants)        merchants         kols             fees for sponsored posts
KOL campaign                state             kols             fees paid by the campaign
channel subsidies           state             platforms        subsidised spend used
fines                       merchants         state            penalty x goods of detected
programmes                  state             contractors      lever activity x unit cost
==========================  ================  ===============  =============================

A counterfeit is paid for like a genuine product; the buyer's loss (the goods value
of the fake) is reported as ``counterfeit_loss_value``, not as a flow.

Policy costs are quantities times unit costs (``policy_costs`` in the scenario):
coupons redeemed, KOL-campaign fees paid and subsidised channel spend used (each
at face value plus an administration share), the
logistics subsidy and parcels under cross-border facilitation, merchants newly
verified and inspected, payers protected, consumers newly connected by the
infrastructure lever, merchants trained, KOLs monitored, non-payers reached by
rigid-demand services; plus each intervention's fixed ``cost_per_step``.

Source (docs/domain.md, Policy levers; economics in docs/economics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARTIES: tuple[str, ...] = (
    "consumers",
    "merchants",
    "kols",
    "state",
    "carriers",
    "platforms",
    "offline_retail",
    "suppliers",
    "fraudsters",
    "contractors",
    "outside_buyers",
)
"""Who pays and receives money in the model."""

_INDEX = {name: i for i, name in enumerate(PARTIES)}


@dataclass
class Ledger:
    """The week's payments: ``flows[payer, payee]`` (currency units).

    Attributes:
        flows: payer x payee matrix over ``PARTIES``.
    """

    flows: np.ndarray = field(default_factory=lambda: np.zeros((len(PARTIES), len(PARTIES))))

    def pay(self, payer: str, payee: str, amount: float) -> None:
        """Record a payment (negative amounts are refused: money flows one way)."""
        amount = float(amount)
        if amount < 0.0 or not np.isfinite(amount):
            raise ValueError(f"payment {payer} -> {payee} of {amount} is not a finite amount >= 0")
        self.flows[_INDEX[payer], _INDEX[payee]] += amount

    def paid(self, party: str) -> float:
        """Return what ``party`` paid this week."""
        return float(self.flows[_INDEX[party]].sum())

    def received(self, party: str) -> float:
        """Return what ``party`` received this week."""
        return float(self.flows[:, _INDEX[party]].sum())

    def flow(self, payer: str, payee: str) -> float:
        """Return what ``payer`` paid ``payee`` this week."""
        return float(self.flows[_INDEX[payer], _INDEX[payee]])

    def net(self, party: str) -> float:
        """Received minus paid."""
        return self.received(party) - self.paid(party)


@dataclass
class PolicyCost:
    """The state's spending on policy this week, by lever (currency units).

    Attributes:
        by_lever: lever -> activity-based cost.
        overhead: the interventions' fixed ``cost_per_step``.
        logistics_subsidy: face value paid to carriers (cross-border facilitation).
        coupons: face value of coupons reimbursed to merchants.
        kol_campaign: fees paid to KOLs by the campaign.
        channel_subsidies: subsidised channel spending paid to platforms.
    """

    by_lever: dict[str, float]
    overhead: float
    logistics_subsidy: float
    coupons: float
    kol_campaign: float
    channel_subsidies: float

    @property
    def total(self) -> float:
        """All policy spending this week."""
        return float(sum(self.by_lever.values()) + self.overhead)

    @property
    def to_contractors(self) -> float:
        """Spending that is not a transfer to merchants, KOLs, platforms or carriers."""
        return self.total - self.logistics_subsidy - self.coupons - self.kol_campaign - (
            self.channel_subsidies
        )


def policy_cost(
    unit,
    levels: dict[str, float],
    *,
    coupons: float,
    kol_campaign: float,
    channel_subsidies: float,
    logistics_subsidy: float,
    parcels_facilitated: int,
    merchants_verified: int,
    merchants_inspected: float,
    payers: int,
    new_connections: int,
    merchants_trained: float,
    kols: int,
    non_payers_reached: float,
    overhead: float,
) -> PolicyCost:
    """Each lever's cost this week: its activity times its unit cost (``unit``: PolicyCosts)."""
    by_lever = dict.fromkeys(levels, 0.0)
    by_lever["consumer_incentives"] = coupons * (1.0 + unit.coupon_admin)
    by_lever["channel_kol_campaign"] = kol_campaign * (1.0 + unit.kol_campaign_admin)
    subsidy_cost = channel_subsidies * (1.0 + unit.channel_subsidy_admin)
    channel_levers = [k for k in levels if k.startswith("channel_") and k != "channel_kol_campaign"]
    active = [k for k in channel_levers if levels[k] > 0]
    for k in active:  # split the subsidy over the active channel levers by their level
        by_lever[k] = subsidy_cost * levels[k] / sum(levels[x] for x in active)
    if levels.get("cross_border_facilitation", 0.0) > 0:
        by_lever["cross_border_facilitation"] = (
            logistics_subsidy + parcels_facilitated * unit.per_parcel_facilitated
        )
    if levels.get("integrity", 0.0) > 0:
        by_lever["integrity"] = (
            merchants_verified * unit.per_merchant_verified
            + merchants_inspected * unit.per_merchant_inspected
        )
    by_lever["payment_security"] = payers * levels.get("payment_security", 0.0) * (
        unit.per_payer_protected
    ) if levels.get("payment_security", 0.0) > 0 else 0.0
    by_lever["infrastructure"] = new_connections * unit.per_new_connection
    by_lever["merchant_promotion"] = merchants_trained * unit.per_merchant_trained
    by_lever["kol_disclosure"] = (
        kols * unit.per_kol_monitored if levels.get("kol_disclosure", 0.0) > 0 else 0.0
    )
    by_lever["rigid_demand"] = non_payers_reached * unit.per_consumer_reached
    return PolicyCost(
        by_lever=by_lever,
        overhead=float(overhead),
        logistics_subsidy=float(logistics_subsidy),
        coupons=float(coupons),
        kol_campaign=float(kol_campaign),
        channel_subsidies=float(channel_subsidies),
    )
