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
    """Orders this step from a merchant in another region."""
    return int(model.last.cross_border_orders)


def cross_border_share(model: MarketView) -> float:
    """Cross-border orders as a share of orders this step (0 without orders)."""
    n = model.last.orders
    return float(model.last.cross_border_orders / n) if n else 0.0


def gmv(model: MarketView) -> float:
    """Gross merchandise value of this step's orders (currency units)."""
    return float(model.last.gmv)


def counterfeit_incidents(model: MarketView) -> int:
    """Counterfeit sales this step."""
    return int(model.last.counterfeit_incidents)


def fraud_incidents(model: MarketView) -> int:
    """Mobile payment frauds this step."""
    return int(model.last.fraud_incidents)


def merchant_adoption(model: MarketView) -> float:
    """Share of merchants using mobile marketing (0 without merchants)."""
    m = model.merchants
    return float(m.adopted.mean()) if m.n else 0.0


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
    """Share of merchants that are verified (0 without merchants)."""
    m = model.merchants
    return float(m.verified.mean()) if m.n else 0.0


def failed_transactions(model: MarketView) -> int:
    """Orders lost this step to transaction failures."""
    return int(model.last.failed_transactions)


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
)
"""Further columns of every run table."""

REPORTERS = {name: globals()[name] for name in METRICS + EXTRA_METRICS}
"""Column name -> reporter function, for mesa.DataCollector."""

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
    "shopper_share": {"label": "Consumers who have shopped by mobile", "unit": "share of consumers"},
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
    "merchant_adoption": {"label": "Merchants using mobile marketing", "unit": "share of merchants"},
    "kol_credibility": {"label": "KOL credibility", "unit": "mean, 0 to 1"},
    "mobile_access_share": {"label": "Consumers with mobile access", "unit": "share of consumers"},
    "verified_merchant_share": {"label": "Verified merchants", "unit": "share of merchants"},
    "failed_transactions": {"label": "Failed transactions", "unit": "orders per week"},
    "policy_cost": {"label": "Policy spending", "unit": "currency units per week"},
    "cumulative_policy_cost": {"label": "Cumulative policy spending", "unit": "currency units"},
}
"""Plain-language label and unit of every column, for plots and reports."""

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
}
"""Whether a rise in each metric is desirable: +1 higher is better, -1 lower is better,
0 neither (a share whose right level is a matter of policy, e.g. the cross-border share).
The one place reports and decision tools read the good direction from; a metric missing
here is treated as 0."""


def good_direction(metric: str) -> int:
    """+1 if more of ``metric`` is better, -1 if less is better, 0 if neither or unknown."""
    return GOOD_DIRECTION.get(metric, 0)


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
