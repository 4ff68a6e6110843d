"""Targeting (precision marketing): who is picked or weighted by seeding and marketing.

Rules:

- Initial seeding (``word_of_mouth.initial_aware_by``) picks ``count`` consumers:
  ``random`` (uniformly, without replacement: the classic seeding, drawn exactly as
  before this option existed), ``degree`` (the ``count`` highest social degrees; ties
  broken by a random draw), ``region:<name>`` (random residents of that region, then
  random others if it has too few), ``payers`` (consumers already paying by mobile
  first, in random order, then random others).
- Channel impressions (``marketing.targeting``) fall on a region's connected consumers
  (of the channel's audience, mechanisms/marketing.py) in proportion to a weight
  ``w_i`` with mean 1 over them: ``random`` gives every consumer ``w_i = 1``; the
  others give ``w_i = s_i / mean s`` for a score ``s_i``:

  * ``degree``: social degree ``k_i`` (well-connected consumers see more of the ads);
  * ``interests``: the platform's interest profile ``consumers.interest``, drawn at
    build as ``purchase_frequency_i * LogNormal(-sigma^2/2, sigma)`` with
    ``sigma = interest_noise`` (a noisy reading of how often the consumer shops: the
    interest and behavioural data of the platform);
  * ``history``: ``1 + history_weight`` for a consumer who has ordered by mobile
    before (``consumers.has_ordered``: retargeting past buyers), 1 for the others;
  * ``data``: interests times history.

  Precision targeting puts the same impressions on consumers more likely to need and to
  buy, so it sells more per unit spent than spreading them evenly: behaviourally
  targeted ads convert about twice as well as run-of-network ones (Beales 2010, "The
  value of behavioral targeting", Network Advertising Initiative; Goldfarb & Tucker
  2011, "Online display advertising: targeting and obtrusiveness", Marketing Science
  30(3); Lambrecht & Tucker 2013, "When does retargeting work?", Journal of Marketing
  Research 50(5)). Location within a region is the location-based channels' districts
  (mechanisms/o2o.py).
- KOL campaigns (``kols.campaign_targeting``) buy from all KOLs, the largest, the
  best connected (their followers' mean social degree) or a random subset
  (mechanisms/kol.py uses :func:`kol_campaign_mask`).

Source: docs/domain.md, Mechanisms > Merchant marketing (precision marketing with the
platform's data); the classic influentials question (seed the best-connected) needs
``degree`` seeding in one model build.
"""

from __future__ import annotations

import numpy as np


def seed_consumers(
    by: str,
    count: int,
    n: int,
    rng: np.random.Generator,
    degree: np.ndarray | None = None,
    region: np.ndarray | None = None,
    region_names: list[str] | None = None,
    payment: np.ndarray | None = None,
) -> np.ndarray:
    """Return the indices of the ``count`` consumers aware at step 0.

    Args:
        by: ``random``, ``degree``, ``payers`` or ``region:<name>``.
        count: how many (at most n).
        n: number of consumers.
        rng: the model's generator (``random`` draws ``rng.choice(n, count, replace=False)``).
        degree: social degree per consumer (``degree``).
        region: region code per consumer (``region:<name>``).
        region_names: region names by code (``region:<name>``).
        payment: who already pays by mobile (``payers``).

    Raises:
        ValueError: an unknown region name.
    """
    count = min(int(count), n)
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    if by == "random":
        return rng.choice(n, size=count, replace=False)
    if by == "degree":
        assert degree is not None
        tie = rng.random(n)
        order = np.lexsort((tie, -degree.astype(np.int64)))
        return order[:count]
    if by == "payers":
        assert payment is not None
        return _preferred_first(payment.astype(bool), count, rng)
    if by.startswith("region:"):
        assert region is not None and region_names is not None
        name = by.split(":", 1)[1]
        if name not in region_names:
            raise ValueError(
                f"word_of_mouth.initial_aware_by: region {name!r} is not one of {region_names}"
            )
        return _preferred_first(region == region_names.index(name), count, rng)
    raise ValueError(f"unknown targeting {by!r}")


def _preferred_first(preferred: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` indices: the preferred ones first (random order), then random others."""
    key = rng.random(preferred.size) - preferred.astype(np.float64)
    return np.argsort(key, kind="stable")[:count]


def impression_weights(
    targeting: str,
    degree: np.ndarray,
    region: np.ndarray,
    connected: np.ndarray,
    n_regions: int,
    *,
    interest: np.ndarray | None = None,
    has_ordered: np.ndarray | None = None,
    history_weight: float = 0.0,
) -> np.ndarray | None:
    """Per consumer weight of channel impressions, mean 1 over each region's connected.

    ``degree``: social degree; ``interests``: the interest profile; ``history``:
    ``1 + history_weight`` for past mobile buyers, 1 for the others; ``data``: interests
    times history. Returns None for ``random`` (every weight 1), so the caller can skip
    the product.
    """
    if targeting == "random":
        return None
    n = region.size
    if targeting == "degree":
        score = degree.astype(np.float64)
    else:
        score = np.ones(n)
        if targeting in ("interests", "data"):
            score = score * (np.ones(n) if interest is None else interest.astype(np.float64))
        if targeting in ("history", "data") and has_ordered is not None:
            score = score * (1.0 + history_weight * has_ordered.astype(np.float64))
    k = score * connected
    total = np.bincount(region, weights=k, minlength=n_regions)
    count = np.bincount(region, weights=connected.astype(np.float64), minlength=n_regions)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(mean[region] > 0, k / mean[region], 1.0)
    return w


def kol_campaign_mask(
    targeting: str,
    share: float,
    follower_count: np.ndarray,
    follower_degree: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Which KOLs the state's campaign buys posts from this week."""
    k = follower_count.size
    if targeting == "all" or k == 0:
        return np.ones(k, dtype=bool)
    top = max(1, int(round(share * k)))
    if targeting == "random":
        pick = rng.choice(k, size=top, replace=False)
    else:
        score = follower_count if targeting == "largest" else follower_degree
        pick = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")[:top]
    mask = np.zeros(k, dtype=bool)
    mask[pick] = True
    return mask
