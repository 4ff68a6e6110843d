"""Lapse: consumers stop shopping by mobile, stop paying, forget.

Rules, per week (evaluated on the start-of-week state; only in a model with merchants,
so the word-of-mouth docking with merchants and KOLs off is unchanged):

- Forgetting (lapsing from mobile shopping): an aware consumer lapses, becoming unaware
  again (and must be reached again by word of mouth, marketing or a KOL), with chance

      P_forget = forget_rate * [did not buy genuine goods last week]
                 + lapse_after_harm * (1 - exp(-bad_memory)),

  where ``bad_memory`` is the consumer's memory of counterfeits received
  (mechanisms/trust.py). Idle consumers drift away; cheated ones leave.
- Stopping payment: a consumer paying by mobile stops with chance

      P_stop = lapse_rate * risk_extra + disuse_rate * [no mobile order last week]

  a week, ``risk_extra`` being its personal extra perceived payment risk from its own
  or its neighbours' fraud (mechanisms/payment.py). (On the week of a fraud, the victim
  also stops at once with chance ``abandon_after_fraud``.) Disuse: a payer who keeps
  not using it drifts away (dormant accounts; a memoryless chance per idle week, so a
  payer idle for a year stops with chance ``1 - (1 - disuse_rate)^52``; assumption).

The lapse phase only decides who lapses (signals ``forgets`` and ``stops_paying``); the
word-of-mouth phase stages the awareness and the payment phase's ``pays`` carries the
stopping, so each state field is still written by one phase.

Source: docs/domain.md, Mechanisms > Trust ("falls sharply with counterfeits, fraud and
privacy leaks") and Mechanisms > Mobile payment (held back by perceived insecurity).
Rates: assumptions (see scenarios/baseline.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.scenario import Scenario


def forgetting(
    forget_rate: float,
    lapse_after_harm: float,
    aware: np.ndarray,
    satisfied_last_week: np.ndarray,
    bad_memory: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Aware consumers who lapse from mobile shopping this week."""
    if forget_rate <= 0.0 and lapse_after_harm <= 0.0:
        return np.zeros(aware.size, dtype=bool)
    p = np.where(satisfied_last_week, np.float32(0.0), np.float32(forget_rate))
    harmed = np.flatnonzero(bad_memory)  # few consumers carry a memory of harm
    p[harmed] += np.float32(lapse_after_harm) * -np.expm1(-bad_memory[harmed])
    return aware & (rng.random(aware.size, dtype=np.float32) < p)


def stopping_payment(
    lapse_rate: float,
    payment: np.ndarray,
    risk_extra: np.ndarray,
    rng: np.random.Generator,
    disuse_rate: float = 0.0,
    used_last_week: np.ndarray | None = None,
) -> np.ndarray:
    """Payers who stop paying by mobile this week: personal extra risk, or disuse.

    Chance ``lapse_rate * risk_extra + disuse_rate * [no mobile order last week]``
    (``used_last_week`` None: every payer counts as a user).
    """
    if lapse_rate <= 0.0 and disuse_rate <= 0.0:
        return np.zeros(payment.size, dtype=bool)
    p = np.float32(lapse_rate) * risk_extra
    if disuse_rate > 0.0 and used_last_week is not None:
        p = p + np.where(used_last_week, np.float32(0.0), np.float32(disuse_rate))
    draw = rng.random(payment.size, dtype=np.float32)
    return payment & (draw < p)


def lapse_week(
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    aware: np.ndarray,
    satisfied_from: np.ndarray,
    bad_memory: np.ndarray,
    payment: np.ndarray,
    risk_extra: np.ndarray,
    cheated_from: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return who forgets and who stops paying this week (nobody without merchants).

    Args:
        scenario: the scenario (``word_of_mouth`` and ``payment`` rates).
        rng: the phase's generator.
        aware: per consumer, aware of mobile shopping.
        satisfied_from: per consumer, region of last week's genuine purchase (-1 none).
        bad_memory: per consumer, memory of counterfeits.
        payment: per consumer, pays by mobile.
        risk_extra: per consumer, extra perceived payment risk.
        cheated_from: per consumer, region of last week's counterfeit (-1 none; None:
            nobody); with ``satisfied_from``, who ordered by mobile last week.
    """
    if cheated_from is None:
        cheated_from = np.full(aware.size, -1, dtype=np.int16)
    if scenario.population.merchants == 0:
        nobody = np.zeros(aware.size, dtype=bool)
        return nobody, nobody
    wom = scenario.word_of_mouth
    forgets = forgetting(
        wom.forget_rate, wom.lapse_after_harm, aware, satisfied_from >= 0, bad_memory, rng
    )
    pay = scenario.payment
    used = (satisfied_from >= 0) | (cheated_from >= 0)
    stops = stopping_payment(pay.lapse_rate, payment, risk_extra, rng, pay.disuse_rate, used)
    return forgets, stops
