"""Accounts: every payment of the week, from payer to payee, and the policy costs.

Rule: each flow of money is recorded once, as ``payer -> payee: amount`` in a
ledger (a small matrix over the parties), so what one party pays another receives
by construction. The flows of a week (yuan):

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
                                                               (0 in the launch period)
KOL fees (merchants)        merchants         kols             fees for sponsored posts
KOL campaign                state             kols             fees paid by the campaign
channel subsidies           state             platforms        subsidised spend used
fines                       merchants         state            penalty x goods of detected
programmes                  state             contractors      lever activity x unit cost
==========================  ================  ===============  =============================

A counterfeit is paid for like a genuine product; the buyer's loss (the goods value
of the fake) is reported as ``counterfeit_loss_value``, not as a flow.

Welfare (docs/economics.md, Welfare): ``consumer_surplus`` is the ordering's surplus
without persuasion (mechanisms/ordering.py, rule 5) minus the week's counterfeit and
fraud losses (harm the choice utility does not contain). ``total_welfare`` is consumer
surplus plus :func:`producer_surplus` of the ledger: the net position of every party
with standing (merchants, KOLs, platforms, payment providers, the state, and any party
not classified below), minus what the parties paid at cost (:data:`AT_COST`: their
receipts are the cost of real resources, so their margin is 0) pay to parties with
standing. Consumers are in the surplus (their payments are the prices in the choice
utility); fraudsters and outside buyers have no standing (:data:`NO_STANDING`). So every
transfer between parties counted once cancels, and ``total_welfare`` = consumer surplus
+ merchants' profit + platforms' + KOLs' + payment providers' income - the state's net
fiscal cost - fees the parties at cost pay to platforms and payment providers.

Policy costs are quantities times unit costs (``policy_costs`` in the scenario):
coupons redeemed, KOL-campaign fees paid and subsidised channel spend used (each
at face value plus an administration share), the
logistics subsidy and parcels under cross-border facilitation, merchants newly
verified and inspected, payers protected, consumers newly connected by the
infrastructure lever, merchants trained, KOLs monitored, non-payers reached by
rigid-demand services; plus each intervention's fixed ``cost_per_step``.

Fiscal accounts (docs/economics.md, section 8). The state's **net fiscal cost** of a
week is what it paid minus what it received in the ledger: policy spending (coupons,
logistics subsidy, KOL-campaign fees, channel subsidies, programmes) minus tariffs and
fines. Tariff revenue is part of a country's welfare account (Krugman, Obstfeld and
Melitz, International Economics, chapter "The Instruments of Trade Policy": costs and
benefits of a tariff), and a policy's budget effect counts the revenue it gives up as
well as what it spends (Boardman et al. 2018, Cost-Benefit Analysis: Concepts and
Practice, 5th ed.), so cost-effectiveness uses the net fiscal cost, not spending
alone. **Forgone tariff revenue**: tariffs at the base (pre-lever) rates on the week's
imports (mobile orders and traditional imports) minus the tariffs collected; 0 without
a lever that cuts tariffs.

Per region and per country (``Scenario.country_names``; :func:`fiscal_week`): each
lever's cost goes to the regions where its activity is (coupons and facilitation: the
buyer's region; payment security, rigid demand: the payers / non-payers reached;
infrastructure: in proportion to each region's consumers times the access share the
lever adds there; integrity: active merchants
(verified and inspected); merchant promotion: non-adopting merchants (trained); channel
subsidies and the KOL campaign: adopting merchants; the rest by population), then to
the regions' countries; each intervention's fixed overhead is paid by the regions of its
countries (``countries:``; all without) by population. Tariffs go to the importing
(buyer's) region, fines to the merchant's. A country's accounts are its regions' sum;
the parts add up to the totals (tests/test_trade_fiscal.py, tests/test_country_levers.py):
the ledger keeps one ``state``.

A lever restricted to some countries (``countries:``; model/policy.py) acts only in their
regions, so its activity is only there: for payment security, integrity, merchant
promotion and rigid demand, whose activity is a head count times the lever's level, the
count of region r is weighted by the lever's **reach** there, its level in r over its
highest level (:func:`reach`: 1 in every region without ``countries:``, 0 where it does
not act), both for the week's cost (payers protected ``sum_r payers_r * L_r``, merchants
inspected ``sum_r active_r * L_r``, ...) and for the regions that pay it. Merchants newly
verified are those of the regions where the lever acts (elsewhere the verification rate
is 0); their cost is split like the inspections, by active merchants times reach.

Platform fees (mechanisms/platform.py): merchants pay their platform the fee on in-app
orders, offline retailers pay the QR fee on QR payments (nothing without platforms).
Payment fees (mechanisms/ordering.py, rule 9): merchants pay the payment providers
(party ``payment_providers``) ``payment.acceptance_fee`` of the goods value of every
order paid by mobile (``Orders.payment_fee``; none where the merchant does not accept
mobile payment and the buyer paid another way).
:func:`week_accounts` books a week: the ledger, the policy cost and the week's counters
for the metrics (orders, trade created and diverted, exports and imports per region).

Source (docs/domain.md, Policy levers; economics in docs/economics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.population import count_by_region
from model.state import StepCounters

if TYPE_CHECKING:
    from model.mechanisms.fulfilment import Fulfilment
    from model.mechanisms.merchant_adoption import MerchantWeek
    from model.mechanisms.ordering import Orders
    from model.policy import EffectiveParameters
    from model.scenario import Scenario

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
    "payment_providers",
)
"""Who pays and receives money in the model."""

_INDEX = {name: i for i, name in enumerate(PARTIES)}

AT_COST: tuple[str, ...] = ("carriers", "suppliers", "offline_retail", "contractors")
"""Parties whose receipts pay for real resources at cost (delivery at the base logistics
share, goods and fixed costs, offline retail, policy programmes' work): no surplus of
their own; a fee they pay to a party with standing is their loss."""

NO_STANDING: tuple[str, ...] = ("consumers", "fraudsters", "outside_buyers")
"""Parties outside the producer surplus: consumers (their surplus is the ordering's,
net of harm), fraudsters (illegal gains have no standing in cost-benefit analysis:
Trumbull 1990), outside buyers (merchants' traditional business, outside the model)."""


def standing_parties() -> tuple[str, ...]:
    """Parties whose net position is part of total welfare (every party not classified)."""
    return tuple(p for p in PARTIES if p not in AT_COST and p not in NO_STANDING)


@dataclass
class Ledger:
    """The week's payments: ``flows[payer, payee]`` (yuan).

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
    """The state's spending on policy this week, by lever (yuan).

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


def producer_surplus(ledger: Ledger) -> float:
    """Surplus of the parties with standing this week (module docstring, Welfare).

    ``sum_{p standing} (received_p - paid_p) - sum_{z at cost, p standing} flow(z -> p)``:
    what they get from consumers, fraudsters and outside buyers minus what they pay the
    parties at cost or those without standing (transfers among them cancel).
    """
    standing = [_INDEX[p] for p in standing_parties()]
    at_cost = [_INDEX[p] for p in AT_COST if p in _INDEX]
    f = ledger.flows
    net = float(f[:, standing].sum() - f[standing, :].sum())
    return net - float(f[np.ix_(at_cost, standing)].sum())


def reach(params: EffectiveParameters, lever: str) -> np.ndarray:
    """Per region, the lever's level there over its highest level (0 where it does not act).

    1.0 in every region for a lever without ``countries:`` (each region's level is the
    level: ``x / x`` is exactly 1), so weighting a head count by it changes nothing.
    """
    top = params.levels[lever]
    here = params.region_levels[lever]
    return here / top if top > 0.0 else np.zeros(here.size)


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
    payers: float,
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


@dataclass
class FiscalWeek:
    """The state's accounts of the week, in total and per country (module docstring).

    Attributes:
        net_fiscal_cost: the state's payments minus its receipts in the ledger.
        forgone_tariff_revenue: tariffs at the base rates on the week's imports minus
            the tariffs collected.
        policy_cost_by_region: per region, the policy spending it pays.
        net_fiscal_cost_by_region: per region, its spending minus the tariffs on its
            imports and the fines on its merchants.
        forgone_tariff_by_region: per region, forgone tariffs on its imports.
        policy_cost_by_country: per country, the sum over its regions.
        net_fiscal_cost_by_country: per country, the sum over its regions.
    """

    net_fiscal_cost: float
    forgone_tariff_revenue: float
    policy_cost_by_region: np.ndarray
    net_fiscal_cost_by_region: np.ndarray
    forgone_tariff_by_region: np.ndarray
    policy_cost_by_country: np.ndarray
    net_fiscal_cost_by_country: np.ndarray


def fiscal_week(
    scenario: Scenario,
    params: EffectiveParameters,
    cost: PolicyCost,
    ledger: Ledger,
    *,
    orders: Orders,
    origin: np.ndarray,
    dest: np.ndarray,
    subsidy_share: np.ndarray,
    parcels: np.ndarray,
    consumer_region: np.ndarray,
    merchant_region: np.ndarray,
    active: np.ndarray,
    adopted: np.ndarray,
    reached: dict[str, np.ndarray],
    fines: np.ndarray,
) -> FiscalWeek:
    """Net fiscal cost, forgone tariffs, and the state's accounts per country.

    Args:
        scenario: the scenario (countries, ``policy_costs``, ``ordering``).
        params: the week's effective parameters (base and actual tariffs, access).
        cost: the week's policy cost by lever.
        ledger: the week's ledger (the state's payments and receipts).
        orders: the week's orders.
        origin: per order, the seller's region.
        dest: per order, the buyer's region.
        subsidy_share: per order, the logistics share the state pays the carrier.
        parcels: per order, a parcel under facilitation.
        consumer_region: per consumer, its region.
        merchant_region: per merchant, its region.
        active: per merchant, in the market.
        adopted: per merchant, sells through mobile channels.
        reached: per lever (payment security, integrity, merchant promotion, rigid
            demand), per region the head count its cost is paid for, weighted by the
            lever's reach there (:func:`reach`; computed by :func:`week_accounts`).
        fines: per merchant, fines paid this week.
    """
    n_regions = params.mobile_access.size
    country = np.array(scenario.region_country_codes, dtype=np.int64)
    n_countries = len(scenario.country_names)

    def by_region(index: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=n_regions).astype(np.float64)

    def to_country(values: np.ndarray) -> np.ndarray:
        return np.bincount(country, weights=values, minlength=n_countries)

    population = by_region(consumer_region.astype(np.int64))
    sellers = merchant_region.astype(np.int64)
    unit = scenario.policy_costs
    where = {  # each lever's activity by region (weights of its cost), computed if needed
        "consumer_incentives": lambda: by_region(dest, orders.coupon_value),
        "cross_border_facilitation": lambda: by_region(dest, orders.goods_value * subsidy_share)
        + by_region(dest[parcels]) * unit.per_parcel_facilitated,
        "infrastructure": lambda: population
        * (params.mobile_access - params.natural_mobile_access),
        **{lever: (lambda counts=counts: counts) for lever, counts in reached.items()},
    }
    spending = np.zeros(n_regions)
    for lever, amount in cost.by_lever.items():
        if amount == 0.0:
            continue
        if lever in where:
            w = where[lever]()
        elif lever.startswith("channel_"):  # subsidies per adopting merchant
            w = by_region(sellers[active & adopted])
        else:
            w = population
        if not w.sum() > 0.0:
            w = population if population.sum() > 0 else np.ones(n_regions)
        spending += amount * w / w.sum()
    spending += params.overhead_by_region
    tariffs = by_region(dest, orders.tariff_value) + orders.import_tariff.sum(axis=0)
    fined = by_region(sellers, fines) if fines.size else np.zeros(n_regions)
    # forgone: base rates minus actual rates on the week's flows (0 without a tariff cut)
    markup = 1.0 + scenario.ordering.traditional_import_markup
    mobile_gap = (params.base_tariff - params.tariff)[origin, dest]
    import_gap = orders.import_spending / markup * (params.base_tariff - params.import_tariff)
    forgone = by_region(dest, orders.goods_value * mobile_gap) + import_gap.sum(axis=0)
    net = spending - tariffs - fined
    return FiscalWeek(
        net_fiscal_cost=ledger.paid("state") - ledger.received("state"),
        forgone_tariff_revenue=float(forgone.sum()),
        policy_cost_by_region=spending,
        net_fiscal_cost_by_region=net,
        forgone_tariff_by_region=forgone,
        policy_cost_by_country=to_country(spending),
        net_fiscal_cost_by_country=to_country(net),
    )


def week_accounts(
    scenario: Scenario,
    params: EffectiveParameters,
    n_regions: int,
    *,
    consumer_region: np.ndarray,
    spending: np.ndarray,
    merchant_region: np.ndarray,
    active: np.ndarray,
    adopted: np.ndarray,
    n_kols: int,
    orders: Orders,
    outcome: Fulfilment,
    merchant_week: MerchantWeek,
    victims: np.ndarray,
    pays: np.ndarray,
    has_access: np.ndarray,
    connected_by_policy: int,
    channel_subsidy_spend: dict[str, float],
    kol_campaign_spend: float,
    marketing_spend: np.ndarray,
    kol_fees: np.ndarray,
) -> StepCounters:
    """Book every payment of the week and the policy costs; count the week for the metrics.

    Args:
        scenario: the scenario (``accounts``, ``policy_costs``, ``ordering``, ``platforms``).
        params: the week's effective parameters (lever levels, logistics costs).
        n_regions: number of regions.
        consumer_region: per consumer, its region.
        spending: per consumer, its spending multiplier (fraud losses are baskets).
        merchant_region: per merchant, its region.
        active: per merchant, in the market at the start of the week.
        adopted: per merchant, sold through mobile channels this week.
        n_kols: number of KOLs (monitored under the disclosure rule).
        orders: the week's orders.
        outcome: their fulfilment.
        merchant_week: the merchants' week (revenue, fines, profit, entries, exits).
        victims: per consumer, defrauded this week.
        pays: per consumer, pays by mobile.
        has_access: per consumer, mobile access this week.
        connected_by_policy: consumers connected this week by the infrastructure lever.
        channel_subsidy_spend: per channel, the state's subsidy spent.
        kol_campaign_spend: fees paid by the state's KOL campaign.
        marketing_spend: per merchant, own spend on the marketing channels.
        kol_fees: per merchant, fees paid for its own KOL posts.
    """
    acc, levels, mw = scenario.accounts, params.levels, merchant_week
    origin = merchant_region[orders.merchant].astype(np.int64)
    dest = consumer_region[orders.consumer].astype(np.int64)
    cross = orders.cross_border
    # policy activity
    facilitated = levels["cross_border_facilitation"] > 0
    subsidy_share = (params.base_logistics_cost - params.logistics_cost)[origin, dest]
    logistics_subsidy = float((orders.goods_value * subsidy_share).sum()) if facilitated else 0.0
    # parcels under facilitation: cross-border orders into regions where the lever acts
    parcels = cross & (params.region_levels["cross_border_facilitation"][dest] > 0)
    active_count = int(active.sum())

    def counted(region: np.ndarray, where: np.ndarray) -> np.ndarray:  # heads per region
        return count_by_region(region, n_regions, where).astype(np.float64)

    # the head counts each lever's cost is paid for, per region, weighted by its reach
    # (module docstring: all of them, exactly, for a lever without ``countries:``)
    reached = {
        "payment_security": counted(consumer_region, pays),
        "integrity": counted(merchant_region, active),
        "merchant_promotion": counted(merchant_region, active & ~adopted),
        "rigid_demand": counted(consumer_region, has_access & ~pays),
    }
    reached = {lever: counts * reach(params, lever) for lever, counts in reached.items()}
    heads = {lever: float(counts.sum()) for lever, counts in reached.items()}
    cost = policy_cost(
        scenario.policy_costs,
        levels,
        coupons=float(orders.coupon_value.sum()),
        kol_campaign=float(kol_campaign_spend),
        channel_subsidies=float(sum(channel_subsidy_spend.values())),
        logistics_subsidy=logistics_subsidy,
        parcels_facilitated=int(parcels.sum()) if facilitated else 0,
        merchants_verified=mw.newly_verified if levels["integrity"] > 0 else 0,
        merchants_inspected=heads["integrity"] * levels["integrity"],
        payers=heads["payment_security"],
        new_connections=connected_by_policy,
        merchants_trained=heads["merchant_promotion"] * levels["merchant_promotion"],
        kols=n_kols,
        non_payers_reached=heads["rigid_demand"] * levels["rigid_demand"],
        overhead=params.programme_overhead,
    )
    # the ledger
    ledger = Ledger()
    goods = float(orders.goods_value.sum())
    coupons = float(orders.coupon_value.sum())
    basket = scenario.ordering.mean_order_value * spending
    fraud_value = float((acc.fraud_loss * basket[victims]).sum())
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
        float(marketing_spend.sum()) + mw.channel_fees,
    )
    ledger.pay("merchants", "kols", float(kol_fees.sum()))
    ledger.pay("state", "kols", cost.kol_campaign)
    ledger.pay("state", "platforms", cost.channel_subsidies)
    ledger.pay("merchants", "state", float(mw.fines.sum()))
    ledger.pay("state", "contractors", cost.to_contractors)
    if orders.platform_fee is not None:
        ledger.pay("merchants", "platforms", float(orders.platform_fee.sum()))
    ledger.pay("merchants", "payment_providers", float(orders.payment_fee.sum()))
    if orders.qr is not None and scenario.platforms is not None:
        qr_fees = float(orders.qr.value.sum()) * scenario.platforms.o2o.qr_fee
        ledger.pay("offline_retail", "platforms", qr_fees)
    # welfare: the surplus net of the week's harm (docs/economics.md, Welfare)
    counterfeit_loss = float(orders.goods_value[~outcome.genuine].sum())
    consumer_surplus = orders.consumer_surplus - counterfeit_loss - fraud_value
    # trade by region
    cb_value = orders.goods_value * cross
    created = np.zeros((n_regions, n_regions))
    np.add.at(created, (origin, dest), orders.created_value)
    diverted = np.zeros((n_regions, n_regions))
    np.add.at(diverted, (origin, dest), orders.diverted_value)
    flows = np.zeros((n_regions, n_regions))
    np.add.at(flows, (origin, dest), cb_value)
    fiscal = fiscal_week(
        scenario,
        params,
        cost,
        ledger,
        orders=orders,
        origin=origin,
        dest=dest,
        subsidy_share=subsidy_share if facilitated else np.zeros(origin.size),
        parcels=parcels if facilitated else np.zeros(origin.size, dtype=bool),
        consumer_region=consumer_region,
        merchant_region=merchant_region,
        active=active,
        adopted=adopted,
        reached=reached,
        fines=mw.fines,
    )
    return StepCounters(
        orders=orders.count,
        cross_border_orders=int(cross.sum()),
        gmv=goods,
        counterfeit_incidents=int((~outcome.genuine).sum()),
        fraud_incidents=int(victims.sum()),
        failed_transactions=orders.failed_transactions,
        policy_cost=cost.total,
        ledger=ledger,
        policy_cost_by_lever=cost.by_lever,
        consumer_surplus=consumer_surplus,
        persuasion_value=orders.persuasion_value,
        total_welfare=consumer_surplus + producer_surplus(ledger),
        counterfeit_loss_value=counterfeit_loss,
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
        diverted_by_pair=diverted,
        cross_border_by_pair=flows,
        net_fiscal_cost=fiscal.net_fiscal_cost,
        forgone_tariff_revenue=fiscal.forgone_tariff_revenue,
        policy_cost_by_region=fiscal.policy_cost_by_region,
        net_fiscal_cost_by_region=fiscal.net_fiscal_cost_by_region,
        forgone_tariff_by_region=fiscal.forgone_tariff_by_region,
        policy_cost_by_country=fiscal.policy_cost_by_country,
        net_fiscal_cost_by_country=fiscal.net_fiscal_cost_by_country,
        exports_value=np.bincount(origin, weights=cb_value, minlength=n_regions),
        imports_value=np.bincount(dest, weights=cb_value, minlength=n_regions),
        exports_orders=np.bincount(origin[cross], minlength=n_regions),
        imports_orders=np.bincount(dest[cross], minlength=n_regions),
        merchant_profit=float(mw.profit.sum()),
        active_merchants=active_count - mw.exits + mw.entries,
        merchant_exits=mw.exits,
        merchant_entries=mw.entries,
        merchant_abandonments=mw.abandonments,
        mobile_paid_orders=int(orders.paid_by_mobile.sum()),
    )
