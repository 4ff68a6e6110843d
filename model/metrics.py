"""Model-level metrics: one named reporter function per column of the run table.

Shares are fractions in [0, 1] of consumers, except ``cross_border_share`` (of
orders; 0 in a step without orders) and ``merchant_adoption`` (of merchants; 0
without merchants). ``kol_credibility`` is the mean credibility of the KOLs and
NaN when there are none. Counts and GMV are per step.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from model.state import ConsumerState, KOLState, MerchantState, StepCounters


class MarketView(Protocol):
    """What the reporters read from a model (MarketModel satisfies it; metrics never import it).

    Attributes:
        consumers: consumer state arrays.
        merchants: merchant state arrays.
        kols: KOL state arrays.
        last: counts of the last step.
        cumulative_policy_cost: policy spending so far.
    """

    consumers: ConsumerState
    merchants: MerchantState
    kols: KOLState
    last: StepCounters
    cumulative_policy_cost: float

    def consumer_stage(self) -> np.ndarray:
        """Each consumer's adoption stage code."""
        ...


def aware_share(model: MarketView) -> float:
    """Share of consumers aware of mobile shopping."""
    return float(model.consumers.aware.mean())


def shopper_share(model: MarketView) -> float:
    """Share of consumers who have ever ordered by mobile."""
    return float(model.consumers.has_ordered.mean())


def payment_adoption(model: MarketView) -> float:
    """Share of consumers paying by mobile."""
    return float(model.consumers.payment.mean())


def payment_adoption_connected(model: MarketView) -> float:
    """Share of consumers with mobile access who pay by mobile (CNNIC's definition)."""
    c = model.consumers
    connected = int(c.has_access.sum())
    return float((c.payment & c.has_access).sum() / connected) if connected else 0.0


def mean_trust_domestic(model: MarketView) -> float:
    """Mean trust of consumers in sellers of their own region."""
    return float(model.consumers.trust_domestic.mean(dtype=np.float64))


def mean_trust_foreign(model: MarketView) -> float:
    """Mean trust of consumers in sellers of other regions."""
    return float(model.consumers.trust_foreign.mean(dtype=np.float64))


def orders(model: MarketView) -> int:
    """Orders placed this step."""
    return int(model.last.orders)


def cross_border_orders(model: MarketView) -> int:
    """Orders this step from a merchant in another country."""
    return int(model.last.cross_border_orders)


def cross_border_share(model: MarketView) -> float:
    """Cross-border orders as a share of orders this step (0 without orders)."""
    n = model.last.orders
    return float(model.last.cross_border_orders / n) if n else 0.0


def gmv(model: MarketView) -> float:
    """Goods value of this step's mobile orders, before coupons (currency units)."""
    return float(model.last.gmv)


def counterfeit_incidents(model: MarketView) -> int:
    """Counterfeit sales this step."""
    return int(model.last.counterfeit_incidents)


def fraud_incidents(model: MarketView) -> int:
    """Mobile payment frauds this step."""
    return int(model.last.fraud_incidents)


def merchant_adoption(model: MarketView) -> float:
    """Share of active merchants using mobile marketing (0 without merchants)."""
    m = model.merchants
    active = int(m.active.sum())
    return float((m.adopted & m.active).sum() / active) if active else 0.0


def kol_credibility(model: MarketView) -> float:
    """Mean KOL credibility (NaN without KOLs)."""
    k = model.kols
    return float(k.credibility.mean(dtype=np.float64)) if k.n else float("nan")


def mobile_access_share(model: MarketView) -> float:
    """Share of consumers with usable mobile access."""
    return float(model.consumers.has_access.mean())


def policy_cost(model: MarketView) -> float:
    """Policy spending this step (currency units)."""
    return float(model.last.policy_cost)


def cumulative_policy_cost(model: MarketView) -> float:
    """Policy spending up to and including this step."""
    return float(model.cumulative_policy_cost)


def verified_merchant_share(model: MarketView) -> float:
    """Share of active merchants that are verified (0 without merchants)."""
    m = model.merchants
    active = int(m.active.sum())
    return float((m.verified & m.active).sum() / active) if active else 0.0


def failed_transactions(model: MarketView) -> int:
    """Orders lost this step to transaction failures."""
    return int(model.last.failed_transactions)


def _flow(payer: str, payee: str):
    def reporter(model: MarketView) -> float:
        ledger = model.last.ledger
        return ledger.flow(payer, payee) if ledger is not None else 0.0

    return reporter


def _received(party: str):
    def reporter(model: MarketView) -> float:
        ledger = model.last.ledger
        return ledger.received(party) if ledger is not None else 0.0

    return reporter


def _counter(name: str, kind=float):
    def reporter(model: MarketView):
        return kind(getattr(model.last, name))

    reporter.__doc__ = f"``last.{name}`` of the step."
    return reporter


def consumer_spending(model: MarketView) -> float:
    """Everything consumers paid this step: mobile, offline, traditional imports, fraud."""
    ledger = model.last.ledger
    return ledger.paid("consumers") if ledger is not None else 0.0


def mobile_share_of_consumption(model: MarketView) -> float:
    """Mobile orders' goods value / value of all shopping needs this step (0 without needs)."""
    basket = model.last.basket_value
    return float(model.last.gmv / basket) if basket > 0 else 0.0


def cross_border_created_value(model: MarketView) -> float:
    """Goods value of cross-border mobile orders that is created trade.

    Created: no purchase or offline at home otherwise (logit counterfactual,
    mechanisms/ordering.py).
    """
    pairs = model.last.created_by_pair
    return float(pairs.sum()) if pairs is not None else 0.0


def cross_border_diverted_value(model: MarketView) -> float:
    """Goods value of cross-border mobile orders that is diverted trade.

    Diverted from domestic mobile orders or traditional imports (logit counterfactual).
    """
    return float(model.last.cross_border_value) - cross_border_created_value(model)


def merchant_profit(model: MarketView) -> float:
    """Merchants' profit this step, incl. traditional margin, net of fixed costs."""
    return float(model.last.merchant_profit)


def active_merchants(model: MarketView) -> int:
    """Merchants in business after this step."""
    return int(model.merchants.active.sum())


def active_shopper_share(model: MarketView) -> float:
    """Share of consumers who ordered by mobile in the last 26 weeks (CNNIC's "users")."""
    last = model.consumers.last_order_week
    steps = getattr(model, "steps", 0)
    return float(((last >= 0) & (last > steps - 26)).mean())


def lapsed_shopper_share(model: MarketView) -> float:
    """Share of consumers who have shopped by mobile but lapsed.

    Lapsed: no longer aware (mechanisms/lapse.py).
    """
    c = model.consumers
    return float((c.has_ordered & ~c.aware).mean()) if c.n else 0.0


def lapsed_payer_share(model: MarketView) -> float:
    """Share of consumers who have shopped by mobile but no longer pay by mobile."""
    c = model.consumers
    return float((c.has_ordered & ~c.payment).mean()) if c.n else 0.0


def accepting_merchant_share(model: MarketView) -> float:
    """Share of merchants selling by mobile that accept mobile payment (NaN without any)."""
    m = model.merchants
    selling = m.adopted & m.active
    if not selling.any():
        return float("nan")
    return float((m.accepts_mobile_payment & selling).sum() / selling.sum())


ACCOUNT_METRICS: dict[str, object] = {
    "consumer_spending": consumer_spending,
    "mobile_spending": _counter("mobile_spending"),
    "offline_spending": _counter("offline_spending"),
    "traditional_import_spending": _counter("traditional_import_spending"),
    "mobile_share_of_consumption": mobile_share_of_consumption,
    "consumer_surplus": _counter("consumer_surplus"),
    "unmet_needs": _counter("unmet_needs", int),
    "counterfeit_loss_value": _counter("counterfeit_loss_value"),
    "fraud_loss_value": _counter("fraud_loss_value"),
    "cross_border_value": _counter("cross_border_value"),
    "cross_border_created_value": cross_border_created_value,
    "cross_border_diverted_value": cross_border_diverted_value,
    "merchant_revenue": _received("merchants"),
    "merchant_profit": merchant_profit,
    "merchant_cost_of_goods": _flow("merchants", "suppliers"),
    "merchant_marketing_spend": _flow("merchants", "platforms"),
    "merchant_kol_fees": _flow("merchants", "kols"),
    "merchant_fines": _flow("merchants", "state"),
    "kol_fees": _received("kols"),
    "state_tariff_revenue": _flow("consumers", "state"),
    "logistics_revenue": _received("carriers"),
    "platform_revenue": _received("platforms"),
    "active_merchants": active_merchants,
    "merchant_exits": _counter("merchant_exits", int),
    "merchant_entries": _counter("merchant_entries", int),
    "active_shopper_share": active_shopper_share,
}
"""Economy columns (mechanisms/accounts.py and docs/economics.md)."""


METRICS: tuple[str, ...] = (
    "aware_share",
    "shopper_share",
    "payment_adoption",
    "mean_trust_domestic",
    "mean_trust_foreign",
    "orders",
    "cross_border_orders",
    "cross_border_share",
    "gmv",
    "counterfeit_incidents",
    "fraud_incidents",
    "merchant_adoption",
    "kol_credibility",
)
"""The main metrics, in column order."""

EXTRA_METRICS: tuple[str, ...] = (
    "payment_adoption_connected",
    "mobile_access_share",
    "verified_merchant_share",
    "failed_transactions",
    "policy_cost",
    "cumulative_policy_cost",
    "lapsed_shopper_share",
    "lapsed_payer_share",
    "accepting_merchant_share",
)
"""Further columns of every run table."""

REPORTERS = {name: globals()[name] for name in METRICS + EXTRA_METRICS} | ACCOUNT_METRICS
"""Column name -> reporter function, for mesa.DataCollector (per-region columns are
added by ``reporters_for``)."""


def _per_region(attribute: str, r: int, kind=float):
    def reporter(model: MarketView):
        values = getattr(model.last, attribute)
        return kind(values[r]) if values is not None else kind(0)

    return reporter


def _pair(attribute: str, origin: int, destination: int):
    def reporter(model: MarketView) -> float:
        values = getattr(model.last, attribute)
        return float(values[origin, destination]) if values is not None else 0.0

    return reporter


def reporters_for(region_names: list[str]) -> dict[str, object]:
    """All reporters of a model with these regions.

    ``REPORTERS`` plus, per region, ``exports_value.R``, ``imports_value.R``,
    ``exports_orders.R``, ``imports_orders.R`` and, per pair of regions in different
    countries or not, ``cross_border_value.O>D`` and ``cross_border_created_value.O>D``
    (goods value; created = logit counterfactual; diverted is the difference).
    """
    out = dict(REPORTERS)
    for r, name in enumerate(region_names):
        out[f"exports_value.{name}"] = _per_region("exports_value", r)
        out[f"imports_value.{name}"] = _per_region("imports_value", r)
        out[f"exports_orders.{name}"] = _per_region("exports_orders", r, int)
        out[f"imports_orders.{name}"] = _per_region("imports_orders", r, int)
    for o, origin in enumerate(region_names):
        for d, destination in enumerate(region_names):
            if o != d:
                out[f"cross_border_value.{origin}>{destination}"] = _pair(
                    "cross_border_by_pair", o, d
                )
                out[f"cross_border_created_value.{origin}>{destination}"] = _pair(
                    "created_by_pair", o, d
                )
    return out

def _platform_count(key: str, kind=float):
    def reporter(model: MarketView):
        return kind(model.platforms.last.get(key, 0))

    reporter.__doc__ = f"``platforms.last[{key!r}]`` of the step (mechanisms/platform.py)."
    return reporter


def _platform_ratio(numerator: str, denominator: str):
    def reporter(model: MarketView) -> float:
        last = model.platforms.last
        d = last.get(denominator, 0)
        return float(last.get(numerator, 0) / d) if d else float("nan")

    reporter.__doc__ = f"{numerator} / {denominator} of the step (NaN when 0)."
    return reporter


def _by_channel(key: str, c: int, kind=float):
    def reporter(model: MarketView):
        values = model.platforms.last.get(key)
        return kind(values[c]) if values is not None else kind(0)

    return reporter


def platform_reporters() -> dict[str, object]:
    """Columns of a model with a ``platforms:`` section (docs/platform.md).

    ``orders_by_channel.<c>`` and ``value_by_channel.<c>`` per channel of
    ``mechanisms.attribution.CHANNELS`` (they sum to ``orders`` and ``gmv``); the
    platform's users, ties, group buying, offline QR payments, fees and stores; and
    the targets' ratios: ``platform_order_share`` (orders through platform channels /
    orders), ``intention_conversion`` (consumers shown platform content who ordered /
    consumers shown platform content), ``search_action_rate`` (actions / searches) and
    ``search_purchase_rate`` (actions ending in a mobile order / actions).
    """
    from model.mechanisms.attribution import CHANNELS

    out: dict[str, object] = {
        "platform_users": _platform_count("users"),
        "platform_follows_per_user": _platform_count("follows_per_user"),
        "platform_orders": _platform_count("platform_orders", int),
        "platform_order_share": _platform_ratio("platform_orders", "orders"),
        "intention_conversion": _platform_ratio("intention_purchases", "intentions"),
        "search_action_rate": _platform_ratio("search_actions", "searches"),
        "search_purchase_rate": _platform_ratio("search_purchases", "search_actions"),
        "searches": _platform_count("searches", int),
        "search_actions": _platform_count("search_actions", int),
        "search_purchases": _platform_count("search_purchases", int),
        "intentions": _platform_count("intentions", int),
        "intention_purchases": _platform_count("intention_purchases", int),
        "group_buy_offers": _platform_count("group_buy_offers", int),
        "group_buy_successes": _platform_count("group_buy_successes", int),
        "group_buy_buyers": _platform_count("group_buy_buyers", int),
        "offline_qr_payments": _platform_count("offline_qr_payments", int),
        "offline_qr_value": _platform_count("offline_qr_value"),
        "qr_first_payments": _platform_count("qr_first_payments", int),
        "cross_platform_failures": _platform_count("cross_platform_failures", int),
        "platform_fees": _platform_count("platform_fees"),
        "platform_stores": _platform_count("stores", int),
        "platform_stores_verified": _platform_count("stores_verified", int),
        "platform_stores_delisted": _platform_count("stores_delisted", int),
        "platform_stores_checked": _platform_count("stores_checked", int),
    }
    for c, name in enumerate(CHANNELS):
        out[f"orders_by_channel.{name}"] = _by_channel("orders_by_channel", c, int)
    for c, name in enumerate(CHANNELS):
        out[f"value_by_channel.{name}"] = _by_channel("value_by_channel", c)
    return out


PLATFORM_METRIC_INFO: dict[str, dict[str, str]] = {
    "platform_users": {"label": "Platform users", "unit": "share of consumers"},
    "platform_follows_per_user": {
        "label": "Official accounts followed",
        "unit": "per platform user",
    },
    "platform_orders": {"label": "Orders through the platform", "unit": "orders per week"},
    "platform_order_share": {"label": "Platform share of mobile orders", "unit": "share of orders"},
    "intention_conversion": {
        "label": "Conversion from purchase intention",
        "unit": "share of consumers shown platform content",
    },
    "search_action_rate": {
        "label": "Mobile searches leading to an action",
        "unit": "share of searches",
    },
    "search_purchase_rate": {
        "label": "Search actions leading to a purchase",
        "unit": "share of actions",
    },
    "searches": {"label": "Mobile searches", "unit": "searches per week"},
    "search_actions": {"label": "Mobile searches followed by an action", "unit": "per week"},
    "search_purchases": {"label": "Search actions followed by a mobile order", "unit": "per week"},
    "intentions": {"label": "Consumers shown platform content about a store", "unit": "per week"},
    "intention_purchases": {"label": "... of whom ordered by mobile that week", "unit": "per week"},
    "group_buy_offers": {"label": "Group-buying offers", "unit": "offers per week"},
    "group_buy_successes": {"label": "Successful group-buying offers", "unit": "offers per week"},
    "group_buy_buyers": {"label": "Group-buying team members", "unit": "consumers per week"},
    "offline_qr_payments": {
        "label": "Offline purchases paid by QR code",
        "unit": "payments per week",
    },
    "offline_qr_value": {
        "label": "Offline spending paid by QR code",
        "unit": "currency units per week",
    },
    "qr_first_payments": {
        "label": "First mobile payments made by QR offline",
        "unit": "consumers per week",
    },
    "cross_platform_failures": {
        "label": "Payments failed at another platform's store",
        "unit": "orders per week",
    },
    "platform_fees": {"label": "Platform fees on in-app orders", "unit": "currency units per week"},
    "platform_stores": {"label": "Official accounts / in-app stores", "unit": "merchants"},
    "platform_stores_verified": {"label": "Stores verified by their platform", "unit": "merchants"},
    "platform_stores_delisted": {"label": "Stores delisted by their platform", "unit": "merchants"},
    "platform_stores_checked": {
        "label": "Stores checked by their platform",
        "unit": "merchants per week",
    },
}
"""Label and unit of the platform columns (merged into ``METRIC_INFO``)."""

PLATFORM_GOOD_DIRECTION: dict[str, int] = {
    "platform_users": 1,
    "platform_follows_per_user": 0,
    "platform_orders": 1,
    "platform_order_share": 0,
    "intention_conversion": 1,
    "search_action_rate": 1,
    "search_purchase_rate": 1,
    "searches": 0,
    "search_actions": 0,
    "search_purchases": 1,
    "intentions": 0,
    "intention_purchases": 1,
    "group_buy_offers": 0,
    "group_buy_successes": 1,
    "group_buy_buyers": 0,
    "offline_qr_payments": 1,
    "offline_qr_value": 0,
    "qr_first_payments": 1,
    "cross_platform_failures": -1,
    "platform_fees": 0,
    "platform_stores": 1,
    "platform_stores_verified": 1,
    "platform_stores_delisted": -1,
    "platform_stores_checked": 0,
}
"""Good direction of the platform columns (merged into ``GOOD_DIRECTION``)."""


SHARE_METRICS: tuple[str, ...] = (
    "aware_share",
    "shopper_share",
    "payment_adoption",
    "payment_adoption_connected",
    "mean_trust_domestic",
    "mean_trust_foreign",
    "cross_border_share",
    "merchant_adoption",
    "mobile_access_share",
    "verified_merchant_share",
    "mobile_share_of_consumption",
    "active_shopper_share",
    "lapsed_shopper_share",
    "lapsed_payer_share",
    "accepting_merchant_share",
)
"""Metrics that are fractions in [0, 1]."""

COUNT_METRICS: tuple[str, ...] = (
    "orders",
    "cross_border_orders",
    "counterfeit_incidents",
    "fraud_incidents",
    "failed_transactions",
)
"""Metrics that are counts per step."""

METRIC_INFO: dict[str, dict[str, str]] = {
    "aware_share": {"label": "Consumers aware of mobile shopping", "unit": "share of consumers"},
    "shopper_share": {
        "label": "Consumers who have shopped by mobile",
        "unit": "share of consumers",
    },
    "payment_adoption": {"label": "Consumers paying by mobile", "unit": "share of consumers"},
    "payment_adoption_connected": {
        "label": "Mobile payment among connected consumers",
        "unit": "share of connected consumers",
    },
    "mean_trust_domestic": {"label": "Trust in domestic sellers", "unit": "mean, 0 to 1"},
    "mean_trust_foreign": {"label": "Trust in foreign sellers", "unit": "mean, 0 to 1"},
    "orders": {"label": "Mobile orders", "unit": "orders per week"},
    "cross_border_orders": {"label": "Cross-border orders", "unit": "orders per week"},
    "cross_border_share": {"label": "Cross-border share of orders", "unit": "share of orders"},
    "gmv": {"label": "Gross merchandise value", "unit": "currency units per week"},
    "counterfeit_incidents": {"label": "Counterfeit sales", "unit": "incidents per week"},
    "fraud_incidents": {"label": "Mobile payment frauds", "unit": "incidents per week"},
    "merchant_adoption": {
        "label": "Merchants using mobile marketing",
        "unit": "share of merchants",
    },
    "kol_credibility": {"label": "KOL credibility", "unit": "mean, 0 to 1"},
    "mobile_access_share": {"label": "Consumers with mobile access", "unit": "share of consumers"},
    "verified_merchant_share": {"label": "Verified merchants", "unit": "share of merchants"},
    "failed_transactions": {"label": "Failed transactions", "unit": "orders per week"},
    "policy_cost": {"label": "Policy spending", "unit": "currency units per week"},
    "cumulative_policy_cost": {"label": "Cumulative policy spending", "unit": "currency units"},
    "consumer_spending": {
        "label": "Consumer spending, all channels",
        "unit": "currency units per week",
    },
    "mobile_spending": {"label": "Spending on mobile orders", "unit": "currency units per week"},
    "offline_spending": {"label": "Spending offline at home", "unit": "currency units per week"},
    "traditional_import_spending": {
        "label": "Spending on traditional imports",
        "unit": "currency units per week",
    },
    "mobile_share_of_consumption": {
        "label": "Mobile share of consumption",
        "unit": "share of the value of shopping needs",
    },
    "consumer_surplus": {"label": "Consumer surplus", "unit": "currency units per week"},
    "unmet_needs": {"label": "Unmet shopping needs", "unit": "consumers per week"},
    "counterfeit_loss_value": {
        "label": "Losses to counterfeits",
        "unit": "currency units per week",
    },
    "fraud_loss_value": {"label": "Losses to payment fraud", "unit": "currency units per week"},
    "cross_border_value": {"label": "Cross-border mobile trade", "unit": "currency units per week"},
    "cross_border_created_value": {
        "label": "Cross-border trade created",
        "unit": "currency units per week",
    },
    "cross_border_diverted_value": {
        "label": "Cross-border trade diverted",
        "unit": "currency units per week",
    },
    "merchant_revenue": {"label": "Merchants' receipts", "unit": "currency units per week"},
    "merchant_profit": {"label": "Merchants' profit", "unit": "currency units per week"},
    "merchant_cost_of_goods": {
        "label": "Merchants' cost of goods and fixed costs",
        "unit": "currency units per week",
    },
    "merchant_marketing_spend": {
        "label": "Merchants' marketing and channel spend",
        "unit": "currency units per week",
    },
    "merchant_kol_fees": {"label": "KOL fees paid by merchants", "unit": "currency units per week"},
    "merchant_fines": {"label": "Fines paid by merchants", "unit": "currency units per week"},
    "kol_fees": {"label": "KOLs' fee income", "unit": "currency units per week"},
    "state_tariff_revenue": {"label": "Tariff revenue", "unit": "currency units per week"},
    "logistics_revenue": {
        "label": "Carriers' logistics revenue",
        "unit": "currency units per week",
    },
    "platform_revenue": {"label": "Platforms' revenue", "unit": "currency units per week"},
    "active_merchants": {"label": "Merchants in business", "unit": "merchants"},
    "merchant_exits": {"label": "Merchant exits", "unit": "merchants per week"},
    "merchant_entries": {"label": "Merchant entries", "unit": "merchants per week"},
    "active_shopper_share": {
        "label": "Consumers who shopped by mobile in the last 26 weeks",
        "unit": "share of consumers",
    },
    "lapsed_shopper_share": {
        "label": "Shoppers who lapsed from mobile shopping",
        "unit": "share of consumers",
    },
    "lapsed_payer_share": {
        "label": "Shoppers who stopped paying by mobile",
        "unit": "share of consumers",
    },
    "accepting_merchant_share": {
        "label": "Mobile merchants accepting mobile payment",
        "unit": "share of mobile-selling merchants",
    },
}
"""Plain-language label and unit of every column, for plots and reports."""
METRIC_INFO.update(PLATFORM_METRIC_INFO)

GOOD_DIRECTION: dict[str, int] = {
    "aware_share": 1,
    "shopper_share": 1,
    "payment_adoption": 1,
    "payment_adoption_connected": 1,
    "mean_trust_domestic": 1,
    "mean_trust_foreign": 1,
    "orders": 1,
    "cross_border_orders": 1,
    "cross_border_share": 0,
    "gmv": 1,
    "counterfeit_incidents": -1,
    "fraud_incidents": -1,
    "merchant_adoption": 1,
    "kol_credibility": 1,
    "mobile_access_share": 1,
    "verified_merchant_share": 1,
    "failed_transactions": -1,
    "policy_cost": -1,
    "cumulative_policy_cost": -1,
    "consumer_spending": 0,
    "mobile_spending": 1,
    "offline_spending": 0,
    "traditional_import_spending": 0,
    "mobile_share_of_consumption": 1,
    "consumer_surplus": 1,
    "unmet_needs": -1,
    "counterfeit_loss_value": -1,
    "fraud_loss_value": -1,
    "cross_border_value": 1,
    "cross_border_created_value": 1,
    "cross_border_diverted_value": 0,
    "merchant_revenue": 1,
    "merchant_profit": 1,
    "merchant_cost_of_goods": 0,
    "merchant_marketing_spend": 0,
    "merchant_kol_fees": 0,
    "merchant_fines": -1,
    "kol_fees": 0,
    "state_tariff_revenue": 0,
    "logistics_revenue": 0,
    "platform_revenue": 0,
    "active_merchants": 1,
    "merchant_exits": -1,
    "merchant_entries": 1,
    "active_shopper_share": 1,
    "lapsed_shopper_share": -1,
    "lapsed_payer_share": -1,
    "accepting_merchant_share": 1,
}
"""Whether a rise in each metric is desirable: +1 higher is better, -1 lower is better,
0 neither (a share whose right level is a matter of policy, e.g. the cross-border share).
The one place reports and decision tools read the good direction from; a metric missing
here is treated as 0."""
GOOD_DIRECTION.update(PLATFORM_GOOD_DIRECTION)


REGIONAL_GOOD_DIRECTION: dict[str, int] = {
    "exports_value": 1,
    "exports_orders": 1,
    "imports_value": 0,
    "imports_orders": 0,
    "cross_border_value": 1,
    "cross_border_created_value": 1,
}
"""Good direction of the per-region and per-pair columns (``exports_value.<region>``,
``cross_border_value.<origin>><destination>``, ...): more exports and more trade are
improvements; imports are neither."""


def good_direction(metric: str) -> int:
    """+1 if more of ``metric`` is better, -1 if less is better, 0 if neither or unknown.

    Per-region columns (``name.<region>``) take the direction of their base name.
    """
    if metric in GOOD_DIRECTION:
        return GOOD_DIRECTION[metric]
    base, dot, _ = metric.partition(".")
    return REGIONAL_GOOD_DIRECTION.get(base, 0) if dot else 0


STAGES: tuple[str, ...] = ("unaware", "aware", "paying", "shopper", "cross_border")
"""Consumer adoption stages, lowest first (see MarketModel.consumer_stage)."""


def consumer_stage_names() -> tuple[str, ...]:
    """Names of the consumer stages by code."""
    return STAGES


CONSUMER_RECORD_FIELDS: tuple[str, ...] = (
    "stage",
    "has_access",
    "aware",
    "payment",
    "has_ordered",
    "has_ordered_cross_border",
    "trust_domestic",
    "trust_foreign",
    "bad_memory",
)
"""Per-consumer columns of a consumer record (besides step, consumer and region)."""


def consumer_record(model: MarketView) -> dict[str, np.ndarray]:
    """Copy every consumer's current state (``CONSUMER_RECORD_FIELDS``), one row each."""
    c = model.consumers
    record = {"stage": model.consumer_stage()}
    for name in CONSUMER_RECORD_FIELDS[1:]:
        record[name] = getattr(c, name).copy()
    return record
