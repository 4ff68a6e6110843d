"""Merchant mobile marketing reach.

Rule: every merchant that has adopted mobile marketing spends ``b_c`` per step on
channel c (its share of ``marketing.budget_per_merchant``, plus any
``channel_<c>`` lever). A channel reaches ``reach_per_unit * b_c`` consumers, a
share ``foreign_reach`` of them spread over the other regions. With ``I_rc``
impressions of channel c landing in region r, shared among the region's ``A_r``
connected consumers, an unaware connected consumer becomes aware with
probability ``1 - exp(-sum_c conv_c * I_rc / A_r)`` (``conv_c`` is the channel's
``awareness_conversion``). A merchant's visibility (used in merchant choice) is
the number of consumers its channels reach. ``kol_campaign`` money buys KOL
sponsorships instead (mechanisms/kol.py).

Source (DOMAIN.md, mechanism 3): "Adopting merchants reach consumers directly
(official accounts, QR codes, search, short video)"; marketing innovation lever:
"channels ... with different reach and cost".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.scenario import Channel


def marketing_reach(
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    channel_budget: Mapping[str, float],
    channels: Mapping[str, Channel],
    connected_per_region: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Awareness probability per region from marketing, merchants' visibility, KOL budget.

    Args:
        merchant_region: region code of each merchant.
        adopted: which merchants use mobile marketing.
        channel_budget: spending per adopting merchant per step, by channel.
        channels: channel parameters.
        connected_per_region: consumers with mobile access in each region.

    Returns:
        (awareness_probability[r], visibility[j], kol_budget_total)
    """
    n_regions = connected_per_region.size
    adopters_per_region = np.bincount(
        merchant_region[adopted], minlength=n_regions
    ).astype(np.float64)
    n_adopters = adopters_per_region.sum()
    pressure = np.zeros(n_regions)
    reach_per_adopter = 0.0
    for name, ch in channels.items():
        if name == "kol_campaign":
            continue
        spend = channel_budget.get(name, 0.0)
        reach = spend * ch.reach_per_unit
        reach_per_adopter += reach
        if reach <= 0.0 or ch.awareness_conversion <= 0.0:
            continue
        home = adopters_per_region * reach * (1.0 - ch.foreign_reach)
        if n_regions > 1:
            away = (n_adopters - adopters_per_region) * reach * ch.foreign_reach / (n_regions - 1)
        else:
            home = adopters_per_region * reach
            away = np.zeros(n_regions)
        pressure += ch.awareness_conversion * (home + away)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_consumer = np.where(connected_per_region > 0, pressure / connected_per_region, 0.0)
    awareness_probability = 1.0 - np.exp(-per_consumer)
    visibility = np.where(adopted, reach_per_adopter, 0.0).astype(np.float32)
    kol_budget = channel_budget.get("kol_campaign", 0.0) * n_adopters
    return awareness_probability, visibility, float(kol_budget)
