"""Why does seeding the hubs not matter in the baseline? The pattern suite's hub_seeding, probed.

The pattern suite's ``hub_seeding`` (docs/validation.md; Hinz, Skiera, Barrot & Becker
2011) seeds the baseline's 1% initially aware by degree and at random on the same seeds
and compares the share of consumers who have shopped by mobile at week 52. It fails: the
difference cannot be told from zero. Two explanations were offered: the acquaintance
graph's degrees are Poisson-like (a stochastic block model, where the networks Hinz et
al. seeded have heavy-tailed degrees), and KOL posts make most consumers aware whoever
the seeds are. This script measures the same difference, with the suite's own
measurement (``model.validation.patterns``: its scenario settings, its weeks, its paired
95% t interval), under probes, each a set of scenario values:

- ``baseline``: the reference scenario as it is;
- ``heavy_tailed``: ``network.kind: barabasi_albert`` (preferential attachment, the same
  mean degree: a heavy-tailed degree distribution, no regional blocks);
- ``no_kol_awareness``: ``kols.awareness_gain`` 0 (KOL posts make nobody aware);
- ``heavy_tailed_no_kol_awareness``: both.

Building seeds 1-20 by default (never the held-back 1001-1020 the suite reports).
Probes are diagnostics, not proposals: the scenario keeps its values.

    python -m experiments.seeding_probes [--seeds 1-20] [--consumers 2000] [--workers 2]

Writes ``experiments/measured/seeding_probes.csv`` (probe, seed, the shopper share at
week 52 seeded by degree and at random, their difference) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "measured" / "seeding_probes.csv"
PROBES: dict[str, dict[str, object]] = {
    "baseline": {},
    "heavy_tailed": {"network.kind": "barabasi_albert"},
    "no_kol_awareness": {"kols.awareness_gain": 0.0},
    "heavy_tailed_no_kol_awareness": {
        "network.kind": "barabasi_albert",
        "kols.awareness_gain": 0.0,
    },
}
"""Probe name -> scenario values (dotted keys) on top of the suite's settings."""


def shoppers_at_end(probe: str, seed: int, consumers: int) -> dict[str, object]:
    """Run the suite's seeding pair under a probe; return both arms' shopper shares."""
    from model.market import run_model
    from model.validation import patterns

    settings = replace(patterns.Settings(), consumers=consumers)
    out: dict[str, object] = {"probe": probe, "seed": seed}
    for by in ("degree", "random"):
        values = {**PROBES[probe], "word_of_mouth.initial_aware_by": by}
        scenario = patterns._scenario(patterns.BASELINE, settings, settings.seeding_weeks, values)
        out[f"shoppers_{by}"] = float(run_model(scenario, seed=seed)["shopper_share"].iloc[-1])
    out["diff"] = float(out["shoppers_degree"]) - float(out["shoppers_random"])
    return out


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per probe: the mean paired difference and its 95% t interval (the suite's)."""
    from model.validation.patterns import _paired

    rows = []
    for probe, rows_of in frame.groupby("probe", sort=False):
        stat = _paired(rows_of["diff"].tolist())
        rows.append({"probe": probe, **stat})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Run every probe on the seeds, print the differences, write the CSV."""
    from model.commands.validate import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1-20", help="seeds, e.g. 1-20, 1,2,5 or building")
    parser.add_argument("--consumers", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    seeds = list(parse_seeds(args.seeds))
    jobs = [(probe, seed, args.consumers) for probe in PROBES for seed in seeds]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(shoppers_at_end, *zip(*jobs, strict=True)))
    else:
        results = [shoppers_at_end(*job) for job in jobs]
    frame = pd.DataFrame(results)
    for row in summary(frame).itertuples():
        print(
            f"{row.probe}: hubs minus random {100 * row.diff:+.2f} points "
            f"[{100 * row.low:+.2f}, {100 * row.high:+.2f}] ({row.n} seeds)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
