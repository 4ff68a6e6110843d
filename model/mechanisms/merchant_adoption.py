"""Merchants' response to profit: adopting mobile channels, abandoning them, exit and entry.

Rules, per week (profits are in currency per week; ``pi`` is a merchant's smoothed
profit, ``pi <- (1 - w) pi + w * profit`` with ``w = profit_memory``):

- Adoption weighs cost against expected gain. A non-adopting active merchant of region
  r adopts with probability
  ``min(1, promotion_rate + imitation * A_r * S_r)``, where ``A_r`` is the share of
  r's active merchants using mobile channels and
  ``S_r = G_r / (G_r + traditional_margin)`` the success of those adopters, with
  ``G_r = max(0, mean smoothed mobile margin of r's adopters - cost of the channels)``
  (cost: ``mobile_channel_cost`` plus the marketing budget). Where mobile channels
  lose money, nobody imitates; ``promotion_rate`` includes the ``merchant_promotion``
  lever (training).
- Abandonment: an adopter whose smoothed mobile margin is below its channel costs stops
  using mobile channels with probability ``abandon_rate`` per week.
- Exit: an active merchant whose smoothed total profit is negative exits with
  probability ``exit_rate`` per week (it stays in the arrays, flagged inactive, and
  never sells again).
- Entry: in region r, ``Poisson(entry_rate * N_r * max(0, pi_r) / traditional_margin)``
  new merchants enter (``N_r`` active merchants, ``pi_r`` their mean smoothed profit),
  into free slots up to the cap (``max_merchants``, or ``max_merchants_ratio`` times the
  starting merchants). Entrants sell through mobile channels from
  the start, with a price, integrity and reputation drawn as at the start of the run.

Source (docs/domain.md, Mechanisms > Merchant marketing): "Adoption by merchants
spreads by imitation of successful peers and by government promotion and training";
Actors > Merchants: "many cling to traditional marketing".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.scenario import Accounts, MerchantDynamics, Merchants


def smoothed(previous: np.ndarray, current: np.ndarray, memory: float) -> np.ndarray:
    """Exponentially smoothed value: ``(1 - memory) * previous + memory * current``."""
    return ((1.0 - memory) * previous.astype(np.float64) + memory * current).astype(np.float32)


def adoption_probability(
    spec: Merchants,
    accounts: Accounts,
    promotion_rate: float,
    channel_cost: float,
    merchant_region: np.ndarray,
    active: np.ndarray,
    adopted: np.ndarray,
    mobile_margin: np.ndarray,
    n_regions: int,
) -> np.ndarray:
    """Per merchant chance to adopt mobile channels this week (0 for adopters and exited)."""
    total = np.bincount(merchant_region[active], minlength=n_regions).astype(np.float64)
    adopters_mask = adopted & active
    adopters = np.bincount(merchant_region[adopters_mask], minlength=n_regions).astype(
        np.float64
    )
    margin = np.bincount(
        merchant_region[adopters_mask],
        weights=mobile_margin[adopters_mask].astype(np.float64),
        minlength=n_regions,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, adopters / np.maximum(total, 1), 0.0)
        mean_margin = np.where(adopters > 0, margin / np.maximum(adopters, 1), 0.0)
    gain = np.maximum(mean_margin - channel_cost, 0.0)
    success = gain / (gain + max(accounts.traditional_margin, 1e-9))
    p = np.minimum(1.0, promotion_rate + spec.imitation * share * success)[merchant_region]
    return np.where(adopted | ~active, 0.0, p)


def abandons(
    dynamics: MerchantDynamics,
    adopted: np.ndarray,
    active: np.ndarray,
    mobile_margin: np.ndarray,
    channel_cost: float,
    draw: np.ndarray,
) -> np.ndarray:
    """Adopters whose smoothed mobile margin is below their channel costs and who give up."""
    losing = adopted & active & (mobile_margin < channel_cost)
    return losing & (draw < dynamics.abandon_rate)


def exits(
    dynamics: MerchantDynamics, active: np.ndarray, profit: np.ndarray, draw: np.ndarray
) -> np.ndarray:
    """Active merchants with negative smoothed profit that exit this week."""
    return active & (profit < 0.0) & (draw < dynamics.exit_rate)


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
        mobile_margin: per merchant, this week's margin from mobile channels after their
            costs (marketing, KOL fees, fines, channel cost).
        newly_verified: active merchants verified this week.
        exits: merchants that exited this week.
        entries: merchants that entered this week.
        abandonments: adopters that stopped using mobile channels this week.
    """

    revenue: np.ndarray
    fines: np.ndarray
    profit: np.ndarray
    mobile_margin: np.ndarray
    newly_verified: int
    exits: int
    entries: int
    abandonments: int
