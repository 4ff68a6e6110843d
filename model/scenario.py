"""Scenario files: the YAML schema, loading, ``extends:`` inheritance and ``--set`` overrides.

A scenario is one world (population, regions, network, behaviour parameters) plus
a policy package (a list of interventions on a time line). It is validated in
full before anything runs; every problem is reported as one line that names the
file, the key path, the offending value and what is allowed.

A new ``population.consumers`` (``--set``, an experiment's ``set:`` or parameter, a
calibration's overrides) keeps the market's proportions: merchants and KOLs scale
with it unless they are set too (:func:`scaled_population`, :func:`keep_proportions`),
and a :class:`PopulationScaled` warning says so in one line.

Public API:
    load_scenario(path, overrides=()) -> Scenario
    scenario_from_dict(data, source="<dict>", overrides=()) -> Scenario
    apply_overrides(data, overrides, source) -> dict
    scaled_population(data, consumers) -> {"merchants": M, "kols": K}
    scenario_json_schema() -> dict
    ScenarioError, PopulationScaled
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationError, WithJsonSchema, model_validator

from model.errors import UserError, close_match
from model.levers import CHANNELS, COUNTRY_LEVERS, LEVER_MAX, LEVERS
from model.schema_errors import StrictModel, validation_message
from model.yamlio import YamlError, describe_value, parse_yaml_value, short_key
from model.yamlio import read_yaml_mapping as _read_yaml_mapping

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

# Every number of a scenario has a finite range (issue 32, item 11), chosen by its meaning:
# a probability or a share of something at most 1; otherwise wide enough for any plausible
# study (10 times or more the largest value of scenarios/, experiments/ (ranges, priors),
# the notebooks, tests and docs/) and narrow enough that a run's accounts stay finite with
# any one number at its bound (tests/test_hostile_input_4.py runs the baseline and a
# platform with each number at its maximum, one at a time).

MAX_STEPS = 100_000
"""Longest run in weeks (``simulation.steps``; ``--steps`` has the same bound)."""

MAX_CONSUMERS = 50_000_000
"""Most consumer agents (``population.consumers``); counts of consumers are bounded by it."""

MAX_SEED = 2**32 - 100_000 - 1
"""Largest ``simulation.seed``: the rule of ``mtsim run --seed`` (a base seed plus up to
100,000 replications stays below 2**32)."""

MAX_MONEY = 10_000_000.0
"""Most money per agent and week, or per unit of an activity (yuan): as
``ordering.mean_order_value``, so that a long run of a large market stays a finite number."""

MAX_PROGRAMME_COST = 10_000_000_000.0
"""Most fixed overhead of one intervention per week (it is a whole programme's cost, not an
agent's: a thousand times an agent's largest weekly money)."""

MAX_DAYS = 3660.0
"""Longest delivery time in days (ten years)."""

MAX_WEIGHT = 50.0
"""Largest utility weight (as ``ordering.mobile_appeal``'s +-50: exp(50) is about 5e21)."""

MAX_RATE = 100.0
"""Largest hazard rate per signal (trust and awareness gains: 1 - exp(-100) is 1)."""

MAX_PRICE_SHARE = 10.0
"""Largest cost as a share of the price (logistics, tariffs, markups: ten times the price)."""

MAX_MULTIPLIER = 100.0
"""Largest relative multiplier or index (price levels and markups, reach multipliers,
purchase lift, administration per yuan)."""

MAX_RELATIVE = 1_000_000.0
"""Largest relative weight that is normalised over its siblings (region and level shares:
room for per cent or counts in thousands)."""

MAX_TARGET = 1e15
"""Largest absolute level of a ``targets`` metric: finite, and far beyond any column of a
plausible run."""

Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS)]
Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]
Rate = Annotated[float, Field(ge=0.0, le=MAX_RATE)]
PriceShare = Annotated[float, Field(ge=0.0, le=MAX_PRICE_SHARE)]
Multiplier = Annotated[float, Field(ge=0.0, le=MAX_MULTIPLIER)]
PositiveMultiplier = Annotated[float, Field(gt=0.0, le=MAX_MULTIPLIER)]
RelativeShare = Annotated[float, Field(ge=0.0, le=MAX_RELATIVE)]
Weeks = Annotated[int, Field(ge=0, le=MAX_STEPS)]

TargetLevel = Annotated[float, Field(ge=-MAX_TARGET, le=MAX_TARGET)]


def _target_kind(value: Any) -> str:
    return "tuple[float, ...]" if isinstance(value, (list, tuple)) else "float"


_TARGET_SCHEMA = {"type": "number", "minimum": -MAX_TARGET, "maximum": MAX_TARGET}

# One level or a list of levels. The branch is chosen by the value's shape, so a level out
# of range is one problem, not one per branch; the tags are the plain type names, which
# messages leave out of the key path (model/schema_errors.py).
Targets = Annotated[
    Annotated[TargetLevel, Tag("float")]
    | Annotated[tuple[TargetLevel, ...], Tag("tuple[float, ...]")],
    Discriminator(_target_kind),
    WithJsonSchema({"anyOf": [_TARGET_SCHEMA, {"type": "array", "items": _TARGET_SCHEMA}]}),
]


class ScenarioError(UserError, ValueError):
    """A scenario (or experiment) file that cannot be used, with a one-line reason."""


# --------------------------------------------------------------------------- world


class AttributeLevel(StrictModel):
    """One level of a consumer attribute (an area, an income band, an age band).

    Attributes:
        share: share of consumers at this level (normalised over the attribute's levels).
        access: shift of the log-odds of having mobile access (0: none; a region keeps
            its access share, this decides who in it is connected).
        payment: multiplier of the chance to adopt mobile payment (relative).
        frequency: multiplier of the chance to want to buy in a week (relative).
        spending: multiplier of the value of an order (relative).

    The three multipliers are multiplied over a consumer's area, income and age levels
    and divided by their mean over the region's population (model/population.py).
    """

    share: RelativeShare = 1.0
    access: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    payment: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    frequency: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    spending: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0


# The defaults below are CNNIC's 47th Statistical Report on Internet Development in
# China (February 2021), end of 2020; docs/population.md gives the derivations.
_RURAL_ACCESS_SHIFT = -1.137
"""logit(0.559) - logit(0.798): rural vs urban Internet penetration (CNNIC 47th report)."""


class Areas(StrictModel):
    """Urban and rural consumers.

    Attributes:
        urban: urban residents (default share 0.607 of the population: 680 million urban
            Internet users at 79.8% penetration = 852 million residents; CNNIC 47th report).
        rural: rural residents (default share 0.393: 309 million rural Internet users at
            55.9% penetration = 553 million residents; access shift -1.137 =
            logit(0.559) - logit(0.798); CNNIC 47th report).
    """

    urban: AttributeLevel = AttributeLevel(share=0.607)
    rural: AttributeLevel = AttributeLevel(share=0.393, access=_RURAL_ACCESS_SHIFT)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        # a level given in part keeps the default share and access shift of what it omits
        return _fill_levels(
            data,
            {
                "urban": cls.model_fields["urban"].default,
                "rural": cls.model_fields["rural"].default,
            },
        )


def _fill_levels(data: Any, defaults: Mapping[str, AttributeLevel]) -> Any:
    """Complete levels named like a default level with that level's values."""
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for name, value in data.items():
        if name in defaults and isinstance(value, Mapping):
            out[name] = {**defaults[name].model_dump(), **value}
    return out


def _default_income() -> dict[str, AttributeLevel]:
    # CNNIC 47th report: 38.1% of Internet users earn under 2,000 yuan a month, 29.3% over 5,000
    return {
        "under_2000": AttributeLevel(share=0.381),
        "2000_to_5000": AttributeLevel(share=0.326),
        "over_5000": AttributeLevel(share=0.293),
    }


def _default_age() -> dict[str, AttributeLevel]:
    # CNNIC 47th report: 54.9% of Internet users are under 40, 11.2% aged 60 or over
    return {
        "under_40": AttributeLevel(share=0.549),
        "40_to_59": AttributeLevel(share=0.339),
        "60_plus": AttributeLevel(share=0.112),
    }


MAX_BANDS = 8
"""Most levels of an income or age attribute (group codes fit in one byte)."""

Bands = Annotated[dict[str, AttributeLevel], Field(min_length=1, max_length=MAX_BANDS)]


class Attributes(StrictModel):
    """Who the consumers are: area, income band, age band (model/population.py).

    Attributes:
        homophily: share of a consumer's within-region ties formed inside its own group
            (same area, income band and age band); the rest are formed at random in the
            region. 0: no homophily; 1: only within the group. Used by the
            ``stochastic_block`` network (model/network.py).
        area: urban and rural consumers.
        income: income bands, lowest first.
        age: age bands, youngest first.

    A level named like a default level (``urban``, ``rural``, ``under_2000``, ...)
    keeps the default's values for the fields it does not give; the bands of
    ``income`` and ``age`` are the ones listed.
    """

    homophily: Probability = 0.0
    area: Areas = Areas()
    income: Bands = Field(default_factory=_default_income)
    age: Bands = Field(default_factory=_default_age)

    @model_validator(mode="before")
    @classmethod
    def _fill_bands(cls, data: Any) -> Any:
        # a band named like a default band keeps that band's values where not given
        if isinstance(data, Mapping):
            data = dict(data)
            for name, factory in (("income", _default_income), ("age", _default_age)):
                if name in data:
                    data[name] = _fill_levels(data[name], factory())
        return data

    @model_validator(mode="after")
    def _shares(self) -> Attributes:
        for name, levels in (("income", self.income), ("age", self.age)):
            if sum(level.share for level in levels.values()) <= 0:
                raise ValueError(f"population.attributes.{name}: the shares must not all be 0")
        if self.area.urban.share + self.area.rural.share <= 0:
            raise ValueError("population.attributes.area: the shares must not all be 0")
        return self


class Population(StrictModel):
    """How many agents of each kind.

    Attributes:
        consumers: number of consumer agents (nodes of the social graph).
        merchants: number of merchant agents (0 allowed: no trade, diffusion only).
        kols: number of KOL (influencer) agents (0 allowed).
        attributes: who the consumers are (area, income band, age band); None (default):
            consumers differ only by region, and nothing is drawn for them.
    """

    consumers: Annotated[int, Field(ge=1, le=MAX_CONSUMERS)] = 5000
    merchants: Annotated[int, Field(ge=0, le=1_000_000)] = 200
    kols: Annotated[int, Field(ge=0, le=1_000_000)] = 20
    attributes: Attributes | None = None


class Region(StrictModel):
    """One region (market) with its own consumers and merchants.

    Attributes:
        population_share: share of consumers living here (shares are normalised to sum 1).
        merchant_share: share of merchants based here (normalised to sum 1).
        mobile_access: share of consumers with usable mobile Internet access at step 0.
        access_growth: natural growth of that share per step at step 0 (share points),
            without policy.
        access_curve: the shape of the share's natural growth (mechanisms/access.py):
            ``logistic`` (the default), the S-curve through ``mobile_access`` whose
            slope at step 0 is ``access_growth`` and whose ceiling is the whole
            population, so growth slows as the share rises (Internet diffusion is
            S-shaped: Andres, Cuberes, Diouf & Serebrisky 2010); ``linear``, a
            constant ``access_growth`` per step up to 1 (the rule before 2026-12-07).
        initial_trust_domestic: mean starting trust of residents in sellers of their own
            country (a region is its own country unless ``country`` groups regions).
        initial_trust_foreign: mean starting trust of residents in sellers of other countries.
        price_level: price index of merchants based here (1 = reference).
        initial_payment_adoption: share of residents already paying by mobile at step 0.
        initial_shopper_share: share of connected residents who shopped by mobile in the
            26 weeks before step 0 (CNNIC's "mobile shopping users"): they start aware of
            mobile shopping, with ``has_ordered`` set and their last order in one of
            weeks -25..0 (uniformly: when within those weeks is an assumption). A
            mobile order is paid by mobile, so they are the connected payers first and
            non-payers only for the share beyond the payers.
        country: the country the region belongs to (None: the region is its own
            country). Tariffs, customs delay and cross-border trust apply between
            countries; domestic logistics between regions of one country.
        urban_share: share of the region's consumers living in urban areas (None: the
            share of ``population.attributes.area``); used only with attributes.
    """

    population_share: Annotated[float, Field(gt=0.0, le=MAX_RELATIVE)] = 0.5
    merchant_share: RelativeShare = 0.5
    mobile_access: Probability = 0.6
    access_growth: Annotated[float, Field(ge=0.0, le=1.0)] = 0.002
    access_curve: Literal["logistic", "linear"] = "logistic"
    initial_trust_domestic: Probability = 0.45
    initial_trust_foreign: Probability = 0.2
    price_level: PositiveMultiplier = 1.0
    initial_payment_adoption: Probability = 0.05
    initial_shopper_share: Probability = 0.0
    country: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    urban_share: Probability | None = None

    @model_validator(mode="after")
    def _logistic_needs_a_start(self) -> Region:
        if self.access_curve == "logistic" and self.access_growth > 0 and self.mobile_access <= 0:
            raise ValueError(
                "access_growth > 0 with mobile_access 0: a logistic access curve cannot "
                "start from 0 (give mobile_access above 0, or access_curve: linear)"
            )
        return self


class TradeLink(StrictModel):
    """Trade friction on one ordered pair of regions (overrides ``trade`` defaults).

    Attributes:
        origin: region of the merchant (where goods ship from).
        destination: region of the consumer.
        logistics_cost: shipping cost as a fraction of the price.
        delivery_days: delivery time in days.
        tariff: tariff and customs friction as a fraction of the price.
    """

    origin: str
    destination: str
    logistics_cost: PriceShare | None = None
    delivery_days: Days | None = None
    tariff: PriceShare | None = None


class Trade(StrictModel):
    """Delivery cost and delay between regions.

    Attributes:
        domestic_logistics_cost: shipping cost within a region, fraction of price.
        domestic_delivery_days: delivery time within a region, days.
        cross_border_logistics_cost: shipping cost between regions, fraction of price.
        cross_border_delivery_days: delivery time between regions, days (30 in the case of
            docs/domain.md, Figures used as targets).
        tariff: tariff and customs friction on cross-border orders, fraction of price.
        links: per-pair overrides.
        facilitation_tariff_scope: which imports the ``cross_border_facilitation`` lever's
            tariff cut applies to: ``ecommerce`` (cross-border mobile orders only, the
            default: the lever is e-commerce facilitation, like China's 2016 cross-border
            e-commerce retail import tax, which applies to e-commerce parcels only),
            ``traditional`` (traditional imports only) or ``both`` (every import, the
            rule before issue 27). Its logistics and delivery-time parts act on mobile
            orders whatever the scope (traditional imports have their own markup and days).
    """

    domestic_logistics_cost: PriceShare = 0.05
    domestic_delivery_days: Days = 3.0
    cross_border_logistics_cost: PriceShare = 0.25
    cross_border_delivery_days: Days = 30.0
    tariff: PriceShare = 0.10
    links: tuple[TradeLink, ...] = ()
    facilitation_tariff_scope: Literal["ecommerce", "traditional", "both"] = "ecommerce"


class NetworkSettings(StrictModel):
    """The consumers' social graph.

    Attributes:
        kind: generator. ``stochastic_block`` (regions as blocks), ``erdos_renyi``,
            ``watts_strogatz``, ``barabasi_albert``, ``holme_kim`` (power-law cluster),
            ``complete`` (fully mixed, no explicit edges: only for the Bass rule),
            ``file`` (a user's edge list or GraphML).
        mean_degree: target mean number of ties per consumer.
        cross_region_fraction: share of ties that cross regions (stochastic_block).
        rewiring: rewiring probability (watts_strogatz).
        triangle_probability: probability of closing a triangle (holme_kim).
        path: graph file for ``kind: file`` (relative to the scenario file).
        format: ``edgelist`` (two integer node ids per line) or ``graphml``.
    """

    kind: Literal[
        "stochastic_block",
        "erdos_renyi",
        "watts_strogatz",
        "barabasi_albert",
        "holme_kim",
        "complete",
        "file",
    ] = "stochastic_block"
    mean_degree: Annotated[float, Field(ge=0.0, le=10_000)] = 10.0
    cross_region_fraction: Probability = 0.05
    rewiring: Probability = 0.1
    triangle_probability: Probability = 0.5
    path: str | None = None
    format: Literal["edgelist", "graphml"] = "edgelist"

    @model_validator(mode="after")
    def _file_needs_path(self) -> NetworkSettings:
        if self.kind == "file" and not self.path:
            raise ValueError(
                "network.kind 'file' needs network.path (an edge list or GraphML file)"
            )
        return self


# --------------------------------------------------------------------------- behaviour


class WordOfMouth(StrictModel):
    """Word of mouth over the social graph (mechanisms/word_of_mouth.py).

    Attributes:
        rule: ``contagion`` (default market rule), ``bass`` (fully mixed discrete Bass),
            ``independent_cascade`` or ``linear_threshold``.
        transmission: per step, chance that an aware neighbour passes the news on
            (contagion); chance a newly aware neighbour activates you (independent cascade).
        recommendation_transmission: chance a neighbour who was satisfied by a purchase
            last step makes you aware (contagion).
        innovation: Bass coefficient of innovation p (external influence per step).
        imitation: Bass coefficient of imitation q.
        threshold: linear-threshold fraction of aware neighbours needed to become aware.
        threshold_spread: thresholds drawn uniformly in threshold +/- spread (0: identical).
        initial_aware: share of consumers aware at step 0.
        initial_aware_count: exact number of consumers aware at step 0 (overrides the share).
        initial_aware_nodes: exact consumer ids aware at step 0 (overrides both; for docking).
        negative_weight: how much more a warning weighs than a recommendation in trust.
        initial_aware_by: who is aware at step 0 (mechanisms/targeting.py): ``random``
            (default), ``degree`` (highest social degree first), ``region:<name>``
            (random residents of that region), ``payers`` (consumers already paying
            by mobile first, then random).
        forget_rate: per week chance that an aware consumer without a genuine purchase
            last week lapses from mobile shopping (becomes unaware again; mechanisms/lapse.py).
            Only with merchants in the model.
        lapse_after_harm: per week chance of lapsing at full memory of bad experiences,
            scaled by ``1 - exp(-bad_memory)``.
    """

    rule: Literal["contagion", "bass", "independent_cascade", "linear_threshold"] = "contagion"
    transmission: Probability = 0.005
    recommendation_transmission: Probability = 0.15
    innovation: Probability = 0.0
    imitation: Probability = 0.0
    threshold: Probability = 0.18
    threshold_spread: Probability = 0.0
    initial_aware: Probability = 0.01
    initial_aware_count: Annotated[int, Field(ge=0, le=MAX_CONSUMERS)] | None = None
    initial_aware_nodes: tuple[Annotated[int, Field(ge=0, lt=MAX_CONSUMERS)], ...] | None = None
    negative_weight: Annotated[float, Field(ge=0.0, le=100.0)] = 2.5
    initial_aware_by: Annotated[str, Field(pattern=r"^(random|degree|payers|region:.+)$")] = (
        "random"
    )
    forget_rate: Probability = 0.0
    lapse_after_harm: Probability = 0.0


class Channel(StrictModel):
    """One mobile marketing channel.

    Attributes:
        budget_share: share of a merchant's marketing budget spent on the channel.
        reach_per_unit: impressions bought per yuan spent.
        awareness_conversion: chance a reached, unaware consumer becomes aware.
        foreign_reach: share of the reach that lands in other regions.
        consideration: weight of a consumer reached by this channel in the merchant's
            visibility (how far it puts the merchant in the consumers' choice set).
        conversion_lift: rise in a reached consumer's purchase probability when fully
            saturated by this channel (``lift * (1 - exp(-impressions))``).
        region_reach: reach multiplier per region name (default 1 where not given).
        audience_share: share of a region's connected consumers who use the channel (its
            reachable audience; membership drawn once at build) [share].
        distance_decay: weight of the channel's impressions one district (distance tier)
            further from the merchant, relative to its own district: location-based (LBS)
            delivery; 1 spreads them evenly over the region [ratio per tier].
    """

    budget_share: Probability = 0.2
    reach_per_unit: Annotated[float, Field(ge=0.0, le=1_000.0)] = 0.2
    awareness_conversion: Probability = 0.05
    foreign_reach: Probability = 0.05
    consideration: Weight = 0.0
    conversion_lift: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    region_reach: dict[str, Multiplier] = Field(default_factory=dict)
    audience_share: Probability = 1.0
    distance_decay: Probability = 1.0


def _default_channels() -> dict[str, Channel]:
    return {
        "qr_o2o": Channel(
            budget_share=0.3, reach_per_unit=0.15, awareness_conversion=0.08, foreign_reach=0.0
        ),
        "app_market": Channel(
            budget_share=0.15, reach_per_unit=0.2, awareness_conversion=0.03, foreign_reach=0.10
        ),
        "mobile_search": Channel(
            budget_share=0.2, reach_per_unit=0.25, awareness_conversion=0.04, foreign_reach=0.15
        ),
        "short_video": Channel(
            budget_share=0.2, reach_per_unit=0.4, awareness_conversion=0.03, foreign_reach=0.15
        ),
        "kol_campaign": Channel(
            budget_share=0.15, reach_per_unit=0.0, awareness_conversion=0.0, foreign_reach=0.0
        ),
    }


class Marketing(StrictModel):
    """Merchant mobile marketing (mechanisms/marketing.py).

    Attributes:
        budget_per_merchant: marketing budget of an adopting merchant per step (yuan).
        revenue_reinvest: share of last week's mobile revenue an adopting merchant adds to
            its marketing budget (so merchants' spend, and visibility, differ).
        targeting: how channel impressions fall on a region's connected consumers
            (mechanisms/targeting.py): ``random`` (evenly) or ``degree`` (in proportion
            to social degree: precision marketing at well-connected consumers),
            ``interests`` (to the platform's interest profile), ``history`` (to past mobile
            buyers) or ``data`` (interests times history).
        channels: the channel mix; ``kol_campaign`` money buys KOL sponsorships.
        wearout: fall of a consumer's responsiveness to advertising per impression seen,
            ``q <- q * exp(-wearout * impressions)`` [per impression].
        recovery: share of the lost responsiveness restored per week [share / week].
        districts: districts (distance tiers) per region, for location-based channels
            (``distance_decay``) [districts].
        interest_noise: log-normal sigma of the platform's interest profile around the
            consumer's purchase frequency (``interests`` targeting) [log units].
        history_weight: extra impression weight of a past mobile buyer under ``history``
            and ``data`` targeting (1 + history_weight times a non-buyer's) [ratio].
    """

    budget_per_merchant: Money = 100.0
    revenue_reinvest: Probability = 0.0
    targeting: Literal["random", "degree", "interests", "history", "data"] = "random"
    wearout: Annotated[float, Field(ge=0.0, le=10.0)] = 0.1
    recovery: Probability = 0.2
    districts: Annotated[int, Field(ge=1, le=64)] = 4
    interest_noise: Annotated[float, Field(ge=0.0, le=5.0)] = 0.5
    history_weight: Annotated[float, Field(ge=0.0, le=100.0)] = 3.0
    channels: dict[Literal[CHANNELS], Channel] = Field(default_factory=_default_channels)  # type: ignore[valid-type]


class Merchants(StrictModel):
    """Merchant behaviour (mechanisms/merchant_adoption.py, fulfilment.py).

    Attributes:
        initial_adoption: share of merchants using mobile marketing at step 0.
        promotion_rate: per step chance a non-adopter learns of mobile channels on its own
            (before policy); it adopts only if it expects them to pay.
        imitation: chance per step of learning of mobile channels from peers, per unit
            share of the region's merchants that use them at a profit (it adopts only if it
            expects them to pay).
        price_dispersion: log-normal sigma of merchant prices around the region's level.
        integrity_mean: mean chance a sale is genuine.
        integrity_concentration: Beta concentration of integrity across merchants (higher:
            less spread).
        verified_share: share of merchants verified (real-name) at step 0.
        verified_integrity_effect: share of a verified merchant's cheating that verification
            prevents.
        detection_probability: chance a counterfeit sale is detected and penalised.
        verified_detection_bonus: extra detection for verified merchants (share of the
            undetected rest).
        penalty: fine per detected counterfeit, in multiples of the order's goods value.
        reputation_penalty: reputation lost on each detected counterfeit.
        reform_rate: share of the integrity gap closed after a penalty.
        reputation_learning: how fast reputation follows the genuine share of recent sales.
        initial_reputation: starting reputation of every merchant.
        integrity_erosion: share of integrity lost in a week a merchant sold counterfeits
            and was not caught.
        verification_lapse: chance per week that a verification lapses.
    """

    initial_adoption: Probability = 0.1
    promotion_rate: Probability = 0.002
    imitation: Probability = 0.05
    price_dispersion: Annotated[float, Field(ge=0.0, le=3.0)] = 0.3
    integrity_mean: Probability = 0.9
    integrity_concentration: Annotated[float, Field(gt=0.0, le=10_000.0)] = 20.0
    verified_share: Probability = 0.1
    verified_integrity_effect: Probability = 0.7
    detection_probability: Probability = 0.1
    verified_detection_bonus: Probability = 0.5
    penalty: Annotated[float, Field(ge=0.0, le=1000.0)] = 5.0
    reputation_penalty: Probability = 0.1
    reform_rate: Probability = 0.3
    reputation_learning: Probability = 0.2
    initial_reputation: Probability = 0.6
    integrity_erosion: Probability = 0.02
    verification_lapse: Probability = 0.002


class KOLs(StrictModel):
    """Key opinion leaders (mechanisms/kol.py).

    Attributes:
        follows_per_consumer: mean number of KOLs a consumer follows. The KOLs' follower
            counts add up to this times the consumers, whatever the numbers of consumers and
            KOLs, so exposure per consumer does not change with the population's size.
        follower_exponent: Pareto tail exponent of the KOLs' relative popularity (how the
            follows are shared among KOLs; heavy tail, smaller is heavier).
        max_follower_share: cap on one KOL's followers as a share of consumers.
        home_bias: share of a KOL's followers in the KOL's own region.
        initial_credibility: starting credibility (persuasive weight) of every KOL.
        post_probability: chance a KOL posts an endorsement in a step.
        awareness_gain: awareness produced per unit of credible exposure seen (the
            exposure times ``reach_rate``: a post acts only on the followers who see it).
        purchase_lift: relative rise in a follower's purchase probability from a credible
            endorsement seen.
        fee_per_follower: sponsorship fee per post per follower at the mean KOL's
            engagement (yuan): fees follow engaged, attention-weighted reach
            (mechanisms/kol.py).
        commercial_penalty: credibility lost per sponsored, undisclosed post.
        fake_penalty: credibility lost when an endorsed product turns out fake.
        recovery: share of the gap to the initial credibility recovered per post of a genuine
            product.
        disclosure_persuasion_loss: persuasion lost on a disclosed sponsored post.
        unfollow_rate: per week chance a follower unfollows a KOL whose credibility has
            fallen to 0, in proportion to the relative loss ``1 - credibility / initial``;
            also the chance a lapsed member of the KOL's starting audience follows it
            again, in proportion to ``credibility / initial`` (at most 1).
        max_sponsored_posts: most sponsored posts one KOL sells in a week.
        fee_escalation: price rise of each further sponsored post of a KOL in a week
            (its j-th post costs ``fee * (1 + fee_escalation)^j``: a scarce feed).
        campaign_targeting: which KOLs the state's KOL campaign buys from: ``all``
            (every KOL alike), ``largest`` / ``well_connected`` (the top
            ``campaign_share`` by followers / by their followers' mean social degree),
            ``random`` (a random ``campaign_share`` each week).
        campaign_share: share of KOLs a targeted campaign buys from.
        engagement_exponent: fall of engagement per follower with the audience: a KOL with
            F followers engages ``(F / mean F)^(-engagement_exponent)`` times as many of
            its followers per post as a KOL of the mean audience.
        attention_sharing: how a follower's attention is shared among the KOLs it
            follows: each of its m KOLs reaches it with weight ``m^(-attention_sharing)``
            (0: no sharing; 1: a fixed attention budget split equally).
        sponsored_persuasion_loss: persuasion lost by a sponsored post against an organic
            one (before any disclosure loss).
        content_posts: non-endorsement posts a KOL publishes a week; each, like an organic
            endorsement of a genuine product, recovers share ``recovery`` of the
            credibility gap (sponsored posts recover none), so credibility settles where
            it falls with the commercial share of the KOL's posts.
        reach_rate: share of its followers who see a post of a KOL of the mean audience;
            every effect of a post (awareness, purchase lift, trust, consideration) acts
            on the followers who see it: a follower who sees an endorsement (times
            engagement, attention and persuasion) buys from the endorsed merchant when it
            orders from that merchant's region (mechanisms/kol.py, consideration).
    """

    follows_per_consumer: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.35
    follower_exponent: Annotated[float, Field(gt=1.0, le=10.0)] = 2.0
    max_follower_share: Probability = 0.25
    home_bias: Probability = 0.9
    initial_credibility: Probability = 0.7
    post_probability: Probability = 0.5
    awareness_gain: Rate = 0.5
    purchase_lift: Multiplier = 0.5
    fee_per_follower: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.5
    commercial_penalty: Probability = 0.02
    fake_penalty: Probability = 0.1
    recovery: Probability = 0.05
    disclosure_persuasion_loss: Probability = 0.3
    unfollow_rate: Probability = 0.0
    max_sponsored_posts: Annotated[int, Field(ge=0, le=1000)] = 7
    fee_escalation: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    campaign_targeting: Literal["all", "largest", "well_connected", "random"] = "all"
    campaign_share: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    engagement_exponent: Annotated[float, Field(ge=0.0, le=2.0)] = 0.23
    attention_sharing: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    sponsored_persuasion_loss: Probability = 0.2
    content_posts: Annotated[float, Field(ge=0.0, le=100.0)] = 7.0
    reach_rate: Probability = 0.2


class Trust(StrictModel):
    """Trust dynamics (mechanisms/trust.py). Gains and losses are log-odds per signal.

    Attributes:
        experience_gain: trust gained from one genuine purchase.
        counterfeit_loss: trust lost from one counterfeit received.
        fraud_loss: trust in domestic sellers lost in a privacy leak
            (``privacy_leak_rate``; foreign trust loses ``foreign_spillover`` times it).
            Payment fraud acts on payment risk, not here (mechanisms/payment.py).
        wom_gain: trust gained per satisfied neighbour's recommendation.
        kol_gain: trust gained per unit of credible KOL exposure seen.
        foreign_spillover: share of domestic trust signals that also move trust in foreign sellers.
        purchase_threshold: trust below which a consumer will not buy from a region at all.
        memory_gain: bad-experience memory added by a counterfeit received.
        memory_decay: share of bad-experience memory forgotten per step.
        privacy_leak_rate: per step chance of a privacy leak per consumer (trust shock).
        drift_rate: share of the gap between trust and its prior (the region's mean
            starting trust) closed per week without an experience of one's own
            [share / week].
    """

    experience_gain: Rate = 0.15
    counterfeit_loss: Rate = 0.8
    fraud_loss: Rate = 0.5
    wom_gain: Rate = 0.02
    kol_gain: Rate = 0.05
    foreign_spillover: Probability = 0.3
    purchase_threshold: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.2
    memory_gain: Rate = 1.0
    memory_decay: Probability = 0.05
    privacy_leak_rate: Probability = 0.0005
    drift_rate: Probability = 0.0


class Payment(StrictModel):
    """Mobile payment adoption (mechanisms/payment.py).

    Attributes:
        convenience_rate: per step adoption chance from convenience alone (part of the
            small external push; mechanisms/payment.py).
        rigid_demand_rate: per step adoption chance from bill payment, top-ups and tickets
            (the other part of the external push).
        peer_influence: per step chance that one paying neighbour brings a consumer of
            the graph's mean degree to adopt [probability / week per tie].
        tie_dilution: how a tie's influence falls with the consumer's degree k, as
            ``(k_mean / k) ** tie_dilution`` (0: every tie counts in full; 1: only the
            share of paying neighbours counts) [exponent].
        recommendation_boost: how many ordinary paying ties one paying neighbour
            satisfied by a purchase last week counts for (a recommendation) [ratio].
        reinforcement: complex contagion: the paying ties' exponent (the log-chance that
            they bring no adoption) is scaled by ``a / (a + reinforcement)`` for a
            consumer with ``a`` paying neighbours, so one paying tie pulls less than its
            share of two or three (social reinforcement; 0: every tie pulls alike, simple
            contagion, the default) [paying ties].
        checkout_adoption: chance a consumer without mobile payment adopts it to complete a
            purchase.
        perceived_risk: perceived insecurity of mobile payment at step 0 (scales adoption down).
        fraud_rate: per step chance a paying consumer is defrauded (stolen card, lost phone).
        abandon_after_fraud: chance a defrauded consumer stops paying by mobile.
        risk_from_fraud_news: perceived risk added per defrauded neighbour.
        risk_decay: share of personal extra risk perception forgotten per step.
        lapse_rate: per week chance a payer stops paying by mobile at full personal
            extra risk (scaled by ``risk_extra``; mechanisms/lapse.py).
        disuse_rate: per week chance a payer who made no mobile order last week stops
            paying by mobile (disuse; mechanisms/lapse.py) [probability / week].
        acceptance_weight: how much consumers' adoption depends on merchants accepting
            mobile payment: adoption is scaled by ``1 - w + w * a_r`` with ``a_r`` the
            share of the region's mobile merchants that accept (mechanisms/acceptance.py;
            0: merchants' acceptance does not matter).
        initial_acceptance: share of merchants accepting mobile payment at step 0.
        acceptance_fee: merchant's fee on a mobile payment [share of the order value].
        acceptance_gain: extra sales a merchant expects from accepting, per unit share
            of its customers who pay by mobile [share of its sales].
        acceptance_rate: per week chance a merchant revises its acceptance decision.
        other_payment: chance a buyer who would pay by mobile, at a merchant that does not
            accept mobile payment, pays another way (cash on delivery, bank card) instead
            of not buying [probability] (mechanisms/ordering.py, rule 9; assumption).
    """

    convenience_rate: Probability = 0.002
    rigid_demand_rate: Probability = 0.005
    peer_influence: Probability = 0.05
    tie_dilution: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    recommendation_boost: Annotated[float, Field(ge=1.0, le=20.0)] = 2.0
    reinforcement: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    checkout_adoption: Probability = 0.3
    perceived_risk: Probability = 0.4
    fraud_rate: Probability = 0.002
    abandon_after_fraud: Probability = 0.3
    risk_from_fraud_news: Probability = 0.1
    risk_decay: Probability = 0.05
    lapse_rate: Probability = 0.0
    disuse_rate: Probability = 0.0
    acceptance_weight: Probability = 0.0
    initial_acceptance: Probability = 1.0
    acceptance_fee: Probability = 0.006
    acceptance_gain: Annotated[float, Field(ge=0.0, le=10.0)] = 0.1
    acceptance_rate: Probability = 0.1
    other_payment: Probability = 0.57


class Ordering(StrictModel):
    """The weekly shopping choice, including the outside options (mechanisms/ordering.py).

    Each week a consumer has a shopping need with probability ``occasion_rate``; it is
    met by a logit choice among not buying, buying offline at home, traditional imports
    from each other country, and mobile orders from the merchants of each region. Only
    the mobile alternatives need awareness, access, trust and payment. Utilities are in
    units where ``price_weight`` is the utility of one basket's worth of money.

    Attributes:
        occasion_rate: chance per week that a consumer has a shopping need.
        mean_order_value: value of a basket at price level 1 (yuan; at most
            10,000,000, so that a year of a large market's money stays a finite number).
        price_weight: utility per basket's worth of money (the price coefficient).
        mobile_appeal: constant utility of shopping by mobile (convenience, choice).
        offline_appeal: constant utility of buying offline at home.
        offline_price_markup: offline price relative to the home region's merchant prices.
        traditional_import_appeal: constant utility of a traditional (non-mobile) import.
        traditional_import_markup: importers' markup on foreign prices (share of price).
        traditional_import_days: delivery days of a traditional import.
        no_purchase_appeal: constant utility of not buying this week (deferring the need).
        variety_weight: utility per log share of all merchants selling by mobile from a
            region (a share, not a count: the model's merchants stand for a market of any size).
        reputation_weight: weight of merchant reputation.
        verified_weight: weight of a merchant's visible verified (real-name) badge.
        trust_weight: weight of the consumer's trust in the seller's region.
        delay_weight: weight per week of delivery delay.
        visibility_weight: weight of a merchant's log marketing reach.
        visibility_scale: reach (consumers a week) at which ``ln(1 + reach / scale)`` is
            ln 2; fixed, so more reach raises a region's value to consumers.
        reliability: chance the mobile transaction system completes an order.
        order_size_confidence: share of the basket a buyer with no confidence leaves out
            of a mobile order; confidence is trust in the seller's region times one minus
            perceived payment risk (mechanisms/ordering.py, ``order_size_factor``)
            [share of basket].
        habit_weight: utility of every mobile alternative per unit of ``ln(1 + h)``, with
            ``h`` the consumer's mobile shopping habit stock (experienced convenience of
            a learned routine, part of the welfare utility; mechanisms/ordering.py rule
            10) [utility / log(1 + habit)].
        habit_decay: share of the habit stock lost each week (one completed mobile order
            adds 1) [share / week].
    """

    occasion_rate: Probability = 0.5
    mean_order_value: Annotated[float, Field(gt=0.0, le=MAX_MONEY)] = 100.0
    price_weight: Weight = 3.0
    mobile_appeal: Annotated[float, Field(ge=-50.0, le=50.0)] = 0.0
    offline_appeal: Annotated[float, Field(ge=-50.0, le=50.0)] = 1.0
    offline_price_markup: PositiveMultiplier = 1.15
    traditional_import_appeal: Annotated[float, Field(ge=-50.0, le=50.0)] = -1.0
    traditional_import_markup: PriceShare = 0.5
    traditional_import_days: Days = 21.0
    no_purchase_appeal: Annotated[float, Field(ge=-50.0, le=50.0)] = -1.0
    variety_weight: Weight = 0.2
    reputation_weight: Weight = 1.5
    verified_weight: Weight = 0.3
    trust_weight: Weight = 2.0
    delay_weight: Weight = 0.3
    visibility_weight: Weight = 0.5
    visibility_scale: Annotated[float, Field(gt=0.0, le=MAX_CONSUMERS)] = 20.0
    reliability: Probability = 0.97
    order_size_confidence: Probability = 0.0
    habit_weight: Annotated[float, Field(ge=0.0, le=5.0)] = 0.3
    habit_decay: Annotated[float, Field(gt=0.0, le=1.0)] = 0.02


class Accounts(StrictModel):
    """Money in the accounts (mechanisms/accounts.py): costs of goods, fraud, overheads.

    Attributes:
        cost_of_goods_share: merchants' cost of the goods they sell (share of the price).
        fraud_loss: money a consumer loses in one payment fraud, in baskets.
        fixed_cost: a merchant's fixed operating cost (yuan per week).
        traditional_margin: a merchant's margin from its traditional (non-mobile) business,
            paid by buyers outside the model (yuan per week).
        mobile_channel_cost: what an adopting merchant pays platforms for its mobile
            store and channels, besides marketing (yuan per week).
    """

    cost_of_goods_share: Probability = 0.7
    fraud_loss: Annotated[float, Field(ge=0.0, le=1000.0)] = 2.0
    fixed_cost: Money = 40.0
    traditional_margin: Money = 50.0
    mobile_channel_cost: Money = 10.0


class MerchantDynamics(StrictModel):
    """Merchants' response to profit (mechanisms/merchant_adoption.py).

    Attributes:
        profit_memory: weight of this week's profit in the remembered (smoothed) profit.
        exit_rate: chance per week that a merchant whose smoothed profit is negative exits
            (an adopter whose mobile channels lose money drops them instead of closing).
        abandon_rate: chance per week that an adopter whose smoothed net mobile margin is
            negative stops using mobile channels.
        entry_rate: entrants per week per active merchant of a region, per unit of the
            region's mean smoothed profit relative to ``traditional_margin`` (when positive).
        max_merchants: cap on merchants in business at once, starting ones included
            (entrants take the slots above ``population.merchants`` and those vacated by
            exits); null: ``max_merchants_ratio`` times ``population.merchants``.
        max_merchants_ratio: the cap as a multiple of the starting merchants, when
            ``max_merchants`` is null (1: no entry).
        trial_weeks: weeks a new adopter gives its mobile channels before judging them
            (weeks; 0: judged from the first week): during them it neither abandons the
            channels nor drops them when its profit is negative.
        free_listing_weeks: the platforms' launch period, the run's first weeks (weeks):
            while it lasts they waive ``accounts.mobile_channel_cost`` (free stores and
            listing, no commission; 0: no waiver).
    """

    profit_memory: Probability = 0.1
    exit_rate: Probability = 0.05
    abandon_rate: Probability = 0.05
    entry_rate: Annotated[float, Field(ge=0.0, le=10.0)] = 0.02
    max_merchants: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    max_merchants_ratio: Annotated[float, Field(ge=1.0, le=100.0)] = 1.5
    trial_weeks: Annotated[int, Field(ge=0, le=520)] = 26
    free_listing_weeks: Annotated[int, Field(ge=0, le=5200)] = 156


class PolicyCosts(StrictModel):
    """Unit costs the state pays for each lever's activity (mechanisms/accounts.py).

    A lever's cost in a week is the quantity of its activity times its unit cost; the
    interventions' ``cost_per_step`` is added as a fixed programme overhead.

    Attributes:
        coupon_admin: administration per yuan of coupons redeemed (the state
            also pays the coupons' face value to the merchants).
        kol_campaign_admin: administration per yuan of KOL fees the campaign paid.
        channel_subsidy_admin: administration per yuan of subsidised channel
            spending used.
        per_merchant_verified: per merchant newly verified.
        per_merchant_inspected: per merchant inspected by the integrity programme.
        per_payer_protected: per mobile payer covered by payment security, per week.
        per_new_connection: per consumer newly connected by the infrastructure lever.
        per_merchant_trained: per merchant trained by merchant promotion.
        per_parcel_facilitated: per cross-border parcel under facilitation (customs,
            logistics programmes), besides the logistics subsidy paid to carriers.
        per_kol_monitored: per KOL monitored for disclosure, per week.
        per_consumer_reached: per connected non-payer reached by rigid-demand services.
    """

    coupon_admin: Multiplier = 0.05
    kol_campaign_admin: Multiplier = 0.05
    channel_subsidy_admin: Multiplier = 0.05
    per_merchant_verified: Money = 200.0
    per_merchant_inspected: Money = 20.0
    per_payer_protected: Money = 0.2
    per_new_connection: Money = 50.0
    per_merchant_trained: Money = 100.0
    per_parcel_facilitated: Money = 5.0
    per_kol_monitored: Money = 10.0
    per_consumer_reached: Money = 0.1


# --------------------------------------------------------------------------- platforms


class PlatformSpec(StrictModel):
    """One super-app platform (mechanisms/platform.py, docs/platform.md).

    Attributes:
        initial_users: share of connected consumers who use it at start.
        innovation: weekly chance a connected non-user joins on its own.
        imitation: weekly chance of joining times the share of one's friends who use it.
        store_share: share of merchants with an official account / in-app store at start.
        store_adoption: weekly chance an adopting merchant without a store opens one
            (times ``exp(-fee_sensitivity * fee)``).
        fee: share of the goods value of in-app orders the merchant pays the platform.
        verification: weekly chance the platform checks a store's real name (before the
            ``platform_verification`` lever); a checked store with integrity below
            ``platforms.verification_cutoff`` is delisted, the others are badged.
        qr_acceptance: share of offline retailers that accept this platform's QR code at
            week 0, in every region; afterwards the retailers decide (mechanisms/o2o.py,
            ``o2o.qr_acceptance_gain``, ``o2o.qr_acceptance_rate``) [share].
    """

    initial_users: Probability = 0.1
    innovation: Probability = 0.002
    imitation: Probability = 0.1
    store_share: Probability = 0.45
    store_adoption: Probability = 0.01
    fee: Annotated[float, Field(ge=0.0, le=0.5)] = 0.02
    verification: Probability = 0.0
    qr_acceptance: Probability = 0.3


class Follows(StrictModel):
    """Consumer-merchant follow ties (official accounts).

    Attributes:
        slots: follow slots per consumer (a full consumer replaces its oldest tie).
        after_purchase: chance a platform user follows the store it bought from.
        after_share: chance a user follows a store a friend shared and it bought from.
        after_qr_scan: chance a user who paid by QR code offline follows a nearby store.
        after_ad: chance a user follows the store it bought from after an ad led it there
            (a KOL post, short video or app-market placement).
        loyalty: utility of buying again from a followed merchant (ease of re-purchase).
        post_appeal: extra utility of a followed merchant that posted this week.
        posts_per_week: posts an official account sends each follower per week.
        post_tolerance: posts per week a follower accepts before annoyance.
        unfollow_per_post: chance of unfollowing per post above the tolerance.
        unfollow_after_counterfeit: chance of unfollowing a merchant that sold one a fake.
    """

    slots: Annotated[int, Field(ge=1, le=32)] = 4
    after_purchase: Probability = 0.05
    after_share: Probability = 0.2
    after_qr_scan: Probability = 0.02
    after_ad: Probability = 0.05
    loyalty: Annotated[float, Field(ge=0.0, le=20.0)] = 0.3
    post_appeal: Annotated[float, Field(ge=0.0, le=20.0)] = 0.3
    posts_per_week: Annotated[float, Field(ge=0.0, le=100.0)] = 4.0
    post_tolerance: Annotated[float, Field(ge=0.0, le=100.0)] = 3.0
    unfollow_per_post: Probability = 0.05
    unfollow_after_counterfeit: Probability = 0.8


class Sharing(StrictModel):
    """Shares of a store to friends' circles and group chats.

    Attributes:
        share_rate: chance a platform user satisfied last week shares the store.
        share_appeal: utility of a store a friend shared this week.
    """

    share_rate: Probability = 0.1
    share_appeal: Annotated[float, Field(ge=0.0, le=20.0)] = 0.5


class GroupBuying(StrictModel):
    """Group chats (ego groups of the social graph) and group-buying offers.

    Attributes:
        group_size: mean size of a group chat (a member and its friends).
        offer_rate: weekly chance a group gets a group-buying offer from a store.
        join_probability: chance a member reached by the offer joins (per round).
        share_rate: chance a joiner shares the offer to the group and its friends.
        window: rounds (days) the offer stays open.
        min_buyers: buyers needed for the offer to succeed.
        discount_per_buyer: price cut per buyer beyond the first.
        max_discount: largest price cut.
    """

    group_size: Annotated[int, Field(ge=2, le=500)] = 8
    offer_rate: Probability = 0.02
    join_probability: Probability = 0.25
    share_rate: Probability = 0.5
    window: Annotated[int, Field(ge=1, le=30)] = 3
    min_buyers: Annotated[int, Field(ge=2, le=500)] = 3
    discount_per_buyer: Annotated[float, Field(ge=0.0, le=1.0)] = 0.03
    max_discount: Annotated[float, Field(ge=0.0, le=0.9)] = 0.3


class O2O(StrictModel):
    """Offline purchases paid by scanning a QR code (the offline channel of ordering).

    Attributes:
        qr_payment: chance a paying platform user pays a QR-accepting retailer by QR.
        first_qr_payment: chance a non-paying user pays by QR for the first time at such
            a retailer (it then pays by mobile: offline QR as the way into payment).
        qr_fee: share of a QR payment the retailer pays the platform.
        qr_acceptance_gain: extra sales an offline retailer expects from accepting a
            platform's QR code, per unit share of its region's consumers who hold the
            platform's wallet [share of its sales]; it accepts when
            ``qr_acceptance_gain * share >= qr_fee`` (mechanisms/o2o.py; direction:
            merchants accept a payment network more where more consumers use it, Rysman
            2007; size an assumption).
        qr_acceptance_rate: per week share of offline retailers that revise their decision
            on a platform's QR code [share / week] (assumption).
    """

    qr_payment: Probability = 0.8
    first_qr_payment: Probability = 0.05
    qr_fee: Annotated[float, Field(ge=0.0, le=0.5)] = 0.006
    qr_acceptance_gain: Annotated[float, Field(ge=0.0, le=10.0)] = 0.05
    qr_acceptance_rate: Probability = 0.1


class Search(StrictModel):
    """Mobile search of merchants (online and nearby).

    Attributes:
        search_rate: chance a consumer with a need, access and awareness searches.
        action_rate: chance a search leads to an action (a click, a visit, a call).
        search_appeal: extra utility of mobile sellers for one who acted on results.
    """

    search_rate: Probability = 0.3
    action_rate: Probability = 0.75
    search_appeal: Annotated[float, Field(ge=0.0, le=20.0)] = 1.6


class Platforms(StrictModel):
    """The super-app layer (mechanisms/platform.py, group_buying.py, o2o.py, attribution.py).

    Attributes:
        platforms: the platforms by name (at most 8).
        interoperability: chance a platform's payment works at another platform's store
            or QR code (before the ``interoperability`` lever).
        verification_cutoff: integrity below which a checked store is delisted.
        fee_sensitivity: how strongly the fee deters merchants from opening a store.
        multihoming_cost: share by which the weekly chance of joining a platform falls
            for a consumer who already uses another one (attention and switching cost of
            a second app) [share].
        wallet_imitation: weekly chance, times the share of one's friends holding the
            wallet, that a paying user of a platform who holds another platform's wallet
            activates this platform's wallet too (transfers and red packets among
            friends) [probability / week].
        checkout_activation: chance a user of platform p who holds another platform's
            wallet activates p's wallet at checkout at p's store when its wallet does not
            work there (no interoperability); else the payment fails [probability].
        record_merchants_every: keep each merchant's orders by channel every this many
            steps (``model.mechanisms.attribution.merchant_table``); 0 keeps only the
            running totals.
        follows: follow ties.
        sharing: shares to friends and groups.
        group_buying: group chats and group buying.
        o2o: offline QR payment.
        search: mobile search.
    """

    platforms: dict[Annotated[str, Field(min_length=1, max_length=100)], PlatformSpec] = Field(
        default_factory=lambda: {"superapp": PlatformSpec()}, min_length=1, max_length=8
    )
    interoperability: Probability = 0.0
    verification_cutoff: Probability = 0.8
    fee_sensitivity: Annotated[float, Field(ge=0.0, le=1000.0)] = 20.0
    multihoming_cost: Probability = 0.5
    wallet_imitation: Probability = 0.05
    checkout_activation: Probability = 0.5
    record_merchants_every: Weeks = 0
    follows: Follows = Follows()
    sharing: Sharing = Sharing()
    group_buying: GroupBuying = GroupBuying()
    o2o: O2O = O2O()
    search: Search = Search()


# --------------------------------------------------------------------------- policy


class Intervention(StrictModel):
    """One policy intervention on the time line (model/policy.py).

    Attributes:
        lever: which lever (see ``LEVERS``).
        start: first step at which it acts (steps count from 1).
        end: first step at which it no longer acts (None: until the end of the run).
        ramp: steps to reach full strength (0 or 1: full at once).
        strength: the lever's level at full strength (its unit depends on the lever).
        cost_per_step: spending per step at full strength, in yuan.
        label: a name for reports.
        countries: the countries where the lever acts, by name (``regions.*.country``;
            a region without one is its own country, named after the region); None:
            everywhere. Only levers of ``COUNTRY_LEVERS`` (infrastructure,
            cross_border_facilitation, payment_security, integrity, merchant_promotion,
            rigid_demand). The listed countries pay its cost
            (``policy_cost_by_country``); facilitation acts on the listed countries'
            imports (the pairs whose buyer is there: their tariffs, customs, subsidy);
            the others on the consumers (payment security, rigid demand) or merchants
            (integrity, promotion) of the listed countries' regions.
    """

    lever: Literal[LEVERS]  # type: ignore[valid-type]
    start: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 1
    end: Annotated[int, Field(ge=0, le=MAX_STEPS + 1)] | None = None
    ramp: Weeks = 0
    # each lever's maximum (LEVER_MAX, the one place) is checked in _ordered, in a message
    # that names the lever; the schema states the largest of them
    strength: Annotated[
        float, Field(ge=0.0, json_schema_extra={"maximum": max(LEVER_MAX.values())})
    ] = 1.0
    cost_per_step: Annotated[float, Field(ge=0.0, le=MAX_PROGRAMME_COST)] = 0.0
    label: str | None = None
    countries: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Intervention:
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"end ({self.end}) must come after start ({self.start}); "
                "an intervention acts on steps start <= t < end"
            )
        top = LEVER_MAX[self.lever]
        if self.strength > top:
            raise ValueError(
                f"strength {self.strength} of lever '{self.lever}' is above its maximum {top}"
            )
        if self.countries is not None:
            if self.lever not in COUNTRY_LEVERS:
                raise ValueError(
                    f"countries: lever '{self.lever}' acts on the whole world; only "
                    f"{', '.join(COUNTRY_LEVERS)} can be restricted to countries"
                )
            if not self.countries:
                raise ValueError("countries: list at least one country (omit it: everywhere)")
            if len(set(self.countries)) != len(self.countries):
                raise ValueError(f"countries: {list(self.countries)} names a country twice")
        return self


class Simulation(StrictModel):
    """Run settings.

    Attributes:
        steps: number of steps (weeks) to simulate.
        seed: default seed when none is given on the command line.
        space_max_consumers: above this many consumers the Mesa network space and its
            cells are built on first use rather than at start (see README, Performance
            and scale).
        record_consumers_every: keep every consumer's state every this many steps
            (step 0 included), for ``MarketModel.consumer_history()`` and the
            ``consumers/`` folder of ``mtsim run``; 0 (default) keeps no per-agent
            history. Costs about 20 bytes per consumer per record.
    """

    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 156
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 42
    space_max_consumers: Annotated[int, Field(ge=0, le=MAX_CONSUMERS)] = 200_000
    record_consumers_every: Weeks = 0


class Scenario(StrictModel):
    """A complete, validated scenario: world, behaviour and policy package.

    Attributes:
        name: short identifier used in file names and reports.
        description: what the scenario tests.
        simulation: run settings.
        population: agent counts.
        regions: regions by name, in order; the first is the 'home' region in reports.
        trade: cost and delay of delivery between regions.
        network: the social graph.
        word_of_mouth: diffusion rule and its parameters.
        marketing: merchant marketing budget and channels.
        merchants: merchant behaviour and integrity.
        kols: KOL behaviour.
        trust: trust dynamics.
        payment: mobile payment adoption.
        ordering: the weekly shopping choice (outside options, merchants).
        accounts: costs of goods, fraud losses, merchants' fixed costs and margins.
        merchant_dynamics: exit, entry and abandonment in response to profit.
        policy_costs: unit costs of each lever's activity.
        platforms: the super-app layer (None: no platform; docs/platform.md).
        policies: the policy package (list of interventions).
        targets: levels of run-table metrics whose first week ``mtsim compare`` reports
            (time to threshold), e.g. ``{payment_adoption: 0.5}`` or a list of levels.
    """

    name: str = "scenario"
    description: str = ""
    simulation: Simulation = Simulation()
    population: Population = Population()
    regions: dict[str, Region] = Field(
        default_factory=lambda: {
            "domestic": Region(
                population_share=0.8,
                merchant_share=0.7,
                mobile_access=0.6,
                initial_trust_domestic=0.45,
                initial_trust_foreign=0.3,
            ),
            "foreign": Region(
                population_share=0.2,
                merchant_share=0.3,
                mobile_access=0.7,
                initial_trust_domestic=0.5,
                initial_trust_foreign=0.3,
                price_level=1.3,
            ),
        }
    )
    trade: Trade = Trade()
    network: NetworkSettings = NetworkSettings()
    word_of_mouth: WordOfMouth = WordOfMouth()
    marketing: Marketing = Marketing()
    merchants: Merchants = Merchants()
    kols: KOLs = KOLs()
    trust: Trust = Trust()
    payment: Payment = Payment()
    ordering: Ordering = Ordering()
    accounts: Accounts = Accounts()
    merchant_dynamics: MerchantDynamics = MerchantDynamics()
    policy_costs: PolicyCosts = PolicyCosts()
    platforms: Platforms | None = None
    policies: tuple[Intervention, ...] = ()
    targets: dict[str, Targets] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.regions:
            raise ValueError("at least one region is needed")
        names = set(self.regions)
        for link in self.trade.links:
            for end in (link.origin, link.destination):
                if end not in names:
                    raise ValueError(
                        f"trade link names region '{end}', which is not one of {sorted(names)}"
                    )
        by = self.word_of_mouth.initial_aware_by
        if by.startswith("region:") and by.split(":", 1)[1] not in names:
            raise ValueError(
                f"word_of_mouth.initial_aware_by names region '{by.split(':', 1)[1]}', "
                f"which is not one of {sorted(names)}"
            )
        for channel_name, channel in self.marketing.channels.items():
            for region_name in channel.region_reach:
                if region_name not in names:
                    raise ValueError(
                        f"marketing.channels.{channel_name}.region_reach names region "
                        f"'{region_name}', which is not one of {sorted(names)}"
                    )
        if self.network.kind == "complete" and self.payment.reinforcement > 0:
            raise ValueError(
                "payment.reinforcement > 0 needs a network with ties: on network.kind "
                "'complete' (fully mixed) nobody has paying neighbours to count"
            )
        if self.network.kind == "complete" and self.word_of_mouth.rule != "bass":
            raise ValueError(
                "network.kind 'complete' (fully mixed, no edges) only works with "
                "word_of_mouth.rule 'bass'"
            )
        if (
            self.population.merchants > 0
            and sum(r.merchant_share for r in self.regions.values()) <= 0
        ):
            raise ValueError("regions.*.merchant_share must not all be 0 when there are merchants")
        countries = set(self.country_names)
        for number, iv in enumerate(self.policies):  # numbered as in other messages
            for country in iv.countries or ():
                if country not in countries:
                    raise ValueError(
                        f"policies.{number}.countries names '{country}', which is not a "
                        f"country of the regions ({', '.join(sorted(countries))})"
                    )
        cap = self.merchant_dynamics.max_merchants
        if cap is not None and cap < self.population.merchants:
            raise ValueError(
                f"merchant_dynamics.max_merchants ({cap}) is below population.merchants "
                f"({self.population.merchants}); the cap counts the starting merchants too"
            )
        return self

    @model_validator(mode="after")
    def _every_region_has_consumers(self) -> Scenario:
        """Refuse a population too small to give every region a consumer.

        A region of none has no social graph, no shares and no market.
        """
        shares = [r.population_share for r in self.regions.values()]
        n = self.population.consumers
        # every region's share is over 1 consumer: nothing to check
        if not shares or n * min(shares) >= 1.000001 * sum(shares):
            return self
        sizes = consumers_per_region(n, shares)
        empty = [name for name, size in zip(self.regions, sizes, strict=True) if size == 0]
        if empty:
            enough = int(sum(shares) / min(shares)) + 1  # every share is at least one consumer
            least = next(
                (
                    m
                    for m in range(n + 1, min(enough, n + 2000))
                    if min(consumers_per_region(m, shares)) > 0
                ),
                enough,
            )
            raise ValueError(
                f"population.consumers: {n}: too few for {len(shares)} regions (region "
                f"'{short_key(empty[0])}' would get none at population_share "
                f"{self.regions[empty[0]].population_share:g}); {least:,} consumers give "
                "every region one"
            )
        return self

    # ---- helpers
    @property
    def merchant_slots(self) -> int:
        """Merchants in business at once at most: the entry cap (``merchant_dynamics``)."""
        dyn, start = self.merchant_dynamics, self.population.merchants
        if dyn.max_merchants is not None:
            return max(start, dyn.max_merchants)
        return int(start * dyn.max_merchants_ratio)

    @property
    def region_names(self) -> list[str]:
        """Region names in order."""
        return list(self.regions)

    @property
    def region_countries(self) -> tuple[str, ...]:
        """Each region's country name, in region order (a region without ``country`` is its own)."""
        return tuple(
            r.country if r.country is not None else name for name, r in self.regions.items()
        )

    @property
    def country_names(self) -> list[str]:
        """Country names in order of first appearance among the regions."""
        return list(dict.fromkeys(self.region_countries))

    @property
    def region_country_codes(self) -> tuple[int, ...]:
        """Each region's country code (index into ``country_names``), in region order."""
        index = {name: i for i, name in enumerate(self.country_names)}
        return tuple(index[c] for c in self.region_countries)

    def resolved(self) -> dict[str, Any]:
        """Return the fully resolved scenario as plain JSON-ready data (defaults filled in)."""
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        """Return a short stable hash of the resolved scenario."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_id(scenario: Scenario, seed: int) -> str:
    """Return the identifier of one run: a hash of the resolved scenario and the seed."""
    text = json.dumps(
        {"scenario": scenario.resolved(), "seed": int(seed)}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_ids(scenario: Scenario, seeds: Iterable[int]) -> list[str]:
    """``run_id(scenario, seed)`` for many seeds, serialising the scenario once."""
    body = json.dumps(scenario.resolved(), sort_keys=True, separators=(",", ":"))
    prefix = ('{"scenario":' + body + ',"seed":').encode()
    return [hashlib.sha256(prefix + b"%d}" % int(seed)).hexdigest()[:16] for seed in seeds]


# --------------------------------------------------------------------------- loading


def read_yaml_mapping(
    path: Path, kind: str | None = None, error: type[Exception] = ScenarioError
) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping, with mtsim's one safe reader.

    See ``model.yamlio.read_yaml_mapping``: size limit, UTF-8, C safe loader,
    alias and nesting limits, duplicate keys and empty files refused, a file of
    another kind than ``kind`` named as such.

    Args:
        path: the file.
        kind: what the file must be ("scenario", "experiment", ...; None: any mapping).
        error: the exception raised, with a one-line message naming the file.
    """
    return _read_yaml_mapping(path, kind, error)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``.

    Mappings merge key by key, anything else replaces.
    """
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


MAX_EXTENDS = 50
"""Longest chain of ``extends:`` files."""


def read_scenario_data(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and everything it ``extends:``, merged, not yet validated."""
    path = Path(path)
    resolved_path = path.resolve()
    if resolved_path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, resolved_path))
        raise ScenarioError(f"{path}: extends: cycle ({cycle})")
    if len(_chain) >= MAX_EXTENDS:
        raise ScenarioError(
            f"{path}: extends: more than {MAX_EXTENDS} files deep (from {_chain[0]})"
        )
    data = read_yaml_mapping(path, "scenario")
    parent = data.pop("extends", None)
    # network.path is relative to the file that names it
    net = data.get("network")
    if isinstance(net, dict) and isinstance(net.get("path"), str):
        candidate = Path(net["path"])
        if not candidate.is_absolute():
            net["path"] = str((path.parent / candidate).resolve())
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(
            f"{path}: extends: must be a file name (string), got {type(parent).__name__}"
        )
    if not parent.strip() or len(parent) > 4096 or "\0" in parent:
        raise ScenarioError(f"{path}: extends: {describe_value(parent)}: not a usable file name")
    parent_path = Path(parent)
    if not parent_path.is_absolute():
        parent_path = path.parent / parent_path
    if not parent_path.exists():
        raise ScenarioError(f"{path}: extends: {parent!r}: file not found ({parent_path})")
    base = read_scenario_data(parent_path, (*_chain, resolved_path))
    _check_region_names(data, base, str(path), f"{parent} (extends)")
    return deep_merge(base, data)


def consumers_per_region(n: int, shares: Collection[float]) -> list[int]:
    """Split n consumers (or merchants) into regions by share: largest remainders.

    The one split: ``model.network.region_sizes`` builds the model's regions with it, and
    validation uses it to find a region that would be left without a consumer (NumPy is
    imported here so that loading a scenario does not import it).
    """
    import numpy as np

    weights = np.asarray(shares, dtype=float)
    weights = weights / weights.sum()
    raw = weights * n
    sizes = np.floor(raw).astype(np.int64)
    rest = n - sizes.sum()
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[:rest]] += 1
    return [int(size) for size in sizes]


def region_names(data: Mapping[str, Any]) -> list[str] | None:
    """Region names of plain scenario data: its ``regions`` (mapping or list), else the defaults.

    None when ``regions`` has a shape that validation will refuse anyway.
    """
    if "regions" not in data:
        factory = Scenario.model_fields["regions"].default_factory
        return list(factory()) if factory is not None else []  # type: ignore[call-arg]
    regions = data["regions"]
    if isinstance(regions, Mapping):
        return [str(name) for name in regions]
    if isinstance(regions, list) and all(isinstance(r, Mapping) and "name" in r for r in regions):
        return [str(r["name"]) for r in regions]
    return None


ADD_REGION_RULE = (
    "a region can be added only by a file whose regions block lists every region "
    "(the full set); --set and a partial regions block in a file that extends another "
    "can only change existing regions"
)
"""The rule for new region names (docs/robustness.md)."""


def _unknown_region(
    name: str, known: list[str], where: str, origin: str, fix: str
) -> ScenarioError:
    hint = close_match(name, known)
    return ScenarioError(
        f"{where}: no region {short_key(name)!r} in {origin}{hint} "
        f"(regions: {', '.join(known)}; {fix})"
    )


def _check_region_names(
    child: Mapping[str, Any], parent: Mapping[str, Any], where: str, origin: str
) -> None:
    """Check that a child's regions block names only the parent's regions, unless it lists all."""
    regions = child.get("regions")
    if isinstance(regions, (Mapping, list)) and not regions:  # merging {} would change nothing
        raise ScenarioError(
            f"{where}: regions: empty; a scenario needs at least one region; to keep the "
            f"regions of {origin}, leave the key out"
        )
    known = region_names(parent)
    if not isinstance(regions, Mapping) or known is None:
        return  # a list of regions, or no regions block: the child defines the set, or keeps it
    new = [str(name) for name in regions if str(name) not in known]
    if new and not set(known) <= {str(name) for name in regions}:
        raise _unknown_region(
            new[0],
            known,
            f"{where}: regions.{short_key(new[0])}",
            origin,
            "to add a region, list every region in this file's regions block",
        )


def parse_override(text: str, source: str = "--set") -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into its key path and YAML-parsed value."""
    if "=" not in text:
        raise ScenarioError(
            f"{source}: {text!r}: expected PATH=VALUE, e.g. population.consumers=2000"
        )
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"{source}: {text!r}: empty key in path")
    try:
        value = parse_yaml_value(raw, f"{source}: {short_key(key, 80)}")
    except YamlError as exc:
        raise ScenarioError(str(exc)) from None
    return key.split("."), value


def set_path(data: dict[str, Any], keys: list[str], value: Any, source: str) -> None:
    """Set ``data[k1][k2]...`` = value, creating mappings as needed; list items by index."""
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = _list_item(node, key, keys[: depth + 1], source)
            continue
        nxt = node.get(key)
        if nxt is None:
            nxt = {}
            node[key] = nxt
        node = nxt
    last = keys[-1]
    if isinstance(node, list):
        idx = _list_index(node, last, keys, source)
        node[idx] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(
            f"{source}: {'.'.join(keys)}: {'.'.join(keys[:-1])} is a value, not a section"
        )


def _list_index(node: list, key: str, keys: list[str], source: str) -> int:
    try:
        idx = int(key)
    except ValueError:
        raise ScenarioError(
            f"{source}: {'.'.join(keys)}: {key!r} must be a list index (0 to {len(node) - 1})"
        ) from None
    if not -len(node) <= idx < len(node):
        raise ScenarioError(
            f"{source}: {'.'.join(keys)}: index {idx} out of range (list has {len(node)} items)"
        )
    return idx


def _list_item(node: list, key: str, keys: list[str], source: str) -> Any:
    return node[_list_index(node, key, keys, source)]


# --------------------------------------------------------------------------- population size

MIN_MERCHANTS_PER_REGION = 5
"""Fewest merchants per region a resized market keeps (or the scenario's own number)."""

MIN_KOLS = 3
"""Fewest KOLs a resized market keeps (or the scenario's own number)."""

COUNT_LABELS = {"merchants": "merchants", "kols": "KOLs"}
"""The counts that scale with the consumers, as messages name them."""


class PopulationScaled(UserWarning):
    """Merchants and KOLs were scaled with a new ``population.consumers`` (one-line message)."""


def _count(value: Any) -> int | None:
    """Return ``value`` when it is a whole number (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _largest(name: str) -> int:
    """Return the schema's upper bound of ``population.<name>``."""
    return next(m.le for m in Population.model_fields[name].metadata if hasattr(m, "le"))


def _population_counts(data: Mapping[str, Any]) -> dict[str, int | None]:
    """Return consumers, merchants and KOLs of plain scenario data (schema defaults if absent)."""
    population = data.get("population")
    given = population if isinstance(population, Mapping) else {}
    fields = Population.model_fields
    return {
        name: _count(given.get(name, fields[name].default))
        for name in ("consumers", "merchants", "kols")
    }


def scaled_population(data: Mapping[str, Any], consumers: int) -> dict[str, int]:
    """Return the merchants and KOLs of ``data``'s market resized to ``consumers`` consumers.

    Each count keeps its number per consumer in ``data`` (plain scenario data: a file
    merged with what it extends, or ``Scenario.resolved()``; a count it does not give
    is the schema's default), rounded to a whole number, with at least
    :data:`MIN_MERCHANTS_PER_REGION` merchants per region and :data:`MIN_KOLS` KOLs
    (or the scenario's own number when it has fewer; 0 stays 0), and at most the
    schema's maximum and ``merchant_dynamics.max_merchants``. The baseline's 2,000
    consumers, 80 merchants and 8 KOLs become 800 merchants and 80 KOLs at 20,000
    consumers, 12 merchants and 3 KOLs at 300.

    Returns:
        ``{"merchants": M, "kols": K}``; empty when ``consumers`` or ``data``'s counts
        are not usable numbers (validation reports them).
    """
    base = _population_counts(data)
    if _count(consumers) is None or consumers < 1 or None in base.values():
        return {}
    if base["consumers"] < 1 or base["merchants"] < 0 or base["kols"] < 0:
        return {}
    ratio = consumers / base["consumers"]
    regions = len(region_names(data) or ()) or 1
    floors = {"merchants": MIN_MERCHANTS_PER_REGION * regions, "kols": MIN_KOLS}
    scaled = {}
    for name, floor in floors.items():
        start = base[name]
        count = 0 if start == 0 else max(min(start, floor), round(start * ratio))
        scaled[name] = min(count, _largest(name))
    dynamics = data.get("merchant_dynamics")
    cap = _count(dynamics.get("max_merchants")) if isinstance(dynamics, Mapping) else None
    if cap is not None and cap >= 0:
        scaled["merchants"] = min(scaled["merchants"], cap)
    return scaled


def keep_proportions(
    before: Mapping[str, Any], after: dict[str, Any], chosen: Collection[str]
) -> str | None:
    """Scale ``after``'s merchants and KOLs with its consumers, in ``before``'s proportions.

    Only when ``population.consumers`` is one of the ``chosen`` dotted paths (those
    the caller set), and only the counts that are not chosen too. ``after`` (plain
    data, ``before`` with the chosen values) is changed in place: its ``population``
    mapping must be its own, not shared with ``before``.

    Returns:
        The one-line note of what was scaled, or None when nothing changed.
    """
    population = after.get("population")
    if "population.consumers" not in chosen or not isinstance(population, dict):
        return None
    consumers = population.get("consumers")
    current = _population_counts(after)
    changed = {
        name: count
        for name, count in scaled_population(before, consumers).items()
        if f"population.{name}" not in chosen and count != current[name]
    }
    if not changed:
        return None
    population.update(changed)
    scaled = " and ".join(f"{COUNT_LABELS[n]} {c}" for n, c in changed.items())
    was = " and ".join(str(current[n]) for n in changed)
    keys = " / ".join(f"population.{n}" for n in changed)
    return (
        f"population.consumers={consumers}: {scaled} scaled with it "
        f"(from {was}; set {keys} to choose)"
    )


def apply_overrides(
    data: Mapping[str, Any],
    overrides: Iterable[str] | Mapping[str, Any],
    source: str = "--set",
    *,
    fixed: Collection[str] = (),
) -> dict[str, Any]:
    """Apply ``--set`` style overrides (strings ``a.b=v`` or a mapping of dotted path to value).

    A new ``population.consumers`` keeps the market's proportions: merchants and KOLs
    are scaled with it (:func:`scaled_population`) unless the overrides set them too
    or they are among ``fixed`` (dotted paths the caller sets elsewhere), and a
    :class:`PopulationScaled` warning says what was scaled.
    """
    out = copy.deepcopy(dict(data))
    items: list[tuple[list[str], Any]]
    if isinstance(overrides, Mapping):
        items = [(str(k).split("."), v) for k, v in overrides.items()]
    else:
        items = [parse_override(text, source) for text in overrides]
    if any(keys[0] == "regions" and len(keys) > 1 for keys, _ in items):
        out = _normalise(out, source)
    for keys, value in items:
        if keys[0] == "regions" and len(keys) > 1:
            known = region_names(out)
            if known is not None and keys[1] not in known:
                raise _unknown_region(
                    keys[1],
                    known,
                    f"{source}: {short_key('.'.join(keys), 80)}",
                    "the scenario",
                    "an override cannot add a region",
                )
        if keys[0] in ("policies",) and isinstance(out.get("policies"), tuple):
            out["policies"] = list(out["policies"])
        set_path(out, keys, value, source)
    note = keep_proportions(data, out, {*(".".join(keys) for keys, _ in items), *fixed})
    if note is not None:
        # the warning names the caller's line, outside this package
        warnings.warn(note, PopulationScaled, skip_file_prefixes=(str(Path(__file__).parent),))
    return out


# Keys a scenario could have in an earlier version, with what replaced them (named in the error).
RETIRED_KEYS: dict[tuple[str, ...], str] = {
    ("kols", "min_followers"): (
        "follower counts are shares of the consumers now; set kols.follows_per_consumer "
        "(mean number of KOLs a consumer follows) instead"
    ),
}


def _normalise(data: dict[str, Any], source: str = "<scenario>") -> dict[str, Any]:
    """Accept ``regions`` as a list of ``{name: ...}`` items too (each name once).

    Raises:
        ScenarioError: two items of the list have the same name.
    """
    regions = data.get("regions")
    if isinstance(regions, list):
        out = {}
        for number, item in enumerate(regions):
            if isinstance(item, dict) and "name" in item:
                item = dict(item)
                name = str(item.pop("name"))
                if name in out:
                    first = next(i for i, r in enumerate(regions) if str(r.get("name")) == name)
                    raise ScenarioError(
                        f"{source}: regions.{number}.name: {short_key(name)!r} is the name of "
                        f"regions.{first} too; give each region its own name"
                    )
                out[name] = item
            else:
                return data
        data = dict(data, regions=out)
    return data


def scenario_from_dict(
    data: Mapping[str, Any],
    source: str = "<scenario>",
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Validate plain data (already merged with any parent) into a Scenario.

    A problem that only the overrides bring in is reported against ``--set``.
    """
    overrides = overrides if isinstance(overrides, Mapping) else list(overrides)
    merged = (
        apply_overrides(data, overrides, source=f"{source}: --set") if overrides else dict(data)
    )
    merged = _normalise(merged, source)
    merged.pop("extends", None)
    try:
        return Scenario.model_validate(merged)
    except ValidationError as exc:
        where = source
        if overrides:
            plain = _normalise(dict(data), source)
            plain.pop("extends", None)
            try:
                Scenario.model_validate(plain)
                where = f"{source}: --set"
            except ValidationError:
                pass
        raise ScenarioError(
            validation_message(exc, where, Scenario, retired=RETIRED_KEYS)
        ) from None


def load_scenario(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = ()) -> Scenario:
    """Load, merge (``extends:``), override (``--set``) and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: ``["a.b=value", ...]`` or ``{"a.b": value}``, validated like the file.
            As with ``mtsim run --set``, a new ``population.consumers`` keeps the
            market's proportions: ``population.merchants`` and ``population.kols`` are
            scaled with it (:func:`scaled_population`: 20,000 consumers on the baseline
            give 800 merchants and 80 KOLs) unless the overrides set them too, and a
            :class:`PopulationScaled` warning (a ``UserWarning``) says so.

    Returns:
        The immutable, validated Scenario. A file without ``name:`` is named after its file.

    Raises:
        ScenarioError: with a one-line message per problem.
    """
    path = Path(path)
    data = read_scenario_data(path)
    data.setdefault("name", path.stem)
    return scenario_from_dict(data, source=str(path), overrides=overrides)


def scenario_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of scenario files (``mtsim schema``)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file (relative to this one) to inherit from",
    }
    schema["title"] = "mtsim scenario"
    return schema
