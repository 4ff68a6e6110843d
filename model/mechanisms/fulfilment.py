"""Fulfilment and integrity: genuine or counterfeit, verification, detection and penalties.

Rules, per order to merchant j:

- Verification: a verified (real-name) merchant cheats less: its effective
  integrity is ``g_j = 1 - (1 - integrity_j)(1 - verified_integrity_effect)``;
  unverified, ``g_j = integrity_j``. Each step an unverified merchant verifies
  with probability L of the ``integrity`` lever in its region (the lever may act in
  some countries only: model/policy.py).
- The sale is genuine with probability ``g_j``; otherwise it is a counterfeit
  incident: the buyer is cheated (trust loss, warning to neighbours).
- A counterfeit is detected with probability ``d`` (``detection_probability`` of the
  selling merchant's region, raised by the ``integrity`` lever there), and for a
  verified merchant
  ``1 - (1 - d)(1 - verified_detection_bonus)``. Each detection fines the
  merchant ``penalty`` times the order's goods value and costs ``reputation_penalty``
  of reputation; a merchant caught in a week reforms once that week, however many
  detections: share ``reform_rate`` of its integrity gap closes.
- Low enforcement erodes integrity: a merchant that sold counterfeits this week
  and was not caught loses share ``integrity_erosion`` of its integrity (cheating
  paid). Verification lapses with chance ``verification_lapse`` per week (it must
  be renewed; the ``integrity`` lever re-verifies).
- Reputation follows the genuine share of the merchant's sales:
  ``rep += reputation_learning * (genuine share - rep)`` when it sold anything.
- Revenue is the goods value of the merchant's orders (logistics and tariffs go to
  carriers and the state; coupons are reimbursed by the state); fines are paid to
  the state separately (model/mechanisms/accounts.py).

Source (docs/domain.md, Mechanisms > Integrity): "Each sale is genuine with the merchant's
integrity probability. Verified (real-name) merchants are less likely to cheat
and more likely to be caught and penalised when they do."
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.scenario import Merchants


@dataclass
class Fulfilment:
    """The outcome of this step's orders.

    Attributes:
        genuine: per order, the product was genuine.
        detected: per order, a counterfeit that was detected.
        counterfeits_by_merchant: counterfeit sales per merchant.
        sales_by_merchant: orders per merchant.
        revenue_by_merchant: goods value of the orders per merchant (before fines).
        detections_by_merchant: detected counterfeits per merchant.
        fines_by_merchant: fines per merchant.
    """

    genuine: np.ndarray
    detected: np.ndarray
    counterfeits_by_merchant: np.ndarray
    sales_by_merchant: np.ndarray
    revenue_by_merchant: np.ndarray
    detections_by_merchant: np.ndarray
    fines_by_merchant: np.ndarray


def effective_integrity(spec: Merchants, integrity: np.ndarray, verified: np.ndarray) -> np.ndarray:
    """Chance each merchant's sale is genuine, after verification."""
    cheat = (1.0 - integrity.astype(np.float64)) * np.where(
        verified, 1.0 - spec.verified_integrity_effect, 1.0
    )
    return 1.0 - cheat


def fulfil(
    spec: Merchants,
    rng: np.random.Generator,
    order_merchant: np.ndarray,
    goods_value: np.ndarray,
    integrity: np.ndarray,
    verified: np.ndarray,
    detection_probability: np.ndarray,
    order_consumer: np.ndarray,
    n_consumers: int,
) -> Fulfilment:
    """Draw genuine/counterfeit for every order, detections and fines.

    ``detection_probability``: per merchant, that of its region (each order's counterfeit
    is caught by the enforcement where the seller is).
    """
    m = integrity.size
    g = effective_integrity(spec, integrity, verified)
    # two uniforms per consumer, ordering or not (one order a week at most): a buyer's
    # draws do not depend on who else ordered (common random numbers between scenarios)
    draw = rng.random((2, n_consumers))[:, order_consumer]
    genuine = draw[0] < g[order_merchant]
    d = np.asarray(detection_probability, dtype=np.float64)[order_merchant]
    detect = 1.0 - (1.0 - d) * np.where(
        verified[order_merchant], 1.0 - spec.verified_detection_bonus, 1.0
    )
    detected = ~genuine & (draw[1] < detect)
    counterfeits = np.bincount(order_merchant[~genuine], minlength=m)
    sales = np.bincount(order_merchant, minlength=m)
    detections = np.bincount(order_merchant[detected], minlength=m)
    fines = np.bincount(
        order_merchant[detected], weights=spec.penalty * goods_value[detected], minlength=m
    )
    revenue = np.bincount(order_merchant, weights=goods_value, minlength=m)
    return Fulfilment(genuine, detected, counterfeits, sales, revenue, detections, fines)


def update_merchants_after_sales(
    spec: Merchants,
    integrity: np.ndarray,
    reputation: np.ndarray,
    outcome: Fulfilment,
) -> tuple[np.ndarray, np.ndarray]:
    """Return new integrity (reform after penalties) and reputation (genuine share, penalties)."""
    sold = outcome.sales_by_merchant > 0
    genuine_share = np.where(
        sold,
        1.0 - outcome.counterfeits_by_merchant / np.maximum(outcome.sales_by_merchant, 1),
        0.0,
    )
    rep = reputation.astype(np.float64)
    rep = np.where(sold, rep + spec.reputation_learning * (genuine_share - rep), rep)
    penalised = outcome.detections_by_merchant > 0
    rep = rep - spec.reputation_penalty * outcome.detections_by_merchant
    integ = integrity.astype(np.float64)
    integ = np.where(penalised, integ + spec.reform_rate * (1.0 - integ), integ)
    got_away = (outcome.counterfeits_by_merchant > 0) & ~penalised
    integ = np.where(got_away, integ * (1.0 - spec.integrity_erosion), integ)
    return np.clip(integ, 0.0, 1.0).astype(np.float32), np.clip(rep, 0.0, 1.0).astype(np.float32)


def verify(
    spec: Merchants,
    verified: np.ndarray,
    verification_rate: float | np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the verified flags after this step's lapses and verifications.

    Verifications lapse with ``verification_lapse``; unverified merchants verify with the
    lever's probability this step (``verification_rate``: per merchant, that of its
    region, or one number; one draw per merchant, only when either can happen).
    """
    if not np.any(np.asarray(verification_rate) > 0.0) and spec.verification_lapse <= 0.0:
        return verified
    draw = rng.random(verified.size)
    return np.where(verified, draw >= spec.verification_lapse, draw < verification_rate)
