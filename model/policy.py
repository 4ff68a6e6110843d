"""The policy timeline: each lever's level at step t, its cost, and the effective parameters.

An intervention acts on steps ``start <= t < end`` (``end`` omitted: to the end of
the run). With ``ramp = R > 1`` its level at step ``start + k`` is
``strength * min(1, (k + 1) / R)``: full strength is reached at step
``start + R - 1``; with ``ramp`` 0 or 1 it is at full strength from ``start``.
Overlapping interventions on the same lever add up, and the sum is capped at the
lever's maximum (``LEVER_MAX``). Spending follows the level: an intervention
costs ``cost_per_step * (its level / its strength)`` in each step it acts.

How a lever's level L changes the model (the table in the README repeats this):

==========================  =====  ===============================================================
lever                       max    effect at level L
==========================  =====  ===============================================================
infrastructure              1      closes share L of each region's gap to full mobile access;
                                   transaction failures fall by share L
payment_security            1      payment fraud rate and perceived payment risk fall by share L
merchant_promotion          1      promotion and training inform each non-adopting merchant of
                                   mobile channels with extra chance L per step; it adopts only
                                   if it expects them to pay (mechanisms/merchant_adoption.py)
integrity                   1      each unverified merchant verifies (real name) with chance L per
                                   step; the undetected share of counterfeits falls by share L
channel_<name>              10     the state pays each adopting merchant L times its base budget
                                   extra on the channel (qr_o2o, app_market, mobile_search,
                                   short_video; kol_campaign: a state budget of L times the base
                                   budget per adopter buys KOL posts)
cross_border_facilitation   1      cross-border logistics cost, tariff, and the extra delivery time
                                   over domestic delivery fall by share L (the tariff cut on
                                   mobile orders, traditional imports or both:
                                   ``trade.facilitation_tariff_scope``)
consumer_incentives         0.9    coupons and red envelopes worth share L of the price of mobile
                                   orders, paid by the state: they lower the price in the choice
                                   (mechanisms/ordering.py; still gated by trust)
kol_disclosure              1      share L of sponsored posts are disclosed: less persuasion, no
                                   credibility loss for being commercial
rigid_demand                1      extra per step payment adoption chance L from bill payment,
                                   top-ups and tickets
platform_fee                1      every platform's fee falls by share L (a fee cap)
platform_verification       1      adds L to each platform's weekly chance of checking a store's
                                   real name (failing stores are delisted)
interoperability            1      closes share L of the gap to full payment interoperability
                                   between platforms (stores and QR codes)
spam_control                1      blocks share L of marketing messages (official-account posts,
                                   group-buying offers)
==========================  =====  ===============================================================

An intervention with ``countries: [..]`` (levers of ``COUNTRY_LEVERS``: infrastructure,
cross_border_facilitation, payment_security, integrity, merchant_promotion,
rigid_demand) acts only in the regions of those countries: its level there adds to the
others', capped, and is 0 elsewhere (:meth:`PolicyTimeline.region_levels`). The
parameters these levers set are per region, and each mechanism reads them by the
region of the agent they concern:

==========================  ==================================================  ===========
lever                       per-region parameters                               read by
==========================  ==================================================  ===========
infrastructure              ``mobile_access``, ``reliability``                  consumer
cross_border_facilitation   trade matrices, columns of the importing region     buyer
payment_security            ``fraud_rate``, ``perceived_risk``                  consumer
rigid_demand                ``rigid_demand_rate``                               consumer
integrity                   ``verification_rate``, ``detection_probability``    merchant
merchant_promotion          ``promotion_rate``                                  merchant
==========================  ==================================================  ===========

(mechanisms/payment.py, fulfilment.py, merchant_adoption.py, access.py, ordering.py).
Without ``countries:`` every region has the same value, the scalar rule of the table
above. Each lever's activity cost is paid where the activity is (payers protected,
merchants verified and inspected, ... in region r; mechanisms/accounts.py), and each
intervention's ``cost_per_step`` by its countries. ``levels`` is each lever's highest
level over the regions (the level itself for a lever without ``countries``).

Every lever is applied here, in :meth:`ParameterSchedule.at`. The four platform levers
act only with a ``platforms:`` section: their effective values are
``EffectiveParameters.platform`` (:class:`PlatformParams`; docs/platform.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.levers import CHANNELS, LEVER_MAX, LEVERS
from model.mechanisms.access import natural_access_share
from model.scenario import Intervention, Scenario


def ramp_fraction(intervention: Intervention, t: int) -> float:
    """Share of full strength the intervention has at step t (0 when it does not act)."""
    if t < intervention.start:
        return 0.0
    if intervention.end is not None and t >= intervention.end:
        return 0.0
    if intervention.ramp <= 1:
        return 1.0
    return min(1.0, (t - intervention.start + 1) / intervention.ramp)


class PolicyTimeline:
    """The policy package of a scenario, asked for lever levels and costs step by step.

    Attributes:
        interventions: the scenario's interventions, in file order.
    """

    def __init__(self, interventions: tuple[Intervention, ...] | list[Intervention]):
        self.interventions = tuple(interventions)

    def level(self, lever: str, t: int) -> float:
        """Level of ``lever`` at step t: the capped sum of its active interventions.

        With interventions restricted to ``countries``, the level where it is highest.
        """
        if lever not in LEVER_MAX:
            raise KeyError(f"unknown lever {lever!r}; levers are {', '.join(LEVERS)}")
        mine = [iv for iv in self.interventions if iv.lever == lever]
        total = sum(iv.strength * ramp_fraction(iv, t) for iv in mine if iv.countries is None)
        named = {c for iv in mine for c in iv.countries or ()}
        total += max(
            (
                sum(
                    iv.strength * ramp_fraction(iv, t)
                    for iv in mine
                    if iv.countries is not None and country in iv.countries
                )
                for country in named
            ),
            default=0.0,
        )
        return min(total, LEVER_MAX[lever])

    def levels(self, t: int) -> dict[str, float]:
        """Every lever's level at step t."""
        return {lever: self.level(lever, t) for lever in LEVERS}

    def region_levels(self, t: int, region_countries: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Every lever's level at step t in each region (country of region r: its entry).

        In a region the level is the capped sum of the interventions acting there: those
        without ``countries`` and those listing the region's country.
        """
        country = np.array(region_countries, dtype=object)
        out = {}
        for lever in LEVERS:
            total = np.zeros(country.size)
            for iv in self.interventions:
                if iv.lever != lever:
                    continue
                level = iv.strength * ramp_fraction(iv, t)
                if iv.countries is None:
                    total = total + level
                else:
                    total = total + level * np.isin(country, iv.countries)
            out[lever] = np.minimum(total, LEVER_MAX[lever])
        return out

    def overhead_by_region(
        self, t: int, region_countries: tuple[str, ...], weight: np.ndarray
    ) -> np.ndarray:
        """Return the fixed overheads at step t per region (country of region r: its entry).

        An intervention's ``cost_per_step`` (times its ramp) is paid by the regions of its
        countries (every region without ``countries:``), split by ``weight`` (their
        population shares); the parts add up to :meth:`cost`.
        """
        country = np.array(region_countries, dtype=object)
        out = np.zeros(country.size)
        for iv in self.interventions:
            amount = iv.cost_per_step * ramp_fraction(iv, t)
            if amount == 0.0:
                continue
            payers = np.ones(country.size, dtype=bool)
            if iv.countries is not None:
                payers = np.isin(country, iv.countries)
            w = np.where(payers, weight, 0.0)
            w = w / w.sum() if w.sum() > 0 else payers / payers.sum()
            out += amount * w
        return out

    def cost(self, t: int) -> float:
        """Return the fixed programme overhead at step t (yuan).

        ``cost_per_step`` times the ramp.

        The activity-based cost of each lever (coupons redeemed, fees paid, merchants
        verified, ...) is computed by the model (model/mechanisms/accounts.py).
        """
        return float(sum(iv.cost_per_step * ramp_fraction(iv, t) for iv in self.interventions))

    def cost_by_lever(self, t: int) -> dict[str, float]:
        """Spending at step t split by lever."""
        out = dict.fromkeys(LEVERS, 0.0)
        for iv in self.interventions:
            out[iv.lever] += iv.cost_per_step * ramp_fraction(iv, t)
        return out


@dataclass(frozen=True)
class PlatformParams:
    """The platform numbers of one week, after the platform levers.

    Attributes:
        fee: per platform, fee share of in-app goods value (``platform_fee`` caps it).
        verification: per platform, weekly chance a store is checked (plus
            ``platform_verification``).
        interoperability: chance one platform's payment works at another's store/code
            (``interoperability`` closes the gap to 1).
        posts_per_week: posts per followed store per follower (``spam_control`` blocks some).
        offer_rate: weekly chance a group gets a group-buying offer (likewise).
    """

    fee: np.ndarray
    verification: np.ndarray
    interoperability: float
    posts_per_week: float
    offer_rate: float


@dataclass(frozen=True, slots=True)
class EffectiveParameters:
    """The numbers the mechanisms use at one step, after the policy levers.

    Attributes:
        t: the step.
        mobile_access: per region, share of residents with usable mobile access.
        reliability: per region, chance the transaction system completes an order.
        fraud_rate: per region (the payer's), per step chance a paying consumer is
            defrauded.
        perceived_risk: per region (the consumer's), base perceived insecurity of mobile
            payment.
        promotion_rate: per region (the merchant's), per step chance a non-adopting
            merchant learns of mobile channels besides imitation (its own chance plus the
            ``merchant_promotion`` level); it adopts only when it expects a positive net
            mobile margin.
        verification_rate: per region (the merchant's), per step chance an unverified
            merchant verifies.
        detection_probability: per region (the selling merchant's), chance a counterfeit
            sale by an unverified merchant is caught.
        channel_budget: per channel, spending per adopting merchant per step.
        logistics_cost: [origin, destination] shipping cost share of price.
        delivery_days: [origin, destination] delivery days.
        tariff: [origin, destination] tariff and customs share of price.
        cross_border: [origin, destination] True when the two regions are in different
            countries (``regions.*.country``; each region is its own country unless
            given): tariffs, customs delay and cross-border trust apply to these pairs.
        coupon: coupon discount share of price.
        disclosure: share of sponsored KOL posts disclosed.
        rigid_demand_rate: per region (the consumer's), per step payment adoption chance
            from rigid-demand uses.
        programme_overhead: the interventions' fixed ``cost_per_step`` at this step
            (yuan); the activity-based costs are computed by the accounts phase.
        levels: every lever's level at this step (its highest over the regions).
        natural_mobile_access: per region, the access share without the infrastructure
            lever (the lever's newly connected consumers are those above it).
        base_logistics_cost: [origin, destination] logistics cost share before
            cross-border facilitation (the state pays carriers the difference).
        base_tariff: [origin, destination] tariff share before facilitation.
        platform: the platform numbers after the platform levers (None without a
            ``platforms:`` section).
        import_tariff: [origin, destination] tariff share of traditional imports (``tariff``
            is that of mobile orders; ``trade.facilitation_tariff_scope`` says which of
            the two the facilitation lever cuts).
        region_levels: per lever, its level in each region (interventions with
            ``countries:`` act only in their countries' regions).
        overhead_by_region: the fixed overheads per region: each intervention's
            ``cost_per_step`` paid by the regions of its countries, by population.
    """

    t: int
    mobile_access: np.ndarray
    reliability: np.ndarray
    fraud_rate: np.ndarray
    perceived_risk: np.ndarray
    promotion_rate: np.ndarray
    verification_rate: np.ndarray
    detection_probability: np.ndarray
    channel_budget: dict[str, float]
    logistics_cost: np.ndarray
    delivery_days: np.ndarray
    tariff: np.ndarray
    cross_border: np.ndarray
    coupon: float
    disclosure: float
    rigid_demand_rate: np.ndarray
    programme_overhead: float
    levels: dict[str, float]
    natural_mobile_access: np.ndarray
    base_logistics_cost: np.ndarray
    base_tariff: np.ndarray
    platform: PlatformParams | None
    import_tariff: np.ndarray
    region_levels: dict[str, np.ndarray]
    overhead_by_region: np.ndarray


def cross_border_matrix(scenario: Scenario) -> np.ndarray:
    """[origin, destination] True when the two regions are in different countries.

    Each region is its own country unless ``regions.*.country`` puts several in one,
    so for scenarios without countries this is ``origin != destination``.
    """
    country = np.array(scenario.region_country_codes, dtype=np.int64)
    return country[:, None] != country[None, :]


def trade_matrices(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the base [origin, destination] matrices of logistics cost, delivery days and tariff.

    Between regions of one country (and within a region) the domestic logistics cost
    and delivery days apply and no tariff; between countries the cross-border ones.
    ``trade.links`` override single pairs.
    """
    names = scenario.region_names
    tr = scenario.trade
    cross = cross_border_matrix(scenario)
    cost = np.where(cross, tr.cross_border_logistics_cost, tr.domestic_logistics_cost)
    days = np.where(cross, tr.cross_border_delivery_days, tr.domestic_delivery_days)
    tariff = np.where(cross, tr.tariff, 0.0)
    index = {name: i for i, name in enumerate(names)}
    for link in tr.links:
        o, d = index[link.origin], index[link.destination]
        if link.logistics_cost is not None:
            cost[o, d] = link.logistics_cost
        if link.delivery_days is not None:
            days[o, d] = link.delivery_days
        if link.tariff is not None:
            tariff[o, d] = link.tariff
    return cost, days, tariff


class ParameterSchedule:
    """Effective parameters of a scenario at each step (scenario values changed by policy).

    Attributes:
        scenario: the scenario.
        timeline: its policy timeline.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.timeline = PolicyTimeline(scenario.policies)
        self._cost, self._days, self._tariff = trade_matrices(scenario)
        self._cross_border = cross_border_matrix(scenario)
        self._cross_border.flags.writeable = False
        self._base_access = np.array([r.mobile_access for r in scenario.regions.values()])
        self._access_growth = np.array([r.access_growth for r in scenario.regions.values()])
        self._access_logistic = np.array(
            [r.access_curve == "logistic" for r in scenario.regions.values()]
        )
        self._region_countries = scenario.region_countries
        share = np.array([r.population_share for r in scenario.regions.values()])
        self._population_share = share / share.sum()

    def at(self, t: int) -> EffectiveParameters:
        """Return the effective parameters at step t."""
        sc = self.scenario
        lv = self.timeline.levels(t)
        region_lv = self.timeline.region_levels(t, self._region_countries)
        natural = natural_access_share(
            self._base_access, self._access_growth, self._access_logistic, t
        )
        infra = region_lv["infrastructure"]  # per region (where the consumers live)
        access = natural + (1.0 - natural) * infra
        reliability = 1.0 - (1.0 - sc.ordering.reliability) * (1.0 - infra)
        security = region_lv["payment_security"]  # per region (where the payer lives)
        channel_budget = {}
        base_budget = sc.marketing.budget_per_merchant
        for name in CHANNELS:
            ch = sc.marketing.channels.get(name)
            share = ch.budget_share if ch is not None else 0.0
            channel_budget[name] = base_budget * (share + lv[f"channel_{name}"])
        # facilitation acts between countries, on the pairs whose buyer (destination,
        # the importing country) is where the lever acts
        facil = region_lv["cross_border_facilitation"][None, :]
        cross = self._cross_border
        keep = np.where(cross, 1.0 - facil, 1.0)
        cost = self._cost * keep
        scope = sc.trade.facilitation_tariff_scope
        tariff = self._tariff * keep if scope in ("ecommerce", "both") else self._tariff.copy()
        import_tariff = (
            self._tariff * keep if scope in ("traditional", "both") else self._tariff.copy()
        )
        domestic_days = np.diag(self._days)[None, :]
        extra = np.maximum(self._days - domestic_days, 0.0)
        days = np.where(
            cross, np.minimum(self._days, domestic_days) + extra * (1.0 - facil), self._days
        )
        integrity = region_lv["integrity"]  # per region (where the merchant is)
        detection = 1.0 - (1.0 - sc.merchants.detection_probability) * (1.0 - integrity)
        promotion = region_lv["merchant_promotion"]  # per region (the merchant's)
        rigid = region_lv["rigid_demand"]  # per region (the consumer's)
        return EffectiveParameters(
            t=t,
            mobile_access=access,
            reliability=reliability,
            fraud_rate=sc.payment.fraud_rate * (1.0 - security),
            perceived_risk=sc.payment.perceived_risk * (1.0 - security),
            promotion_rate=np.minimum(1.0, sc.merchants.promotion_rate + promotion),
            verification_rate=integrity,
            detection_probability=detection,
            channel_budget=channel_budget,
            logistics_cost=cost,
            delivery_days=days,
            tariff=tariff,
            cross_border=self._cross_border,
            coupon=lv["consumer_incentives"],
            disclosure=lv["kol_disclosure"],
            rigid_demand_rate=np.minimum(1.0, sc.payment.rigid_demand_rate + rigid),
            programme_overhead=self.timeline.cost(t),
            levels=lv,
            natural_mobile_access=natural,
            base_logistics_cost=self._cost,
            base_tariff=self._tariff,
            platform=self._platform(lv),
            import_tariff=import_tariff,
            region_levels=region_lv,
            overhead_by_region=self.timeline.overhead_by_region(
                t, self._region_countries, self._population_share
            ),
        )

    def _platform(self, lv: dict[str, float]) -> PlatformParams | None:
        """Return the platform numbers after the platform levers (None without platforms)."""
        spec = self.scenario.platforms
        if spec is None:
            return None
        specs = list(spec.platforms.values())
        fee = np.array([p.fee for p in specs]) * (1.0 - lv["platform_fee"])
        check = np.minimum(
            1.0, np.array([p.verification for p in specs]) + lv["platform_verification"]
        )
        base = spec.interoperability
        interop = base + (1.0 - base) * lv["interoperability"]
        spam = lv["spam_control"]
        return PlatformParams(
            fee=fee,
            verification=check,
            interoperability=float(interop),
            posts_per_week=spec.follows.posts_per_week * (1.0 - spam),
            offer_rate=spec.group_buying.offer_rate * (1.0 - spam),
        )
