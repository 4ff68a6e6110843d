"""Word of mouth over the social graph: awareness spread and recommendation/warning signals.

Awareness rules (``word_of_mouth.rule``), evaluated on the state at the start of
the step (synchronous update); ``A`` is the adjacency matrix, ``a`` the aware
indicator, ``n`` the newly-aware indicator (aware since the previous step) and
``s`` the indicator of neighbours satisfied by a purchase last step:

- ``contagion`` (the market default): every aware neighbour passes the news on
  with probability T (``transmission``) and every satisfied buyer recommends with
  probability T_r (``recommendation_transmission``):
  ``P_i = 1 - (1 - T)^(A a)_i * (1 - T_r)^(A s)_i``.
- ``independent_cascade`` (Kempe, Kleinberg and Tardos 2003): each newly aware
  neighbour has one chance T: ``P_i = 1 - (1 - T)^(A n)_i``.
- ``linear_threshold`` (Watts 2002): ``P_i = 1`` when ``(A a)_i / k_i >= phi_i``
  and ``k_i > 0``, else 0; ``phi_i = threshold`` (or uniform in
  ``threshold +/- threshold_spread``).
- ``bass`` (discrete Bass 1969, fully mixed): ``P_i = min(1, p + q F)`` with F the
  aware share of the whole population (``innovation`` p, ``imitation`` q); the
  graph is not used.

The model makes an unaware consumer aware with probability
``1 - (1 - P_wom)(1 - P_marketing)(1 - P_kol)``; with no merchants and no KOLs this
is exactly the classic rule, which is how ``mtsim validate`` docks the core
against published results.

Signals for trust (mechanisms/trust.py): the number of neighbours satisfied,
and cheated, by sellers of each region last step (``A @ S``), and the number of
neighbours defrauded through mobile payment (payment risk perception).
Warnings weigh ``negative_weight`` times more than recommendations. A cheated buyer
also names the merchant (``merchant_warnings``): its neighbours avoid that merchant.
Aware consumers can lapse back to unaware (mechanisms/lapse.py; only with merchants).

Source (docs/domain.md, Mechanisms > Word of mouth): "Information spreads along acquaintance ties
... A satisfied buyer tells neighbours; a cheated one warns them (negative word
of mouth weighs more than positive)".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from model.mechanisms.trust import seller_country
from model.scenario import WordOfMouth

if TYPE_CHECKING:
    from model.network import SocialGraph


def neighbour_count(adjacency: sp.csr_array, indicator: np.ndarray) -> np.ndarray:
    """How many neighbours of each node have the indicator set (a sparse product)."""
    return adjacency @ indicator.astype(np.float32)


def power_of_counts(base: float, counts: np.ndarray) -> np.ndarray:
    """Return ``base ** counts`` (float64) for integer counts, by one table lookup per node.

    Equal, value for value, to ``np.power(base, counts.astype(np.float32), dtype=np.float64)``:
    the table holds that very function at 0, 1, ..., max(counts).
    """
    top = int(counts.max()) if counts.size else 0
    table = np.power(base, np.arange(top + 1, dtype=np.float32), dtype=np.float64)
    return table.take(counts)


def awareness_probability(
    spec: WordOfMouth,
    adjacency: sp.csr_array,
    degree: np.ndarray,
    aware: np.ndarray,
    newly_aware: np.ndarray,
    satisfied: np.ndarray,
    threshold: np.ndarray | None,
    count: Callable[[np.ndarray, str | None], np.ndarray] | None = None,
) -> np.ndarray:
    """Per consumer, the chance word of mouth makes them aware this step (float64, n).

    Args:
        spec: word-of-mouth parameters.
        adjacency: the social graph (0/1 symmetric).
        degree: neighbours per node.
        aware: aware indicator.
        newly_aware: aware since the previous step.
        satisfied: satisfied by a purchase last step.
        threshold: linear-threshold fractions (that rule only).
        count: optional exact neighbour counter ``count(indicator, track) -> int counts``
            equal to ``adjacency @ indicator`` (e.g. ``SocialGraph.neighbour_counts``);
            the result is the same, only faster. Default: sparse products.
    """
    rule = spec.rule
    n = aware.size
    if rule == "bass":
        share = float(aware.mean()) if n else 0.0
        return np.full(n, min(1.0, spec.innovation + spec.imitation * share))
    if count is not None and rule in ("independent_cascade", "contagion"):
        if rule == "independent_cascade":
            return 1.0 - power_of_counts(1.0 - spec.transmission, count(newly_aware, None))
        stay = power_of_counts(1.0 - spec.transmission, count(aware, "aware"))
        stay *= power_of_counts(1.0 - spec.recommendation_transmission, count(satisfied, None))
        return 1.0 - stay
    if rule == "independent_cascade":
        talkers = neighbour_count(adjacency, newly_aware)
        return 1.0 - np.power(1.0 - spec.transmission, talkers, dtype=np.float64)
    if rule == "linear_threshold":
        aware_neighbours = (
            neighbour_count(adjacency, aware)
            if count is None
            else count(aware, "aware").astype(np.float32)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(degree > 0, aware_neighbours / np.maximum(degree, 1), 0.0)
        # compare in float64 with a tiny tolerance so 1/3 >= 1/3 holds despite float32 counts
        return ((degree > 0) & (fraction >= threshold - 1e-9)).astype(np.float64)
    # contagion
    talkers = neighbour_count(adjacency, aware)
    recommenders = neighbour_count(adjacency, satisfied)
    stay = np.power(1.0 - spec.transmission, talkers, dtype=np.float64)
    stay *= np.power(1.0 - spec.recommendation_transmission, recommenders, dtype=np.float64)
    return 1.0 - stay


def region_signals(
    adjacency: sp.csr_array, source_region: np.ndarray, n_regions: int
) -> np.ndarray:
    """Neighbours whose last-step experience came from each region's sellers (n x R counts).

    Args:
        adjacency: the social graph.
        source_region: per consumer, region of the seller behind the experience (-1: none).
        n_regions: number of regions.
    """
    n = source_region.size
    has = source_region >= 0
    if not has.any() or adjacency.nnz == 0:
        return np.zeros((n, n_regions), dtype=np.float32)
    indicator = np.zeros((n, n_regions), dtype=np.float32)
    rows = np.flatnonzero(has)
    indicator[rows, source_region[rows]] = 1.0
    return np.asarray(adjacency @ indicator, dtype=np.float32)


def draw_thresholds(spec: WordOfMouth, n: int, rng: np.random.Generator) -> np.ndarray:
    """Linear-threshold activation fractions: identical, or uniform around the mean."""
    if spec.threshold_spread <= 0.0:
        return np.full(n, spec.threshold, dtype=np.float64)
    low = max(0.0, spec.threshold - spec.threshold_spread)
    high = min(1.0, spec.threshold + spec.threshold_spread)
    return rng.uniform(low, high, size=n)


def merchant_warnings(graph: SocialGraph, cheated: np.ndarray, merchant: np.ndarray) -> np.ndarray:
    """Per consumer, a merchant a neighbour was cheated by last week (-1: none).

    A consumer who received a counterfeit warns every neighbour about that merchant
    (merchant-specific negative word of mouth; the ordering avoids it). With several
    cheated neighbours, one of their merchants is named. Cost: the neighbours of the
    cheated consumers only.

    Args:
        graph: the social graph.
        cheated: consumers who received a counterfeit last week.
        merchant: per consumer, the merchant of last week's order (-1: none).
    """
    out = np.full(cheated.size, -1, dtype=np.int32)
    who = np.flatnonzero(cheated & (merchant >= 0))
    if who.size == 0 or graph.fully_mixed:
        return out
    neighbours = graph.neighbours_of(who)
    lengths = np.diff(graph.adjacency.indptr)[who]
    out[neighbours] = np.repeat(merchant[who].astype(np.int32), lengths)
    return out


@dataclass
class WordOfMouthWeek:
    """Who becomes aware this week, and what neighbours said last week.

    Attributes:
        becomes_aware: per consumer, aware of mobile shopping from this week.
        aware: per consumer, aware after the week (lapsed consumers out, new ones in).
        recommendations_domestic: per consumer, neighbours satisfied last week by
            sellers of its own region.
        recommendations_foreign: ... by sellers of other regions.
        warnings_domestic: per consumer, neighbours cheated last week by sellers of
            its own region.
        warnings_foreign: ... by sellers of other regions.
        fraud_news: per consumer, neighbours defrauded last week.
        warned_merchant: per consumer, a merchant a cheated neighbour bought a fake
            from (-1: none).
    """

    becomes_aware: np.ndarray
    aware: np.ndarray
    recommendations_domestic: np.ndarray
    recommendations_foreign: np.ndarray
    warnings_domestic: np.ndarray
    warnings_foreign: np.ndarray
    fraud_news: np.ndarray
    warned_merchant: np.ndarray


def word_of_mouth_week(
    spec: WordOfMouth,
    graph: SocialGraph,
    rng: np.random.Generator,
    *,
    aware: np.ndarray,
    newly_aware: np.ndarray,
    satisfied_from: np.ndarray,
    cheated_from: np.ndarray,
    defrauded: np.ndarray,
    threshold: np.ndarray | None,
    region: np.ndarray,
    last_order_merchant: np.ndarray,
    forgets: np.ndarray,
    marketing_awareness: np.ndarray,
    kol_exposure: np.ndarray,
    kol_awareness_gain: float,
    country: np.ndarray | None = None,
) -> WordOfMouthWeek:
    """Draw who becomes aware (word of mouth, marketing, KOLs); count last week's news.

    Args:
        spec: word-of-mouth parameters.
        graph: the social graph.
        rng: the phase's generator.
        aware: per consumer, aware at the start of the week.
        newly_aware: per consumer, became aware last week.
        satisfied_from: per consumer, region of last week's genuine purchase (-1 none).
        cheated_from: per consumer, region of last week's counterfeit (-1 none).
        defrauded: per consumer, defrauded last week.
        threshold: linear-threshold fractions (that rule only).
        region: per consumer, its region.
        last_order_merchant: per consumer, the merchant of its last order (-1 none).
        forgets: per consumer, lapses this week (mechanisms/lapse.py).
        marketing_awareness: per consumer, chance marketing makes it aware.
        kol_exposure: per consumer, exposure to KOL posts.
        kol_awareness_gain: awareness per unit of KOL exposure (``kols.awareness_gain``).
        country: per region, its country code (None: every region its own country):
            news of sellers of the own country counts as domestic
            (mechanisms/trust.py, ``country_codes``).
    """
    wom_p = awareness_probability(
        spec,
        graph.adjacency,
        graph.degree,
        aware,
        newly_aware,
        satisfied_from >= 0,
        threshold,
        count=graph.neighbour_counts,
    )
    kol_each = 1.0 - np.exp(-kol_awareness_gain * kol_exposure)
    aware_p = 1.0 - (1.0 - wom_p) * (1.0 - marketing_awareness) * (1.0 - kol_each)
    becomes_aware = ~aware & (rng.random(aware.size) < aware_p)
    # neighbours satisfied / cheated by sellers of the own country and of other countries
    # (exact integer counts, the same numbers as region_signals split by
    # trust.split_by_home, without the n x R products)
    home, satisfied, cheated = region, satisfied_from, cheated_from
    if country is not None:  # sellers' and consumers' countries in place of their regions
        home = country[region]
        satisfied = seller_country(satisfied_from, country)
        cheated = seller_country(cheated_from, country)
    rec_dom, rec_for = graph.neighbour_counts_by_region(satisfied, home)
    warn_dom, warn_for = graph.neighbour_counts_by_region(cheated, home)
    return WordOfMouthWeek(
        becomes_aware=becomes_aware,
        aware=(aware & ~forgets) | becomes_aware,
        recommendations_domestic=rec_dom.astype(np.float32),
        recommendations_foreign=rec_for.astype(np.float32),
        warnings_domestic=warn_dom.astype(np.float32),
        warnings_foreign=warn_for.astype(np.float32),
        fraud_news=graph.neighbour_counts(defrauded).astype(np.float32),
        warned_merchant=merchant_warnings(graph, cheated_from >= 0, last_order_merchant),
    )
