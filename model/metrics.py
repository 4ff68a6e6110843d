"""The run table's metrics: each declared once, with its reporter, words, unit and tags.

``REGISTRY`` holds one :class:`Metric` per column of the run table (and one per family
of per-region, per-pair and per-channel columns), in column order: the reporter that
mesa.DataCollector calls each step, a plain label, its kind (share, weekly flow, money,
index, ...) and what it counts, whether more of it is better, and tags that put it on
the lists shown to readers (``metrics_tagged``: the report's outcomes, the browser's
panel, ``mtsim run``'s summary, ...). Labels, units and number formats of every report,
figure, page and console line come from here (``metric_label``, ``metric_unit``,
``format_metric``, ``format_number``).

Shares are fractions in [0, 1] of consumers, except ``cross_border_share`` (of
orders; 0 in a step without orders) and ``merchant_adoption`` (of merchants; 0
without merchants). ``kol_credibility`` is the mean credibility of the KOLs and
NaN when there are none. Counts and GMV are per step. Weekly flows, among them
``consumer_surplus``, ``persuasion_value`` and ``total_welfare``, are 0 at step 0 (the
starting state: no week has run, no needs; docs/economics.md, Welfare).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

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
    """Goods value of this step's mobile orders, before coupons (yuan)."""
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
    """Policy spending this step (yuan)."""
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


def shopping_needs_value(model: MarketView) -> float:
    """Value of all shopping needs this step at home prices (bought or not, any channel).

    The consumption that :func:`mobile_share_of_consumption` divides by.
    """
    return float(model.last.basket_value)


def cross_border_created_value(model: MarketView) -> float:
    """Goods value of cross-border mobile orders that is created trade.

    Created: imports replacing home supply: otherwise no purchase, offline at home or a
    mobile order from a seller in the buyer's own country (logit counterfactual,
    mechanisms/ordering.py rule 6).
    """
    pairs = model.last.created_by_pair
    return float(pairs.sum()) if pairs is not None else 0.0


def cross_border_diverted_value(model: MarketView) -> float:
    """Goods value of cross-border mobile orders that is diverted trade.

    Diverted from other foreign sources: traditional imports, or mobile orders from
    another foreign region (logit counterfactual, mechanisms/ordering.py rule 6).
    """
    pairs = model.last.diverted_by_pair
    return float(pairs.sum()) if pairs is not None else 0.0


def net_fiscal_cost(model: MarketView) -> float:
    """Return the state's payments minus its receipts this step (spending - tariffs - fines)."""
    return float(model.last.net_fiscal_cost)


def cumulative_net_fiscal_cost(model: MarketView) -> float:
    """Return the state's net fiscal cost up to and including this step."""
    market = getattr(model, "market", None)
    return float(market.cumulative_net_fiscal_cost) if market is not None else 0.0


def merchant_profit(model: MarketView) -> float:
    """Merchants' profit this step, incl. traditional margin, net of fixed costs."""
    return float(model.last.merchant_profit)


def active_merchants(model: MarketView) -> int:
    """Merchants in business after this step."""
    return int(model.merchants.active.sum())


def active_shopper_share(model: MarketView) -> float:
    """Share of consumers who ordered by mobile in the last 26 weeks (CNNIC's "users")."""
    last = model.consumers.last_order_week  # NEVER_ORDERED (never) is far below
    steps = getattr(model, "steps", 0)
    return float((last > steps - 26).mean())


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


def mobile_paid_order_share(model: MarketView) -> float:
    """Share of this step's mobile orders paid by mobile payment (0 without orders).

    The rest were paid another way at merchants that do not accept mobile payment
    (mechanisms/ordering.py, rule 9).
    """
    n = model.last.orders
    return float(model.last.mobile_paid_orders / n) if n else 0.0


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


def _platform_count(key: str, kind=float):
    def reporter(model: MarketView):
        return kind(model.platforms.last.get(key, 0))

    reporter.__doc__ = f"``platforms.last[{key!r}]`` of the step (mechanisms/platform.py)."
    return reporter


def offline_qr_acceptance(model: MarketView) -> float:
    """Share of offline retailers accepting a platform's QR code (mechanisms/o2o.py).

    Mean over platforms, regions weighted by their consumers (NaN without platforms).
    """
    share = model.platforms.qr_acceptance
    if not share.size:
        return float("nan")
    residents = np.bincount(model.consumers.region, minlength=share.shape[0])
    return float(residents @ share.mean(axis=1) / max(residents.sum(), 1))


def _platform_ratio(numerator: str, denominator: str):
    def reporter(model: MarketView) -> float:
        last = model.platforms.last
        d = last.get(denominator, 0)
        return float(last.get(numerator, 0) / d) if d else float("nan")

    reporter.__doc__ = f"{numerator} / {denominator} of the step (NaN when 0)."
    return reporter


def _by_platform(key: str, p: int, total: str = ""):
    def reporter(model: MarketView) -> float:
        last = model.platforms.last
        values = last.get(key)
        if values is None:
            return float("nan") if total else 0.0
        if total:  # a share of the week's total (NaN when 0)
            d = last.get(total, 0)
            return float(values[p] / d) if d else float("nan")
        return float(values[p])

    return reporter


def _by_channel(key: str, c: int, kind=float):
    def reporter(model: MarketView):
        values = model.platforms.last.get(key)
        return kind(values[c]) if values is not None else kind(0)

    return reporter


# ----------------------------------------------------------------------------- the registry

KINDS: dict[str, str] = {
    "share": "a share of a population at the end of the week (0 to 1; shown in per cent)",
    "flow_share": "a share of the week's flows, e.g. of its orders (0 to 1; shown in per cent)",
    "index": "a mean on a 0 to 1 scale, e.g. trust (shown as an index from 0 to 100)",
    "count": "a number of things at the end of the week, e.g. merchants in business",
    "flow": "a number of things in the week, e.g. orders (summed over weeks: a total)",
    "money_flow": "yuan in the week (summed over weeks: a total)",
    "money": "yuan so far",
    "mean": "a plain average, e.g. accounts followed per platform user",
    "number": "a column the registry does not know (no unit)",
}
"""The kinds of metric: how a value reads, is shown and is summed over weeks."""

_PERCENT_KINDS = ("share", "flow_share")
_SCALED_KINDS = ("share", "flow_share", "index")
_WEEKLY_KINDS = ("flow", "money_flow", "flow_share")
_SUMMED_KINDS = ("flow", "money_flow")
_DECIMALS = {"share": 1, "flow_share": 1, "index": 1, "mean": 2}
"""Decimals of a shown value by kind (0 for counts and money; ``number``: by size)."""

TAGS: dict[str, str] = {
    "main": "the main metrics, in column order (model.METRICS)",
    "over_time": "panels of the comparison's figure over time (comparison.png)",
    "effects": "panels of the comparison's forest plot (effects.png) and lever decomposition",
    "report": "outcomes of the comparison report's sentences and tables",
    "sensitivity": "outcomes of `mtsim analyze` when none is asked for",
    "panel": "the numbers panel of the browser page (`mtsim viz`)",
    "run_summary": "the final values `mtsim run` prints",
    "stakeholders": "who wins and who loses (by ``Metric.party``): the comparison report's "
    "first paragraph",
}
"""The lists a metric can be on; its tag's number is its position in that list."""


@dataclass(frozen=True)
class Metric:
    """One metric of the run table (or one family of per-region, pair or channel columns).

    Attributes:
        name: column name; for a family its base name (columns ``<name>.<suffix>``).
        label: plain name, capitalised ("Mobile orders").
        kind: one of ``KINDS``.
        of: what it counts or is a share of ("orders", "consumers", "yuan").
        good: +1 if more is better, -1 if less is better, 0 if neither (a level that is
            a matter of policy, e.g. the cross-border share).
        reporter: ``reporter(model)`` of the column; for a family a factory taking the
            region index, the (origin, destination) indices or the channel index.
        tags: tag of ``TAGS`` -> position (1, 2, ...) in that tag's list.
        per: "" for one column; "region", "pair", "channel" or "platform" for a family.
        platform: True for columns only of models with a ``platforms:`` section.
        party: for a metric tagged ``stakeholders``, the party whose gain or loss it
            measures (a ledger party of ``mechanisms.accounts``: consumers, merchants,
            state, platforms, kols, payment_providers); "" otherwise.
    """

    name: str
    label: str
    kind: str
    of: str = ""
    good: int = 0
    reporter: Callable[..., Any] | None = None
    tags: Mapping[str, int] = field(default_factory=dict)
    per: str = ""
    platform: bool = False
    party: str = ""

    @property
    def stored_unit(self) -> str:
        """Unit of the column's values ("share of consumers", "orders per week")."""
        if self.kind in _PERCENT_KINDS:
            return f"share of {self.of}"
        if self.kind == "index":
            return "mean, 0 to 1"
        if self.kind in _SUMMED_KINDS:
            return f"{self.of} per week"
        if self.kind == "mean":
            return f"per {self.of}"
        return self.of

    @property
    def unit(self) -> str:
        """Unit of the values as shown ("% of consumers", "index, 0 to 100", "orders per week")."""
        if self.kind in _PERCENT_KINDS:
            return f"% of {self.of}"
        if self.kind == "index":
            return "index, 0 to 100"
        return self.stored_unit

    @property
    def percent(self) -> bool:
        """True when shown in per cent (shares)."""
        return self.kind in _PERCENT_KINDS

    @property
    def summable(self) -> bool:
        """True when a sum over weeks is a total in the metric's own unit (orders, money)."""
        return self.kind in _SUMMED_KINDS

    @property
    def total_unit(self) -> str:
        """Unit of the metric summed over weeks ("orders", "yuan")."""
        if not self.summable:
            raise ValueError(f"{self.name} ({self.kind}) is not summed over weeks")
        return self.of

    @property
    def scale(self) -> float:
        """Factor from stored to shown values (100 for shares and indices)."""
        return 100.0 if self.kind in _SCALED_KINDS else 1.0

    @property
    def difference_unit(self) -> str:
        """Unit of a difference of shown values ("points" for shares and indices)."""
        return "points" if self.kind in _SCALED_KINDS else self.unit

    @property
    def bounds(self) -> tuple[float, float]:
        """Range of shown values (bands of figures are clipped to it)."""
        return (0.0, 100.0) if self.kind in _SCALED_KINDS else (0.0, math.inf)

    @property
    def flow(self) -> bool:
        """True for what happens in a week (orders, money, the week's cross-border share)."""
        return self.kind in _WEEKLY_KINDS

    @property
    def headline_measure(self) -> str:
        """The per-run measure that states the level at the end of a run.

        The last-quarter mean for weekly flows (they jump from week to week), else the
        value at the last week.
        """
        return "last_quarter" if self.flow else "final"

    @property
    def decimals(self) -> int | None:
        """Decimals of one shown value (None: by its size, for unknown columns)."""
        return None if self.kind == "number" else _DECIMALS.get(self.kind, 0)


_MONEY = "yuan"

# fmt: off
REGISTRY: tuple[Metric, ...] = (
    # -- the main metrics
    Metric(
        "aware_share", "Consumers aware of mobile shopping", "share", "consumers", 1,
        aware_share, {"main": 1, "panel": 1, "run_summary": 1},
    ),
    Metric(
        "shopper_share", "Consumers who have shopped by mobile", "share", "consumers", 1,
        shopper_share,
        {"main": 2, "over_time": 2, "effects": 2, "report": 2, "sensitivity": 2, "panel": 3,
         "run_summary": 2},
    ),
    Metric(
        "payment_adoption", "Consumers paying by mobile", "share", "consumers", 1,
        payment_adoption,
        {"main": 3, "over_time": 1, "effects": 1, "report": 1, "sensitivity": 1, "panel": 2,
         "run_summary": 3},
    ),
    Metric(
        "mean_trust_domestic", "Trust in domestic sellers", "index", "consumers", 1,
        mean_trust_domestic,
        {"main": 4, "over_time": 7, "effects": 7, "report": 8, "panel": 4, "run_summary": 4},
    ),
    Metric(
        "mean_trust_foreign", "Trust in foreign sellers", "index", "consumers", 1,
        mean_trust_foreign,
        {"main": 5, "over_time": 8, "effects": 8, "report": 9, "sensitivity": 3, "panel": 5,
         "run_summary": 5},
    ),
    Metric(
        "orders", "Mobile orders", "flow", "orders", 1, orders,
        {"main": 6, "report": 3, "panel": 6, "run_summary": 6},
    ),
    Metric(
        "cross_border_orders", "Cross-border orders", "flow", "orders", 1, cross_border_orders,
        {"main": 7, "over_time": 4, "effects": 5, "report": 6, "panel": 7},
    ),
    Metric(
        "cross_border_share", "Cross-border share of orders", "flow_share", "orders", 0,
        cross_border_share,
        {"main": 8, "over_time": 3, "effects": 4, "report": 5, "sensitivity": 4, "panel": 8,
         "run_summary": 7},
    ),
    Metric(
        "gmv", "Gross merchandise value", "money_flow", _MONEY, 1, gmv,
        {"main": 9, "over_time": 5, "effects": 6, "report": 7, "sensitivity": 5, "panel": 9,
         "run_summary": 8},
    ),
    Metric(
        "counterfeit_incidents", "Counterfeit sales", "flow", "incidents", -1,
        counterfeit_incidents,
        {"main": 10, "over_time": 9, "effects": 9, "report": 10, "panel": 10},
    ),
    Metric(
        "fraud_incidents", "Mobile payment frauds", "flow", "incidents", -1, fraud_incidents,
        {"main": 11, "report": 11, "panel": 11},
    ),
    Metric(
        "merchant_adoption", "Merchants using mobile marketing", "share", "merchants", 1,
        merchant_adoption,
        {"main": 12, "over_time": 6, "effects": 3, "report": 4, "panel": 12, "run_summary": 9},
    ),
    Metric(
        "kol_credibility", "KOL credibility", "index", "KOLs", 1, kol_credibility,
        {"main": 13, "panel": 13},
    ),
    # -- further columns of every run table
    Metric(
        "payment_adoption_connected", "Mobile payment among connected consumers", "share",
        "connected consumers", 1, payment_adoption_connected,
    ),
    Metric(
        "mobile_access_share", "Consumers with mobile access", "share", "consumers", 1,
        mobile_access_share, {"panel": 14},
    ),
    Metric(
        "verified_merchant_share", "Verified merchants", "share", "merchants", 1,
        verified_merchant_share,
    ),
    Metric(
        "failed_transactions", "Failed transactions", "flow", "orders", -1, failed_transactions
    ),
    Metric(
        "policy_cost", "Policy spending", "money_flow", _MONEY, -1, policy_cost, {"panel": 15}
    ),
    Metric(
        "cumulative_policy_cost", "Cumulative policy spending", "money", _MONEY, -1,
        cumulative_policy_cost,
    ),
    Metric(
        "net_fiscal_cost", "Net fiscal cost", "money_flow", _MONEY, -1, net_fiscal_cost,
        {"stakeholders": 8}, party="state",
    ),
    Metric(
        "cumulative_net_fiscal_cost", "Cumulative net fiscal cost", "money", _MONEY, -1,
        cumulative_net_fiscal_cost,
    ),
    Metric(
        "forgone_tariff_revenue", "Tariff revenue forgone", "money_flow", _MONEY, 0,
        _counter("forgone_tariff_revenue"),
    ),
    Metric(
        "lapsed_shopper_share", "Shoppers who lapsed from mobile shopping", "share",
        "consumers", -1, lapsed_shopper_share,
    ),
    Metric(
        "lapsed_payer_share", "Shoppers who stopped paying by mobile", "share", "consumers", -1,
        lapsed_payer_share,
    ),
    Metric(
        "accepting_merchant_share", "Mobile merchants accepting mobile payment", "share",
        "mobile-selling merchants", 1, accepting_merchant_share,
    ),
    Metric(
        "mobile_paid_order_share", "Mobile orders paid by mobile payment", "flow_share",
        "orders", 1, mobile_paid_order_share,
    ),
    # -- the economy (mechanisms/accounts.py and docs/economics.md)
    Metric(
        "consumer_spending", "Consumer spending, all channels", "money_flow", _MONEY, 0,
        consumer_spending,
    ),
    Metric(
        "mobile_spending", "Spending on mobile orders", "money_flow", _MONEY, 1,
        _counter("mobile_spending"),
    ),
    Metric(
        "offline_spending", "Spending offline at home", "money_flow", _MONEY, 0,
        _counter("offline_spending"),
    ),
    Metric(
        "traditional_import_spending", "Spending on traditional imports", "money_flow", _MONEY,
        0, _counter("traditional_import_spending"),
    ),
    Metric(
        "mobile_share_of_consumption", "Mobile share of consumption", "flow_share",
        "the value of shopping needs", 1, mobile_share_of_consumption,
    ),
    Metric(
        "shopping_needs_value", "Value of all shopping needs", "money_flow", _MONEY, 0,
        shopping_needs_value,
    ),
    Metric(
        "consumer_surplus", "Consumer surplus", "money_flow", _MONEY, 1,
        _counter("consumer_surplus"), {"stakeholders": 1}, party="consumers",
    ),
    Metric(
        "persuasion_value", "Persuasion left out of consumer surplus", "money_flow", _MONEY,
        0, _counter("persuasion_value"),
    ),
    Metric(
        "total_welfare", "Total welfare", "money_flow", _MONEY, 1, _counter("total_welfare"),
    ),
    Metric(
        "unmet_needs", "Unmet shopping needs", "flow", "consumers", -1,
        _counter("unmet_needs", int),
    ),
    Metric(
        "counterfeit_loss_value", "Losses to counterfeits", "money_flow", _MONEY, -1,
        _counter("counterfeit_loss_value"), {"stakeholders": 2}, party="consumers",
    ),
    Metric(
        "fraud_loss_value", "Losses to payment fraud", "money_flow", _MONEY, -1,
        _counter("fraud_loss_value"), {"stakeholders": 3}, party="consumers",
    ),
    Metric(
        "cross_border_value", "Cross-border mobile trade", "money_flow", _MONEY, 1,
        _counter("cross_border_value"),
    ),
    Metric(
        "cross_border_created_value", "Cross-border trade created", "money_flow", _MONEY, 1,
        cross_border_created_value,
    ),
    Metric(
        "cross_border_diverted_value", "Cross-border trade diverted", "money_flow", _MONEY, 0,
        cross_border_diverted_value,
    ),
    Metric(
        "merchant_revenue", "Merchants' receipts", "money_flow", _MONEY, 1,
        _received("merchants"),
    ),
    Metric(
        "merchant_profit", "Merchants' profit", "money_flow", _MONEY, 1, merchant_profit,
        {"stakeholders": 5}, party="merchants",
    ),
    Metric(
        "merchant_cost_of_goods", "Merchants' cost of goods and fixed costs", "money_flow",
        _MONEY, 0, _flow("merchants", "suppliers"),
    ),
    Metric(
        "merchant_marketing_spend", "Merchants' marketing and channel spend", "money_flow",
        _MONEY, 0, _flow("merchants", "platforms"),
    ),
    Metric(
        "merchant_kol_fees", "KOL fees paid by merchants", "money_flow", _MONEY, 0,
        _flow("merchants", "kols"),
    ),
    Metric(
        "merchant_fines", "Fines paid by merchants", "money_flow", _MONEY, -1,
        _flow("merchants", "state"),
    ),
    Metric(
        "kol_fees", "KOLs' fee income", "money_flow", _MONEY, 0, _received("kols"),
        {"stakeholders": 7}, party="kols",
    ),
    Metric(
        "state_tariff_revenue", "Tariff revenue", "money_flow", _MONEY, 0,
        _flow("consumers", "state"),
    ),
    Metric(
        "logistics_revenue", "Carriers' logistics revenue", "money_flow", _MONEY, 0,
        _received("carriers"),
    ),
    Metric(
        "platform_revenue", "Platforms' revenue", "money_flow", _MONEY, 0,
        _received("platforms"), {"stakeholders": 6}, party="platforms",
    ),
    Metric(
        "payment_fee_revenue", "Payment providers' fee income", "money_flow", _MONEY, 0,
        _received("payment_providers"), {"stakeholders": 9}, party="payment_providers",
    ),
    Metric(
        "active_merchants", "Merchants in business", "count", "merchants", 1, active_merchants,
        {"stakeholders": 4}, party="merchants",
    ),
    Metric(
        "merchant_exits", "Merchant exits", "flow", "merchants", -1,
        _counter("merchant_exits", int),
    ),
    Metric(
        "merchant_entries", "Merchant entries", "flow", "merchants", 1,
        _counter("merchant_entries", int),
    ),
    Metric(
        "active_shopper_share", "Consumers who shopped by mobile in the last 26 weeks", "share",
        "consumers", 1, active_shopper_share,
    ),
    # -- per region R (``<name>.R``) and per pair of regions O to D (``<name>.O>D``)
    Metric(
        "exports_value", "Cross-border sales of the region's merchants", "money_flow", _MONEY,
        1, partial(_per_region, "exports_value"), per="region",
    ),
    Metric(
        "imports_value", "Cross-border purchases of the region's consumers", "money_flow",
        _MONEY, 0, partial(_per_region, "imports_value"), per="region",
    ),
    Metric(
        "exports_orders", "Cross-border orders sold by the region's merchants", "flow",
        "orders", 1, partial(_per_region, "exports_orders", kind=int), per="region",
    ),
    Metric(
        "imports_orders", "Cross-border orders of the region's consumers", "flow", "orders", 0,
        partial(_per_region, "imports_orders", kind=int), per="region",
    ),
    Metric(
        "cross_border_value", "Cross-border mobile trade", "money_flow", _MONEY, 1,
        partial(_pair, "cross_border_by_pair"), per="pair",
    ),
    Metric(
        "cross_border_created_value", "Cross-border trade created", "money_flow", _MONEY, 1,
        partial(_pair, "created_by_pair"), per="pair",
    ),
    Metric(
        "cross_border_diverted_value", "Cross-border trade diverted", "money_flow", _MONEY, 0,
        partial(_pair, "diverted_by_pair"), per="pair",
    ),
    Metric(
        "policy_cost", "Policy spending paid by the region", "money_flow", _MONEY, -1,
        partial(_per_region, "policy_cost_by_region"), per="region",
    ),
    Metric(
        "net_fiscal_cost", "Net fiscal cost of the region", "money_flow", _MONEY, -1,
        partial(_per_region, "net_fiscal_cost_by_region"), per="region",
    ),
    # -- models with a ``platforms:`` section (docs/platform.md)
    Metric(
        "platform_users", "Platform users", "share", "consumers", 1,
        _platform_count("users"), platform=True,
    ),
    Metric(
        "platform_follows_per_user", "Official accounts followed", "mean", "platform user", 0,
        _platform_count("follows_per_user"), platform=True,
    ),
    Metric(
        "platform_orders", "Orders through the platform", "flow", "orders", 1,
        _platform_count("platform_orders", int), platform=True,
    ),
    Metric(
        "platform_order_share", "Platform share of mobile orders", "flow_share", "orders", 0,
        _platform_ratio("platform_orders", "orders"), platform=True,
    ),
    Metric(
        "intention_conversion", "Conversion from purchase intention", "flow_share",
        "consumers shown platform content", 1,
        _platform_ratio("intention_purchases", "intentions"), platform=True,
    ),
    Metric(
        "search_action_rate", "Mobile searches leading to an action", "flow_share", "searches",
        1, _platform_ratio("search_actions", "searches"), platform=True,
    ),
    Metric(
        "search_purchase_rate", "Search actions leading to a purchase", "flow_share", "actions",
        1, _platform_ratio("search_purchases", "search_actions"), platform=True,
    ),
    Metric(
        "searches", "Mobile searches", "flow", "searches", 0,
        _platform_count("searches", int), platform=True,
    ),
    Metric(
        "search_actions", "Mobile searches followed by an action", "flow", "searches", 0,
        _platform_count("search_actions", int), platform=True,
    ),
    Metric(
        "search_purchases", "Search actions followed by a mobile order", "flow", "actions", 1,
        _platform_count("search_purchases", int), platform=True,
    ),
    Metric(
        "intentions", "Consumers shown platform content about a store", "flow", "consumers", 0,
        _platform_count("intentions", int), platform=True,
    ),
    Metric(
        "intention_purchases", "... of whom ordered by mobile that week", "flow", "consumers", 1,
        _platform_count("intention_purchases", int), platform=True,
    ),
    Metric(
        "group_buy_offers", "Group-buying offers", "flow", "offers", 0,
        _platform_count("group_buy_offers", int), platform=True,
    ),
    Metric(
        "group_buy_successes", "Successful group-buying offers", "flow", "offers", 1,
        _platform_count("group_buy_successes", int), platform=True,
    ),
    Metric(
        "group_buy_buyers", "Group-buying team members", "flow", "consumers", 0,
        _platform_count("group_buy_buyers", int), platform=True,
    ),
    Metric(
        "offline_qr_payments", "Offline purchases paid by QR code", "flow", "payments", 1,
        _platform_count("offline_qr_payments", int), platform=True,
    ),
    Metric(
        "offline_qr_acceptance", "Offline retailers accepting QR codes", "share",
        "offline retailers", 1, offline_qr_acceptance, platform=True,
    ),
    Metric(
        "offline_qr_value", "Offline spending paid by QR code", "money_flow", _MONEY, 0,
        _platform_count("offline_qr_value"), platform=True,
    ),
    Metric(
        "qr_first_payments", "First mobile payments made by QR offline", "flow", "consumers", 1,
        _platform_count("qr_first_payments", int), platform=True,
    ),
    Metric(
        "cross_platform_failures", "Payments failed at another platform's store", "flow",
        "orders", -1, _platform_count("cross_platform_failures", int), platform=True,
    ),
    Metric(
        "platform_fees", "Platform fees on in-app orders", "money_flow", _MONEY, 0,
        _platform_count("platform_fees"), platform=True,
    ),
    Metric(
        "platform_multihoming", "Platform users using two or more platforms", "share",
        "platform users", 0,
        _platform_ratio("multihoming_users", "platform_users_count"), platform=True,
    ),
    Metric(
        "wallet_multihoming", "Wallet holders holding two or more platform wallets", "share",
        "wallet holders", 0,
        _platform_ratio("multihoming_wallets", "wallet_holders_count"), platform=True,
    ),
    Metric(
        "platform_stores", "Official accounts / in-app stores", "count", "merchants", 1,
        _platform_count("stores", int), platform=True,
    ),
    Metric(
        "platform_stores_verified", "Stores verified by their platform", "count", "merchants", 1,
        _platform_count("stores_verified", int), platform=True,
    ),
    Metric(
        "platform_stores_delisted", "Stores delisted by their platform", "count", "merchants",
        -1, _platform_count("stores_delisted", int), platform=True,
    ),
    Metric(
        "platform_stores_checked", "Stores checked by their platform", "flow", "merchants", 0,
        _platform_count("stores_checked", int), platform=True,
    ),
    # per channel C of mechanisms.attribution.CHANNELS (``<name>.C``; they sum to orders, gmv)
    Metric(
        "orders_by_channel", "Mobile orders by channel", "flow", "orders", 0,
        partial(_by_channel, "orders_by_channel", kind=int), per="channel", platform=True,
    ),
    Metric(
        "value_by_channel", "Goods value of mobile orders by channel", "money_flow", _MONEY, 0,
        partial(_by_channel, "value_by_channel"), per="channel", platform=True,
    ),
    # per platform P of the scenario's ``platforms:`` (``<name>.P``; multi-homing)
    Metric(
        "users_by_platform", "Users of the platform", "share", "consumers", 1,
        partial(_by_platform, "users_by_platform"), per="platform", platform=True,
    ),
    Metric(
        "wallet_holders", "Holders of the platform's wallet", "share", "consumers", 1,
        partial(_by_platform, "wallet_holders"), per="platform", platform=True,
    ),
    Metric(
        "wallet_payment_share", "Platform payments made with the platform's wallet",
        "flow_share", "platform payments", 0,
        partial(_by_platform, "wallet_payments", total="wallet_payments_total"),
        per="platform", platform=True,
    ),
)
# fmt: on
"""Every metric, declared once, in run-table column order (families: their columns' place)."""

_COLUMNS: dict[str, Metric] = {m.name: m for m in REGISTRY if not m.per}
_FAMILIES: dict[str, Metric] = {m.name: m for m in REGISTRY if m.per}

METRIC_NAMES: tuple[str, ...] = tuple(_COLUMNS)
"""Every single (not per-region, pair or channel) column, platform ones included."""


def find_metric(name: str) -> Metric | None:
    """Return the registry entry of a column, or None for a name the registry does not know.

    A column of a family (``<base>.<suffix>``) gets its family's entry, labelled
    "Label (suffix)".
    """
    if name in _COLUMNS:
        return _COLUMNS[name]
    base, dot, suffix = name.partition(".")
    family = _FAMILIES.get(base) if dot else None
    if family is None:
        return None
    return replace(family, name=name, label=f"{family.label} ({suffix})", per="", tags={})


def metric_info(name: str) -> Metric:
    """Return the registry entry of a column, or a unit-less ``number`` entry named after it."""
    found = find_metric(name)
    if found is not None:
        return found
    return Metric(name, name.replace("_", " ").capitalize(), "number")


def metrics_tagged(tag: str) -> tuple[str, ...]:
    """Return the metrics on the list ``tag`` (one of ``TAGS``), in the list's order."""
    if tag not in TAGS:
        raise KeyError(f"no metric tag {tag!r} (tags: {', '.join(TAGS)})")
    tagged = [m for m in REGISTRY if tag in m.tags]
    return tuple(m.name for m in sorted(tagged, key=lambda m: m.tags[tag]))


def metrics_of_kind(*kinds: str) -> tuple[str, ...]:
    """Return the single columns of these kinds (``KINDS``), in column order."""
    return tuple(m.name for m in _COLUMNS.values() if m.kind in kinds)


def in_sentence(label: str) -> str:
    """Write a label as inside a sentence: first letter lower case, unless an acronym."""
    first = label.split(" ")[0]
    if len(first) > 1 and first[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def metric_label(name: str, *, total: bool = False) -> str:
    """Return the plain name of a column; ``total``: of its sum over weeks ("Total orders")."""
    info = metric_info(name)
    if total:
        info.total_unit  # noqa: B018 - raises for a metric that is not summed over weeks
        return f"Total {in_sentence(info.label)}"
    return info.label


def metric_unit(name: str, *, total: bool = False) -> str:
    """Return the unit of a column's values as shown; ``total``: of its sum over weeks."""
    info = metric_info(name)
    return info.total_unit if total else info.unit


def good_direction(metric: str) -> int:
    """+1 if more of ``metric`` is better, -1 if less is better, 0 if neither or unknown.

    Per-region, pair and channel columns (``name.<suffix>``) take their family's direction.
    """
    found = find_metric(metric)
    return found.good if found is not None else 0


METRICS: tuple[str, ...] = metrics_tagged("main")
"""The main metrics, in column order (``model.METRICS``)."""


# ----------------------------------------------------------------------------- numbers


def decimals_for(*values: float) -> int:
    """Return the decimals that show the largest finite of ``values`` readably.

    0 from 100 on, 1 from 1, 2 from 0.1, 3 from 0.01, else 4 (so a row of numbers, e.g. a
    mean and its interval, shares one number of decimals).
    """
    finite = [abs(v) for v in values if np.isfinite(v)]
    size = max(finite) if finite else 0.0
    if size == 0.0 or size >= 100:
        return 0
    if size >= 1:
        return 1
    if size >= 0.1:
        return 2
    if size >= 0.01:
        return 3
    return 4


def format_number(
    value: float | None,
    decimals: int | None = None,
    *,
    significant: int | None = None,
    missing: str = "n/a",
) -> str:
    """Format a plain number for readers, with thousands separators.

    Args:
        value: the number; None, NaN or infinite gives ``missing``.
        decimals: fixed decimals; None: by size (:func:`decimals_for`). A value that is
            not 0 never shows as 0 or -0: it gets more decimals (up to 4 more).
        significant: instead, this many significant digits without an exponent and
            without trailing zeros ("0.0492", "12.3", "1,250"), e.g. for axis ticks.
        missing: text for a missing or non-finite value.
    """
    if value is None or not np.isfinite(value):
        return missing
    value = float(value) + 0.0  # turns -0.0 into 0.0
    if significant is not None:
        if value == 0.0:
            return "0"
        digits = max(0, significant - 1 - math.floor(math.log10(abs(value))))
        text = f"{value:,.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    d = decimals_for(value) if decimals is None else decimals
    text = f"{value:,.{d}f}"
    extra = 0
    while value != 0.0 and float(text.replace(",", "")) == 0.0 and extra < 4:
        extra += 1
        text = f"{value:,.{d + extra}f}"
    return text


def format_metric(name: str, value: float | None, *, averaged: bool = False) -> str:
    """Format one value of a metric as shown to readers.

    Shares in per cent with one decimal ("45.3%"), indices from 0 to 100 with one
    ("52.0"), counts and money whole ("1,234"), plain means with two ("2.35"); a column
    the registry does not know by size. ``averaged``: the value is a mean of several
    runs, so whole-number kinds get one decimal ("1,234.5"). Missing: "n/a".
    """
    info = metric_info(name)
    if value is None or not np.isfinite(value):
        return "n/a"
    decimals = info.decimals
    if decimals == 0 and averaged:
        decimals = 1
    text = format_number(float(value) * info.scale, decimals)
    return f"{text}%" if info.percent else text


# ----------------------------------------------------------------------------- reporters


def reporters_for(region_names: list[str]) -> dict[str, Callable[..., Any]]:
    """Return all reporters of a model with these regions, in column order (platforms aside).

    The single columns, then per region ``exports_value.R``, ``imports_value.R``,
    ``exports_orders.R``, ``imports_orders.R`` and, per pair of different regions (in
    different countries or not), ``cross_border_value.O>D``,
    ``cross_border_created_value.O>D`` and ``cross_border_diverted_value.O>D`` (goods
    value; created and diverted from the logit counterfactual, mechanisms/ordering.py
    rule 6; they add up to the value). Per region also ``policy_cost.R`` and
    ``net_fiscal_cost.R``: the state's accounts attributed to the region (a country's
    are the sum over its regions; mechanisms/accounts.py).
    """
    out = {m.name: m.reporter for m in REGISTRY if not m.per and not m.platform}
    regional = [m for m in REGISTRY if m.per == "region"]
    pairs = [m for m in REGISTRY if m.per == "pair"]
    for r, name in enumerate(region_names):
        for m in regional:
            out[f"{m.name}.{name}"] = m.reporter(r)
    for o, origin in enumerate(region_names):
        for d, destination in enumerate(region_names):
            if o != d:
                for m in pairs:
                    out[f"{m.name}.{origin}>{destination}"] = m.reporter(o, d)
    return out


def platform_reporters(platform_names: Sequence[str] = ()) -> dict[str, Callable[..., Any]]:
    """Return the reporters of a model with a ``platforms:`` section, in column order.

    ``orders_by_channel.<c>`` and ``value_by_channel.<c>`` per channel of
    ``mechanisms.attribution.CHANNELS`` (they sum to ``orders`` and ``gmv``); the
    platform's users, ties, group buying, offline QR payments, fees and stores; and
    the targets' ratios: ``platform_order_share`` (orders through platform channels /
    orders), ``intention_conversion`` (consumers shown platform content who ordered /
    consumers shown platform content), ``search_action_rate`` (actions / searches) and
    ``search_purchase_rate`` (actions ending in a mobile order / actions); see
    docs/platform.md. Per platform P of ``platform_names`` (multi-homing):
    ``users_by_platform.P`` and ``wallet_holders.P`` (shares of consumers) and
    ``wallet_payment_share.P`` (share of the week's in-app orders and QR payments paid
    with P's wallet).
    """
    from model.mechanisms.attribution import CHANNELS

    out = {m.name: m.reporter for m in REGISTRY if m.platform and not m.per}
    for m in REGISTRY:
        if m.platform and m.per == "channel":
            for c, channel in enumerate(CHANNELS):
                out[f"{m.name}.{channel}"] = m.reporter(c)
    for m in REGISTRY:
        if m.platform and m.per == "platform":
            for p, name in enumerate(platform_names):
                out[f"{m.name}.{name}"] = m.reporter(p)
    return out


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
