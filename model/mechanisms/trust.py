"""Trust in domestic and in foreign sellers: gained slowly, lost sharply; it gates buying.

Rule: each consumer holds trust ``tau_d`` in sellers of the own country and
``tau_f`` in sellers of other countries (a region is its own country unless
``regions.*.country`` groups regions; ordering uses the same line, mechanisms/ordering.py).
Without fresh experience of its own this step, a consumer's trust first drifts back
toward its prior ``tau_0`` (the mean starting trust of its region,
``regions.*.initial_trust_domestic`` / ``initial_trust_foreign``) by share ``drift_rate``:
``tau <- tau + drift_rate (tau_0 - tau)`` (what is not renewed fades;
assumption, see ``drift_rate``). Signals of the step then add up to a gain G and a loss
L, in log-odds, and trust moves as

    logit(tau') = logit(tau) + G - L,

which keeps trust in (0, 1) (held within [0.001, 0.999]). In log-odds one bad and one
good experience of the same size move trust by amounts in the ratio
``counterfeit_loss / experience_gain`` at any trust level (near 0.5 exactly, elsewhere
close to it), so that ratio is the negativity bias: set to the loss aversion of
Tversky & Kahneman (1992), 2.25, in scenarios/baseline.yaml (0.675 / 0.3), within the
2-5 of Baumeister, Bratslavsky, Finkenauer & Vohs (2001), "Bad is stronger than good"
(the schema's defaults, 0.8 / 0.15, give 5.3). (A hazard form, gains toward 1
and losses toward 0, made the ratio grow with trust: 13x at the baseline's trust.)
Gains: a genuine purchase (``experience_gain``),
each satisfied neighbour's recommendation (``wom_gain``), credible KOL exposure seen
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
privacy leak           the consumer's trust in domestic sellers falls by ``fraud_loss``,
                       in foreign sellers by ``foreign_spillover * fraud_loss``.
fake KOL endorsement   the KOL's credibility falls (``fake_penalty``); followers gain no
                       trust from it (they still saw it: awareness and purchase lift).
=====================  ==============================================================

Source (docs/domain.md, Mechanisms > Trust): "Trust gates buying ... Trust rises with good
experiences and trusted recommendations and falls sharply with counterfeits,
fraud and privacy leaks. Trust in foreign sellers is separate and lower at first."
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.mechanisms.payment import update_risk
from model.population import by_region

if TYPE_CHECKING:
    from model.mechanisms.fulfilment import Fulfilment
    from model.scenario import Scenario


def country_codes(scenario: Scenario) -> np.ndarray | None:
    """Each region's country code, or None when every region is its own country.

    Trust in domestic sellers is trust in sellers of the consumer's own *country*, the
    same line ordering draws with ``params.cross_border`` (mechanisms/ordering.py): in a
    country of several regions (scenarios/four_regions.yaml) an experience with a seller
    of another region of the same country is domestic. When every region is its own
    country the region codes serve as they are (None: nothing is mapped).
    """
    codes = np.asarray(scenario.region_country_codes, dtype=np.int16)
    return None if np.array_equal(codes, np.arange(codes.size)) else codes


def split_by_home(
    signal: np.ndarray, region: np.ndarray, country: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split per-region signals (n x R) into the own-country part and the rest.

    Args:
        signal: per consumer and source region, the signal.
        region: per consumer, its region.
        country: per region, its country code (None: every region its own country).
    """
    if country is not None and signal.shape[1]:
        by_country = np.zeros((country.size, int(country.max()) + 1), dtype=signal.dtype)
        by_country[np.arange(country.size), country] = 1
        signal, region = signal @ by_country, country[region]
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


def seller_country(source_region: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Per entry, the country code of a seller's region code; -1 (no seller) stays -1.

    Args:
        source_region: sellers' region codes, -1 where there is none.
        country: per region, its country code (``country_codes``).
    """
    return np.where(source_region >= 0, country[np.maximum(source_region, 0)], -1)


def one_hot_experience(
    source_region: np.ndarray, region: np.ndarray, country: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Own experience this step as (domestic, foreign) indicators (source_region -1: none).

    Domestic: the seller's region is in the consumer's country (``country``: per region,
    its country code; None: every region its own country).
    """
    has = source_region >= 0
    if country is None:
        domestic = has & (source_region == region)
    else:
        domestic = has & (seller_country(source_region, country) == country[region])
    return domestic.astype(np.float32), (has & ~domestic).astype(np.float32)


TRUST_FLOOR = 0.001
"""Trust is held within [TRUST_FLOOR, 1 - TRUST_FLOOR] (finite log-odds)."""


def update_trust(
    trust: np.ndarray, gain: np.ndarray, loss: np.ndarray, at: np.ndarray | None = None
) -> np.ndarray:
    """Add gains and subtract losses in log-odds, staying inside (0, 1).

    Only consumers with a gain or a loss go through the log-odds (most have neither in a
    week); for the others the round trip would return their float32 trust unchanged (its
    float64 error, about 1e-15, is far below half a float32 step), so they are clipped
    alone: the same numbers, at a fraction of the cost. (Clipping float32 trust to the
    float32 bounds gives the float32 of clipping it in float64: no float32 lies between
    a bound and its float32 rounding.)

    Args:
        trust: per consumer, trust (float32).
        gain: the gains in log-odds, per consumer, or per consumer of ``at``.
        loss: the losses, likewise.
        at: the consumers ``gain`` and ``loss`` are given for (None: every consumer; the
            others have neither).
    """
    lo, hi = np.float32(TRUST_FLOOR), np.float32(1.0 - TRUST_FLOOR)
    out = np.clip(np.asarray(trust, dtype=np.float32), lo, hi)
    if at is None:
        at = np.arange(out.size)
    up = np.broadcast_to(np.maximum(gain, 0.0), at.shape)
    down = np.broadcast_to(np.maximum(loss, 0.0), at.shape)
    rows = np.flatnonzero((up > 0.0) | (down > 0.0))
    if rows.size:
        moved = at[rows]
        tm = np.clip(trust[moved].astype(np.float64), TRUST_FLOOR, 1.0 - TRUST_FLOOR)
        z = np.log(tm) - np.log1p(-tm) + up[rows] - down[rows]
        tm = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        out[moved] = np.clip(tm, TRUST_FLOOR, 1.0 - TRUST_FLOOR)
    return out


def drift_to_prior(
    trust: np.ndarray, prior: np.ndarray, rate: float, fresh: np.ndarray
) -> np.ndarray:
    """Move trust a share ``rate`` of the way back to its prior, unless experience is fresh.

    Args:
        trust: per consumer, trust.
        prior: per consumer, its prior (the region's mean starting trust).
        rate: share of the gap closed per step.
        fresh: per consumer, had an experience of its own this step (no drift).
    """
    if rate <= 0.0:
        return trust
    t = trust.astype(np.float64)
    moved = np.subtract(prior, t, dtype=np.float64)  # t + rate * (prior - t), in place
    moved *= rate
    moved += t
    kept = np.flatnonzero(np.broadcast_to(fresh, moved.shape))
    moved[kept] = t[kept]
    return moved.astype(np.float32)


def fade_memory(
    memory: np.ndarray, bad_event: np.ndarray, decay: float, gain: float
) -> np.ndarray:
    """Memory of counterfeits after the week: ``memory (1 - decay) + gain * bad_event``.

    float32; the consumers without a bad event only fade (adding 0 changes nothing).
    """
    out = memory * np.float32(1.0 - decay)
    bad = np.flatnonzero(bad_event)
    out[bad] += np.float32(gain)
    return out.astype(np.float32, copy=False)


def mix(own: np.ndarray, other: np.ndarray, spillover: float) -> np.ndarray:
    """Return a signal about one kind of seller plus the spillover share of the other kind's."""
    return own + spillover * other


def purchase_gate(trust: np.ndarray, threshold: float) -> np.ndarray:
    """How far trust is above the buying threshold, scaled to [0, 1]."""
    return np.clip((trust - threshold) / (1.0 - threshold), 0.0, 1.0)


@dataclass
class TrustWeek:
    """Each consumer's experience of the week and its trust, memory and risk after it.

    Attributes:
        satisfied_from: per consumer, the seller's region of this week's genuine
            purchase (-1: none).
        cheated_from: ... of this week's counterfeit (-1: none).
        trust_domestic: per consumer, trust in own-country sellers after the week.
        trust_foreign: per consumer, trust in foreign sellers after the week.
        bad_memory: per consumer, memory of counterfeits after the week.
        risk_extra: per consumer, extra perceived payment risk after the week's fraud
            and fraud news (mechanisms/payment.py).
    """

    satisfied_from: np.ndarray
    cheated_from: np.ndarray
    trust_domestic: np.ndarray
    trust_foreign: np.ndarray
    bad_memory: np.ndarray
    risk_extra: np.ndarray


def trust_week(
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    region: np.ndarray,
    trust_domestic: np.ndarray,
    trust_foreign: np.ndarray,
    bad_memory: np.ndarray,
    risk_extra: np.ndarray,
    merchant_region: np.ndarray,
    buyers: np.ndarray,
    sellers: np.ndarray,
    outcome: Fulfilment,
    victims: np.ndarray,
    recommendations: tuple[np.ndarray, np.ndarray],
    warnings: tuple[np.ndarray, np.ndarray],
    kol: tuple[np.ndarray, np.ndarray],
    fraud_news: np.ndarray,
) -> TrustWeek:
    """Apply the week's events to trust, memory and payment risk (see "One event, its effects").

    Args:
        scenario: the scenario (``trust``, ``word_of_mouth.negative_weight``, ``payment``).
        rng: the phase's generator (privacy leaks).
        region: per consumer, its region.
        trust_domestic: per consumer, trust in own-country sellers.
        trust_foreign: per consumer, trust in foreign sellers.
        bad_memory: per consumer, memory of counterfeits.
        risk_extra: per consumer, extra perceived payment risk.
        merchant_region: per merchant, its region.
        buyers: per order of the week, the consumer who placed it.
        sellers: per order of the week, the merchant it went to.
        outcome: their fulfilment (genuine or counterfeit).
        victims: per consumer, defrauded this week.
        recommendations: per consumer, (own-country, other-country) neighbours satisfied.
        warnings: per consumer, (own-country, other-country) neighbours cheated.
        kol: per consumer, (own-country, other-country) genuine KOL endorsement exposure.
        fraud_news: per consumer, neighbours defrauded last week.
    """
    tr, n = scenario.trust, region.size
    seller_region = merchant_region[sellers].astype(np.int16)
    satisfied_from = np.full(n, -1, dtype=np.int16)
    cheated_from = np.full(n, -1, dtype=np.int16)
    satisfied_from[buyers[outcome.genuine]] = seller_region[outcome.genuine]
    cheated_from[buyers[~outcome.genuine]] = seller_region[~outcome.genuine]
    leak = rng.random(n) < tr.privacy_leak_rate
    # gains and losses only where a signal arrived (elsewhere every term is 0)
    signal = (satisfied_from >= 0) | (cheated_from >= 0) | leak
    for part in (*recommendations, *warnings, *kol):
        signal |= part != 0
    at = np.flatnonzero(signal)
    home, country = region[at], country_codes(scenario)
    good_dom, good_for = one_hot_experience(satisfied_from[at], home, country)
    bad_dom, bad_for = one_hot_experience(cheated_from[at], home, country)
    shock = leak[at].astype(np.float32)
    spill = tr.foreign_spillover
    (rec_dom, rec_for), (warn_dom, warn_for), (kol_dom, kol_for) = (
        (own[at], other[at]) for own, other in (recommendations, warnings, kol)
    )
    warn_weight = tr.wom_gain * scenario.word_of_mouth.negative_weight
    gain_dom = (
        tr.experience_gain * mix(good_dom, good_for, spill)
        + tr.wom_gain * mix(rec_dom, rec_for, spill)
        + tr.kol_gain * mix(kol_dom, kol_for, spill)
    )
    gain_for = (
        tr.experience_gain * mix(good_for, good_dom, spill)
        + tr.wom_gain * mix(rec_for, rec_dom, spill)
        + tr.kol_gain * mix(kol_for, kol_dom, spill)
    )
    loss_dom = (
        tr.counterfeit_loss * mix(bad_dom, bad_for, spill)
        + warn_weight * mix(warn_dom, warn_for, spill)
        + tr.fraud_loss * shock
    )
    loss_for = (
        tr.counterfeit_loss * mix(bad_for, bad_dom, spill)
        + warn_weight * mix(warn_for, warn_dom, spill)
        + tr.fraud_loss * spill * shock
    )
    bad_event = cheated_from >= 0
    fresh = (satisfied_from >= 0) | bad_event
    regions = list(scenario.regions.values())
    prior_dom = by_region(np.array([r.initial_trust_domestic for r in regions]), region)
    prior_for = by_region(np.array([r.initial_trust_foreign for r in regions]), region)
    trust_domestic = drift_to_prior(trust_domestic, prior_dom, tr.drift_rate, fresh)
    trust_foreign = drift_to_prior(trust_foreign, prior_for, tr.drift_rate, fresh)
    return TrustWeek(
        satisfied_from=satisfied_from,
        cheated_from=cheated_from,
        trust_domestic=update_trust(trust_domestic, gain_dom, loss_dom, at),
        trust_foreign=update_trust(trust_foreign, gain_for, loss_for, at),
        bad_memory=fade_memory(bad_memory, bad_event, tr.memory_decay, tr.memory_gain),
        risk_extra=update_risk(scenario.payment, risk_extra, victims, fraud_news),
    )
