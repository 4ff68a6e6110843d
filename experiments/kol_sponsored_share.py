"""How commercial are the KOLs' feeds? Sponsored posts per KOL-week, baseline and campaign.

The KOL campaign lever (``channel_kol_campaign``) fails to move orders beyond noise at
its library strength (docs/policies.md, "Why, traced": the credibility its sponsored
posts cost). This script counts what a KOL publishes in a week, by year of the run:
sponsored posts bought by merchants, sponsored posts bought by the state's campaign,
organic endorsements, and the sponsored share of all its posts including its
``kols.content_posts`` non-endorsement posts, which is the figure published studies of
influencer feeds report (docs/domain.md, "Published figures the current values do not
match", ``kols.max_sponsored_posts``).

The posts are read by wrapping ``model.mechanisms.kol.kol_market`` (a diagnostic: the
model is not changed). Building seeds 1 and 2 by default, the scenarios' own sizes.

    python -m experiments.kol_sponsored_share [--seeds 1 2] [--weeks 156]

Prints one line per scenario and seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from model import load_scenario
from model.market import MarketModel
from model.mechanisms import kol

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("baseline", "kol_campaign")


def sponsored_share(scenario_name: str, seed: int, weeks: int) -> list[dict[str, float]]:
    """Per year of the run: mean posts per KOL-week by kind, and the sponsored share."""
    counts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    original = kol.kol_market

    def counted(*args, **kwargs):
        posts = original(*args, **kwargs)
        n = posts.n_kols
        merchants = np.bincount(posts.kol[posts.sponsored & ~posts.campaign], minlength=n)
        campaign = np.bincount(posts.kol[posts.campaign], minlength=n)
        organic = np.bincount(posts.kol[~posts.sponsored], minlength=n)
        counts.append((merchants, campaign, organic))
        return posts

    scenario = load_scenario(ROOT / "scenarios" / f"{scenario_name}.yaml")
    content = float(scenario.kols.content_posts)
    kol.kol_market = counted
    try:
        model = MarketModel(scenario, seed=seed)
        for _ in range(weeks):
            model.step()
    finally:
        kol.kol_market = original
    years = []
    for start in range(0, len(counts), 52):
        chunk = counts[start : start + 52]
        m, c, o = (float(np.mean([week[i].mean() for week in chunk])) for i in range(3))
        years.append(
            {"merchants": m, "campaign": c, "organic": o, "share": (m + c) / (m + c + o + content)}
        )
    return years


def main(argv: list[str] | None = None) -> None:
    """Print the table for the chosen seeds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--weeks", type=int, default=156)
    args = parser.parse_args(argv)
    for name in SCENARIOS:
        for seed in args.seeds:
            years = sponsored_share(name, seed, args.weeks)
            text = " | ".join(
                f"year {i + 1}: merchants {y['merchants']:.2f}, campaign {y['campaign']:.2f}, "
                f"organic {y['organic']:.2f}, sponsored share {100 * y['share']:.0f}%"
                for i, y in enumerate(years)
            )
            print(f"{name} seed {seed}: {text}", flush=True)


if __name__ == "__main__":
    main()
