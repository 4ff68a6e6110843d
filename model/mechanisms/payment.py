"""Mobile payment adoption: peers and convenience push, perceived insecurity holds back.

Rule: a connected consumer who does not pay by mobile adopts in a step with
probability

    P = min(1, convenience_rate + rigid_demand_rate + peer_influence * s_i) * (1 - rho_i)

where ``s_i`` is the share of the consumer's neighbours who pay by mobile (the
population share on a fully mixed graph), ``rigid_demand_rate`` the habit built
by bill payment, top-ups and tickets (raised by the ``rigid_demand`` lever), and
``rho_i = min(1, perceived_risk + risk_extra_i)`` the perceived insecurity
(lowered by the ``payment_security`` lever). A consumer who wants to buy but
does not pay by mobile adopts at checkout with probability
``checkout_adoption * (1 - rho_i)`` (mechanisms/ordering.py).

Fraud: each paying consumer is defrauded in a step with probability
``fraud_rate`` (stolen cards, lost phones; lowered by ``payment_security``). A
victim stops paying by mobile with probability ``abandon_after_fraud``, its
personal risk perception rises to certainty for a while (``risk_extra = 1``),
and each of its neighbours' risk perception rises by ``risk_from_fraud_news``.
Personal extra risk fades by share ``risk_decay`` per step.

Source (docs/domain.md, Mechanisms > Mobile payment): "Mobile payment spreads with peers and
convenience and is held back by perceived insecurity (stolen cards, lost
phones). Low-threshold 'rigid demand' uses ... build the payment habit first".
"""

from __future__ import annotations

import numpy as np

from model.scenario import Payment


def perceived_risk(base_risk: float, risk_extra: np.ndarray) -> np.ndarray:
    """Each consumer's perceived insecurity of mobile payment, in [0, 1]."""
    return np.minimum(1.0, base_risk + risk_extra)


def adoption_probability(
    spec: Payment,
    rigid_demand_rate: float,
    peer_share: np.ndarray,
    risk: np.ndarray,
) -> np.ndarray:
    """Per step chance that a connected non-payer adopts mobile payment."""
    push = np.minimum(
        1.0, spec.convenience_rate + rigid_demand_rate + spec.peer_influence * peer_share
    )
    return push * (1.0 - risk)


def fraud_victims(payment: np.ndarray, fraud_rate: float, rng: np.random.Generator) -> np.ndarray:
    """Which paying consumers are defrauded this step."""
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
