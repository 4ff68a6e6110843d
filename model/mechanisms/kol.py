"""KOL influence: endorsements reach all followers at once, weighted by credibility.

Rules, per step:

- Sponsorship: the merchants' ``kol_campaign`` budget B buys posts; a KOL with f
  followers costs ``fee_per_follower * f`` per post, and each KOL is sponsored
  with probability ``min(1, B / total fee of all KOLs)``.
- Posting: each KOL posts with probability ``post_probability`` (a sponsored KOL
  always posts). A sponsored post endorses a random adopting merchant (its
  sponsor); an organic post a random adopting merchant of the KOL's region
  (any adopter if the region has none). Without adopting merchants there is
  nothing to endorse.
- Disclosure: with the ``kol_disclosure`` lever at L, a sponsored post is
  disclosed with probability L. Persuasion of a post = credibility, times
  ``1 - disclosure_persuasion_loss`` when it is a disclosed advertisement.
- Reach: follower i receives exposure ``e_ir = sum_k F_ki * persuasion_k`` for
  posts endorsing merchants of region r (a sparse product ``F.T @ X``). It
  becomes aware with probability ``1 - exp(-awareness_gain * sum_r e_ir)``, gains
  trust in region r (mechanisms/trust.py), and is more likely to buy this step by
  the factor ``1 + purchase_lift * min(1, sum_r e_ir)``.
- Credibility: an undisclosed sponsored post costs ``commercial_penalty`` of it
  (multiplicatively); an endorsed product that turns out fake (drawn with the
  merchant's integrity) costs ``fake_penalty``; then any post of a genuine
  product recovers share ``recovery`` of the gap to the initial credibility. A
  KOL that posts only undisclosed adverts settles at
  ``initial * recovery / (recovery + commercial_penalty)``.

Source (DOMAIN.md, KOL actor and mechanism 2): "A KOL's endorsement reaches all
followers at once; its persuasive weight is its credibility. Endorsing fakes or
over-commercial posting erodes credibility"; "KOL regulation: disclosure of
sponsorship (less persuasion, more credibility)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from model.scenario import KOLs


@dataclass
class KOLPosts:
    """What the KOLs did this step.

    Attributes:
        posted: KOL posted an endorsement.
        sponsored: the post was sponsored.
        disclosed: the sponsored post was disclosed.
        endorsed_merchant: merchant endorsed (-1: none).
        persuasion: persuasive weight of the post (0 when none).
    """

    posted: np.ndarray
    sponsored: np.ndarray
    disclosed: np.ndarray
    endorsed_merchant: np.ndarray
    persuasion: np.ndarray


def sponsorship_probability(kol_budget: float, follower_count: np.ndarray, fee: float) -> float:
    """Chance each KOL is sponsored this step, given the merchants' KOL budget."""
    total_fee = float(fee * follower_count.sum())
    if kol_budget <= 0.0 or follower_count.size == 0:
        return 0.0
    if total_fee <= 0.0:
        return 1.0
    return min(1.0, kol_budget / total_fee)


def _random_member(
    candidates: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    if candidates.size == 0:
        return np.full(count, -1, dtype=np.int64)
    return candidates[rng.integers(0, candidates.size, size=count)]


def kol_posts(
    spec: KOLs,
    credibility: np.ndarray,
    kol_region: np.ndarray,
    follower_count: np.ndarray,
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    kol_budget: float,
    disclosure: float,
    rng: np.random.Generator,
) -> KOLPosts:
    """Decide this step's posts, sponsorships, endorsed merchants and persuasion."""
    k = credibility.size
    p_sponsor = sponsorship_probability(kol_budget, follower_count, spec.fee_per_follower)
    sponsored = rng.random(k) < p_sponsor
    posted = sponsored | (rng.random(k) < spec.post_probability)
    disclosed = sponsored & (rng.random(k) < disclosure)
    endorsed = np.full(k, -1, dtype=np.int64)
    adopters = np.flatnonzero(adopted)
    pick = posted & sponsored
    endorsed[pick] = _random_member(adopters, int(pick.sum()), rng)
    organic = posted & ~sponsored
    for r in np.unique(kol_region[organic]) if organic.any() else ():
        local = adopters[merchant_region[adopters] == r]
        who = organic & (kol_region == r)
        endorsed[who] = _random_member(local if local.size else adopters, int(who.sum()), rng)
    posted = posted & (endorsed >= 0)
    sponsored = sponsored & posted
    disclosed = disclosed & posted
    persuasion = np.where(posted, credibility, 0.0).astype(np.float32)
    persuasion[disclosed] *= 1.0 - spec.disclosure_persuasion_loss
    return KOLPosts(posted, sponsored, disclosed, endorsed, persuasion)


def follower_exposure(
    followers: sp.csr_array,
    posts: KOLPosts,
    merchant_region: np.ndarray,
    n_regions: int,
) -> np.ndarray:
    """Exposure of each consumer to endorsements of each region's merchants (n x R)."""
    n = followers.shape[1]
    if posts.posted.size == 0 or not posts.posted.any():
        return np.zeros((n, n_regions), dtype=np.float32)
    rows = np.flatnonzero(posts.posted)
    region_of_post = merchant_region[posts.endorsed_merchant[rows]].astype(np.int64)
    weights = np.zeros((posts.posted.size, n_regions), dtype=np.float32)
    weights[rows, region_of_post] = posts.persuasion[rows]
    return np.asarray(followers.T @ weights, dtype=np.float32)


def endorsement_visibility(
    followers_count: np.ndarray, posts: KOLPosts, n_merchants: int
) -> np.ndarray:
    """Followers reached by endorsements of each merchant, weighted by persuasion."""
    rows = np.flatnonzero(posts.posted)
    return np.bincount(
        posts.endorsed_merchant[rows],
        weights=followers_count[rows] * posts.persuasion[rows],
        minlength=n_merchants,
    ).astype(np.float32)


def update_credibility(
    spec: KOLs,
    credibility: np.ndarray,
    posts: KOLPosts,
    merchant_integrity: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """New credibility after this step's posts; also which endorsed products were fake."""
    cred = credibility.astype(np.float64)
    endorsed = np.maximum(posts.endorsed_merchant, 0)
    integrity = merchant_integrity[endorsed] if merchant_integrity.size else np.ones(cred.size)
    fake = posts.posted & (rng.random(cred.size) >= integrity)
    commercial = posts.sponsored & ~posts.disclosed
    cred = np.where(commercial, cred * (1.0 - spec.commercial_penalty), cred)
    cred = np.where(fake, cred * (1.0 - spec.fake_penalty), cred)
    genuine = posts.posted & ~fake
    cred = np.where(genuine, cred + spec.recovery * (spec.initial_credibility - cred), cred)
    return np.clip(cred, 0.0, 1.0).astype(np.float32), fake
