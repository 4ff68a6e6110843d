"""Channel attribution: which channel led to each mobile order, and the platform targets.

Rule. Every mobile order carries one channel code (``CHANNELS``), decided by how the
order was made (mechanisms/ordering.py):

- an order from the consumer's **group-buying** deal is ``group_buy``;
- an order from a **followed** merchant's official account (the "buy again" alternative)
  is ``official_account``;
- an order from a store a friend **shared** this week is ``friend_share``, or ``group``
  when the friend shared it in a group chat the consumer is in;
- any other mobile order (chosen among a region's sellers) gets the consumer's last
  touch of the week, in this order of precedence: ``search`` (it searched and acted on
  the results), ``qr_o2o`` (it paid by QR code offline last week and the seller is a
  nearby store on the platform: a store in its region), ``kol_post`` (it saw a KOL
  post), then the marketing channel that reached it, drawn in proportion to each
  channel's weekly impressions x conversion lift (``mobile_search`` gives ``search``,
  ``qr_o2o`` gives ``qr_o2o``, ``app_market`` and ``short_video`` their own codes, so
  ``search`` and ``qr_o2o`` also count orders led by those channels' ads), else
  ``offline`` (no mobile touch: it heard of the seller offline or came back by habit).

So the channels partition the mobile orders: orders by channel sum to ``orders`` (a test
checks it). The platform's channels (``PLATFORM_CHANNELS``) are those inside the
super-app: official account, friend's share, group, group buy and QR/O2O.

Targets (docs/platform.md, measured by the functions below):

- order share from the platform for a typical seller: per merchant with at least
  ``min_orders`` mobile orders over the measured weeks, the share of its orders whose
  channel is a platform channel; the typical seller is the median merchant;
- conversion from purchase intention: consumers who received platform content about a
  store this week (a followed account's post, a friend's or group share, a group-buy
  invitation) show a purchase intention; conversion is the share of them who placed a
  mobile order the same week, pooled over the measured weeks;
- mobile search: of the searches (a consumer with a need who searches), the share that
  leads to an action (a click, visit or call) and, of those, the share that ends in a
  mobile order the same week.

Source: docs/domain.md, Figures used as targets (the share of a seller's orders from WeChat, the
conversion from purchase intention, mobile search actions and purchases).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from model.scenario import Marketing

CHANNELS: tuple[str, ...] = (
    "search",
    "app_market",
    "qr_o2o",
    "official_account",
    "friend_share",
    "group",
    "group_buy",
    "kol_post",
    "short_video",
    "offline",
)
"""Channel codes of a mobile order, by index."""

CODE = {name: np.int8(i) for i, name in enumerate(CHANNELS)}
"""Channel name -> code."""

PLATFORM_CHANNELS: tuple[str, ...] = (
    "qr_o2o",
    "official_account",
    "friend_share",
    "group",
    "group_buy",
)
"""Channels inside the super-app."""

PLATFORM_MASK = np.array([name in PLATFORM_CHANNELS for name in CHANNELS])


def last_touch(
    searched: np.ndarray,
    qr_touch: np.ndarray,
    kol_touch: np.ndarray,
    marketing_channel: np.ndarray,
) -> np.ndarray:
    """Per consumer, the channel code of a region-level mobile order (the last touch).

    Args:
        searched: acted on search results this week.
        qr_touch: scanned / paid a QR code offline last week.
        kol_touch: saw a KOL post this week.
        marketing_channel: the marketing channel code that reached it, or -1.
    """
    touch = np.where(marketing_channel >= 0, marketing_channel, CODE["offline"]).astype(np.int8)
    touch[kol_touch] = CODE["kol_post"]
    touch[qr_touch] = CODE["qr_o2o"]
    touch[searched] = CODE["search"]
    return touch


MARKETING_CHANNELS: dict[str, str] = {
    "mobile_search": "search",
    "app_market": "app_market",
    "qr_o2o": "qr_o2o",
    "short_video": "short_video",
}
"""Marketing channel (model/levers.py) -> the order channel it leads to."""


def marketing_touch(
    marketing: Marketing,
    channel_budget: Mapping[str, float],
    lift: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw, per consumer, the channel code of the marketing that led it to buy (-1: none).

    A consumer counts as led by marketing with chance ``(lift - 1) / lift`` (the part of
    its purchase propensity the channels add: the attributable fraction); the channel
    is drawn in proportion to each channel's spend x reach x conversion effect.

    Args:
        marketing: the marketing section (the channels' reach and conversion effect).
        channel_budget: per channel, this week's spend per adopting merchant.
        lift: per consumer, the channels' conversion lift (>= 1).
        rng: the phase's generator.
    """
    led = rng.random(lift.size) < (lift - 1.0) / np.maximum(lift, 1.0)
    reached = np.flatnonzero(led)
    out = np.full(lift.size, -1, dtype=np.int8)
    weights, codes = [], []
    for name, label in MARKETING_CHANNELS.items():
        ch = marketing.channels.get(name)
        if ch is None:
            continue
        weights.append(channel_budget.get(name, 0.0) * ch.reach_per_unit * ch.conversion_lift)
        codes.append(CODE[label])
    total = float(sum(weights))
    if reached.size and total > 0:
        cdf = np.cumsum(weights) / total
        pick = np.minimum(
            np.searchsorted(cdf, rng.random(reached.size), side="right"), len(codes) - 1
        )
        out[reached] = np.array(codes, dtype=np.int8)[pick]
    return out


def by_channel(channel: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Orders (or their value with ``weights``) per channel, in ``CHANNELS`` order."""
    return np.bincount(channel, weights=weights, minlength=len(CHANNELS))[: len(CHANNELS)]


def merchant_channel_counts(
    merchant: np.ndarray, channel: np.ndarray, value: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merchants x channels: this week's orders and goods value."""
    key = merchant.astype(np.int64) * len(CHANNELS) + channel.astype(np.int64)
    size = m * len(CHANNELS)
    orders = np.bincount(key, minlength=size).reshape(m, len(CHANNELS))
    values = np.bincount(key, weights=value, minlength=size).reshape(m, len(CHANNELS))
    return orders, values


def merchant_table(model) -> pd.DataFrame:
    """Per merchant, mobile orders and value by channel, and its platform share.

    One row per merchant and record: the running totals at every
    ``platforms.record_merchants_every``-th step (if set) and at the current step.
    Columns: ``step``, ``merchant`` (its slot), ``entry_week`` (the week the slot's
    current merchant entered, 0 at the start: the totals are that merchant's, from the
    week after its entry; an entrant may take the slot of a merchant that exited),
    ``region`` (name), ``store`` (platform name or empty), ``orders``, ``value``,
    ``orders.<channel>``, ``value.<channel>`` and ``platform_share`` (platform-channel
    orders / orders, NaN without orders). ``region``, ``store`` and ``entry_week`` are
    the current step's. Empty without platforms.
    """
    pl = model.platforms
    if model.scenario.platforms is None:
        return pd.DataFrame()
    names = list(model.scenario.platforms.platforms)
    records = list(pl.merchant_records)
    if not records or records[-1][0] != model.steps:
        records.append((int(model.steps), pl.channel_orders, pl.channel_value))
    frames = []
    m = pl.store.size
    store_names = np.array([""] + names, dtype=object)[pl.store.astype(np.int64) + 1]
    for step, orders, values in records:
        table = {
            "step": np.full(m, step, dtype=np.int64),
            "merchant": np.arange(m, dtype=np.int64),
            "entry_week": model.merchants.entry_week.astype(np.int64),
            "region": np.array(model.region_names, dtype=object)[model.merchants.region],
            "store": store_names,
            "orders": orders.sum(axis=1),
            "value": values.sum(axis=1),
        }
        for c, name in enumerate(CHANNELS):
            table[f"orders.{name}"] = orders[:, c]
        for c, name in enumerate(CHANNELS):
            table[f"value.{name}"] = values[:, c]
        total = orders.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["platform_share"] = np.where(
                total > 0, orders[:, PLATFORM_MASK].sum(axis=1) / np.maximum(total, 1), np.nan
            )
        frames.append(pd.DataFrame(table))
    return pd.concat(frames, ignore_index=True)


def orders_since(
    earlier: np.ndarray, earlier_step: int, now: np.ndarray, entry_week: np.ndarray
) -> np.ndarray:
    """Per merchant, its orders by channel since an earlier copy of ``channel_orders``.

    A slot whose current merchant entered at or after the copy's step had its totals
    reset when the merchant began selling (the week after its entry): its orders since
    are its totals now; the earlier occupant's orders after the copy are not counted.

    Args:
        earlier: merchants x channels, ``platforms.channel_orders`` after step
            ``earlier_step``.
        earlier_step: the step of that copy.
        now: merchants x channels, the totals now.
        entry_week: per merchant, ``merchants.entry_week`` now.
    """
    fresh = (entry_week >= earlier_step)[:, None]
    return np.where(fresh, now, now - earlier)


def typical_platform_share(
    orders: np.ndarray, min_orders: int = 10, sellers: np.ndarray | None = None
) -> float:
    """Median over merchants with ``min_orders`` or more of their platform-channel share.

    Args:
        orders: merchants x channels, orders over the measured weeks.
        min_orders: a merchant's orders needed to count it (NaN if none qualifies).
        sellers: which merchants to consider (default all), e.g. those with a store.
    """
    total = orders.sum(axis=1)
    keep = total >= min_orders
    if sellers is not None:
        keep &= sellers
    if not keep.any():
        return float("nan")
    share = orders[keep][:, PLATFORM_MASK].sum(axis=1) / total[keep]
    return float(np.median(share))


TARGETS: dict[str, tuple[float, float, float]] = {
    "typical_seller_platform_share": (0.10, 0.05, 0.15),
    "intention_conversion": (0.08, 0.08, 1.0),
    "search_action_rate": (0.75, 0.70, 0.80),
    "search_purchase_rate": (0.24, 0.19, 0.29),
}
"""Target (material), lowest and highest value accepted (the stated tolerance)."""


def platform_targets(
    table: pd.DataFrame, merchant_orders: np.ndarray, first_step: int
) -> dict[str, float]:
    """Compute the four target measurements of a run (docs/platform.md), pooled over the weeks.

    Args:
        table: the run table (with the platform columns).
        merchant_orders: merchants x channels, orders in the measured weeks (e.g. the
            difference of two ``merchant_table`` records, or of ``channel_orders``).
        first_step: first step of the measured weeks (rows with ``step >= first_step``).

    Returns:
        ``typical_seller_platform_share`` (median over merchants with 10+ orders of the
        platform-channel share), ``intention_conversion`` (sum of
        ``intention_purchases`` / sum of ``intentions``), ``search_action_rate`` (sum of
        ``search_actions`` / sum of ``searches``) and ``search_purchase_rate`` (sum of
        ``search_purchases`` / sum of ``search_actions``).
    """
    rows = table[table["step"] >= first_step]

    def ratio(a: str, b: str) -> float:
        d = float(rows[b].sum())
        return float(rows[a].sum()) / d if d else float("nan")

    return {
        "typical_seller_platform_share": typical_platform_share(merchant_orders, 10),
        "intention_conversion": ratio("intention_purchases", "intentions"),
        "search_action_rate": ratio("search_actions", "searches"),
        "search_purchase_rate": ratio("search_purchases", "search_actions"),
    }
