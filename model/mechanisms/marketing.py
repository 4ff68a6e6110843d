"""Merchant mobile marketing: channels that differ in reach, cost and effect.

Rules, per week:

- Spend. An adopting merchant j has a marketing budget
  ``b_j = budget_per_merchant + revenue_reinvest * revenue_j`` (its last week's mobile
  revenue), split over channels by ``budget_share``; its own spend on channel c is
  ``s_jc = b_j * share_c``. A ``channel_<c>`` lever at level L adds a state subsidy of
  ``L * budget_per_merchant`` per adopting merchant on channel c (the same amount for
  every adopter, so it shifts visibility towards merchants that spend little of their
  own). The ``kol_campaign`` share and subsidy buy KOL posts instead (mechanisms/kol.py).
- Impressions. Channel c turns money into impressions at ``reach_per_unit`` (its cost
  is the inverse): merchant j buys ``R_jc = reach_per_unit_c * (s_jc + subsidy_c)``. A
  share ``foreign_reach`` lands evenly in the other regions, the rest at home; region
  r's impressions are multiplied by ``region_reach[r]`` (default 1). A location-based
  channel (``distance_decay`` < 1) lands a merchant's home impressions on the districts
  of its region by distance tier (mechanisms/o2o.py: ``distance_decay ** tier``).
- Audience and reach. Only the channel's users can be reached: a share
  ``audience_share`` of consumers (drawn once at build, :func:`build_consumer_marketing`;
  CNNIC's user shares of each kind of app). The ``I`` impressions landing in a region
  (or district) fall on its connected audience members in proportion to the targeting
  weights ``w_i`` (mechanisms/targeting.py; 1 untargeted): member i expects
  ``e_ic = I w_i / sum_audience w`` impressions, Poisson-distributed, so it is reached
  with chance ``1 - exp(-e_ic)`` and the channel's reach (consumers seeing at least one
  impression) is ``A (1 - exp(-I / A))`` for an audience of A untargeted members
  (:func:`reach`): it grows with spend towards the audience and never beyond it (the
  classic reach curve of media planning, e.g. Danaher 1992; Hanssens, Parsons & Schultz
  2001, ch. 3).
- Frequency and wear-out. A consumer's response per impression ``q_i`` (state
  ``consumers.ad_responsiveness``, 1 at the start) falls with every impression it sees,
  ``q <- q exp(-wearout * impressions)``, and recovers by a share ``recovery`` of the
  loss each week: the repetition wear-out and restoration of advertising quality of
  Naik, Mantrala & Sawyer (1998, "Planning media schedules in the presence of dynamic
  advertising quality", Marketing Science 17(3)) for one consumer; repeated exposure
  first helps, then tires (Pechmann & Stewart 1988, "Advertising repetition: a critical
  review of wearin and wearout", Current Issues and Research in Advertising 11). This
  week's ``e_i = sum_c e_ic`` impressions count as
  ``E_i = q_i (1 - exp(-wearout * e_i)) / wearout`` effective impressions (the
  responsiveness integrated over the week's impressions), shared over the channels as
  ``E_ic = E_i e_ic / e_i``: each further impression adds less.
- Effects. Each channel has its own three effects, on effective impressions:

  * awareness: an unaware consumer becomes aware with chance
    ``1 - exp(-sum_c awareness_conversion_c * E_ic)`` (a small external term of
    adoption, beside word of mouth: it saturates with the audience and wears out);
  * consideration: merchant j's visibility (its weight in merchant choice,
    mechanisms/ordering.py) is ``sum_c consideration_c * A_rc (1 - exp(-R_jc / A_rc))``,
    the consumers of its home audience ``A_rc`` it reaches, weighted by how far the
    channel puts a merchant in the choice set (KOL endorsements act follower by follower
    instead, mechanisms/kol.py);
  * conversion: a consumer's purchase probability is multiplied by
    ``prod_c (1 + conversion_lift_c * (1 - exp(-E_ic)))`` (saturating: the first
    impressions count most).

  So the response of orders to spend is concave (Simon & Arndt 1980, "The shape of the
  advertising response function", Journal of Advertising Research 20(4); Hanssens et al.
  2001): reach saturates towards the audience, frequency wears out.
  No channel changes trust: advertising raises awareness, consideration and
  conversion, not trust (docs/domain.md, Actors > Consumers: consumers trust people and
  KOLs far more than advertising).

Source: docs/domain.md, Mechanisms > Merchant marketing ("Adopting merchants reach
consumers directly (official accounts, QR codes, search, short video)"), Policy
levers > marketing innovation ("channels ... with different reach and cost").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.levers import CHANNELS
from model.mechanisms import o2o
from model.mechanisms.targeting import impression_weights
from model.scenario import Marketing

if TYPE_CHECKING:
    from model.state import ConsumerState

KOL_CHANNEL = "kol_campaign"


@dataclass
class MarketingWeek:
    """What merchants' marketing did this week.

    Attributes:
        awareness: per consumer, chance marketing makes an unaware consumer aware.
        lift: per consumer, conversion multiplier (>= 1) from the channels.
        visibility: per merchant, consideration-weighted consumers reached.
        own_spend: per merchant, own spend on the non-KOL channels (yuan).
        own_kol_budget: per merchant, own spend available for KOL posts (yuan).
        subsidy_spend: per non-KOL channel, the state's subsidy spent this week.
        campaign_budget: the state's KOL campaign budget this week (yuan).
        responsiveness: per consumer, response per impression after this week (wear-out
            and recovery; the next week's ``consumers.ad_responsiveness``), or None when
            no responsiveness was given.
        reach: per non-KOL channel, expected consumers who saw at least one impression
            (per region or district, ``A (1 - exp(-I / A))``: exact untargeted, an upper
            bound when targeted).
        impressions: per non-KOL channel, impressions delivered to audience members.
    """

    awareness: np.ndarray
    lift: np.ndarray
    visibility: np.ndarray
    own_spend: np.ndarray
    own_kol_budget: np.ndarray
    subsidy_spend: dict[str, float]
    campaign_budget: float
    responsiveness: np.ndarray | None = None
    reach: dict[str, float] = field(default_factory=dict)
    impressions: dict[str, float] = field(default_factory=dict)


def reach(impressions: np.ndarray | float, audience: np.ndarray | float) -> np.ndarray:
    """Consumers reached at least once: ``A (1 - exp(-I / A))`` (Poisson impressions)."""
    a = np.asarray(audience, dtype=np.float64)
    i = np.asarray(impressions, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, -a * np.expm1(-i / np.where(a > 0, a, 1.0)), 0.0)


def effective_impressions(
    impressions: np.ndarray, responsiveness: np.ndarray | float, wearout: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return the week's effective impressions and the responsiveness after them (wear-out).

    Returns ``(E, q')``: ``E = q (1 - exp(-wearout e)) / wearout`` (``q e`` without
    wear-out) and ``q' = q exp(-wearout e)`` (recovery is applied by the caller).
    """
    e = np.asarray(impressions, dtype=np.float32)
    q = np.asarray(responsiveness, dtype=np.float32)
    if wearout <= 0.0:
        return q * e, np.broadcast_to(q, e.shape).astype(np.float32)
    worn = np.exp(np.float32(-wearout) * e)
    return q * (1.0 - worn) / np.float32(wearout), q * worn


def build_consumer_marketing(spec: Marketing, consumers: ConsumerState, rng) -> None:
    """Draw each consumer's channel audiences, interest profile and district (at build).

    - channel audiences: bit ``CHANNELS.index(c)`` set with chance ``audience_share_c``
      (one uniform draw per consumer for every channel of ``CHANNELS``, in its order; the
      KOL channel's draw and those of channels the scenario leaves out are unused);
    - interest: ``purchase_frequency * exp(interest_noise z - interest_noise^2 / 2)``,
      ``z`` standard normal (the platform's noisy reading of purchase propensity);
    - district: uniform over ``districts`` (mechanisms/o2o.py);
    - responsiveness 1.
    """
    n = consumers.region.size
    bits = np.zeros(n, dtype=np.uint8)
    for b, name in enumerate(CHANNELS):
        draw = rng.random(n, dtype=np.float32)
        ch = spec.channels.get(name)
        if name == KOL_CHANNEL or ch is None:
            continue
        bits |= (draw < ch.audience_share).astype(np.uint8) << np.uint8(b)
    z = rng.standard_normal(n, dtype=np.float32)
    sigma = np.float32(spec.interest_noise)
    consumers.channel_audience = bits
    consumers.interest = (
        np.asarray(consumers.purchase_frequency, dtype=np.float32)
        * np.exp(sigma * z - sigma * sigma / 2)
    ).astype(np.float32)
    consumers.district = o2o.draw_districts(n, spec.districts, rng)
    consumers.ad_responsiveness = np.ones(n, dtype=np.float32)


def region_impressions(
    reach: np.ndarray, merchant_region: np.ndarray, foreign_reach: float, n_regions: int
) -> np.ndarray:
    """Impressions landing in each region from merchants' reach (home share and the rest)."""
    by_home = np.bincount(merchant_region, weights=reach, minlength=n_regions)
    if n_regions == 1:
        return by_home
    total = by_home.sum()
    return by_home * (1.0 - foreign_reach) + (total - by_home) * foreign_reach / (n_regions - 1)


def district_impressions(
    bought: np.ndarray,
    merchant_region: np.ndarray,
    merchant_district: np.ndarray,
    foreign_reach: float,
    n_regions: int,
    districts: int,
    decay: float,
) -> np.ndarray:
    """Regions x districts: impressions of a location-based channel (flattened, r * D + d).

    Home impressions spread over the merchant's region's districts by
    :func:`model.mechanisms.o2o.tier_kernel`; foreign ones evenly over the other regions'
    districts.
    """
    cell = merchant_region.astype(np.intp) * districts + merchant_district
    by_cell = np.bincount(cell, weights=bought, minlength=n_regions * districts)
    home = (by_cell.reshape(n_regions, districts) @ o2o.tier_kernel(districts, decay))
    if n_regions == 1:
        return home.ravel()
    by_home = home.sum(axis=1)
    foreign = (by_home.sum() - by_home) * foreign_reach / (n_regions - 1)
    return (home * (1.0 - foreign_reach) + foreign[:, None] / districts).ravel()


class _AudienceCells:
    """Connected consumers by cell (region x district) and channel-audience bits.

    Each consumer gets one code, ``(region * districts + district) * 2**len(CHANNELS) +
    audience bits`` (a last code for those without access this week); one count over the
    codes gives every channel's audience per cell (exact integers: the same numbers as a
    sum of ones per consumer), and a channel's exposure per consumer is a look-up of its
    cell's value by code. Nothing here changes a rule; it saves a pass over the consumers
    per channel.
    """

    def __init__(
        self,
        district_key: np.ndarray,
        has_access: np.ndarray,
        audience: np.ndarray | None,
        n_regions: int,
        districts: int,
    ) -> None:
        self.n_regions, self.districts = n_regions, districts
        self.audience = audience is not None
        self.n_bits = 1 << len(CHANNELS) if self.audience else 1
        self.off = n_regions * districts * self.n_bits  # the code of the unconnected
        code = district_key * self.n_bits
        if audience is not None:
            code += audience
        self.code = np.where(has_access, code, self.off)
        self.counts = np.bincount(self.code, minlength=self.off + 1)[: self.off].reshape(
            n_regions, districts, self.n_bits
        )

    def in_channel(self, name: str) -> np.ndarray:
        """Per audience-bits value, whether it includes channel ``name``."""
        if not self.audience:
            return np.ones(1, dtype=bool)
        return (np.arange(self.n_bits) & (1 << CHANNELS.index(name))) != 0

    def heads(self, in_channel: np.ndarray) -> np.ndarray:
        """Regions x districts: connected members of the channel's audience."""
        return self.counts[:, :, in_channel].sum(axis=2)

    def members(self, in_channel: np.ndarray) -> np.ndarray:
        """Per consumer: connected and in the channel's audience."""
        return np.append(np.tile(in_channel, self.n_regions * self.districts), False)[self.code]

    def spread(self, density: np.ndarray, in_channel: np.ndarray, by_district: bool) -> np.ndarray:
        """Per consumer, its cell's ``density`` if a member, else 0 (float32)."""
        per_district = density if by_district else np.repeat(density, self.districts)
        table = np.zeros((self.n_regions * self.districts, self.n_bits), dtype=np.float32)
        table[:, in_channel] = per_district[:, None]
        return np.append(table.ravel(), np.float32(0.0))[self.code]


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
    *,
    audience: np.ndarray | None = None,
    responsiveness: np.ndarray | None = None,
    interest: np.ndarray | None = None,
    has_ordered: np.ndarray | None = None,
    consumer_district: np.ndarray | None = None,
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
        connected: unused (kept for callers; the audiences are counted here).
        audience: per consumer, channel-audience bits (None: everyone uses every channel).
        responsiveness: per consumer, response per impression (None: 1, no wear-out state).
        interest: per consumer, interest profile (``interests``/``data`` targeting).
        has_ordered: per consumer, has ordered by mobile (``history``/``data`` targeting).
        consumer_district: per consumer, district in its region (None: all in district 0).
    """
    n_regions = len(region_names)
    n = consumer_region.size
    base = spec.budget_per_merchant
    budget = np.where(
        adopted, base + spec.revenue_reinvest * np.maximum(revenue.astype(np.float64), 0.0), 0.0
    )
    n_adopters = int(adopted.sum())
    weights = impression_weights(
        spec.targeting,
        degree,
        consumer_region,
        has_access,
        n_regions,
        interest=interest,
        has_ordered=has_ordered,
        history_weight=spec.history_weight,
    )
    if weights is not None:
        weights = weights.astype(np.float32)
    districts = spec.districts if consumer_district is not None else 1
    region_key = consumer_region.astype(np.intp)
    district_key = (
        region_key * districts + consumer_district.astype(np.intp)
        if consumer_district is not None
        else region_key
    )
    merchant_district = o2o.merchant_districts(adopted.size, districts)
    cells_of = _AudienceCells(district_key, has_access, audience, n_regions, districts)
    visibility = np.zeros(adopted.size, dtype=np.float64)
    own_spend = np.zeros(adopted.size, dtype=np.float64)
    subsidy_spend: dict[str, float] = {}
    reached: dict[str, float] = {}
    delivered: dict[str, float] = {}
    exposures: list[tuple[int, np.ndarray]] = []  # (channel position, e_ic)
    active = list(spec.channels.items())
    for pos, (name, ch) in enumerate(active):
        if name == KOL_CHANNEL:
            continue
        own = budget * ch.budget_share
        subsidy = max(0.0, channel_budget.get(name, 0.0) - base * ch.budget_share)
        own_spend += own
        subsidy_spend[name] = subsidy * n_adopters
        bought = ch.reach_per_unit * (own + np.where(adopted, subsidy, 0.0))
        if not bought.any():
            continue
        in_channel = cells_of.in_channel(name)
        district_heads = cells_of.heads(in_channel)  # per region x district, exact counts
        region_audience = district_heads.sum(axis=1).astype(np.float64)
        if ch.consideration > 0.0:
            visibility += ch.consideration * reach(bought, region_audience[merchant_region])
        lbs = ch.distance_decay < 1.0 and districts > 1
        if lbs:
            cells = district_impressions(
                bought, merchant_region, merchant_district, ch.foreign_reach, n_regions,
                districts, ch.distance_decay,
            )
            key, n_cells = district_key, n_regions * districts
        else:
            cells = region_impressions(bought, merchant_region, ch.foreign_reach, n_regions)
            key, n_cells = region_key, n_regions
        if ch.region_reach:
            mult = np.array([ch.region_reach.get(r, 1.0) for r in region_names])
            cells = cells * (np.repeat(mult, districts) if lbs else mult)
        heads = region_audience if not lbs else district_heads.ravel().astype(np.float64)
        if weights is None:
            mass = heads
        else:
            w_member = np.where(cells_of.members(in_channel), weights, np.float32(0.0))
            mass = np.bincount(key, weights=w_member, minlength=n_cells)
        density = np.where(mass > 0, cells / np.where(mass > 0, mass, 1.0), 0.0)
        if weights is None:  # the same for every member of a cell, 0 for the others
            exposure = cells_of.spread(density.astype(np.float32), in_channel, lbs)
        else:
            exposure = density.astype(np.float32)[key]
            exposure *= w_member
        exposures.append((pos, exposure))
        delivered[name] = float(cells[mass > 0].sum())
        reached[name] = float(reach(cells, heads).sum())  # per cell, as if untargeted
    total = np.zeros(n, dtype=np.float32)
    for _, e in exposures:
        total += e
    q = np.ones(n, dtype=np.float32) if responsiveness is None else responsiveness
    effective, worn = effective_impressions(total, q, spec.wearout)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is replaced below
        scale = effective / total  # effective / total where total > 0, else 0
    scale[total <= 0] = 0.0
    aware_hazard = np.zeros(n, dtype=np.float32)
    lift = np.ones(n, dtype=np.float32)
    for pos, e in exposures:
        ch = active[pos][1]
        e *= scale  # effective impressions, in place
        aware_hazard += np.float32(ch.awareness_conversion) * e
        if ch.conversion_lift > 0.0:
            np.negative(e, out=e)
            np.expm1(e, out=e)  # -(1 - exp(-E))
            e *= np.float32(-ch.conversion_lift)
            e += np.float32(1.0)
            lift *= e
    np.negative(aware_hazard, out=aware_hazard)
    awareness = -np.expm1(aware_hazard).astype(np.float64)
    lift = lift.astype(np.float64)
    next_q = None
    if responsiveness is not None:
        next_q = (1.0 - np.float32(1.0 - spec.recovery) * (1.0 - worn)).astype(
            np.float32, copy=False
        )
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
        responsiveness=next_q,
        reach=reached,
        impressions=delivered,
    )
