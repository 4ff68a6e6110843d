"""Mobile payment adoption: people one knows bring it, a small external push, risk holds back.

Rule (social contagion over ties with a small external term; issue 26): a connected
consumer i who does not pay by mobile adopts in a step with probability

    P_i = [1 - (1 - e_i) (1 - w_i)^(a_i - r_i) (1 - min(1, R w_i))^(r_i)] * (1 - rho_i)

- ``a_i``: the *number* of i's neighbours who pay by mobile (exposure counts, not only
  the share); ``r_i`` of them paid for a genuine purchase last week (satisfied users who
  recommend it: ``satisfied_from >= 0``), each counting as ``R = recommendation_boost``
  ordinary ties.
- ``w_i = peer_influence * (k_mean / k_i) ** tie_dilution``: the chance per week that one
  paying tie brings i to try it, for a consumer of the graph's mean degree ``k_mean``;
  a consumer's attention is shared among its ``k_i`` contacts, so each tie weighs less
  for the well connected (``tie_dilution`` 0: every tie counts in full, pure count
  contagion; 1: only the share of adopters counts, normative pressure).
- Complex contagion (``reinforcement`` h > 0, off by default): both tie exponents are
  multiplied by ``a_i / (a_i + h)``, so a lone paying tie leaves i unmoved with chance
  ``(1 - w_i)^(1 / (1 + h))`` instead of ``1 - w_i`` and many pull almost in full:
  adoption needs social reinforcement
  (Centola & Macy 2007, Complex contagions and the weakness of long ties, American
  Journal of Sociology 113(3); Centola 2010, The spread of behavior in an online social
  network experiment, Science 329(5996): sign-up rose with a second and third adopting
  contact; Karsai, Iniguez, Kaski & Kertesz 2014, Complex contagion process in spreading
  of online innovation, J. R. Soc. Interface 11(101): Skype's adoption mixed spontaneous
  and reinforced adoption). h = 0 is the rule above (simple contagion).
- ``e_i = convenience_rate + rigid_demand_rate_r``: the small external push (Bass's
  innovation term): the convenience of paying by phone and the habit built by bill
  payment, top-ups and tickets (the ``rigid_demand`` lever raises it in region r).
- ``rho_i = min(1, perceived_risk_r + risk_extra_i)`` the perceived insecurity, with
  ``perceived_risk_r`` that of the consumer's region (lowered by ``payment_security``).

On a fully mixed graph (no ties) ``a_i`` is the population share of payers times
``k_mean`` = 1 and ``r_i`` = 0. P is multiplied by the consumer's ``payment_propensity``
(model/population.py) and by the merchants' acceptance factor of its region
(mechanisms/acceptance.py). A consumer who wants to buy but does not pay by mobile adopts
at checkout with probability ``checkout_adoption * (1 - rho_i)`` (mechanisms/ordering.py).

Sources: Bass (1969), A new product growth model for consumer durables, Management
Science 15(5): adoption = small external influence + imitation of adopters; Van den
Bulte & Stremersch (2004), Marketing Science 23(4) and Sultan, Farley & Lehmann (1990),
JMR 27(1): imitation dominates (mean p ~0.03, q ~0.38 per year); Goldenberg, Libai &
Muller (2001), Talk of the network, Marketing Letters 12(3): after an early stage
word of mouth over strong and weak ties, not advertising, carries diffusion; Iyengar,
Van den Bulte & Valente (2011), Marketing Science 30(2): contagion over network ties
after controlling for marketing, stronger from heavy users (hence the satisfied
recommenders); Iyengar, Van den Bulte & Choi (2011, MSI 11-119): the number of adopting
contacts carries social learning, their share normative pressure (hence a dilution
between 0 and 1); Watts & Dodds (2007), Influentials, networks and public opinion
formation, J. Consumer Research 34(4): cascades are driven by easily influenced
people exposed to many adopters, not by hubs alone.

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
from model.population import by_region
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
    base = np.asarray(base_risk).astype(risk_extra.dtype, copy=False)
    return np.minimum(1.0, base + risk_extra)


def tie_weight(spec: Payment, degree: np.ndarray, mean_degree: float) -> np.ndarray:
    """Per consumer, the weekly chance one paying tie brings it to try mobile payment.

    ``peer_influence * (mean_degree / k) ** tie_dilution`` (``k`` at least 1): attention
    shared among more contacts gives each tie less weight.
    """
    k = np.maximum(np.asarray(degree, dtype=np.float64), 1.0)
    return np.minimum(1.0, spec.peer_influence * (max(mean_degree, 1.0) / k) ** spec.tie_dilution)


def tie_stay_logs(spec: Payment, weight: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-chances that one paying tie, and one recommending tie, do not bring adoption.

    ``(ln(1 - w), ln(1 - min(1, R w)))`` (each chance held below 1), elementwise in
    ``weight`` (:func:`tie_weight`).
    """
    w = np.asarray(weight, dtype=np.float64)
    boosted = np.minimum(1.0, spec.recommendation_boost * w)
    with np.errstate(divide="ignore"):
        return (
            np.log1p(-np.minimum(w, 1.0 - 1e-12)),
            np.log1p(-np.minimum(boosted, 1.0 - 1e-12)),
        )


def adoption_probability(
    spec: Payment,
    external_rate: float | np.ndarray,
    paying_neighbours: np.ndarray,
    recommenders: np.ndarray,
    weight: float | np.ndarray | None,
    risk: np.ndarray,
    *,
    stay: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Per step chance that a connected non-payer adopts mobile payment (float64, n).

    Args:
        spec: the payment section (``recommendation_boost``, ``reinforcement``).
        external_rate: per consumer (or one number), the external push
            ``convenience_rate + rigid_demand_rate`` of its region.
        paying_neighbours: per consumer, neighbours who pay by mobile (a count).
        recommenders: per consumer, those of them satisfied by a purchase last week.
        weight: per consumer, the chance per week one paying tie brings it to try
            (:func:`tie_weight`).
        risk: per consumer, perceived payment risk.
        stay: :func:`tie_stay_logs` of ``weight``, if already computed (``weight`` is
            then unused).
    """
    log_tie, log_recommender = tie_stay_logs(spec, weight) if stay is None else stay
    paying = np.asarray(paying_neighbours, np.float64)
    ordinary = np.maximum(paying - recommenders, 0.0)
    log_stay = ordinary * log_tie
    log_stay = log_stay + np.asarray(recommenders, np.float64) * log_recommender
    if spec.reinforcement > 0.0:  # complex contagion: a lone tie pulls less
        log_stay = log_stay * (paying / (paying + spec.reinforcement))
    external = np.minimum(1.0, np.asarray(external_rate, dtype=np.float64))
    push = 1.0 - (1.0 - external) * np.exp(log_stay)
    return push * (1.0 - risk)


def fraud_victims(
    payment: np.ndarray,
    fraud_rate: float | np.ndarray,
    rng: np.random.Generator,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """Which paying consumers are defrauded this step.

    ``fraud_rate``: per consumer, that of its region, or one number; or, with
    ``region`` (per consumer, its region), per region. One draw per consumer either way;
    only the payers' draws are compared.
    """
    draw = rng.random(payment.size)
    payers = np.flatnonzero(payment)
    rate = np.asarray(fraud_rate)
    if region is not None:
        rate = rate[region[payers]]
    elif rate.ndim:
        rate = rate[payers]
    victims = np.zeros(payment.size, dtype=bool)
    victims[payers] = draw[payers] < rate
    return victims


def update_risk(
    spec: Payment,
    risk_extra: np.ndarray,
    victims: np.ndarray,
    victim_neighbours: np.ndarray,
) -> np.ndarray:
    """Personal extra risk perception after this step's fraud and fraud news.

    Only consumers with extra risk, fraud news or fraud are computed; the others' extra
    risk is 0 and stays 0 (0 faded plus no news).
    """
    news = np.broadcast_to(victim_neighbours, risk_extra.shape)
    active = np.flatnonzero((risk_extra != 0) | (news != 0) | victims)
    out = np.zeros(risk_extra.shape, dtype=np.float32)
    extra = risk_extra[active].astype(np.float64) * (1.0 - spec.risk_decay)
    extra = extra + spec.risk_from_fraud_news * news[active]
    extra = np.where(victims[active], 1.0, extra)
    out[active] = np.clip(extra, 0.0, 1.0)
    return out


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
    satisfied_from: np.ndarray,
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
        graph: the social graph (peers who pay, and who recommend it).
        rng: the phase's generator.
        payment: per consumer, pays by mobile at the start of the week.
        risk_extra: per consumer, extra perceived risk from fraud.
        satisfied_from: per consumer, region of last week's genuine purchase (-1: none);
            paying neighbours with one recommend mobile payment.
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
    risk = perceived_risk(
        by_region(np.asarray(params.perceived_risk).astype(risk_extra.dtype), region), risk_extra
    )
    # only connected non-payers can adopt: their chances alone are computed
    cand = np.flatnonzero(has_access & ~payment)
    home = region[cand]
    if graph.fully_mixed:
        paying_neighbours = np.full(cand.size, float(payment.mean()))
        recommenders = np.zeros(cand.size)
        stay = tie_stay_logs(spec, spec.peer_influence)
    else:
        paying_neighbours = graph.neighbour_counts(payment, track="payment")[cand]
        recommenders = graph.neighbour_counts(payment & (satisfied_from >= 0))[cand]
        # the tie terms depend on the degree alone: computed once per degree value
        degree = graph.degree[cand]
        by_degree = tie_stay_logs(
            spec,
            tie_weight(
                spec, np.arange(int(degree.max(initial=0)) + 1), 2.0 * graph.n_edges / max(n, 1)
            ),
        )
        stay = (by_degree[0][degree], by_degree[1][degree])
    external = (spec.convenience_rate + np.asarray(params.rigid_demand_rate))[home]
    adopt_p = adoption_probability(
        spec, external, paying_neighbours, recommenders, None, risk[cand], stay=stay
    ) * (propensity[cand] if np.ndim(propensity) else propensity)
    if spec.acceptance_weight > 0.0 and accepts.size:
        share = acceptance.acceptance_share(accepts, adopted, merchant_region, n_regions)
        adopt_p = adopt_p * acceptance.adoption_factor(spec.acceptance_weight, share)[home]
    draw = rng.random(n)
    adopts = np.zeros(n, dtype=bool)
    adopts[cand] = draw[cand] < adopt_p
    victims = fraud_victims(payment, params.fraud_rate, rng, region)
    draw = rng.random(n)
    abandons = np.zeros(n, dtype=bool)
    hit = np.flatnonzero(victims)
    abandons[hit] = draw[hit] < spec.abandon_after_fraud
    return PaymentWeek(risk, victims, (payment | adopts) & ~abandons & ~stops_paying)
