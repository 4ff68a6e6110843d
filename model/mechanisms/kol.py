"""KOLs as a market: merchants and the state buy posts; credibility is the KOL's capital.

Rules, per week:

- Finite attention. Consumer i follows ``m_i`` KOLs and gives each
  ``a_i = m_i^(-attention_sharing)`` of its attention (1: a fixed budget split equally;
  Hodas & Lerman 2012, "How visibility and divided attention constrain social
  contagion": the chance of acting on one account's post falls with the number of
  accounts followed).
- Engagement falls with audience. KOL k with ``F_k`` followers engages
  ``eps_k = (F_k / mean F)^(-engagement_exponent)`` times as many of its followers per
  post as a KOL of the mean audience (Instagram like rates about 8% under 1k followers
  and 1.7% above 1M, Markerly 2016: exponent ln(8 / 1.66) / ln(1000) = 0.23; Wies,
  Bleier & Edeling 2023, "Finding Goldilocks influencers", J. Marketing 87(3): an
  inverted U in engagement, falling over most of the range). Its engaged reach is
  ``R_k = eps_k * sum over its followers of a_i`` (followers weighted by attention).
- Price. A sponsored post by KOL k costs
  ``fee_k = fee_per_follower * R_k * credibility_k / initial_credibility``: fees follow
  engaged reach, not raw follower counts. A KOL's feed is scarce: its j-th sponsored
  post of a week (j = 0, 1, ...) costs ``fee_k * (1 + fee_escalation)^j``.
- Buyers. Adopting merchants spend their own ``kol_campaign`` budget (pooled, M) and
  the state's KOL campaign spends its budget C (the ``channel_kol_campaign`` lever,
  mechanisms/marketing.py). Each budget buys the same expected number of posts from
  every KOL it buys from (KOLs without engaged reach sell none), the q that spends it at
  the escalating prices (``sum_k fee_k g^{j_k} (g^q - 1) / (g - 1) = budget`` with
  ``g = 1 + fee_escalation`` and ``j_k`` the KOL's posts already sold this week;
  ``q = budget / sum fee_k`` when g = 1): with prices in proportion to engaged reach,
  every KOL gives the same engaged reach per unit of money, so larger KOLs take more of
  the money but give each follower the same number of posts and less engagement.
  ``floor(q)`` posts plus one more with chance ``q - floor(q)``, at most
  ``max_sponsored_posts`` per KOL a week (merchants first, then the campaign). Fees paid
  are the escalated prices of the posts actually sold. The campaign buys from all KOLs
  or a targeted subset (``campaign_targeting``, mechanisms/targeting.py). A
  merchant-bought post endorses a merchant drawn in proportion to its own KOL budget; a
  campaign post a random adopting merchant.
- Organic posts. Each KOL also posts unpaid with chance ``post_probability``,
  endorsing a random adopting merchant of its region (any adopter if none there).
- Persuasion. A post's persuasion is the KOL's credibility, times
  ``1 - sponsored_persuasion_loss`` when it is sponsored (followers infer commercial
  intent: Friestad & Wright 1994, the persuasion knowledge model), times
  ``1 - disclosure_persuasion_loss`` when it is also disclosed as advertising (the
  ``kol_disclosure`` lever at L discloses each sponsored post with chance L; Boerman,
  Willemsen & Van Der Aa 2017, J. Interactive Marketing 38): disclosed < undisclosed
  sponsored < organic.
- Reach and effects. Follower i's exposure to region r's merchants is
  ``e_ir = a_i * sum over posts of followed KOLs k endorsing region r of
  persuasion * eps_k`` (a sparse product): per follower it falls with the KOL's audience
  and with the number of KOLs followed. A post acts only on the followers who see it,
  share ``reach_rate`` of them (below), so every effect reads the exposure seen,
  ``s_i = reach_rate * e_i``: it raises awareness (``1 - exp(-awareness_gain * s_i)``),
  purchase probability (``1 + purchase_lift * (1 - exp(-s_i))``: more posts, less added
  each) and, from organic posts of genuine products, trust (``kol_gain``). Until
  2026-12-07 (evening) awareness, purchase lift and trust read ``e_i``, as if every
  follower saw every post, while consideration read ``reach_rate * e_ir``: the same post
  reached five times as many followers for awareness as for buying.
- Consideration, follower by follower. A post reaches the followers who see it, each with
  chance ``reach_rate`` (median Instagram post reach 38% of followers under 20k, 23% at
  20k-1M, 19% above 1M: Minter.io 2019) times the KOL's engagement, the follower's
  attention and the post's persuasion, so follower i has one of region r's endorsed
  merchants in mind with chance ``1 - exp(-reach_rate * e_ir)`` (:class:`Endorsements`).
  When such a follower orders by mobile from region r it buys from an endorsed merchant
  (chosen in proportion to the posts' weights in its exposure) instead of the one drawn
  from the region's merchants (mechanisms/ordering.py, rule 3). An endorsement acts
  only on the followers who see it, not on every consumer: its orders per follower fall
  with the KOL's audience, as its engagement does (Wies, Bleier & Edeling 2023), and its
  wider reach is word of mouth (mechanisms/word_of_mouth.py). Trust
  rises only from organic posts whose endorsed product proved genuine
  (mechanisms/trust.py, ``kol_gain``): a fake endorsement or a sponsored post builds no
  trust.
- Credibility. Each undisclosed sponsored post costs ``commercial_penalty`` of it,
  each endorsed product that turns out fake (drawn with the merchant's integrity)
  ``fake_penalty``; each non-commercial post (the ``content_posts`` a KOL publishes a
  week and its organic endorsements of genuine products) recovers share ``recovery`` of
  the gap to the initial credibility; sponsored posts recover none. Without fakes the
  credibility settles near ``c / c0 = 1 / (1 + (p / r) * n_s / n_c)`` (``p`` the
  penalty, ``r`` the recovery, ``n_s`` undisclosed sponsored and ``n_c`` non-commercial
  posts a week): it falls as the commercial share of the KOL's posts rises (recognised
  persuasion attempts lower the persuader's credibility: Friestad & Wright 1994).
  Disclosure trades persuasion now for credibility later.
- Followers. A follower of KOL k unfollows with chance
  ``unfollow_rate * max(0, 1 - credibility_k / initial_credibility)`` a week, and a
  member of k's natural audience (its followers at the start, state ``kols.audience``)
  who does not follow it now follows it again with chance
  ``unfollow_rate * min(1, credibility_k / initial_credibility)``: KOLs that lose
  credibility lose audience, and with it their fee, and win it back as credibility
  returns; the audience settles near ``credibility_k / initial_credibility`` of its
  start. Follow relations churn both ways (Kwak, Chun & Moon 2011, "Fragile online
  relationship: a first look at unfollow dynamics in Twitter", CHI; Myers & Leskovec
  2014, "The bursty dynamics of the Twitter information network", WWW); the symmetric
  rate is an assumption. Until 2026-12-07 nobody ever followed a KOL, so any KOL taking
  sponsored posts (whose credibility stays below its start) lost followers for as long
  as a run lasted (docs/policies.md traces what that did to the KOL campaign).

Diminishing but non-zero returns to a campaign budget follow from the escalating price
of extra posts (q grows like the logarithm of the budget), the saturating effects of
repeated exposure and credibility lost to commercial posting, not from a cap on
spending (the post cap is well above what a 10x campaign buys in the baseline).

Until 2026-12-07 an endorsement instead added ``reach_rate * R_k`` times persuasion to
the endorsed merchant's visibility, which entered every consumer's choice of merchant:
a broadcast whose effect per follower grew with the audience (docs/validation.md,
``kol_engagement``).

Source: docs/domain.md, Actors > KOLs and Mechanisms > KOL influence ("A KOL's
endorsement reaches all followers at once; its persuasive weight is its credibility.
Endorsing fakes or over-commercial posting erodes credibility"; "KOL regulation:
disclosure of sponsorship (less persuasion, more credibility)"), and the sources above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from model.mechanisms.fulfilment import effective_integrity
from model.mechanisms.targeting import kol_campaign_mask
from model.mechanisms.trust import split_by_home
from model.scenario import KOLs, Merchants


@dataclass
class KOLPosts:
    """The week's posts, one row per post, and the per-KOL summary.

    Attributes:
        kol: posting KOL.
        merchant: endorsed merchant.
        sponsored: the post was paid for.
        campaign: paid for by the state's KOL campaign (else by the merchant; organic
            posts are neither).
        disclosed: a sponsored post disclosed as advertising.
        persuasion: persuasive weight of the post.
        fee: fee paid for the post (0 for organic posts).
        fake: the endorsed product turned out fake.
        n_kols: number of KOLs.
    """

    kol: np.ndarray
    merchant: np.ndarray
    sponsored: np.ndarray
    campaign: np.ndarray
    disclosed: np.ndarray
    persuasion: np.ndarray
    fee: np.ndarray
    fake: np.ndarray
    n_kols: int

    def per_kol(self, mask: np.ndarray) -> np.ndarray:
        """Count the posts of each KOL among those selected by ``mask``."""
        return np.bincount(self.kol[mask], minlength=self.n_kols)

    @property
    def posted(self) -> np.ndarray:
        """KOL posted this week."""
        return self.per_kol(np.ones(self.kol.size, dtype=bool)) > 0

    @property
    def any_sponsored(self) -> np.ndarray:
        """KOL sold at least one post this week."""
        return self.per_kol(self.sponsored) > 0

    @property
    def any_disclosed(self) -> np.ndarray:
        """KOL disclosed at least one sponsored post this week."""
        return self.per_kol(self.disclosed) > 0

    @property
    def endorsed_merchant(self) -> np.ndarray:
        """Per KOL, the merchant of its first post this week (-1: none)."""
        out = np.full(self.n_kols, -1, dtype=np.int64)
        out[self.kol[::-1]] = self.merchant[::-1]  # the first post wins
        return out


def engagement(spec: KOLs, follower_count: np.ndarray) -> np.ndarray:
    """Each KOL's engagement per follower relative to a KOL of the mean audience.

    ``(F_k / mean F)^(-engagement_exponent)`` over the KOLs with followers (1 for a KOL
    without followers): the share of followers who engage falls with the audience.
    """
    f = follower_count.astype(np.float64)
    live = f > 0
    if not live.any():
        return np.ones(f.size)
    mean = float(f[live].mean())
    return np.where(live, (np.maximum(f, 1.0) / mean) ** -spec.engagement_exponent, 1.0)


def attention(spec: KOLs, followers: sp.csr_array) -> np.ndarray:
    """Each consumer's attention to one followed KOL: ``m_i^(-attention_sharing)``.

    ``m_i`` is the number of KOLs consumer i follows (1 for none): a follower's attention
    is shared among the accounts it follows.
    """
    follows = np.bincount(followers.indices, minlength=followers.shape[1]).astype(np.float64)
    return np.maximum(follows, 1.0) ** -spec.attention_sharing


def engaged_reach(
    spec: KOLs, followers: sp.csr_array, follower_count: np.ndarray, attn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per KOL, (relative engagement, engaged reach = engagement * sum of followers' attention)."""
    eng = engagement(spec, follower_count)
    return eng, eng * (followers @ attn)


def post_fees(spec: KOLs, reach: np.ndarray, credibility: np.ndarray) -> np.ndarray:
    """Price of one sponsored post of each KOL (yuan): per engaged follower reached."""
    scale = credibility / spec.initial_credibility if spec.initial_credibility > 0 else 1.0
    return spec.fee_per_follower * reach.astype(np.float64) * scale


def posts_bought(
    budget: float,
    fees: np.ndarray,
    mask: np.ndarray,
    cap: np.ndarray,
    rng: np.random.Generator,
    escalation: float = 0.0,
    sold: np.ndarray | None = None,
) -> np.ndarray:
    """Return the posts a budget buys from each KOL in ``mask`` (the same expected number).

    Args:
        budget: money to spend.
        fees: each KOL's base fee per post.
        mask: KOLs the budget buys from.
        cap: most further posts each KOL can sell.
        rng: the phase's generator (one draw per KOL, for the fractional post).
        escalation: price rise of each further post of a KOL in the week.
        sold: posts each KOL already sold this week (their prices are escalated).
    """
    k = fees.size
    mask = mask & (fees > 0.0)  # a KOL without engaged followers has nothing to sell
    if budget <= 0.0 or k == 0 or not mask.any():
        return np.zeros(k, dtype=np.int64)
    g = 1.0 + escalation
    start = fees if sold is None else fees * g**sold
    total = float(start[mask].sum())
    if total <= 0.0:
        q = float(cap.max())
    elif escalation > 0.0:
        q = float(np.log1p(escalation * budget / total) / np.log(g))
    else:
        q = budget / total
    whole = np.floor(q)
    count = whole + (rng.random(k) < (q - whole))
    return np.where(mask, np.minimum(count, cap), 0).astype(np.int64)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal, sorted group ids (np.repeat output)."""
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, groups.size])
    return np.arange(groups.size) - np.repeat(starts, lengths)


def _pick_weighted(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    if count == 0 or weights.sum() <= 0:
        return np.full(count, -1, dtype=np.int64)
    cdf = np.cumsum(weights, dtype=np.float64)
    return np.minimum(
        np.searchsorted(cdf, rng.random(count) * cdf[-1], side="right"), weights.size - 1
    ).astype(np.int64)


def kol_market(
    spec: KOLs,
    credibility: np.ndarray,
    kol_region: np.ndarray,
    follower_count: np.ndarray,
    follower_degree: np.ndarray | None,
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    merchant_kol_budget: np.ndarray,
    campaign_budget: float,
    disclosure: float,
    merchant_integrity: np.ndarray,
    rng: np.random.Generator,
    reach: np.ndarray | None = None,
) -> KOLPosts:
    """Sell, post and check this week's posts (see the module docstring).

    Args:
        spec: the kols section.
        credibility: each KOL's credibility at the start of the week.
        kol_region: each KOL's home region.
        follower_count: followers of each KOL.
        follower_degree: mean social degree of each KOL's followers (``well_connected``
            targeting only; else None).
        merchant_region: region of each merchant.
        adopted: merchants using mobile marketing (only they are endorsed).
        merchant_kol_budget: each merchant's own KOL budget this week.
        campaign_budget: the state's KOL campaign budget this week.
        disclosure: share of sponsored posts disclosed (the lever).
        merchant_integrity: each merchant's effective integrity (chance a sale is genuine).
        rng: the KOL market's generator (see :func:`kol_week`).
        reach: each KOL's engaged reach (:func:`engaged_reach`; None: its follower count).
    """
    k = credibility.size
    adopters = np.flatnonzero(adopted)
    empty = np.zeros(0, dtype=np.int64)
    if k == 0 or adopters.size == 0:
        z = np.zeros(0, dtype=bool)
        return KOLPosts(empty, empty, z, z, z, np.zeros(0, np.float32), np.zeros(0), z, k)
    fees = post_fees(spec, follower_count if reach is None else reach, credibility)
    cap = np.full(k, spec.max_sponsored_posts, dtype=np.int64)
    everyone = np.ones(k, dtype=bool)
    pool = float(merchant_kol_budget[adopted].sum())
    esc = spec.fee_escalation
    n_merchant = posts_bought(pool, fees, everyone, cap, rng, esc)
    # each kind of post draws from its own stream, a child of the phase's generator
    # (spawned in a fixed order; spawning does not move the phase's stream): the state's
    # campaign, the merchants' posts and the organic posts. A change in one kind's count
    # (a campaign, or merchants buying more posts) leaves the others' posts and draws as
    # they were, so paired runs differ by the change, not by reshuffled draws (common
    # random numbers)
    campaign_rng, merchant_rng, organic_rng = rng.spawn(3)
    if campaign_budget > 0.0:
        degree = follower_degree if follower_degree is not None else follower_count
        mask = kol_campaign_mask(
            spec.campaign_targeting, spec.campaign_share, follower_count, degree, campaign_rng
        )
        n_campaign = posts_bought(
            campaign_budget, fees, mask, cap - n_merchant, campaign_rng, esc, sold=n_merchant
        )
    else:
        n_campaign = np.zeros(k, dtype=np.int64)
    organic = rng.random(k) < spec.post_probability
    ids = np.arange(k, dtype=np.int64)
    kol_m = np.repeat(ids, n_merchant)
    kol_c = np.repeat(ids, n_campaign)
    kol_o = ids[organic]
    merch_m = _pick_weighted(
        np.where(adopted, merchant_kol_budget, 0.0), kol_m.size, merchant_rng
    )
    merch_c = adopters[campaign_rng.integers(0, adopters.size, size=kol_c.size)]
    merch_o = np.empty(kol_o.size, dtype=np.int64)
    for r in np.unique(kol_region[kol_o]):
        local = adopters[merchant_region[adopters] == r]
        local = local if local.size else adopters
        who = kol_region[kol_o] == r
        merch_o[who] = local[organic_rng.integers(0, local.size, size=int(who.sum()))]
    kol = np.concatenate([kol_m, kol_c, kol_o])
    merchant = np.concatenate([merch_m, merch_c, merch_o])
    n_paid = kol_m.size + kol_c.size
    sponsored = np.arange(kol.size) < n_paid
    campaign = np.zeros(kol.size, dtype=bool)
    campaign[kol_m.size : n_paid] = True
    streams = ((merchant_rng, kol_m.size), (campaign_rng, kol_c.size), (organic_rng, kol_o.size))
    disclosed = sponsored & (_draws(streams) < disclosure)
    persuasion = credibility[kol].astype(np.float32)
    persuasion[sponsored] *= np.float32(1.0 - spec.sponsored_persuasion_loss)
    persuasion[disclosed] *= np.float32(1.0 - spec.disclosure_persuasion_loss)
    # the j-th sponsored post of a KOL this week costs fee * (1 + escalation)^j
    rank = np.zeros(kol.size, dtype=np.int64)
    rank[: kol_m.size] = _rank_within(kol_m)
    rank[kol_m.size : n_paid] = n_merchant[kol_c] + _rank_within(kol_c)
    fee = np.where(sponsored, fees[kol] * (1.0 + esc) ** rank, 0.0)
    fake = _draws(streams) >= merchant_integrity[merchant]
    return KOLPosts(kol, merchant, sponsored, campaign, disclosed, persuasion, fee, fake, k)


def _draws(streams: tuple[tuple[np.random.Generator, int], ...]) -> np.ndarray:
    """Return one uniform per post, each kind of post (in the posts' order) from its stream."""
    return np.concatenate([stream.random(count) for stream, count in streams])


def follower_exposure(
    followers: sp.csr_array,
    posts: KOLPosts,
    merchant_region: np.ndarray,
    n_regions: int,
    engagement: np.ndarray | None = None,
    attention: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each consumer's exposure to endorsements of each region's merchants (n x R).

    A post of KOL k reaches follower i with weight ``persuasion * engagement_k *
    attention_i`` (None: 1).

    Returns:
        (all posts, organic posts whose endorsed product proved genuine: the part that
        builds trust; sponsored posts build none).
    """
    n = followers.shape[1]
    if posts.kol.size == 0:
        zero = np.zeros((n, n_regions), dtype=np.float32)
        return zero, zero
    region = merchant_region[posts.merchant].astype(np.int64)
    weights = np.zeros((posts.n_kols, 2 * n_regions), dtype=np.float32)
    np.add.at(weights, (posts.kol, region), posts.persuasion)
    genuine = ~posts.fake & ~posts.sponsored
    np.add.at(weights, (posts.kol[genuine], n_regions + region[genuine]), posts.persuasion[genuine])
    if engagement is not None:
        weights *= engagement.astype(np.float32)[:, None]
    both = np.asarray(followers.T @ weights, dtype=np.float32)
    if attention is not None:
        both *= attention.astype(np.float32)[:, None]
    return both[:, :n_regions], both[:, n_regions:]


def _segment_pick(
    weights: np.ndarray, start: np.ndarray, stop: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Per segment ``[start, stop)`` of ``weights``, an index drawn in proportion to them.

    Every segment must have a positive total; ``u`` holds one uniform per segment.
    """
    cum = np.cumsum(weights, dtype=np.float64)
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    target = before + u * (cum[stop - 1] - before)
    return np.clip(np.searchsorted(cum, target, side="right"), start, stop - 1)


@dataclass
class Endorsements:
    """The week's endorsements as each follower sees them (the consideration rule).

    Attributes:
        seen: consumers x regions, ``reach_rate * e_ir``: the expected number of region
            r's endorsements follower i sees (engagement, attention and persuasion
            included).
        followers: KOLs x consumers follower matrix (CSR).
        kol_weight: KOLs x regions, engagement times the persuasion of the KOL's posts
            endorsing the region's merchants.
        post_order: the posts sorted by (KOL, region of the endorsed merchant).
        post_key: ``kol * n_regions + region`` of the sorted posts.
        posts: the week's posts.
    """

    seen: np.ndarray
    followers: sp.csr_array
    kol_weight: np.ndarray
    post_order: np.ndarray
    post_key: np.ndarray
    posts: KOLPosts

    def pick(
        self,
        u: np.ndarray,
        buyers: np.ndarray,
        region: np.ndarray,
        selling: np.ndarray,
    ) -> np.ndarray:
        """Per mobile order, the endorsed merchant its buyer picks (-1: none).

        Buyer i ordering from region r has one of r's endorsed merchants in mind with
        chance ``1 - exp(-seen_ir)``; it then picks a followed KOL in proportion to the
        weight of its posts for r and one of that KOL's posts for r in proportion to
        persuasion. Reads three uniforms per order from ``u``.

        Args:
            u: three uniforms per order (3 x orders): the ordering phase draws them for
                every need, so an order's draws do not depend on who else ordered.
            buyers: per order, the buyer.
            region: per order, the seller region chosen (-1: not a region's draw).
            selling: per merchant, sells through mobile channels.
        """
        n_regions = self.seen.shape[1]
        out = np.full(buyers.size, -1, dtype=np.int64)
        ok = region >= 0
        chance = np.zeros(buyers.size)
        chance[ok] = -np.expm1(-self.seen[buyers[ok], region[ok]].astype(np.float64))
        hit = np.flatnonzero(u[0] < chance)
        if not hit.size:
            return out
        who, r = buyers[hit], region[hit]
        # the (buyer, KOL) follow pairs of these buyers, each buyer's KOLs in ascending
        # order: read off the KOLs x consumers matrix (a buyer orders once a week, so
        # ``who`` has no repeats) instead of transposing the whole of it
        f = self.followers
        slot = np.full(f.shape[1], -1, dtype=np.intp)
        slot[who] = np.arange(hit.size)
        pos = slot[f.indices]
        sel = np.flatnonzero(pos >= 0)
        order = np.argsort(pos[sel], kind="stable")  # KOL-major -> buyer-major
        rows = pos[sel][order]
        kols = (np.searchsorted(f.indptr, sel, side="right") - 1)[order]
        lengths = np.bincount(rows, minlength=hit.size)
        w = self.kol_weight[kols, r[rows]].astype(np.float64)
        seg_stop = np.cumsum(lengths)
        seg_start = seg_stop - lengths
        valid = np.bincount(rows, weights=w, minlength=hit.size) > 0
        hit, r, seg_start, seg_stop = hit[valid], r[valid], seg_start[valid], seg_stop[valid]
        if not hit.size:
            return out
        kol = kols[_segment_pick(w, seg_start, seg_stop, u[1, hit])]
        key = kol * n_regions + r
        lo = np.searchsorted(self.post_key, key, side="left")
        hi = np.searchsorted(self.post_key, key, side="right")
        persuasion = self.posts.persuasion[self.post_order].astype(np.float64)
        post = self.post_order[_segment_pick(persuasion, lo, hi, u[2, hit])]
        merchant = self.posts.merchant[post].astype(np.int64)
        out[hit] = np.where(selling[merchant], merchant, -1)
        return out


def endorsements(
    spec: KOLs,
    followers: sp.csr_array,
    posts: KOLPosts,
    exposure: np.ndarray,
    engagement: np.ndarray,
    merchant_region: np.ndarray,
    n_regions: int,
) -> Endorsements | None:
    """Return the week's endorsements for the consideration rule (None: no posts).

    Args:
        spec: the kols section (``reach_rate``).
        followers: KOLs x consumers follower matrix.
        posts: the week's posts.
        exposure: consumers x regions, ``e_ir`` (:func:`follower_exposure`, all posts).
        engagement: per KOL, its relative engagement.
        merchant_region: per merchant, its region.
        n_regions: number of regions.
    """
    if posts.kol.size == 0:
        return None
    region = merchant_region[posts.merchant].astype(np.int64)
    kol_weight = np.zeros((posts.n_kols, n_regions))
    np.add.at(kol_weight, (posts.kol, region), posts.persuasion.astype(np.float64))
    kol_weight *= engagement.astype(np.float64)[:, None]
    key = posts.kol.astype(np.int64) * n_regions + region
    order = np.argsort(key, kind="stable")
    return Endorsements(
        seen=(spec.reach_rate * exposure).astype(np.float32),
        followers=followers,
        kol_weight=kol_weight,
        post_order=order,
        post_key=key[order],
        posts=posts,
    )


def update_credibility(spec: KOLs, credibility: np.ndarray, posts: KOLPosts) -> np.ndarray:
    """Return credibility after this week's posts (commercial posting, fakes, recovery).

    Only non-commercial posts recover credibility (the ``content_posts`` of the week and
    organic endorsements of genuine products); sponsored posts never do.
    """
    cred = credibility.astype(np.float64)
    commercial = posts.per_kol(posts.sponsored & ~posts.disclosed)
    fakes = posts.per_kol(posts.fake)
    genuine = posts.per_kol(~posts.fake & ~posts.sponsored) + spec.content_posts
    cred = cred * (1.0 - spec.commercial_penalty) ** commercial
    cred = cred * (1.0 - spec.fake_penalty) ** fakes
    cred = cred + (1.0 - (1.0 - spec.recovery) ** genuine) * (spec.initial_credibility - cred)
    return np.clip(cred, 0.0, 1.0).astype(np.float32)


def unfollow(
    spec: KOLs,
    followers: sp.csr_array,
    credibility: np.ndarray,
    rng: np.random.Generator,
    audience: sp.csr_array | None = None,
) -> sp.csr_array | None:
    """Followers after this week's unfollowing and returns (None: nobody moved).

    A follower leaves with chance ``unfollow_rate * max(0, 1 - c / c0)``; a member of the
    KOL's natural ``audience`` (its followers at the start) who does not follow it now
    comes back with chance ``unfollow_rate * min(1, c / c0)`` (None: nobody comes back).
    """
    if spec.unfollow_rate <= 0.0 or spec.initial_credibility <= 0.0 or credibility.size == 0:
        return None
    ratio = credibility.astype(np.float64) / spec.initial_credibility
    p_out = spec.unfollow_rate * np.clip(1.0 - ratio, 0.0, 1.0)
    p_in = spec.unfollow_rate * np.clip(ratio, 0.0, 1.0)
    k, n = followers.shape
    if audience is None:
        audience = followers
    # each natural-audience link, and whether it is followed now (followers within it)
    a_owner = np.repeat(np.arange(k), np.diff(audience.indptr))
    a_key = a_owner.astype(np.int64) * n + audience.indices
    f_owner = np.repeat(np.arange(k), np.diff(followers.indptr))
    f_key = f_owner.astype(np.int64) * n + followers.indices
    following = np.isin(a_key, f_key, assume_unique=True)
    p = np.where(following, p_out[a_owner], p_in[a_owner])
    live = p > 0
    if not live.any():
        return None
    # one draw per link, live or not: whether one KOL's links can move does not shift
    # the others' draws (common random numbers)
    flip = live & (rng.random(a_key.size) < p)
    if not flip.any():
        return None
    now = following ^ flip
    owner = a_owner[now]
    new_indptr = np.zeros(k + 1, dtype=followers.indptr.dtype)
    np.cumsum(np.bincount(owner, minlength=k), out=new_indptr[1:])
    return sp.csr_array(
        (np.ones(int(now.sum()), dtype=followers.dtype), audience.indices[now], new_indptr),
        shape=followers.shape,
    )


def followers_mean_degree(followers: sp.csr_array, degree: np.ndarray) -> np.ndarray:
    """Mean social degree of each KOL's followers (0 for a KOL without followers)."""
    total = followers @ degree.astype(np.float64)
    count = np.diff(followers.indptr)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


@dataclass
class KOLWeek:
    """The KOL market's week: posts, their reach and effects, the money, the KOLs after it.

    Attributes:
        posts: the week's posts.
        endorsements: the week's endorsements for the followers' choice of merchant
            (None: no posts).
        genuine_domestic: per consumer, exposure to endorsements of own-region merchants
            whose product proved genuine (the part that builds trust).
        genuine_foreign: the same for other regions' merchants.
        exposure: per consumer, the exposure seen: ``reach_rate`` times its exposure to all
            posts.
        conversion_lift: per consumer, the channels' lift times the KOLs' (>= 1).
        fees_by_kol: per KOL, fees earned.
        fees_by_merchant: per merchant, fees paid for its own sponsored posts.
        campaign_spend: fees paid by the state's KOL campaign.
        credibility: per KOL, credibility after the week's posts.
        followers: KOLs x consumers follower matrix after unfollowing (None: nobody
            unfollowed).
        follower_count: per KOL, followers after unfollowing (None with ``followers``).
    """

    posts: KOLPosts
    endorsements: Endorsements | None
    genuine_domestic: np.ndarray
    genuine_foreign: np.ndarray
    exposure: np.ndarray
    conversion_lift: np.ndarray
    fees_by_kol: np.ndarray
    fees_by_merchant: np.ndarray
    campaign_spend: float
    credibility: np.ndarray
    followers: sp.csr_array | None
    follower_count: np.ndarray | None


def kol_week(
    spec: KOLs,
    merchants: Merchants,
    rng: np.random.Generator,
    *,
    credibility: np.ndarray,
    kol_region: np.ndarray,
    follower_count: np.ndarray,
    followers: sp.csr_array,
    degree: np.ndarray,
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    audience: sp.csr_array | None = None,
    integrity: np.ndarray,
    verified: np.ndarray,
    merchant_kol_budget: np.ndarray,
    campaign_budget: float,
    disclosure: float,
    marketing_lift: np.ndarray,
    consumer_region: np.ndarray,
    n_regions: int,
    country: np.ndarray | None = None,
) -> KOLWeek:
    """Sell and post the week's posts, reach the followers, update credibility and followers.

    Args:
        spec: the kols section.
        merchants: the merchants section (verification raises the chance a product is
            genuine: mechanisms/fulfilment.py).
        rng: the phase's generator. With KOLs, the market draws from a generator seeded
            by one draw of it (the stream every stored result was made with).
        credibility: per KOL, credibility at the start of the week.
        kol_region: per KOL, its home region.
        follower_count: per KOL, its followers.
        followers: KOLs x consumers follower matrix (CSR).
        audience: KOLs x consumers natural audience (the followers at the start), whom a
            KOL can win back (None: nobody comes back).
        degree: per consumer, social degree (``well_connected`` campaign targeting).
        merchant_region: per merchant, its region.
        adopted: per merchant, uses mobile marketing (only adopters are endorsed).
        integrity: per merchant, integrity.
        verified: per merchant, real-name verified.
        merchant_kol_budget: per merchant, its own KOL budget this week.
        campaign_budget: the state's KOL campaign budget this week.
        disclosure: share of sponsored posts disclosed (the lever).
        marketing_lift: per consumer, the channels' conversion lift.
        consumer_region: per consumer, its region.
        n_regions: number of regions.
        country: per region, its country code (None: every region its own country):
            exposure to sellers of the own country is domestic (trust.country_codes).
    """
    if credibility.size:
        rng = np.random.default_rng(rng.integers(2**63))
    follower_degree = (
        followers_mean_degree(followers, degree)
        if spec.campaign_targeting == "well_connected" and credibility.size
        else None
    )
    attn = attention(spec, followers)
    eng, reach = engaged_reach(spec, followers, follower_count, attn)
    posts = kol_market(
        spec=spec,
        credibility=credibility,
        kol_region=kol_region,
        follower_count=follower_count,
        follower_degree=follower_degree,
        merchant_region=merchant_region,
        adopted=adopted,
        merchant_kol_budget=merchant_kol_budget,
        campaign_budget=campaign_budget,
        disclosure=disclosure,
        merchant_integrity=effective_integrity(merchants, integrity, verified),
        rng=rng,
        reach=reach,
    )
    exposure, genuine = follower_exposure(
        followers, posts, merchant_region, n_regions, engagement=eng, attention=attn
    )
    all_domestic, all_foreign = split_by_home(exposure, consumer_region, country)
    # a post acts only on the followers who see it: every effect reads the exposure seen
    seen_total = spec.reach_rate * (all_domestic + all_foreign)
    genuine_domestic, genuine_foreign = split_by_home(genuine, consumer_region, country)
    genuine_domestic = spec.reach_rate * genuine_domestic
    genuine_foreign = spec.reach_rate * genuine_foreign
    merchant_paid = posts.sponsored & ~posts.campaign
    n_merchants = merchant_region.size
    after = unfollow(spec, followers, credibility, rng, audience)
    return KOLWeek(
        posts=posts,
        endorsements=endorsements(
            spec, followers, posts, exposure, eng, merchant_region, n_regions
        ),
        genuine_domestic=genuine_domestic,
        genuine_foreign=genuine_foreign,
        exposure=seen_total,
        conversion_lift=marketing_lift * (1.0 + spec.purchase_lift * -np.expm1(-seen_total)),
        fees_by_kol=np.bincount(posts.kol, weights=posts.fee, minlength=credibility.size),
        fees_by_merchant=np.bincount(
            posts.merchant[merchant_paid], weights=posts.fee[merchant_paid], minlength=n_merchants
        ),
        campaign_spend=float(posts.fee[posts.campaign].sum()),
        credibility=update_credibility(spec, credibility, posts),
        followers=after,
        follower_count=None if after is None else np.diff(after.indptr).astype(np.int32),
    )
