"""Grounding audit of the calibrated replay (issue 28): adoption against CNNIC, money against NBS.

Runs ``scenarios/china_2013.yaml`` at the calibration's size (2,000 consumers, 80 merchants,
8 KOLs, Mesa's network space off: experiments/calibrate_cnnic.yaml's overrides) on 10 seeds
the calibration never used (2001-2010), 365 weekly steps (week 0 = 2013-12-31), with 2 worker
processes, and writes, for docs/calibration.md ("Grounding audit") and README:

- ``experiments/measured/grounding_audit_runs.csv``: every run's weekly series (seed, step,
  payment among the connected, shoppers and active shoppers among the connected, mobile
  access, mobile GMV and the value of all shopping needs, both in yuan);
- ``experiments/measured/grounding_audit_cnnic.csv`` (table A): at each CNNIC date, per
  series, CNNIC's value, the mean of the runs, the lowest and highest single run, the gap of
  the mean in share points, and each run's gap;
- ``experiments/measured/grounding_audit_years.csv`` (table B): per calendar year 2015-2020
  and run, the mobile share of consumption (the year's mobile goods value over the year's
  value of all shopping needs: flows summed over the 52 weeks, not a mean of weekly
  ratios), GMV per consumer and per active mobile shopper and all shopping needs per
  consumer in yuan, beside NBS's online share of retail, the band "mobile share of online
  spending x NBS share", NBS's online sales per CNNIC online shopper and NBS's per-capita
  consumption expenditure (experiments/data/, each figure with its source);
- ``docs/figures/grounding_audit.png``: payment and shopping among the connected, 2014-2020,
  the single runs, their mean and CNNIC's points.

Series as experiments/calibrate_cnnic.yaml maps them: payment = ``payment_adoption_connected``;
the shopping series CNNIC means, and the fit compares, is ``active_shopper_share /
mobile_access_share`` (ordered by mobile in the last 26 weeks: CNNIC counts users of the
last six months); ``shopper_share / mobile_access_share`` (has ever ordered by mobile, the
series fitted until 2026-12-06) is shown beside it. Dates map to
steps as the calibration maps them: ``round(days since 2013-12-31 / 7)``; a year's flows
are the 52 weeks ending at its 31 December (the calibration's customs window).

Money: the model's money is yuan at constant 2015 prices (scenarios/baseline.yaml, header;
docs/economics.md; issue 28), so ``YUAN_PER_UNIT`` below is 1 (it was 10 while the model
counted money in an abstract unit of about 10 yuan).

    python experiments/grounding_audit.py [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "china_2013.yaml"
DATA = ROOT / "experiments" / "data"
MEASURED = ROOT / "experiments" / "measured"
FIGURE = ROOT / "docs" / "figures" / "grounding_audit.png"

RUNS_CSV = MEASURED / "grounding_audit_runs.csv"
CNNIC_CSV = MEASURED / "grounding_audit_cnnic.csv"
YEARS_CSV = MEASURED / "grounding_audit_years.csv"

SEEDS = tuple(range(2001, 2011))
"""Seeds no calibration run used (the fit's derive from seed 1; the replay's are 1000-1023)."""

SIZE = {
    "population.consumers": 2000,
    "population.merchants": 80,
    "population.kols": 8,
    "simulation.space_max_consumers": 1000,
}
"""experiments/calibrate_cnnic.yaml's overrides: the size the calibration runs at."""

ORIGIN = pd.Timestamp("2013-12-31")
DAYS_PER_STEP = 7
YEARS = tuple(range(2015, 2021))
WINDOW = 52
"""Weeks of a calendar year's flows (ending at the step of its 31 December)."""

YUAN_PER_UNIT = 1.0
"""Yuan per unit of the model's money: 1, the model counts in yuan (2015 prices; issue 28)."""

TOLERANCE_POINTS = 3.0
"""The in-sample claim: within 3 share points at every CNNIC date (docs/calibration.md)."""

SERIES = (
    ("payment", "mobile_payment_share", "payment_adoption_connected"),
    ("shopping", "mobile_shopping_share", "shopper_share"),
    ("shopping_26w", "mobile_shopping_share", "active_shopper_share"),
)
"""(series, CNNIC column, model metric); the shopping metrics are divided by mobile access."""

RUN_COLUMNS = (
    "seed",
    "step",
    "payment_adoption_connected",
    "shopper_share",
    "active_shopper_share",
    "mobile_access_share",
    "gmv",
    "basket_value",
)


def step_of(date: str | pd.Timestamp) -> int:
    """Return the step of a date: ``round(days since 2013-12-31 / 7)`` (the calibration's rule)."""
    return int(round((pd.Timestamp(date) - ORIGIN).days / DAYS_PER_STEP))


def one_run(seed: int, size: dict[str, int] | None = None, steps: int | None = None):
    """Run china_2013 (at the calibration's size); return the weekly series the audit reads.

    The value of all shopping needs (``basket_value``, the denominator of
    ``mobile_share_of_consumption``) is not a run-table column; it is read from the step's
    counters after each step. ``size`` and ``steps`` (default: ``SIZE``, the scenario's
    365 weeks) are for the tests.
    """
    from model.market import MarketModel
    from model.scenario import load_scenario

    scenario = load_scenario(SCENARIO, SIZE if size is None else size)
    model = MarketModel(scenario, seed=seed)
    basket = [0.0]  # step 0 is the starting state: no week has run, no needs
    for _ in range(scenario.simulation.steps if steps is None else steps):
        model.step()
        basket.append(float(model.last.basket_value))
    table = model.timeseries()
    out = pd.DataFrame({"seed": seed, "step": np.arange(len(table))})
    for column in RUN_COLUMNS[2:-1]:
        out[column] = table[column].to_numpy(dtype=float)
    out["basket_value"] = np.asarray(basket, dtype=float)
    return out


def yearly_flows(run: pd.DataFrame, year: int, window: int = WINDOW) -> tuple[float, float]:
    """Sum a run's mobile GMV and value of needs over the ``window`` weeks ending at 31 Dec."""
    last = step_of(f"{year}-12-31")
    rows = run[(run["step"] > last - window) & (run["step"] <= last)]
    return float(rows["gmv"].sum()), float(rows["basket_value"].sum())


def mobile_share_of_year(run: pd.DataFrame, year: int) -> float:
    """Return the year's mobile share of consumption: summed mobile goods value / summed needs."""
    gmv, needs = yearly_flows(run, year)
    return gmv / needs if needs > 0 else 0.0


def observed() -> pd.DataFrame:
    """CNNIC's dates after the starting state, with the step each maps to."""
    data = pd.read_csv(DATA / "cnnic_targets.csv")
    data = data[data["date"].map(step_of) > 0].copy()
    data["step"] = data["date"].map(step_of)
    return data


def model_series(run: pd.DataFrame, metric: str) -> np.ndarray:
    """Return a run's series as the data mean it (shopping among the connected)."""
    values = run[metric].to_numpy(dtype=float)
    if metric in ("shopper_share", "active_shopper_share"):
        access = run["mobile_access_share"].to_numpy(dtype=float)
        values = np.divide(values, access, out=np.zeros_like(values), where=access > 0)
    return values


def cnnic_rows(runs: list[pd.DataFrame]) -> list[dict[str, object]]:
    """Table A: per series and CNNIC date, the data, the runs' mean and range, the gaps."""
    data = observed()
    rows = []
    for series, column, metric in SERIES:
        curves = np.array([model_series(run, metric) for run in runs])
        for r in data[data[column].notna()].itertuples():
            at = curves[:, int(r.step)]
            cnnic = float(getattr(r, column))
            row: dict[str, object] = {
                "series": series,
                "date": str(r.date),
                "step": int(r.step),
                "cnnic": cnnic,
                "mean": float(at.mean()),
                "min": float(at.min()),
                "max": float(at.max()),
                "gap_points": 100 * (float(at.mean()) - cnnic),
            }
            for seed, value in zip(SEEDS, at, strict=True):
                row[f"gap_{seed}"] = 100 * (float(value) - cnnic)
            rows.append(row)
    return rows


def nbs_share() -> dict[int, float]:
    """NBS: online retail sales of physical goods / total retail sales of consumer goods."""
    data = pd.read_csv(DATA / "nbs_online_retail_share.csv")
    return dict(zip(data["year"], data["online_physical_goods_share_of_retail"], strict=True))


def mobile_online_band() -> dict[int, tuple[float, float]]:
    """Return the mobile share of online shopping value: its sourced low and high per year."""
    data = pd.read_csv(DATA / "mobile_share_of_online_shopping.csv")
    return {int(r.year): (float(r.low), float(r.high)) for r in data.itertuples()}


def online_spending_per_shopper() -> dict[int, float]:
    """NBS online physical goods sales / CNNIC's online shoppers, yuan a year (where sourced)."""
    data = pd.read_csv(DATA / "online_spending_per_shopper.csv")
    return {
        int(r.year): float(r.online_physical_goods_trillion_yuan)
        * 1e12
        / (float(r.online_shoppers_millions) * 1e6)
        for r in data.itertuples()
    }


def consumption_per_capita() -> dict[int, float]:
    """NBS: national per-capita consumption expenditure, yuan a year (where sourced)."""
    data = pd.read_csv(DATA / "nbs_consumption_per_capita.csv")
    return {
        int(r.year): float(r.consumption_expenditure_per_capita_yuan) for r in data.itertuples()
    }


def year_rows(runs: list[pd.DataFrame]) -> list[dict[str, object]]:
    """Table B: per year and run, the mobile share of consumption and GMV in yuan."""
    nbs, band, per_shopper = nbs_share(), mobile_online_band(), online_spending_per_shopper()
    per_capita = consumption_per_capita()
    consumers = SIZE["population.consumers"]
    rows = []
    for year in YEARS:
        low, high = band.get(year, (float("nan"), float("nan")))
        for seed, run in zip(SEEDS, runs, strict=True):
            gmv, needs = yearly_flows(run, year)
            at_end = run["step"] == step_of(f"{year}-12-31")
            active = float(run.loc[at_end, "active_shopper_share"].iloc[0])
            rows.append(
                {
                    "year": year,
                    "seed": seed,
                    "mobile_share": gmv / needs if needs > 0 else 0.0,
                    "nbs_online_share": float(nbs.get(year, float("nan"))),
                    "band_low": low * float(nbs.get(year, float("nan"))),
                    "band_high": high * float(nbs.get(year, float("nan"))),
                    "gmv_units": gmv,
                    "needs_units": needs,
                    "gmv_yuan_per_consumer": gmv * YUAN_PER_UNIT / consumers,
                    "needs_yuan_per_consumer": needs * YUAN_PER_UNIT / consumers,
                    "active_shoppers": active * consumers,
                    "gmv_yuan_per_active_shopper": (
                        gmv * YUAN_PER_UNIT / (active * consumers) if active > 0 else 0.0
                    ),
                    "nbs_yuan_per_online_shopper": float(per_shopper.get(year, float("nan"))),
                    "nbs_consumption_yuan_per_capita": float(per_capita.get(year, float("nan"))),
                }
            )
    return rows


def _write(path: Path, rows: list[dict[str, object]], columns: Sequence[str] | None = None):
    """Write rows as CSV, floats to 6 significant digits (a stable file for the record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(columns or rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def figure(runs: list[pd.DataFrame]) -> None:
    """Payment and shopping among the connected: the single runs, their mean, CNNIC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = observed()
    steps = runs[0]["step"].to_numpy()
    dates = ORIGIN + pd.to_timedelta(steps * DAYS_PER_STEP, unit="D")
    panels = (
        (
            "mobile payment / mobile Internet users",
            "mobile_payment_share",
            (("payment_adoption_connected", "model", "-"),),
        ),
        (
            "mobile shoppers / mobile Internet users",
            "mobile_shopping_share",
            (
                ("shopper_share", "model: has ever ordered (fitted)", "-"),
                ("active_shopper_share", "model: ordered in the last 26 weeks", "--"),
            ),
        ),
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (title, column, metrics) in zip(axes, panels, strict=True):
        for k, (metric, label, style) in enumerate(metrics):
            color = f"C{k}"
            curves = np.array([model_series(run, metric) for run in runs])
            for curve in curves:
                ax.plot(dates, curve, color=color, lw=0.5, alpha=0.45, ls=style)
            ax.plot(
                dates,
                curves.mean(axis=0),
                color=color,
                lw=2.2,
                ls=style,
                label=f"{label}: mean of {len(runs)} runs (thin: single runs)",
            )
        points = data[data[column].notna()]
        ax.plot(
            pd.to_datetime(points["date"]),
            points[column],
            "o",
            color="black",
            ms=5,
            label="CNNIC",
            zorder=5,
        )
        ax.set_xlim(pd.Timestamp("2013-12-01"), pd.Timestamp("2021-01-31"))
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("share of the connected")
    fig.suptitle(
        f"china_2013 at 2,000 consumers, seeds {SEEDS[0]}-{SEEDS[-1]}, against CNNIC",
        fontsize=11,
    )
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=100, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the audit's runs and write its tables and figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            runs = list(pool.map(one_run, SEEDS))
    else:
        runs = [one_run(seed) for seed in SEEDS]
    _write(RUNS_CSV, [row for run in runs for row in run.to_dict("records")], RUN_COLUMNS)
    _write(CNNIC_CSV, cnnic_rows(runs))
    _write(YEARS_CSV, year_rows(runs))
    figure(runs)
    for path in (RUNS_CSV, CNNIC_CSV, YEARS_CSV, FIGURE):
        print(f"grounding_audit: wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
