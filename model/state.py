"""The agents' state as NumPy arrays: one container per agent type, one row per agent.

Mesa agent objects (model/agents.py) are thin views over these rows. Dtypes are the
smallest that hold the values: flags are ``bool``, shares and trust ``float32``,
region codes ``uint8`` (up to 255 regions), counts ``int32``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

NO_REGION = np.int16(-1)
NEVER_ORDERED = np.int32(np.iinfo(np.int32).min)
"""``last_order_week`` of a consumer who has never ordered by mobile (weeks before week 0
are negative: the initial shoppers' last orders fall in the 26 weeks before it)."""


@dataclass
class StepCounters:
    """Counts of the last step, read by the metrics.

    Attributes:
        orders: orders placed.
        cross_border_orders: orders across regions.
        gmv: value of the orders.
        counterfeit_incidents: counterfeit sales.
        fraud_incidents: payment frauds.
        failed_transactions: orders lost to transaction failures.
        policy_cost: policy spending (activity-based costs plus programme overheads).
        ledger: the week's payments between parties (mechanisms/accounts.py), or None
            before the first step.
        policy_cost_by_lever: activity-based policy cost per lever.
        consumer_surplus: consumers' surplus of the week's needs in money: the inclusive
            value without persuasion, net of the week's counterfeit and fraud losses
            (mechanisms/ordering.py rule 5, mechanisms/accounts.py); 0 before the first
            step (week 0: no needs yet, like every weekly flow).
        persuasion_value: the persuasion part of the choice utility's inclusive value
            (diagnostic: what the surplus leaves out; 0 before the first step).
        total_welfare: consumer surplus plus the surplus of the parties with standing
            (mechanisms/accounts.py :func:`producer_surplus`; 0 before the first step).
        counterfeit_loss_value: goods value of counterfeits sold.
        fraud_loss_value: money lost to payment fraud.
        mobile_spending: what consumers paid for mobile orders (goods net of coupons,
            logistics, tariffs).
        offline_spending: consumers' spending offline at home.
        traditional_import_spending: consumers' spending on traditional imports.
        basket_value: value of all needs at their home price level (the consumption).
        needs: consumers with a shopping need.
        unmet_needs: needs left unmet (no purchase, failed transaction).
        cross_border_value: goods value of cross-border mobile orders.
        created_by_pair: [origin, destination] goods value of cross-border mobile orders
            that is created trade (imports replacing home supply or no purchase; logit
            counterfactual, mechanisms/ordering.py rule 6).
        diverted_by_pair: [origin, destination] goods value of cross-border mobile orders
            that is diverted trade (from traditional imports or other foreign sellers);
            with ``created_by_pair`` it adds up to ``cross_border_by_pair``.
        cross_border_by_pair: [origin, destination] goods value of cross-border orders.
        net_fiscal_cost: the state's payments minus its receipts in the ledger (policy
            spending minus tariffs and fines; mechanisms/accounts.py).
        forgone_tariff_revenue: tariffs at the base (pre-lever) rates on the week's
            imports minus the tariffs collected.
        policy_cost_by_region: per region, the policy spending attributed to it (where
            the lever's activity is; overheads to the intervention's countries' regions
            by population); adds up to ``policy_cost``.
        net_fiscal_cost_by_region: per region, its policy spending minus the tariffs on
            its imports and the fines on its merchants; adds up to ``net_fiscal_cost``.
        forgone_tariff_by_region: per region, the forgone tariff revenue on its imports.
        policy_cost_by_country: per country (``Scenario.country_names``), the sum of its
            regions' ``policy_cost_by_region``: who pays.
        net_fiscal_cost_by_country: per country, the sum of its regions'
            ``net_fiscal_cost_by_region``.
        exports_value: per region, goods value of its merchants' cross-border sales.
        imports_value: per region, goods value of its consumers' cross-border orders.
        exports_orders: per region, its merchants' cross-border orders.
        imports_orders: per region, its consumers' cross-border orders.
        merchant_profit: merchants' profit this week (all active merchants).
        active_merchants: merchants active after the week.
        merchant_exits: merchants that exited.
        merchant_entries: merchants that entered.
        merchant_abandonments: adopters that stopped using mobile channels.
        mobile_paid_orders: mobile orders paid by mobile payment (the rest were paid
            another way at merchants that do not accept it; mechanisms/ordering.py).
    """

    orders: int = 0
    cross_border_orders: int = 0
    gmv: float = 0.0
    counterfeit_incidents: int = 0
    fraud_incidents: int = 0
    failed_transactions: int = 0
    policy_cost: float = 0.0
    ledger: Any = None
    policy_cost_by_lever: dict[str, float] = field(default_factory=dict)
    consumer_surplus: float = 0.0
    persuasion_value: float = 0.0
    total_welfare: float = 0.0
    counterfeit_loss_value: float = 0.0
    fraud_loss_value: float = 0.0
    mobile_spending: float = 0.0
    offline_spending: float = 0.0
    traditional_import_spending: float = 0.0
    basket_value: float = 0.0
    needs: int = 0
    unmet_needs: int = 0
    cross_border_value: float = 0.0
    created_by_pair: np.ndarray | None = None
    diverted_by_pair: np.ndarray | None = None
    cross_border_by_pair: np.ndarray | None = None
    net_fiscal_cost: float = 0.0
    forgone_tariff_revenue: float = 0.0
    policy_cost_by_region: np.ndarray | None = None
    net_fiscal_cost_by_region: np.ndarray | None = None
    forgone_tariff_by_region: np.ndarray | None = None
    policy_cost_by_country: np.ndarray | None = None
    net_fiscal_cost_by_country: np.ndarray | None = None
    exports_value: np.ndarray | None = None
    imports_value: np.ndarray | None = None
    exports_orders: np.ndarray | None = None
    imports_orders: np.ndarray | None = None
    merchant_profit: float = 0.0
    active_merchants: int = 0
    merchant_exits: int = 0
    merchant_entries: int = 0
    merchant_abandonments: int = 0
    mobile_paid_orders: int = 0


@dataclass
class MarketState:
    """Model-level state: the last week's counters and running totals.

    Attributes:
        last: counts of the last step (the metrics read them).
        cumulative_policy_cost: policy spending so far.
        cumulative_net_fiscal_cost: the state's net fiscal cost so far (spending minus
            tariffs and fines; ``StepCounters.net_fiscal_cost`` summed).
    """

    last: StepCounters = field(default_factory=StepCounters)
    cumulative_policy_cost: float = 0.0
    cumulative_net_fiscal_cost: float = 0.0


@dataclass
class ConsumerState:
    """Consumers' state arrays (length n).

    Attributes:
        region: home region code.
        access_draw: fixed uniform draw; the consumer has mobile access while it is below
            the region's access share (so access only grows as the share grows).
        has_access: mobile access this step.
        aware: knows mobile shopping (word of mouth, marketing, KOLs).
        newly_aware: became aware in the last step (talks in the independent cascade).
        threshold: linear-threshold activation fraction (only used by that rule).
        trust_domestic: trust in sellers of the own country, in [0, 1] (a region is its
            own country unless ``regions.*.country`` groups regions).
        trust_foreign: trust in sellers of other countries, in [0, 1].
        payment: pays by mobile.
        risk_extra: personal perceived payment risk added by fraud (own or heard), in [0, 1].
        bad_memory: memory of bad experiences (counterfeits, fraud); damps purchases.
        has_ordered: has ever ordered by mobile.
        has_ordered_cross_border: has ever ordered from another region.
        satisfied_from: region of the merchant that satisfied the consumer last step (-1: none).
        cheated_from: region of the merchant that sold a counterfeit last step (-1: none).
        defrauded: was defrauded through mobile payment last step.
        last_order_merchant: merchant of last step's order (-1: none).
        last_order_week: step of the consumer's last mobile order (``NEVER_ORDERED``: never;
            0 or below for the initial shoppers, whose last order was in the 26 weeks
            before week 0).
        urban: lives in an urban area (static; all True without ``population.attributes``).
        income_band: income band code, index into the scenario's income bands (static; 0
            without attributes).
        age_band: age band code, index into the scenario's age bands (static; 0 without).
        attribute_group: combined code of (urban, income band, age band), see
            model/population.py (static; 0 without attributes).
        payment_propensity: multiplier of the chance to adopt mobile payment (static;
            1.0 without attributes; mean 1 over each region's population).
        purchase_frequency: multiplier of the chance to want to buy in a week (static;
            1.0 without attributes; mean 1 over each region's population).
        spending: multiplier of the value of an order (static; 1.0 without attributes;
            mean 1 over each region's population).
        channel_audience: bit c set when the consumer uses marketing channel c (bits in
            the order of ``model.levers.CHANNELS``; static, mechanisms/marketing.py).
        interest: the platform's interest profile of the consumer, a noisy reading of its
            purchase frequency (static; ``interests`` targeting, mechanisms/targeting.py).
        district: district (distance tier) of the consumer within its region (static;
            location-based channels, mechanisms/o2o.py).
        ad_responsiveness: response per advertising impression, in [0, 1]; falls with
            exposure and recovers (wear-out, mechanisms/marketing.py).
        mobile_habit: mobile shopping habit stock, >= 0: completed mobile orders,
            exponentially discounted (mechanisms/ordering.py rule 10).
    """

    region: np.ndarray
    access_draw: np.ndarray
    has_access: np.ndarray
    aware: np.ndarray
    newly_aware: np.ndarray
    threshold: np.ndarray
    trust_domestic: np.ndarray
    trust_foreign: np.ndarray
    payment: np.ndarray
    risk_extra: np.ndarray
    bad_memory: np.ndarray
    has_ordered: np.ndarray
    has_ordered_cross_border: np.ndarray
    satisfied_from: np.ndarray
    cheated_from: np.ndarray
    defrauded: np.ndarray
    last_order_merchant: np.ndarray
    last_order_week: np.ndarray
    urban: np.ndarray
    income_band: np.ndarray
    age_band: np.ndarray
    attribute_group: np.ndarray
    payment_propensity: np.ndarray
    purchase_frequency: np.ndarray
    spending: np.ndarray
    channel_audience: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    interest: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    district: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    ad_responsiveness: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    mobile_habit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @property
    def n(self) -> int:
        """Number of consumers."""
        return int(self.region.size)


@dataclass
class MerchantState:
    """Merchants' state arrays (length m).

    Attributes:
        region: home region code.
        price: price index of the merchant's goods.
        integrity: chance a sale is genuine (before verification).
        reputation: public reputation in [0, 1].
        verified: real-name verified.
        adopted: uses mobile marketing (and sells through mobile channels).
        visibility: marketing reach last step (consumers reached by its own channels).
        revenue: mobile revenue last step, net of fines.
        sales: orders last step.
        counterfeits: counterfeit sales last step.
        penalties: cumulative fines paid.
        accepts_mobile_payment: accepts mobile payment (mechanisms/acceptance.py).
        adoption_week: the week it last began using mobile channels (0 for the starting
            adopters; its trial, mechanisms/merchant_adoption.py, counts from it).
        active: in business (a row is a slot: an entrant takes a free one).
        exited: the slot was vacated by an exit and is not yet retaken by an entrant.
        entry_week: the week the slot's current merchant entered (0: at the start, or a
            slot never used); the layers that keep per-merchant state reset it for a
            merchant that entered last week (mechanisms/merchant_adoption.py, Entry).
    """

    region: np.ndarray
    price: np.ndarray
    integrity: np.ndarray
    reputation: np.ndarray
    verified: np.ndarray
    adopted: np.ndarray
    visibility: np.ndarray
    revenue: np.ndarray
    sales: np.ndarray
    counterfeits: np.ndarray
    penalties: np.ndarray
    active: np.ndarray
    exited: np.ndarray
    profit: np.ndarray
    mobile_margin: np.ndarray
    adoption_week: np.ndarray
    accepts_mobile_payment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    entry_week: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    @property
    def n(self) -> int:
        """Number of merchants."""
        return int(self.region.size)


@dataclass
class KOLState:
    """KOLs' state arrays (length k) and their follower sets.

    Attributes:
        region: home region code.
        followers: k x n CSR matrix, row k holds KOL k's followers.
        audience: k x n CSR matrix of each KOL's natural audience: its followers at the
            start, the consumers it can win back (mechanisms/kol.py, Followers).
        follower_count: followers of each KOL.
        credibility: persuasive weight in [0, 1].
        posted: posted an endorsement last step.
        sponsored: last step's post was sponsored by a merchant.
        disclosed: last step's sponsored post was disclosed as advertising.
        endorsed_merchant: merchant endorsed last step (-1: none).
    """

    region: np.ndarray
    followers: sp.csr_array = field(repr=False)
    audience: sp.csr_array = field(repr=False)
    follower_count: np.ndarray = field(repr=False)
    credibility: np.ndarray = field(repr=False)
    posted: np.ndarray = field(repr=False)
    sponsored: np.ndarray = field(repr=False)
    disclosed: np.ndarray = field(repr=False)
    endorsed_merchant: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        """Number of KOLs."""
        return int(self.region.size)


@dataclass
class PlatformState:
    """The super-app layer's state (mechanisms/platform.py); empty without ``platforms:``.

    Attributes:
        member: n x P, the consumer uses platform p (several at once: multi-homing).
        wallet: n x P, the consumer holds platform p's wallet (its payment; a subset of
            ``member``).
        group: per consumer, its group chat (-1: none); static.
        follows: n x K follow slots, merchant ids (-1: empty); slot 0 is the oldest tie.
        qr_paid: per consumer, paid offline by scanning a QR code last week (the signal
            a payment phase may read: offline QR payment as a way into mobile payment).
        qr_paid_ever: per consumer, has ever paid offline by QR.
        store: per merchant, the platform of its official account / store (-1: none).
        store_verified: per merchant, real-name verified by its platform.
        delisted: per merchant, delisted by its platform after a failed check.
        channel_orders: merchants x channels, mobile orders so far by channel
            (mechanisms/attribution.py CHANNELS).
        channel_value: merchants x channels, their goods value so far.
        merchant_records: (step, orders, value) copies of the two tables every
            ``platforms.record_merchants_every`` steps.
        qr_acceptance: regions x platforms, share of offline retailers accepting the
            platform's QR code (mechanisms/o2o.py; their decision).
        last: the last week's platform counts (read by the metrics).
    """

    member: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    wallet: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    follows: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.int32))
    qr_paid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    qr_paid_ever: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    store: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    store_verified: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    delisted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    channel_orders: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    channel_value: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    merchant_records: tuple = ()
    qr_acceptance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    last: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of consumers covered (0 without platforms)."""
        return int(self.member.shape[0])


def beta_around(
    mean: float, concentration: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws in [0, 1] with the given mean (constant when the mean is 0 or 1)."""
    if size == 0:
        return np.zeros(0, dtype=np.float32)
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean, dtype=np.float32)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=size).astype(
        np.float32
    )
