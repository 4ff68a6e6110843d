"""The pattern suite: stylised facts from the published literature, checked on the baseline.

``mtsim validate --patterns`` runs it (model/workflows/validate.py writes the files).
Each fact (:data:`FACTS`) has a name, the claim, its source, what is measured in the
model, a criterion (text and code) and the runs it needs. The criteria were written
here before the suite was first run on the model; docs/validation.md, "Stylised
facts", logs what changed after a result was seen (no criterion; one measurement,
``ad_concave``'s, after its first run on two building seeds).

The model is measured as it is: only scenario values are set (the population, the
weeks, and the one setting a fact varies); the runs step :class:`model.market.MarketModel`
and read its state and the week's signals (``model.last_week.signals``) between steps.

Seeds. The suite was built on :data:`BUILDING_SEEDS` (1-20) and reports, by default,
:data:`HELD_BACK_SEEDS` (1001-1020), which were not used while building. Paired
comparisons use common random numbers: both arms of a seed run with the same seed
(every phase draws from a generator seeded by (seed, week, phase), model/week.py).

Aggregation. Every fact computes a statistic per seed and one for all seeds (the mean
over seeds, or a pooled statistic where one seed has too few events, as the fact
says); the verdict is the criterion on the statistic for all seeds, and the table also
gives the share of seeds whose own statistic meets it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
TWO_APPS = SCENARIOS / "platform_two_apps.yaml"
KOL_CAMPAIGN = SCENARIOS / "kol_campaign.yaml"

BUILDING_SEEDS: tuple[int, ...] = tuple(range(1, 21))
"""Seeds used while the suite was built (measurements debugged on them)."""

HELD_BACK_SEEDS: tuple[int, ...] = tuple(range(1001, 1021))
"""Seeds the report uses by default; not run while the suite was built."""

QUICK_SEEDS: tuple[int, ...] = tuple(range(1001, 1005))
"""``--quick``: the first four held-back seeds."""

AD_MULTIPLES: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Advertising spend per adopting merchant a week, in multiples of the base budget."""

ELASTICITY = slice(2, 4)
"""The ad_response levels between which ad_elasticity is measured: 1 and 2 x the budget."""

LOGISTICS_COSTS: tuple[float, ...] = (0.10, 0.25, 0.40)
"""Cross-border logistics costs [share of price] of the gravity fact (baseline 0.25)."""

FRAUD_MULTIPLE = 4.0
"""The fraud fact multiplies ``payment.fraud_rate`` by this."""

TRUST_BINS = 10
"""Bins of trust (width 0.1) within which good and bad experiences are compared."""

PEER_BINS = ("0", "1", "2", "3+")
"""Paying-neighbour counts of the peer-exposure fact."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """How big the suite's runs are.

    Attributes:
        consumers: consumers per run (merchants and KOLs scale with them, as ``--set``
            does: ``model.scenario.scaled_population``).
        seeds: the seeds (one replication each; paired arms share it).
        weeks: weeks of the ordinary runs (the baseline's 156).
        curve_weeks: weeks of the adoption-curve runs (six years).
        period: weeks per point of the Bass fit (a year).
        seeding_weeks: weeks of the seeding runs (adoption after one year).
    """

    consumers: int = 2000
    seeds: tuple[int, ...] = HELD_BACK_SEEDS
    weeks: int = 156
    curve_weeks: int = 312
    period: int = 52
    seeding_weeks: int = 52


FULL = Settings()
QUICK = Settings(consumers=600, seeds=QUICK_SEEDS)


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Fact:
    """One stylised fact and how the suite checks it.

    Attributes:
        name: short name (``--only``; the table's first column).
        claim: what the literature finds, in one sentence.
        source: the publications (authors, year, title, journal).
        measurement: what is measured in the model, on which runs.
        criterion: the pass rule, in words (:attr:`passes` is the same rule in code).
        experiments: the runs it needs (keys of :data:`EXPERIMENTS`).
        passes: the criterion in code, applied to a statistic (a dict of numbers).
        per_seed: the statistic of one seed from that seed's results.
        overall: the statistic for all seeds from every seed's results (default: the
            mean over seeds of each number of the per-seed statistic).
        describe: writes a statistic as text for the table.
    """

    name: str
    claim: str
    source: str
    measurement: str
    criterion: str
    experiments: tuple[str, ...]
    passes: Callable[[dict[str, float]], bool]
    per_seed: Callable[[dict[str, Any]], dict[str, float]]
    describe: Callable[[dict[str, float]], str]
    spread: tuple[tuple[str, str, float], ...] = ()
    overall: Callable[[list[dict[str, Any]], list[dict[str, float]]], dict[str, float]] | None = (
        None
    )


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _mean_of(stats: list[dict[str, float]]) -> dict[str, float]:
    """Return the mean over seeds of every number (NaN where any seed has none)."""
    if not stats:
        return {}
    keys = stats[0].keys()
    return {k: float(np.mean([s.get(k, math.nan) for s in stats])) for k in keys}


def _paired(diffs: Sequence[float]) -> dict[str, float]:
    """Mean of paired differences and its two-sided 95% t interval."""
    d = np.asarray([x for x in diffs if math.isfinite(x)], dtype=float)
    if d.size == 0:
        return {"diff": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    mean = float(d.mean())
    if d.size < 2:
        return {"diff": mean, "low": math.nan, "high": math.nan, "n": int(d.size)}
    from scipy.stats import t

    half = float(t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return {"diff": mean, "low": mean - half, "high": mean + half, "n": int(d.size)}


def _g(value: float, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude < 1e-3:
        return f"{value:.2e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{value:.{decimals}f}"


# --- Bass coefficients ------------------------------------------------------------------


def _bass_seed(curve_key: str) -> Callable[[dict[str, Any]], dict[str, float]]:
    def stat(res: dict[str, Any]) -> dict[str, float]:
        from model.validation.bass import fit_discrete_bass

        curve = np.asarray(res["curves"][curve_key], dtype=float)
        try:
            fit = fit_discrete_bass(curve)
        except ValueError:
            return {"p": math.nan, "q": math.nan, "m": math.nan}
        return {"p": fit.p, "q": fit.q, "m": fit.m}

    return stat


def _bass_passes(s: dict[str, float]) -> bool:
    return _finite(s["p"], s["q"]) and s["p"] < 0.05 and 0.2 <= s["q"] <= 0.6


def _bass_describe(s: dict[str, float]) -> str:
    return f"p {_g(s['p'])}, q {_g(s['q'])} per year (m {_g(s['m'])})"


# --- take-off -----------------------------------------------------------------------------


def _takeoff_seed(res: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key in ("payment", "shoppers"):
        increments = np.diff(np.asarray(res["curves"][key], dtype=float))
        out[f"{key}_peak_year"] = float(np.argmax(increments) + 1) if increments.size else math.nan
    return out


def _takeoff_overall(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
    """Return the peak year of the mean curve's yearly increments (over seeds)."""
    out = {}
    for key in ("payment", "shoppers"):
        mean = np.mean([np.asarray(r["curves"][key], dtype=float) for r in results], axis=0)
        out[f"{key}_peak_year"] = float(np.argmax(np.diff(mean)) + 1)
    return out


def _takeoff_passes(s: dict[str, float]) -> bool:
    return (
        _finite(s["payment_peak_year"], s["shoppers_peak_year"])
        and s["payment_peak_year"] >= 2
        and s["shoppers_peak_year"] >= 2
    )


def _takeoff_describe(s: dict[str, float]) -> str:
    return (
        f"largest yearly increment in year {_g(s['payment_peak_year'])} (payment), "
        f"{_g(s['shoppers_peak_year'])} (shoppers)"
    )


# --- advertising response -------------------------------------------------------------------


def _marginals(orders: Sequence[float], spend: Sequence[float]) -> list[float]:
    return [
        (orders[i + 1] - orders[i]) / (spend[i + 1] - spend[i])
        if spend[i + 1] != spend[i]
        else math.nan
        for i in range(len(orders) - 1)
    ]


def _ad_seed(res: dict[str, Any]) -> dict[str, float]:
    ad = res["ad_response"]
    m = _marginals(ad["orders"], ad["spend"])
    return {f"marginal_{i + 1}": v for i, v in enumerate(m)}


def _ad_overall(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
    """Marginal orders per unit spend between the seed means of orders and spend."""
    orders = np.mean([r["ad_response"]["orders"] for r in results], axis=0)
    spend = np.mean([r["ad_response"]["spend"] for r in results], axis=0)
    return {f"marginal_{i + 1}": v for i, v in enumerate(_marginals(orders, spend))}


def _ad_passes(s: dict[str, float]) -> bool:
    m = [s[f"marginal_{i + 1}"] for i in range(len(AD_MULTIPLES) - 1)]
    return _finite(*m) and all(m[i + 1] < m[i] for i in range(len(m) - 1))


def _ad_describe(s: dict[str, float]) -> str:
    m = [s[f"marginal_{i + 1}"] for i in range(len(AD_MULTIPLES) - 1)]
    return "marginal orders per unit: " + ", ".join(_g(v, 2) for v in m)


def _elasticity_seed(res: dict[str, Any]) -> dict[str, float]:
    ad = res["ad_response"]
    return {"elasticity": _arc_elasticity(ad["orders"][ELASTICITY], ad["spend"][ELASTICITY])}


def _arc_elasticity(orders: Sequence[float], spend: Sequence[float]) -> float:
    o0, o1 = orders
    s0, s1 = spend
    if min(o0, o1, s0, s1) <= 0 or s0 == s1:
        return math.nan
    return float(math.log(o1 / o0) / math.log(s1 / s0))


def _elasticity_overall(
    results: list[dict[str, Any]], _: list[dict[str, float]]
) -> dict[str, float]:
    orders = np.mean([r["ad_response"]["orders"][ELASTICITY] for r in results], axis=0)
    spend = np.mean([r["ad_response"]["spend"][ELASTICITY] for r in results], axis=0)
    return {"elasticity": _arc_elasticity(orders, spend)}


def _elasticity_passes(s: dict[str, float]) -> bool:
    return _finite(s["elasticity"]) and 0.0 < s["elasticity"] <= 0.5


# --- KOL engagement by audience size --------------------------------------------------------


def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    return float(spearmanr(x, y).statistic)


def _decile_ratio(size: np.ndarray, rate: np.ndarray) -> float:
    """Mean rate of the largest tenth of KOLs over that of the smallest tenth (>= 1 each)."""
    if size.size < 2:
        return math.nan
    order = np.argsort(size, kind="stable")
    tenth = max(1, int(round(size.size / 10)))
    small, large = rate[order[:tenth]].mean(), rate[order[-tenth:]].mean()
    return float(large / small) if small > 0 else math.nan


def _kol_seed(res: dict[str, Any]) -> dict[str, float]:
    k = res["kols"]
    size, rate = np.asarray(k["size"], dtype=float), np.asarray(k["rate"], dtype=float)
    return {
        "spearman": _spearman(size, rate),
        "decile_ratio": _decile_ratio(size, rate),
        "kols": float(size.size),
    }


def _kol_overall(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
    """Pooled over every seed's KOLs (a seed has 8 at the baseline's size)."""
    size = np.concatenate([np.asarray(r["kols"]["size"], dtype=float) for r in results])
    rate = np.concatenate([np.asarray(r["kols"]["rate"], dtype=float) for r in results])
    return {
        "spearman": _spearman(size, rate),
        "decile_ratio": _decile_ratio(size, rate),
        "kols": float(size.size),
    }


def _kol_passes(s: dict[str, float]) -> bool:
    return _finite(s["spearman"], s["decile_ratio"]) and s["spearman"] < 0 and s["decile_ratio"] < 1


def _kol_describe(s: dict[str, float]) -> str:
    return (
        f"Spearman {_g(s['spearman'], 2)} over {int(s['kols'])} KOLs; "
        f"largest / smallest decile {_g(s['decile_ratio'], 3)}"
    )


# --- paired comparisons ----------------------------------------------------------------


def _paired_seed(key: str) -> Callable[[dict[str, Any]], dict[str, float]]:
    def stat(res: dict[str, Any]) -> dict[str, float]:
        treated, reference = res[key]
        return {"diff": treated - reference, "low": math.nan, "high": math.nan, "n": 1}

    return stat


def _paired_overall(key: str) -> Callable[[list[dict[str, Any]], list[dict[str, float]]], dict]:
    def stat(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
        return _paired([r[key][0] - r[key][1] for r in results])

    return stat


def _below_zero(s: dict[str, float]) -> bool:
    """Negative: the seed's difference (one seed), or the whole 95% interval (all seeds)."""
    if s["n"] <= 1:
        return _finite(s["diff"]) and s["diff"] < 0
    return _finite(s["high"]) and s["high"] < 0


def _above_zero(s: dict[str, float]) -> bool:
    if s["n"] <= 1:
        return _finite(s["diff"]) and s["diff"] > 0
    return _finite(s["low"]) and s["low"] > 0


def _paired_describe(unit: str, scale: float = 1.0) -> Callable[[dict[str, float]], str]:
    def text(s: dict[str, float]) -> str:
        if s["n"] <= 1:
            return f"{_g(s['diff'] * scale)} {unit}"
        return (
            f"{_g(s['diff'] * scale)} {unit} [95% CI {_g(s['low'] * scale)}, "
            f"{_g(s['high'] * scale)}]"
        )

    return text


# --- negativity bias ------------------------------------------------------------------------


def _negativity_ratio(sums: np.ndarray, counts: np.ndarray) -> float:
    """|effect of one bad experience| / effect of one good one on trust, within trust bins.

    ``sums`` and ``counts`` are (bins x 3): change of trust summed, and consumer-weeks,
    for no experience, one good and one bad own-region experience. In each bin the
    effect of an experience is its mean change minus the mean change without one; the
    bins are weighted by their good plus bad experiences (only bins with all three).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    usable = np.all(counts > 0, axis=1)
    if not usable.any():
        return math.nan
    good = mean[usable, 1] - mean[usable, 0]
    bad = mean[usable, 2] - mean[usable, 0]
    weight = counts[usable, 1] + counts[usable, 2]
    good_effect = float(np.sum(weight * good) / weight.sum())
    bad_effect = float(np.sum(weight * bad) / weight.sum())
    if good_effect <= 0:
        return math.nan
    return -bad_effect / good_effect


def _negativity_seed(res: dict[str, Any]) -> dict[str, float]:
    n = res["negativity"]
    return {
        "ratio": _negativity_ratio(np.asarray(n["sums"]), np.asarray(n["counts"])),
        "bad_events": float(np.asarray(n["counts"])[:, 2].sum()),
    }


def _negativity_overall(
    results: list[dict[str, Any]], _: list[dict[str, float]]
) -> dict[str, float]:
    """Pooled over seeds (a seed has a few hundred counterfeits)."""
    sums = np.sum([np.asarray(r["negativity"]["sums"]) for r in results], axis=0)
    counts = np.sum([np.asarray(r["negativity"]["counts"]) for r in results], axis=0)
    return {"ratio": _negativity_ratio(sums, counts), "bad_events": float(counts[:, 2].sum())}


def _negativity_passes(s: dict[str, float]) -> bool:
    return _finite(s["ratio"]) and 2.0 <= s["ratio"] <= 5.0


# --- peer exposure --------------------------------------------------------------------------


def _hazards(at_risk: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return adopted / at_risk


def _peer_stat(at_risk: np.ndarray, adopted: np.ndarray) -> dict[str, float]:
    h = _hazards(at_risk, adopted)
    out = {f"hazard_{b}": float(h[i]) for i, b in enumerate(PEER_BINS)}
    out["ratio"] = float(h[-1] / h[0]) if h[0] > 0 else math.nan
    return out


def _peer_seed(res: dict[str, Any]) -> dict[str, float]:
    p = res["peers"]
    return _peer_stat(np.asarray(p["at_risk"], float), np.asarray(p["adopted"], float))


def _peer_overall(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
    """Pooled over seeds and weeks."""
    at_risk = np.sum([np.asarray(r["peers"]["at_risk"], float) for r in results], axis=0)
    adopted = np.sum([np.asarray(r["peers"]["adopted"], float) for r in results], axis=0)
    return _peer_stat(at_risk, adopted)


def _peer_passes(s: dict[str, float]) -> bool:
    h = [s[f"hazard_{b}"] for b in PEER_BINS]
    return (
        _finite(*h, s["ratio"])
        and all(h[i + 1] > h[i] for i in range(len(h) - 1))
        and s["ratio"] >= 2.0
    )


def _peer_describe(s: dict[str, float]) -> str:
    h = ", ".join(f"{b}: {_g(s[f'hazard_{b}'] * 100, 2)}%" for b in PEER_BINS)
    return f"weekly hazard by paying neighbours {h}; 3+ / 0 = {_g(s['ratio'], 3)}"


# --- trust and experience ---------------------------------------------------------------------


def _trust_seed(res: dict[str, Any]) -> dict[str, float]:
    return {"spearman": float(res["trust_experience"]["spearman"])}


def _trust_passes(s: dict[str, float]) -> bool:
    return _finite(s["spearman"]) and s["spearman"] > 0


# --- gravity ----------------------------------------------------------------------------------


def _gravity_seed(res: dict[str, Any]) -> dict[str, float]:
    shares = res["gravity"]["share"]
    out = {f"share_{i}": float(v) for i, v in enumerate(shares)}
    out.update({"diff": shares[-1] - shares[0], "low": math.nan, "high": math.nan, "n": 1})
    return out


def _gravity_overall(results: list[dict[str, Any]], _: list[dict[str, float]]) -> dict[str, float]:
    shares = np.asarray([r["gravity"]["share"] for r in results], dtype=float)
    out = {f"share_{i}": float(v) for i, v in enumerate(shares.mean(axis=0))}
    out.update(_paired(shares[:, -1] - shares[:, 0]))
    return out


def _gravity_passes(s: dict[str, float]) -> bool:
    shares = [s[f"share_{i}"] for i in range(len(LOGISTICS_COSTS))]
    falling = _finite(*shares) and all(shares[i + 1] < shares[i] for i in range(len(shares) - 1))
    return falling and _below_zero(s)


def _gravity_describe(s: dict[str, float]) -> str:
    shares = ", ".join(f"{_g(s[f'share_{i}'] * 100, 3)}%" for i in range(len(LOGISTICS_COSTS)))
    costs = ", ".join(f"{c:g}" for c in LOGISTICS_COSTS)
    return f"cross-border share of orders at cost {costs}: {shares}; " + _paired_describe(
        "points (0.4 - 0.1)", 100
    )(s)


# --- multi-homing -----------------------------------------------------------------------------


def _multihoming_seed(res: dict[str, Any]) -> dict[str, float]:
    m = res["multihoming"]
    return {
        "both_share": m["both"] / m["users"] if m["users"] else math.nan,
        "users": float(m["users"]),
    }


def _multihoming_passes(s: dict[str, float]) -> bool:
    return _finite(s["both_share"]) and s["both_share"] >= 0.5


# --------------------------------------------------------------------------- the facts

FACTS: tuple[Fact, ...] = (
    Fact(
        name="bass_payment",
        claim="Diffusion curves of new products and services are driven mostly by imitation: "
        "Bass coefficients average p about 0.03 and q about 0.38 per year, p rarely above "
        "0.05.",
        source="Sultan, Farley & Lehmann (1990), A meta-analysis of applications of diffusion "
        "models, Journal of Marketing Research 27(1); Van den Bulte & Stremersch (2004), "
        "Social contagion and income heterogeneity in new product diffusion: a meta-analytic "
        "test, Marketing Science 23(4)",
        measurement="Baseline, 312 weeks: mobile payment among connected consumers at weeks 0, "
        "52, ..., 312; discrete Bass model (p, q, market potential m) fitted to each seed's "
        "yearly curve by least squares (model/validation/bass.py); mean over seeds.",
        criterion="p < 0.05 and 0.2 <= q <= 0.6 per year",
        experiments=("curves",),
        passes=_bass_passes,
        per_seed=_bass_seed("payment"),
        describe=_bass_describe,
        spread=(("p", "p", 1.0), ("q", "q", 1.0)),
    ),
    Fact(
        name="bass_shopping",
        claim="As bass_payment, for the adoption of mobile shopping.",
        source="Sultan, Farley & Lehmann (1990), Journal of Marketing Research 27(1); Van den "
        "Bulte & Stremersch (2004), Marketing Science 23(4)",
        measurement="Baseline, 312 weeks: share of consumers who have shopped by mobile at weeks "
        "0, 52, ..., 312; discrete Bass fit per seed; mean over seeds.",
        criterion="p < 0.05 and 0.2 <= q <= 0.6 per year",
        experiments=("curves",),
        passes=_bass_passes,
        per_seed=_bass_seed("shoppers"),
        describe=_bass_describe,
        spread=(("p", "p", 1.0), ("q", "q", 1.0)),
    ),
    Fact(
        name="takeoff",
        claim="New products grow slowly at first and then take off: yearly adoption "
        "accelerates after introduction (the lower bend of the S-shaped curve).",
        source="Golder & Tellis (1997), Will it ever fly? Modeling the takeoff of really new "
        "consumer durables, Marketing Science 16(3); Rogers (2003), Diffusion of "
        "Innovations, 5th ed., Free Press",
        measurement="Baseline, 312 weeks: the year (1-6) with the largest increase of "
        "payment among the connected and of the shopper share; on the mean curve over "
        "seeds (per seed for the share of seeds).",
        criterion="the largest yearly increase comes in year 2 or later, for payment and "
        "for shopping",
        experiments=("curves",),
        passes=_takeoff_passes,
        per_seed=_takeoff_seed,
        overall=_takeoff_overall,
        describe=_takeoff_describe,
        spread=(
            ("payment_peak_year", "payment peak year", 1.0),
            ("shoppers_peak_year", "shopper peak year", 1.0),
        ),
    ),
    Fact(
        name="ad_concave",
        claim="Sales respond to advertising spend with diminishing returns: each further unit "
        "of spend adds fewer sales.",
        source="Simon & Arndt (1980), The shape of the advertising response function, Journal "
        "of Advertising Research 20(4); Hanssens, Parsons & Schultz (2001), Market Response "
        "Models, 2nd ed., Kluwer",
        measurement="Baseline, 156 weeks, with advertising on the four paid channels (QR/O2O, "
        "app market, mobile search, short video) of 0, 0.5, 1, 2, 4 and 8 times the base "
        "budget per adopting merchant a week, spread over them in the baseline's budget "
        "shares and paid by the state (the channel_* levers from week 1; merchants' own "
        "shares of those channels set to 0, so their costs are the same in every arm), the "
        "same seeds at every level (CRN); mobile orders and advertising spend summed over "
        "the weeks; marginal orders per unit of spend between consecutive levels, on the "
        "means over seeds.",
        criterion="marginal orders per unit spend fall at each of the 5 steps",
        experiments=("ad_response",),
        passes=_ad_passes,
        per_seed=_ad_seed,
        overall=_ad_overall,
        describe=_ad_describe,
        spread=(("marginal_1", "first marginal", 1.0), ("marginal_5", "last marginal", 1.0)),
    ),
    Fact(
        name="ad_elasticity",
        claim="The elasticity of sales to advertising is small: 0.12 on average in the short "
        "run and 0.24 in the long run across 751 short-term and 402 long-term estimates.",
        source="Sethuraman, Tellis & Briesch (2011), How well does advertising work? "
        "Generalizations from meta-analysis of brand advertising elasticities, Journal of "
        "Marketing Research 48(3)",
        measurement="The ad_concave runs at 1 and 2 times the base budget: arc elasticity "
        "ln(orders ratio) / ln(spend ratio), on the means over seeds.",
        criterion="0 < elasticity <= 0.5",
        experiments=("ad_response",),
        passes=_elasticity_passes,
        per_seed=_elasticity_seed,
        overall=_elasticity_overall,
        describe=lambda s: f"elasticity {_g(s['elasticity'], 2)}",
        spread=(("elasticity", "elasticity", 1.0),),
    ),
    Fact(
        name="kol_engagement",
        claim="Engagement per follower falls with an influencer's audience: the largest "
        "accounts engage a smaller share of their followers than small ones (an inverted U "
        "in engagement, falling over most of the range).",
        source="Wies, Bleier & Edeling (2023), Finding Goldilocks influencers: how follower "
        "count drives social media engagement, Journal of Marketing 87(3)",
        measurement="Baseline, 156 weeks: per KOL, mobile orders its followers placed with a "
        "merchant it endorsed that week, per follower-week; Spearman correlation with the "
        "KOL's mean follower count and the rate of the largest tenth of KOLs over the "
        "smallest tenth, pooled over seeds' KOLs.",
        criterion="Spearman < 0 and largest / smallest decile < 1",
        experiments=("curves",),
        passes=_kol_passes,
        per_seed=_kol_seed,
        overall=_kol_overall,
        describe=_kol_describe,
        spread=(("spearman", "Spearman", 1.0), ("decile_ratio", "decile ratio", 1.0)),
    ),
    Fact(
        name="kol_commercial_credibility",
        claim="Recognised commercial persuasion lowers the persuader's credibility: more "
        "sponsored posting wears an influencer's credibility down.",
        source="Friestad & Wright (1994), The persuasion knowledge model: how people cope with "
        "persuasion attempts, Journal of Consumer Research 21(1)",
        measurement="scenarios/kol_campaign.yaml (the state buys sponsored posts from week 13) "
        "against the baseline, the same seeds: mean KOL credibility at week 156, campaign "
        "minus baseline; mean and 95% t interval over seeds.",
        criterion="the 95% interval of the difference lies below 0",
        experiments=("kol_credibility",),
        passes=_below_zero,
        per_seed=_paired_seed("kol_credibility"),
        overall=_paired_overall("kol_credibility"),
        describe=_paired_describe("credibility"),
        spread=(("diff", "difference", 1.0),),
    ),
    Fact(
        name="negativity_bias",
        claim="Bad is stronger than good: a negative experience moves judgements several "
        "times as much as a positive one of the same size (losses weigh about 2.25 times "
        "gains in prospect theory).",
        source="Baumeister, Bratslavsky, Finkenauer & Vohs (2001), Bad is stronger than good, "
        "Review of General Psychology 5(4); Tversky & Kahneman (1992), Advances in prospect "
        "theory: cumulative representation of uncertainty, Journal of Risk and Uncertainty "
        "5(4)",
        measurement="Baseline, 156 weeks: week-on-week change of trust in home sellers of "
        "consumers with one genuine or one counterfeit purchase from a home seller that week, "
        "minus the change of those without a purchase, within trust bins of width 0.1 "
        "(weighted by the experiences in each bin); |bad effect| / good effect, pooled over "
        "seeds.",
        criterion="2 <= |bad| / good <= 5",
        experiments=("curves",),
        passes=_negativity_passes,
        per_seed=_negativity_seed,
        overall=_negativity_overall,
        describe=lambda s: (
            f"ratio {_g(s['ratio'], 3)} ({int(s['bad_events']):,} counterfeit experiences)"
        ),
        spread=(("ratio", "ratio", 1.0),),
    ),
    Fact(
        name="multi_homing",
        claim="Consumers multi-home on payment platforms: most hold more than one network's "
        "means of payment (in China most mobile payers use both WeChat Pay and Alipay).",
        source="Rysman (2007), An empirical analysis of payment card usage, Journal of "
        "Industrial Economics 55(1); Rochet & Tirole (2003), Platform competition in "
        "two-sided markets, Journal of the European Economic Association 1(4)",
        measurement="scenarios/platform_two_apps.yaml, 156 weeks: consumers using both apps "
        "over consumers using either, at the end; mean over seeds.",
        criterion="share using both >= 0.5",
        experiments=("multihoming",),
        passes=_multihoming_passes,
        per_seed=_multihoming_seed,
        describe=lambda s: (
            f"{_g(s['both_share'] * 100, 3)}% of {_g(s['users'])} app users use both"
        ),
        spread=(("both_share", "share (%)", 100.0),),
    ),
    Fact(
        name="hub_seeding",
        claim="Seeding a message to well-connected consumers (hubs) spreads it further than "
        "seeding random consumers.",
        source="Hinz, Skiera, Barrot & Becker (2011), Seeding strategies for viral marketing: "
        "an empirical comparison, Journal of Marketing 75(6)",
        measurement="Baseline, 52 weeks, the 1% initially aware chosen by degree "
        "(word_of_mouth.initial_aware_by: degree) against at random, the same seeds: share "
        "of consumers who have shopped by mobile at week 52, degree minus random; mean and "
        "95% t interval over seeds.",
        criterion="the 95% interval of the difference lies above 0",
        experiments=("seeding",),
        passes=_above_zero,
        per_seed=_paired_seed("seeding"),
        overall=_paired_overall("seeding"),
        describe=_paired_describe("points", 100),
        spread=(("diff", "difference (points)", 100.0),),
    ),
    Fact(
        name="peer_exposure",
        claim="The chance to adopt rises with the number of one's contacts who have adopted "
        "(social contagion over network ties, beyond marketing effort); for diffusion driven "
        "by people rather than broadcast (issue 26) it should at least double from none to "
        "three or more.",
        source="Iyengar, Van den Bulte & Valente (2011), Opinion leadership and social "
        "contagion in new product diffusion, Marketing Science 30(2)",
        measurement="Baseline, 156 weeks: weekly chance that a connected non-payer pays by "
        "mobile at the end of the week, by the number of its neighbours paying at the start "
        "(0, 1, 2, 3+), pooled over weeks and seeds.",
        criterion="the chance rises from each group to the next and 3+ / 0 >= 2",
        experiments=("curves",),
        passes=_peer_passes,
        per_seed=_peer_seed,
        overall=_peer_overall,
        describe=_peer_describe,
        spread=(("ratio", "3+ / 0", 1.0),),
    ),
    Fact(
        name="trust_experience",
        claim="Trust in online sellers grows with familiarity: consumers with more "
        "experience of buying online trust online sellers more.",
        source="Gefen (2000), E-commerce: the role of familiarity and trust, Omega 28(6)",
        measurement="Baseline, 156 weeks: among connected consumers never sold a "
        "counterfeit, Spearman correlation between genuine mobile purchases over the 156 "
        "weeks and trust in home sellers at the end; mean over seeds.",
        criterion="Spearman > 0",
        experiments=("curves",),
        passes=_trust_passes,
        per_seed=_trust_seed,
        describe=lambda s: f"Spearman {_g(s['spearman'], 2)}",
        spread=(("spearman", "Spearman", 1.0),),
    ),
    Fact(
        name="gravity",
        claim="Trade falls with trade costs (the gravity equation's distance effect persists, "
        "online too, if weaker).",
        source="Disdier & Head (2008), The puzzling persistence of the distance effect on "
        "bilateral trade, Review of Economics and Statistics 90(1); Lendle, Olarreaga, "
        "Schropp & Vezina (2016), There goes gravity: eBay and the death of distance, "
        "Economic Journal 126(591)",
        measurement="Baseline, 156 weeks, with trade.cross_border_logistics_cost 0.10, 0.25 "
        "(the baseline's) and 0.40, the same seeds: cross-border share of mobile orders over "
        "the weeks; mean over seeds, and the paired difference 0.40 minus 0.10.",
        criterion="the share falls at each step of the cost and the 95% interval of the "
        "difference 0.40 - 0.10 lies below 0",
        experiments=("gravity",),
        passes=_gravity_passes,
        per_seed=_gravity_seed,
        overall=_gravity_overall,
        describe=_gravity_describe,
        spread=(("diff", "difference (points)", 100.0),),
    ),
    Fact(
        name="fraud_deters_payment",
        claim="Perceived risk, above all of losing money, holds back the adoption of "
        "electronic services.",
        source="Featherman & Pavlou (2003), Predicting e-services adoption: a perceived risk "
        "facets perspective, International Journal of Human-Computer Studies 59(4)",
        measurement=f"Baseline, 156 weeks, with payment.fraud_rate times {FRAUD_MULTIPLE:g} "
        "against as it is, the same seeds: mobile payment among connected consumers at week "
        "156, more fraud minus baseline; mean and 95% t interval over seeds.",
        criterion="the 95% interval of the difference lies below 0",
        experiments=("fraud",),
        passes=_below_zero,
        per_seed=_paired_seed("fraud"),
        overall=_paired_overall("fraud"),
        describe=_paired_describe("points", 100),
        spread=(("diff", "difference (points)", 100.0),),
    ),
)
"""The stylised facts, in the order of the table. Criteria fixed before the first run."""

FACTS_BY_NAME: dict[str, Fact] = {f.name: f for f in FACTS}


# --------------------------------------------------------------------------- running models


def _scenario(path: Path, settings: Settings, weeks: int, overrides: Mapping[str, Any]):
    from model.scenario import load_scenario

    values = {"population.consumers": settings.consumers, "simulation.steps": weeks}
    values.update(overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PopulationScaled: scaling is wanted
        return load_scenario(path, values)


def _ad_overrides(multiple: float) -> dict[str, Any]:
    """Return the overrides of the ad_response arm at ``multiple`` (state-funded channels).

    Merchants' own budget shares of the four paid channels are set to 0 (their KOL
    share stays), and a subsidy of ``multiple`` x the base budget per adopting merchant
    a week is spread over the channels in proportion to the baseline's shares (the
    ``channel_<c>`` levers, in multiples of ``marketing.budget_per_merchant``, from
    week 1). Spend is then 0 at multiple 0, and merchants' own costs are the same in
    every arm.
    """
    from model.scenario import load_scenario

    channels = load_scenario(BASELINE).marketing.channels
    paid = {c: ch.budget_share for c, ch in channels.items() if c != "kol_campaign"}
    total = sum(paid.values())
    values: dict[str, Any] = {f"marketing.channels.{c}.budget_share": 0.0 for c in paid}
    values["policies"] = [
        {"lever": f"channel_{c}", "start": 1, "ramp": 0, "strength": multiple * share / total}
        for c, share in paid.items()
        if multiple > 0
    ]
    return values


def _plain_run(path: Path, settings: Settings, seed: int, weeks: int, overrides: Mapping):
    """Run a scenario; return (its run table, the model, advertising spend summed)."""
    from model.market import MarketModel

    model = MarketModel(_scenario(path, settings, weeks, overrides), seed=seed)
    spend = 0.0
    for _ in range(weeks):
        model.step()
        signals = model.last_week.signals.as_dict()
        spend += float(np.sum(signals["marketing_spend_by_merchant"]))
        spend += float(sum(signals["channel_subsidy_spend"].values()))
    return model.timeseries(), model, spend


def _curves_run(settings: Settings, seed: int) -> dict[str, Any]:
    """Run the baseline over ``curve_weeks``, watched between steps (the facts using it)."""
    import scipy.sparse as sp

    from model.market import MarketModel

    weeks = settings.weeks
    model = MarketModel(_scenario(BASELINE, settings, settings.curve_weeks, {}), seed=seed)
    c = model.consumers
    n, k = c.n, model.kols.n
    adjacency = model.graph.adjacency
    n_merchants = model.merchants.price.size
    sums = np.zeros((TRUST_BINS, 3))
    counts = np.zeros((TRUST_BINS, 3))
    conversions = np.zeros(k)
    follower_weeks = np.zeros(k)
    at_risk = np.zeros(len(PEER_BINS))
    adopted = np.zeros(len(PEER_BINS))
    genuine = np.zeros(n, dtype=np.int64)
    cheated = np.zeros(n, dtype=bool)
    trust_at_end = None
    access_at_end = None
    for t in range(settings.curve_weeks):
        watch = t < weeks
        if watch:
            c = model.consumers
            trust_before = c.trust_domestic.astype(np.float64).copy()
            paying = c.payment.copy()
            connected = c.has_access.copy()
            followers = model.kols.followers
            follower_count = model.kols.follower_count.astype(np.float64).copy()
            region = c.region
        model.step()
        if not watch:
            continue
        c = model.consumers
        signals = model.last_week.signals.as_dict()
        # negativity: own-region experiences this week against none
        satisfied, cheated_now = signals["satisfied_from"], signals["cheated_from"]
        good = satisfied == region
        bad = cheated_now == region
        none = (satisfied < 0) & (cheated_now < 0)
        change = c.trust_domestic.astype(np.float64) - trust_before
        bins = np.clip((trust_before * TRUST_BINS).astype(np.int64), 0, TRUST_BINS - 1)
        for g, mask in enumerate((none, good, bad)):
            sums[:, g] += np.bincount(bins[mask], weights=change[mask], minlength=TRUST_BINS)
            counts[:, g] += np.bincount(bins[mask], minlength=TRUST_BINS)
        genuine += satisfied >= 0
        cheated |= cheated_now >= 0
        # KOLs: orders by followers with a merchant the KOL endorsed this week
        posts, orders = signals["posts"], signals["orders"]
        if k:
            follower_weeks += follower_count
            if posts.kol.size and orders.consumer.size:
                bought = sp.csr_array(
                    (np.ones(orders.consumer.size), (orders.consumer, orders.merchant)),
                    shape=(n, n_merchants),
                )
                endorsed = sp.csr_array(
                    (np.ones(posts.kol.size), (posts.kol, posts.merchant)), shape=(k, n_merchants)
                )
                endorsed.sum_duplicates()
                endorsed.data[:] = 1.0
                by_followers = sp.csr_array(followers.astype(np.float64) @ bought)
                conversions += np.asarray(by_followers.multiply(endorsed).sum(axis=1)).ravel()
        # peers: connected non-payers by paying neighbours at the start of the week
        paying_neighbours = np.asarray(adjacency @ paying.astype(np.float32)).ravel()
        group = np.minimum(np.rint(paying_neighbours).astype(np.int64), len(PEER_BINS) - 1)
        risk = connected & ~paying
        at_risk += np.bincount(group[risk], minlength=len(PEER_BINS))
        adopted += np.bincount(group[risk & c.payment], minlength=len(PEER_BINS))
        if t == weeks - 1:
            trust_at_end = c.trust_domestic.astype(np.float64).copy()
            access_at_end = c.has_access.copy()
    table = model.timeseries()
    years = np.arange(0, settings.curve_weeks + 1, settings.period)
    keep = access_at_end & ~cheated if access_at_end is not None else np.zeros(n, bool)
    rho = _spearman(genuine[keep], trust_at_end[keep]) if keep.any() else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = conversions / follower_weeks
    return {
        "curves": {
            "payment": table["payment_adoption_connected"].to_numpy()[years].tolist(),
            "shoppers": table["shopper_share"].to_numpy()[years].tolist(),
        },
        "negativity": {"sums": sums.tolist(), "counts": counts.tolist()},
        "kols": {
            "size": (follower_weeks / max(weeks, 1)).tolist(),
            "rate": rate.tolist(),
        },
        "peers": {"at_risk": at_risk.tolist(), "adopted": adopted.tolist()},
        "trust_experience": {"spearman": rho},
    }


def _ad_response(settings: Settings, seed: int, cache: dict) -> dict[str, Any]:
    orders, spend = [], []
    for multiple in AD_MULTIPLES:
        table, _, money = _cached(
            cache,
            BASELINE,
            settings,
            seed,
            settings.weeks,
            _ad_overrides(multiple),
        )
        orders.append(float(table["orders"].iloc[1:].sum()))
        spend.append(money)
    return {"orders": orders, "spend": spend}


def _cached(cache: dict, path: Path, settings: Settings, seed: int, weeks: int, overrides):
    key = (str(path), weeks, repr(sorted(overrides.items())))
    if key not in cache:
        table, model, spend = _plain_run(path, settings, seed, weeks, overrides)
        cache[key] = (table, _platform_membership(model), spend)
    return cache[key]


def _platform_membership(model) -> np.ndarray | None:
    """Consumers x platforms: who uses which app at the end (None without platforms).

    ``PlatformState.member`` (consumers x platforms; a consumer may use several),
    read as it is.
    """
    if model.scenario.platforms is None:
        return None
    return np.asarray(model.platforms.member, dtype=bool).copy()


EXPERIMENTS: dict[str, str] = {
    "curves": "the baseline over curve_weeks, watched between steps",
    "ad_response": "the baseline with advertising subsidies of 0-8 x the base budget",
    "kol_credibility": "kol_campaign.yaml and the baseline",
    "multihoming": "platform_two_apps.yaml",
    "seeding": "the baseline seeded by degree and at random",
    "gravity": "the baseline at three cross-border logistics costs",
    "fraud": "the baseline with more payment fraud, and as it is",
}
"""The runs a seed needs, by name (:func:`measure_seed`)."""


def measure_seed(settings: Settings, seed: int, experiments: Sequence[str]) -> dict[str, Any]:
    """Run the named experiments for one seed and return what the facts read.

    A pure function of (settings, seed, experiments): runs shared by two experiments
    (the baseline over ``weeks``) are run once.
    """
    cache: dict = {}
    out: dict[str, Any] = {"seed": seed}
    weeks = settings.weeks
    for name in experiments:
        if name == "curves":
            out.update(_curves_run(settings, seed))
        elif name == "ad_response":
            out["ad_response"] = _ad_response(settings, seed, cache)
        elif name == "kol_credibility":
            base, _, _ = _cached(cache, BASELINE, settings, seed, weeks, {})
            campaign, _, _ = _cached(cache, KOL_CAMPAIGN, settings, seed, weeks, {})
            out["kol_credibility"] = (
                float(campaign["kol_credibility"].iloc[-1]),
                float(base["kol_credibility"].iloc[-1]),
            )
        elif name == "multihoming":
            _, table, _ = _cached(cache, TWO_APPS, settings, seed, weeks, {})
            users = int(table.any(axis=1).sum())
            both = int((table.sum(axis=1) >= 2).sum())
            out["multihoming"] = {"users": users, "both": both}
        elif name == "seeding":
            span = settings.seeding_weeks
            hub, _, _ = _cached(
                cache, BASELINE, settings, seed, span, {"word_of_mouth.initial_aware_by": "degree"}
            )
            rand, _, _ = _cached(
                cache, BASELINE, settings, seed, span, {"word_of_mouth.initial_aware_by": "random"}
            )
            out["seeding"] = (
                float(hub["shopper_share"].iloc[-1]),
                float(rand["shopper_share"].iloc[-1]),
            )
        elif name == "gravity":
            shares = []
            for cost in LOGISTICS_COSTS:
                table, _, _ = _cached(
                    cache,
                    BASELINE,
                    settings,
                    seed,
                    weeks,
                    {"trade.cross_border_logistics_cost": cost},
                )
                total = float(table["orders"].iloc[1:].sum())
                cross = float(table["cross_border_orders"].iloc[1:].sum())
                shares.append(cross / total if total > 0 else math.nan)
            out["gravity"] = {"share": shares}
        elif name == "fraud":
            from model.scenario import load_scenario

            rate = load_scenario(BASELINE).payment.fraud_rate
            more, _, _ = _cached(
                cache,
                BASELINE,
                settings,
                seed,
                weeks,
                {"payment.fraud_rate": min(1.0, rate * FRAUD_MULTIPLE)},
            )
            base, _, _ = _cached(cache, BASELINE, settings, seed, weeks, {})
            out["fraud"] = (
                float(more["payment_adoption_connected"].iloc[-1]),
                float(base["payment_adoption_connected"].iloc[-1]),
            )
        else:
            raise ValueError(f"unknown experiment {name!r}")
    return out


# --------------------------------------------------------------------------- the verdict


@dataclass
class FactResult:
    """One fact's outcome.

    Attributes:
        fact: the fact.
        overall: its statistic for all seeds.
        per_seed: its statistic for each seed, in seed order.
        seeds: the seeds.
        seeds_passing: how many seeds' own statistic meets the criterion.
        passed: the criterion holds for the statistic for all seeds.
    """

    fact: Fact
    overall: dict[str, float]
    per_seed: list[dict[str, float]]
    seeds: tuple[int, ...]
    seeds_passing: int
    passed: bool

    @property
    def verdict(self) -> str:
        """``pass`` or ``FAIL``."""
        return "pass" if self.passed else "FAIL"

    def spread(self) -> str:
        """Return the range over seeds of the fact's main numbers (per-seed statistics)."""
        parts = []
        for key, label, scale in self.fact.spread:
            values = [s[key] * scale for s in self.per_seed if _finite(s.get(key, math.nan))]
            if values:
                parts.append(f"{label} {_g(min(values))} to {_g(max(values))}")
        return "; ".join(parts)


@dataclass
class PatternReport:
    """The suite's outcome: one result per fact, and the settings."""

    results: list[FactResult]
    settings: Settings

    @property
    def failed(self) -> list[str]:
        """Names of the facts whose criterion does not hold."""
        return [r.fact.name for r in self.results if not r.passed]


def experiments_for(facts: Sequence[Fact]) -> list[str]:
    """Return the experiments the facts need, in :data:`EXPERIMENTS` order."""
    wanted = {e for f in facts for e in f.experiments}
    return [e for e in EXPERIMENTS if e in wanted]


def evaluate(
    facts: Sequence[Fact], settings: Settings, results: list[dict[str, Any]]
) -> PatternReport:
    """Apply each fact's statistic and criterion to the seeds' results (in seed order)."""
    out = []
    for fact in facts:
        per_seed = [fact.per_seed(r) for r in results]
        overall = (fact.overall or (lambda _r, stats: _mean_of(stats)))(results, per_seed)
        passing = sum(1 for s in per_seed if fact.passes(s))
        out.append(
            FactResult(
                fact=fact,
                overall=overall,
                per_seed=per_seed,
                seeds=tuple(r["seed"] for r in results),
                seeds_passing=passing,
                passed=bool(fact.passes(overall)),
            )
        )
    return PatternReport(out, settings)


def run_patterns(
    settings: Settings,
    names: Sequence[str] | None = None,
    pool: Any = None,
    on_seed: Callable[[int], None] | None = None,
) -> PatternReport:
    """Measure the named facts (default: all) over the settings' seeds.

    Args:
        settings: sizes and seeds.
        names: facts to check (:data:`FACTS` order is kept).
        pool: an executor (``submit``) to run the seeds in parallel; None: this process.
        on_seed: called with each seed when its runs are done.
    """
    facts = [f for f in FACTS if names is None or f.name in names]
    experiments = experiments_for(facts)
    if pool is None:
        results = []
        for seed in settings.seeds:
            results.append(measure_seed(settings, seed, experiments))
            if on_seed is not None:
                on_seed(seed)
    else:
        from model.experiment.runner import interrupts_between_waits, result_when_done

        results = []
        with interrupts_between_waits() as held:  # Ctrl-C acts between waits only
            futures = [
                pool.submit(measure_seed, settings, seed, experiments) for seed in settings.seeds
            ]
            for seed, future in zip(settings.seeds, futures, strict=True):
                results.append(result_when_done(future, held))
                if on_seed is not None:
                    on_seed(seed)
    return evaluate(facts, settings, results)


# --------------------------------------------------------------------------- tables

CSV_COLUMNS = (
    "fact",
    "claim",
    "source",
    "measurement",
    "criterion",
    "measured",
    "spread",
    "seeds_passing",
    "seeds",
    "verdict",
)


def seed_text(seeds: Sequence[int]) -> str:
    """Seeds as ranges: 1001-1020, or 1-3,7."""
    seeds = sorted(seeds)
    parts: list[str] = []
    start = prev = None
    for s in seeds:
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = s
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ",".join(parts)


def rows(report: PatternReport) -> list[dict[str, str]]:
    """One row per fact, the columns of :data:`CSV_COLUMNS` as text."""
    out = []
    for r in report.results:
        n = len(r.seeds)
        out.append(
            {
                "fact": r.fact.name,
                "claim": r.fact.claim,
                "source": r.fact.source,
                "measurement": r.fact.measurement,
                "criterion": r.fact.criterion,
                "measured": r.fact.describe(r.overall),
                "spread": r.spread(),
                "seeds_passing": f"{r.seeds_passing}/{n}",
                "seeds": seed_text(r.seeds),
                "verdict": r.verdict,
            }
        )
    return out


def csv_text(report: PatternReport) -> str:
    """Write the table as CSV (one row per fact)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(report))
    return buffer.getvalue()


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(table: Sequence[Mapping[str, str]]) -> str:
    """Write the Markdown table of rows from :func:`rows` (or read from the CSV)."""
    lines = [
        "| fact | source | criterion | measured (all seeds) | spread over seeds | seeds passing "
        "| verdict |",
        "|---|---|---|---|---|---:|---|",
    ]
    for row in table:
        lines.append(
            f"| `{row['fact']}` | {_cell(row['source'])} | {_cell(row['criterion'])} | "
            f"{_cell(row['measured'])} | {_cell(row['spread']) or '—'} | "
            f"{row['seeds_passing']} | {row['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def console_table(report: PatternReport) -> str:
    """Write a plain-text table for the terminal: fact, criterion, measured, seeds, verdict."""
    table = rows(report)
    heads = ("fact", "criterion", "measured", "seeds", "verdict")
    cells = [
        (r["fact"], r["criterion"], r["measured"], r["seeds_passing"], r["verdict"]) for r in table
    ]
    widths = [
        min(60, max(len(h), *(len(c[i]) for c in cells))) if cells else len(h)
        for i, h in enumerate(heads)
    ]

    def wrap(text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(text, width) or [""]

    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        wrapped = [wrap(text, w) for text, w in zip(c, widths, strict=True)]
        for i in range(max(len(x) for x in wrapped)):
            lines.append(
                "  ".join(
                    (x[i] if i < len(x) else "").ljust(w)
                    for x, w in zip(wrapped, widths, strict=True)
                ).rstrip()
            )
    return "\n".join(lines)


def report_payload(report: PatternReport) -> dict[str, Any]:
    """Everything behind the table, for patterns.json (per-seed statistics included)."""
    from dataclasses import asdict

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(
        {
            "settings": asdict(report.settings),
            "failed_facts": report.failed,
            "facts": [
                {
                    **row,
                    "passed": r.passed,
                    "experiments": list(r.fact.experiments),
                    "overall": r.overall,
                    "per_seed": [
                        {"seed": seed, **stat}
                        for seed, stat in zip(r.seeds, r.per_seed, strict=True)
                    ],
                }
                for r, row in zip(report.results, rows(report), strict=True)
            ],
        }
    )


__all__ = [
    "BUILDING_SEEDS",
    "HELD_BACK_SEEDS",
    "FACTS",
    "FACTS_BY_NAME",
    "FULL",
    "QUICK",
    "Fact",
    "FactResult",
    "PatternReport",
    "Settings",
    "console_table",
    "report_payload",
    "csv_text",
    "evaluate",
    "markdown_table",
    "measure_seed",
    "run_patterns",
]
