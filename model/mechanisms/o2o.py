"""O2O: offline purchases paid by scanning a QR code, on the ordering's one offline channel.

Rule. The offline alternative of the weekly shopping choice (mechanisms/ordering.py,
"offline at home") is the one offline channel. With a ``platforms:`` section, each
offline purchase is paid either in cash or by scanning the retailer's QR code:

- the retailer accepts platform p's QR code with chance ``qr_acceptance_p`` (or, with
  interoperability ``I``, another platform's code works with chance ``I``);
- a platform user who already pays by mobile pays by QR with chance ``qr_payment``;
- a user who does not yet pay by mobile pays by QR for the first time with chance
  ``first_qr_payment * (1 - perceived risk)``; it then pays by mobile (it joins the
  ordering's ``adopted_at_checkout``, committed by the consumer-records phase): offline
  QR payment as the way into mobile payment, as for many in the material;
- everyone else pays cash.

The money is the same as before (the consumer pays the offline retailer); the retailer
pays the platform ``qr_fee`` of a QR payment. A QR payer scanned a store's code: next
week's mobile orders without a closer touch are attributed to ``qr_o2o``
(mechanisms/attribution.py), and it may follow a nearby store (mechanisms/platform.py).

Source: docs/domain.md, Mechanisms > Mobile payment (offline QR payment first) and Social
commerce (QR codes, location-based discovery of nearby businesses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.scenario import O2O


@dataclass
class QrWeek:
    """One week's offline payments by QR code.

    Attributes:
        payer: consumers who paid offline by QR this week.
        value: per QR payer, the amount paid.
        platform: per QR payer, the platform whose code was scanned.
        first_time: consumers whose QR payment was their first mobile payment.
    """

    payer: np.ndarray
    value: np.ndarray
    platform: np.ndarray
    first_time: np.ndarray


def split_offline(
    spec: O2O,
    rng: np.random.Generator,
    buyers: np.ndarray,
    value: np.ndarray,
    user: np.ndarray,
    pays: np.ndarray,
    risk: np.ndarray,
    qr_acceptance: np.ndarray,
    interoperability: float,
) -> QrWeek:
    """Which offline purchases are paid by QR (see module docstring).

    Args:
        spec: the O2O parameters.
        rng: the phase's generator.
        buyers: consumers who bought offline this week.
        value: per buyer, the amount paid.
        user: per consumer, its platform (-1 none).
        pays: per consumer, pays by mobile.
        risk: per consumer, perceived payment risk.
        qr_acceptance: per platform, share of retailers accepting its code.
        interoperability: chance another platform's code works.
    """
    p = user[buyers].astype(np.int64)
    is_user = p >= 0
    draws = rng.random((2, buyers.size))
    accept = qr_acceptance[np.maximum(p, 0)]
    accept = accept + (1.0 - accept) * interoperability * (qr_acceptance.size > 1)
    takes_qr = is_user & (draws[0] < accept)
    payer = pays[buyers]
    wants = np.where(payer, spec.qr_payment, spec.first_qr_payment * (1.0 - risk[buyers]))
    qr = takes_qr & (draws[1] < wants)
    return QrWeek(
        payer=buyers[qr],
        value=value[qr],
        platform=p[qr],
        first_time=buyers[qr & ~payer],
    )
