"""Trust in domestic and in foreign sellers: gained slowly, lost sharply; it gates buying.

Rule: each consumer holds trust ``tau_d`` in sellers of the own region and
``tau_f`` in sellers of other regions. Signals of the step add up to a gain G
and a loss L (hazard rates), and trust moves as

    tau' = tau + (1 - tau)(1 - exp(-G))     then     tau'' = tau' exp(-L),

which keeps trust in [0, 1]. Gains: a genuine purchase (``experience_gain``),
each satisfied neighbour's recommendation (``wom_gain``), credible KOL exposure
(``kol_gain``). Losses: a counterfeit received (``counterfeit_loss``), each
cheated neighbour's warning (``wom_gain * negative_weight``), a privacy leak
(``privacy_leak_rate`` per step, ``fraud_loss``). A share ``foreign_spillover``
of every domestic signal also reaches foreign trust and vice versa. Trust gates
buying: below ``purchase_threshold`` a consumer will not buy from that region
at all (mechanisms/ordering.py).

Trust rises from own experience, from people one knows (satisfied neighbours) and
from credible KOLs one follows, and only for endorsements whose product proved
genuine (mechanisms/kol.py); advertising and coupons build none.

One event, its effects (each party updates once; nothing is counted twice):

=====================  ==============================================================
event                  effects
=====================  ==============================================================
counterfeit received   buyer: trust in the seller's region falls (``counterfeit_loss``,
                       spillover to the other kind); memory of harm rises
                       (``memory_gain``: damps purchases, mechanisms/ordering.py, and
                       drives lapse, mechanisms/lapse.py). Neighbours, next week: a
                       warning (``wom_gain * negative_weight`` on trust in that region)
                       naming the merchant, whom they avoid (``warned_merchant``).
                       Merchant: if detected, a fine and lost reputation
                       (mechanisms/fulfilment.py).
payment fraud          victim: perceived payment risk set to 1 (adoption, checkout and
                       payment lapse, mechanisms/payment.py, lapse.py); stops paying at
                       once with chance ``abandon_after_fraud``. Neighbours: payment
                       risk rises by ``risk_from_fraud_news``. Not trust in sellers and
                       not the memory of harm: the sellers did not cause it.
privacy leak           the consumer's trust falls (``fraud_loss``, both kinds of seller).
fake KOL endorsement   the KOL's credibility falls (``fake_penalty``); followers gain no
                       trust from it (they still saw it: awareness and purchase lift).
=====================  ==============================================================

Source (docs/domain.md, Mechanisms > Trust): "Trust gates buying ... Trust rises with good
experiences and trusted recommendations and falls sharply with counterfeits,
fraud and privacy leaks. Trust in foreign sellers is separate and lower at first."
"""

from __future__ import annotations

import numpy as np


def split_by_home(signal: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split per-region signals (n x R) into the own-region part and the rest."""
    if signal.shape[1] == 0:
        zero = np.zeros(signal.shape[0], dtype=np.float32)
        return zero, zero
    if signal.shape[1] == 2:
        # the same values as below (a row sum of two is first + second), ~20x faster
        first, second = signal[:, 0], signal[:, 1]
        own = np.where(region == 0, first, second)
        return own, (first + second) - own
    own = signal[np.arange(signal.shape[0]), region]
    return own, signal.sum(axis=1) - own


def one_hot_experience(
    source_region: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Own experience this step as (domestic, foreign) indicators (source_region -1: none)."""
    has = source_region >= 0
    domestic = has & (source_region == region)
    return domestic.astype(np.float32), (has & ~domestic).astype(np.float32)


def update_trust(trust: np.ndarray, gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Apply gains then losses (hazards) to trust, staying inside [0, 1]."""
    t = trust.astype(np.float64)
    t = t + (1.0 - t) * (1.0 - np.exp(-np.maximum(gain, 0.0)))
    t = t * np.exp(-np.maximum(loss, 0.0))
    return np.clip(t, 0.0, 1.0).astype(np.float32)


def mix(own: np.ndarray, other: np.ndarray, spillover: float) -> np.ndarray:
    """Return a signal about one kind of seller plus the spillover share of the other kind's."""
    return own + spillover * other


def purchase_gate(trust: np.ndarray, threshold: float) -> np.ndarray:
    """How far trust is above the buying threshold, scaled to [0, 1]."""
    return np.clip((trust - threshold) / (1.0 - threshold), 0.0, 1.0)
