"""The calibrated replay run past its data: mtsim's forecast for 2021-2025, written down.

The repository's data end in 2020 (CNNIC's 47th report, NBS 2020). This script continues
``scenarios/china_2013.yaml`` (the fitted point, its three events as they are: the
COVID-19 push ends in April 2020, the pilot zones stay at their full strength, nothing
new is added) to 2025-12-31 and writes, per year-end 2020-2025, the model's payment share
and shopper share (ordered by mobile in the last 26 weeks) among the connected, the
mobile access share, and the year's mobile share of consumption: the mean of 10 runs and
the lowest and highest single run. The runs are those of the grounding audit's size
(2,000 consumers, 80 merchants, 8 KOLs; experiments/grounding_audit.py) on seeds
3001-3010, which no fit and no audit used.

It is a forecast to be checked against later data, not a fit: nothing in it looks at any
figure after 2020, and docs/calibration.md records when and at which commit it was made
(the record under its table). If the model changes, rerunning it makes a new forecast;
the old one stays in git history.

    python experiments/forecast.py [--workers 2]

Writes ``experiments/measured/forecast.csv`` (series, year, mean, min, max, and each
seed's value).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the experiments package importable
    sys.path.insert(0, str(ROOT))

from experiments.grounding_audit import (  # noqa: E402
    mobile_share_of_year,
    model_series,
    one_run,
    step_of,
)

OUT = ROOT / "experiments" / "measured" / "forecast.csv"
SEEDS = tuple(range(3001, 3011))
"""Seeds no fit or audit used (fits derive theirs from seed 1; the replay 1000-1023; the
grounding audit 2001-2010)."""
YEARS = tuple(range(2020, 2026))
"""2020, the last year with data (for reference), and the five forecast years."""
END = "2025-12-31"

SERIES = (
    ("payment", "payment_adoption_connected"),
    ("shopping_26w", "active_shopper_share"),
    ("access", "mobile_access_share"),
)
"""(series, model metric): payment and shopping among the connected, as CNNIC counts them
(experiments/grounding_audit.py's ``model_series``), and mobile access over everyone."""


def _run(seed: int) -> pd.DataFrame:
    return one_run(seed, steps=step_of(END))


def rows(runs: list[pd.DataFrame]) -> list[dict[str, object]]:
    """Per series and year-end, the runs' mean, lowest and highest value, and each run's."""
    out: list[dict[str, object]] = []
    for series, metric in SERIES:
        curves = np.array([model_series(run, metric) for run in runs])
        for year in YEARS:
            at = curves[:, step_of(f"{year}-12-31")]
            out.append(_row(series, year, at))
    for year in YEARS:
        shares = np.array([mobile_share_of_year(run, year) for run in runs])
        out.append(_row("mobile_share_of_consumption", year, shares))
    return out


def _row(series: str, year: int, values: np.ndarray) -> dict[str, object]:
    row: dict[str, object] = {
        "series": series,
        "year": year,
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
    }
    for seed, value in zip(SEEDS, values, strict=True):
        row[f"seed_{seed}"] = float(value)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the replay to 2025 on the seeds and write the forecast table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            runs = list(pool.map(_run, SEEDS))
    else:
        runs = [_run(seed) for seed in SEEDS]
    table = pd.DataFrame(rows(runs))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    shown = table[["series", "year", "mean", "min", "max"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
