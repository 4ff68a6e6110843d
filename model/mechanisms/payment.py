"""Mobile payment adoption: peers and convenience push, perceived insecurity holds back.

Rule: a connected consumer who does not pay by mobile adopts in a step with
probability

    P = min(1, convenience_rate + rigid_demand_rate + peer_influence * s_i) * (1 - rho_i)

where ``s_i`` is the share of the consumer's neighbours who pay by mobile (the
population share on a fully mixed graph), ``rigid_demand_rate`` the habit built
by bill payment, top-ups and tickets (raised by the ``rigid_demand`` lever), and
``rho_i = min(1, perceived_risk_r + risk_extra_i)`` the perceived insecurity, with
``perceived_risk_r`` that of the consumer's region r (lowered by the
``payment_security`` lever where it acts). ``rigid_demand_rate`` is likewise that of the
consumer's region (model/policy.py: both levers may act in some countries only). P is
multiplied by the consumer's ``payment_propensity`` (model/population.py) and by the
merchants' acceptance factor of its region (mechanisms/acceptance.py). A consumer who
wants to buy but does not pay by mobile adopts at checkout with probability
``checkout_adoption * (1 - rho_i)`` (mechanisms/ordering.py).

Fraud: each paying consumer is defrauded in a step with probability
``fraud_rate`` of its region (stolen cards, lost phones; lowered by
``payment_security``). A
victim stops paying by mobile with probability ``abandon_after_fraud``, its
personal risk perception rises to certainty for a while (``risk_extra = 1``),
and each of its neighbours' risk perception rises by ``risk_from_fraud_news``.
Personal extra risk fades by share ``risk_decay`` per step.

Source (docs/domain.md, Mechanisms > Mobile payment): "Mobile payment spreads with peers and
convenience and is held back by perceived insecurity (stolen cards, lost
phones). Low-threshold 'rigid demand' uses ... build the payment habit first".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.mechanisms import acceptance
from model.scenario import Payment

if TYPE_CHECKING:
    from model.network import SocialGraph
    from model.policy import EffectiveParameters


def perceived_risk(base_risk: float | np.ndarray, risk_extra: np.ndarray) -> np.ndarray:
    """Each consumer's perceived insecurity of mobile payment, in [0, 1].

    Args:
        base_risk: per consumer, the base perceived risk of its region (or one number).
        risk_extra: per consumer, extra perceived risk from fraud (the result has its
            dtype: the state's float32).
    """
    base = np.asarray(base_risk).astype(risk_extra.dtype)
    return np.minimum(1.0, base + risk_extra)


def adoption_probability(
    spec: Payment,
    rigid_demand_rate: float | np.ndarray,
    peer_share: np.ndarray,
    risk: np.ndarray,
) -> np.ndarray:
    """Per step chance that a connected non-payer adopts mobile payment.

    ``rigid_demand_rate``: per consumer, that of its region (or one number).
    """
    push = np.minimum(
        1.0, spec.convenience_rate + rigid_demand_rate + spec.peer_influence * peer_share
    )
    return push * (1.0 - risk)


def fraud_victims(
    payment: np.ndarray, fraud_rate: float | np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Which paying consumers are defrauded this step.

    ``fraud_rate``: per consumer, that of its region, or one number; one draw per
    consumer either way.
    """
    return payment & (rng.random(payment.size) < fraud_rate)


def update_risk(
    spec: Payment,
    risk_extra: np.ndarray,
    victims: np.ndarray,
    victim_neighbours: np.ndarray,
) -> np.ndarray:
    """Personal extra risk perception after this step's fraud and fraud news."""
    extra = risk_extra.astype(np.float64) * (1.0 - spec.risk_decay)
    extra = extra + spec.risk_from_fraud_news * victim_neighbours
    extra = np.where(victims, 1.0, extra)
    return np.clip(extra, 0.0, 1.0).astype(np.float32)


@dataclass
class PaymentWeek:
    """Mobile payment this week, before checkout adoption.

    Attributes:
        risk: per consumer, perceived payment risk (0..1).
        victims: per consumer, defrauded this week.
        pays: per consumer, pays by mobile: adopters in, abandoning victims and lapsing
            payers out.
    """

    risk: np.ndarray
    victims: np.ndarray
    pays: np.ndarray


def payment_week(
    spec: Payment,
    params: EffectiveParameters,
    graph: SocialGraph,
    rng: np.random.Generator,
    *,
    payment: np.ndarray,
    risk_extra: np.ndarray,
    propensity: np.ndarray,
    region: np.ndarray,
    has_access: np.ndarray,
    stops_paying: np.ndarray,
    accepts: np.ndarray,
    adopted: np.ndarray,
    merchant_region: np.ndarray,
    n_regions: int,
) -> PaymentWeek:
    """Draw adoption (faster where merchants accept: mechanisms/acceptance.py) and fraud.

    Args:
        spec: the payment section.
        params: the week's effective parameters (risk, fraud and rigid-demand rates per
            region, read by the consumer's region).
        graph: the social graph (peers who pay).
        rng: the phase's generator.
        payment: per consumer, pays by mobile at the start of the week.
        risk_extra: per consumer, extra perceived risk from fraud.
        propensity: per consumer, its attribute group's payment propensity (1 without
            attributes; model/population.py).
        region: per consumer, its region.
        has_access: per consumer, mobile access this week.
        stops_paying: per consumer, payers who lapse this week (mechanisms/lapse.py).
        accepts: per merchant, accepts mobile payment.
        adopted: per merchant, sells through mobile channels.
        merchant_region: per merchant, its region.
        n_regions: number of regions.
    """
    n = payment.size
    risk = perceived_risk(params.perceived_risk[region], risk_extra)
    if graph.fully_mixed:
        peer_share = np.full(n, float(payment.mean()))
    else:
        degree = graph.degree
        paying_neighbours = graph.neighbour_counts(payment, track="payment").astype(np.float32)
        peer_share = np.where(degree > 0, paying_neighbours / np.maximum(degree, 1), 0.0)
    rigid = params.rigid_demand_rate[region]
    adopt_p = adoption_probability(spec, rigid, peer_share, risk) * propensity
    if spec.acceptance_weight > 0.0 and accepts.size:
        share = acceptance.acceptance_share(accepts, adopted, merchant_region, n_regions)
        adopt_p = adopt_p * acceptance.adoption_factor(spec.acceptance_weight, share)[region]
    adopts = has_access & ~payment & (rng.random(n) < adopt_p)
    victims = fraud_victims(payment, params.fraud_rate[region], rng)
    abandons = victims & (rng.random(n) < spec.abandon_after_fraud)
    return PaymentWeek(risk, victims, (payment | adopts) & ~abandons & ~stops_paying)
