"""Merchant mobile marketing: channels that differ in reach, cost and effect.

Rules, per week:

- Spend. An adopting merchant j has a marketing budget
  ``b_j = budget_per_merchant + revenue_reinvest * revenue_j`` (its last week's mobile
  revenue), split over channels by ``budget_share``; its own spend on channel c is
  ``s_jc = b_j * share_c``. A ``channel_<c>`` lever at level L adds a state subsidy of
  ``L * budget_per_merchant`` per adopting merchant on channel c (the same amount for
  every adopter, so it shifts visibility towards merchants that spend little of their
  own). The ``kol_campaign`` share and subsidy buy KOL posts instead (mechanisms/kol.py).
- Reach. Channel c turns money into impressions at ``reach_per_unit`` (its cost is the
  inverse): merchant j makes ``R_jc = reach_per_unit_c * (s_jc + subsidy_c)``. A share
  ``foreign_reach`` lands evenly in the other regions, the rest at home; region r's
  impressions are multiplied by ``region_reach[r]`` (default 1). Spread over the
  region's ``A_r`` connected consumers (with the targeting weights ``w_i`` of
  mechanisms/targeting.py, mean 1), consumer i sees ``e_ic = w_i I_rc / A_r``.
- Effects. Each channel has its own three effects:

  * awareness: an unaware consumer becomes aware with chance
    ``1 - exp(-sum_c awareness_conversion_c * e_ic)``;
  * consideration: merchant j's visibility (its weight in merchant choice,
    mechanisms/ordering.py) is ``sum_c consideration_c * R_jc``, consumers reached
    weighted by how far the channel puts a merchant in the choice set; KOL
    endorsements add to it (mechanisms/kol.py);
  * conversion: a consumer's purchase probability is multiplied by
    ``prod_c (1 + conversion_lift_c * (1 - exp(-e_ic)))`` (saturating: the first
    impressions count most).

  No channel changes trust: advertising raises awareness, consideration and
  conversion, not trust (docs/domain.md, Mechanisms > Trust: consumers distrust ads).

Source: docs/domain.md, Mechanisms > Merchant marketing ("Adopting merchants reach
consumers directly (official accounts, QR codes, search, short video)"), Policy
levers > marketing innovation ("channels ... with different reach and cost").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from model.mechanisms.targeting import impression_weights
from model.scenario import Marketing

KOL_CHANNEL = "kol_campaign"


@dataclass
class MarketingWeek:
    """What merchants' marketing did this week.

    Attributes:
        awareness: per consumer, chance marketing makes an unaware consumer aware.
        lift: per consumer, conversion multiplier (>= 1) from the channels.
        visibility: per merchant, consideration-weighted consumers reached.
        own_spend: per merchant, own spend on the non-KOL channels (currency).
        own_kol_budget: per merchant, own spend available for KOL posts (currency).
        subsidy_spend: per non-KOL channel, the state's subsidy spent this week.
        campaign_budget: the state's KOL campaign budget this week (currency).
    """

    awareness: np.ndarray
    lift: np.ndarray
    visibility: np.ndarray
    own_spend: np.ndarray
    own_kol_budget: np.ndarray
    subsidy_spend: dict[str, float]
    campaign_budget: float


def region_impressions(
    reach: np.ndarray, merchant_region: np.ndarray, foreign_reach: float, n_regions: int
) -> np.ndarray:
    """Impressions landing in each region from merchants' reach (home share and the rest)."""
    by_home = np.bincount(merchant_region, weights=reach, minlength=n_regions)
    if n_regions == 1:
        return by_home
    total = by_home.sum()
    return by_home * (1.0 - foreign_reach) + (total - by_home) * foreign_reach / (n_regions - 1)


def run_marketing(
    spec: Marketing,
    channel_budget: Mapping[str, float],
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    revenue: np.ndarray,
    consumer_region: np.ndarray,
    has_access: np.ndarray,
    degree: np.ndarray,
    region_names: list[str],
    connected: np.ndarray | None = None,
) -> MarketingWeek:
    """Spend, impressions and effects of this week's merchant marketing.

    Args:
        spec: the marketing section.
        channel_budget: effective spend per adopting merchant per channel (base share
            plus lever), from the policy timeline.
        merchant_region: region code of each merchant.
        adopted: which merchants use mobile marketing.
        revenue: each merchant's mobile revenue last week.
        consumer_region: region code of each consumer.
        has_access: consumers with mobile access this week.
        degree: social degree of each consumer (``degree`` targeting).
        region_names: region names by code.
        connected: consumers with access per region (computed here when None).
    """
    n_regions = len(region_names)
    n = consumer_region.size
    base = spec.budget_per_merchant
    budget = np.where(
        adopted, base + spec.revenue_reinvest * np.maximum(revenue.astype(np.float64), 0.0), 0.0
    )
    n_adopters = int(adopted.sum())
    if connected is None:
        connected = np.bincount(consumer_region[has_access], minlength=n_regions)
    connected = np.asarray(connected, dtype=np.float64)
    per_consumer = np.where(connected > 0, 1.0 / np.maximum(connected, 1.0), 0.0)
    weights = impression_weights(spec.targeting, degree, consumer_region, has_access, n_regions)
    visibility = np.zeros(adopted.size, dtype=np.float64)
    own_spend = np.zeros(adopted.size, dtype=np.float64)
    subsidy_spend: dict[str, float] = {}
    aware_hazard = np.zeros(n_regions) if weights is None else np.zeros(n)
    log_lift = np.zeros(n_regions) if weights is None else np.zeros(n)
    for name, ch in spec.channels.items():
        if name == KOL_CHANNEL:
            continue
        own = budget * ch.budget_share
        subsidy = max(0.0, channel_budget.get(name, 0.0) - base * ch.budget_share)
        own_spend += own
        subsidy_spend[name] = subsidy * n_adopters
        reach = ch.reach_per_unit * (own + np.where(adopted, subsidy, 0.0))
        if ch.consideration > 0.0:
            visibility += ch.consideration * reach
        if not reach.any():
            continue
        impressions = region_impressions(reach, merchant_region, ch.foreign_reach, n_regions)
        if ch.region_reach:
            impressions = impressions * np.array(
                [ch.region_reach.get(r, 1.0) for r in region_names]
            )
        exposure = impressions * per_consumer  # per connected consumer, by region
        if weights is not None:
            exposure = np.where(has_access, exposure[consumer_region] * weights, 0.0)
        aware_hazard += ch.awareness_conversion * exposure
        if ch.conversion_lift > 0.0:
            log_lift += np.log1p(ch.conversion_lift * -np.expm1(-exposure))
    awareness = -np.expm1(-aware_hazard)
    lift = np.exp(log_lift)
    if weights is None:  # per region -> per consumer (no access: no effect)
        key = consumer_region.astype(np.uint8 if n_regions < 255 else np.intp)
        key[~has_access] = n_regions
        awareness = np.append(awareness, 0.0).take(key)
        lift = np.append(lift, 1.0).take(key)
    kol = spec.channels.get(KOL_CHANNEL)
    kol_share = kol.budget_share if kol is not None else 0.0
    campaign = max(0.0, channel_budget.get(KOL_CHANNEL, 0.0) - base * kol_share) * n_adopters
    return MarketingWeek(
        awareness=awareness,
        lift=lift,
        visibility=visibility.astype(np.float32),
        own_spend=own_spend,
        own_kol_budget=budget * kol_share,
        subsidy_spend=subsidy_spend,
        campaign_budget=float(campaign),
    )
