"""What drives the baseline's early adoption? Yearly curves and Bass fits under probes.

Issue 26 asks for Bass p < 0.05 per year on the baseline's payment and shopper curves;
the pattern suite (docs/validation.md) measures p about 0.2. This script reruns the
baseline as the suite does (2,000 consumers, 312 weeks, one Bass point a year,
model/validation/bass.py) with one probe at a time, each a set of scenario values, and
prints per probe the mean curves (aware, shoppers, payment among the connected) at weeks
0, 13, 26, 52 and then yearly, and the mean over seeds of each seed's Bass fit:

- ``baseline``: the reference scenario as it is;
- ``no_kol_awareness``: ``kols.awareness_gain`` 0 (KOL posts make nobody aware: awareness
  comes from word of mouth and the channels only);
- ``low_kol_awareness``: ``kols.awareness_gain`` 0.05 (a tenth of the baseline's, below
  its plausible range);
- ``weak_channel_awareness``: every paid channel's ``awareness_conversion`` at a tenth;
- ``reinforcement_1``, ``reinforcement_3``: complex contagion of mobile payment
  (``payment.reinforcement`` 1 and 3: a lone paying tie pulls with half and a quarter of
  its weight, mechanisms/payment.py), the rule the model does not use by default;
- ``reinforcement_3_peer_x2``: reinforcement 3 with ``payment.peer_influence`` doubled
  (what a refit would do to keep China's pace).

Building seeds 1-3 by default (never the held-back 1001-1020 of the pattern suite).
Probes are diagnostics, not proposals: the scenario keeps its values.

Every probe's values are also run in the calibrated replay to 2020 (below) and its mean
payment and shopping curves compared with CNNIC's (the grounding audit's comparison,
experiments/grounding_audit.py, on these seeds): a probe that lowers p must keep the
replay near the data to be a candidate.

Then the calibrated replay (``scenarios/china_2013.yaml`` at the grounding audit's size,
experiments/grounding_audit.py) on the same seeds, fitted exactly as CNNIC's own series
are in docs/validation.md (docs/generators_data.py): payment and shoppers of the last 26
weeks among the connected, at the year-ends where CNNIC has a value (the others are gaps
the fit steps over), 2013 to 2018 and 2013 to the last year-end observed. It says
whether the model, started where China was, shows the data's coefficients.

    python -m experiments.diffusion_probes [--seeds 1-3] [--consumers 2000] [--out FILE]

Writes ``experiments/measured/diffusion_probes.csv`` (probe, seed, week, series, value;
the Bass fits as rows with week -1, each probe's replay gaps to CNNIC as rows with week
-1 and series ``replay_<payment|shopping>_gap_<date>`` in share points, the replay's Bass
fits as probe ``china_2013_replay`` with series
``bass_<series>_<first>-<last>_<p|q|m>``) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
OUT = ROOT / "experiments" / "measured" / "diffusion_probes.csv"
WEEKS = 312
SHOWN = (0, 13, 26, 52, 104, 156, 208, 260, 312)
SERIES = {
    "aware": "aware_share",
    "shoppers": "shopper_share",
    "payment": "payment_adoption_connected",
}
PAID_CHANNELS = ("qr_o2o", "app_market", "mobile_search", "short_video")


def probes() -> dict[str, dict[str, float]]:
    """Return each probe's scenario values (name -> {dotted key: value})."""
    from model.scenario import load_scenario

    channels = load_scenario(BASELINE).marketing.channels
    weak = {
        f"marketing.channels.{c}.awareness_conversion": channels[c].awareness_conversion / 10
        for c in PAID_CHANNELS
    }
    peer = load_scenario(BASELINE).payment.peer_influence
    return {
        "baseline": {},
        "no_kol_awareness": {"kols.awareness_gain": 0.0},
        "low_kol_awareness": {"kols.awareness_gain": 0.05},
        "weak_channel_awareness": weak,
        "reinforcement_1": {"payment.reinforcement": 1.0},
        "reinforcement_3": {"payment.reinforcement": 3.0},
        "reinforcement_3_peer_x2": {
            "payment.reinforcement": 3.0,
            "payment.peer_influence": 2 * peer,
        },
    }


def run(values: dict[str, float], seed: int, consumers: int) -> pd.DataFrame:
    """Run the baseline with ``values`` for WEEKS weeks; return its run table."""
    from model.market import MarketModel
    from model.scenario import load_scenario

    overrides = {"population.consumers": consumers, "simulation.steps": WEEKS, **values}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PopulationScaled: wanted
        scenario = load_scenario(BASELINE, overrides)
    model = MarketModel(scenario, seed=seed)
    for _ in range(WEEKS):
        model.step()
    return model.timeseries()


REPLAY = "china_2013_replay"
REPLAY_SERIES = (
    ("payment", "payment_adoption_connected", "mobile_payment_share"),
    ("shopping", "active_shopper_share", "mobile_shopping_share"),
)
"""(label, the replay's series as CNNIC counts it, CNNIC's column)."""
WINDOW_ENDS = (2018, 2020)
"""Last years of the fitted windows: to 2018 (before the 2019-2020 plateau and COVID-19's
jump) and to the last year-end observation (docs/generators_data.py fits CNNIC's own
series on the same windows)."""


def cnnic_year_ends(column: str) -> dict[int, float]:
    """CNNIC's year-end values of a column of experiments/data/cnnic_targets.csv, by year."""
    data = pd.read_csv(ROOT / "experiments" / "data" / "cnnic_targets.csv")
    data = data[data["date"].str.endswith("-12-31") & data[column].notna()]
    return {int(d[:4]): float(v) for d, v in zip(data["date"], data[column], strict=True)}


REPLAY_GAPS = (
    ("payment", "mobile_payment_share", "payment_adoption_connected"),
    ("shopping", "mobile_shopping_share", "active_shopper_share"),
)
"""(label, CNNIC's column, the replay's series): shopping as CNNIC counts it (the last 26
weeks, among the connected; experiments/grounding_audit.py)."""


def replay_run(values: dict[str, float], seed: int, consumers: int) -> pd.DataFrame:
    """Run the calibrated replay with ``values`` to 2020 at ``consumers`` (2,000: the fit's)."""
    from experiments.grounding_audit import SIZE, one_run, step_of

    size = {**SIZE, **values}
    if consumers != SIZE["population.consumers"]:  # merchants and KOLs scale with it
        size = {
            k: v for k, v in size.items() if k not in ("population.merchants", "population.kols")
        }
        size["population.consumers"] = consumers
    return one_run(seed, size=size, steps=step_of("2020-12-31"))


def replay_gaps(probe: str, run: pd.DataFrame, seed: int) -> list[tuple[str, int, int, str, float]]:
    """Return the replay's gaps to CNNIC (points, model - CNNIC) at its dates to 2020."""
    from experiments.grounding_audit import model_series, observed

    data = observed()
    data = data[data["step"] < len(run)]
    rows = []
    for label, column, metric in REPLAY_GAPS:
        values = model_series(run, metric)
        for r in data[data[column].notna()].itertuples():
            gap = 100 * (float(values[int(r.step)]) - float(getattr(r, column)))
            rows.append((probe, seed, -1, f"replay_{label}_gap_{r.date}", gap))
    return rows


def replay_fits(run: pd.DataFrame, seed: int) -> list[tuple[str, int, int, str, float]]:
    """Fit the calibrated replay's yearly curves at CNNIC's year-ends."""
    from experiments.grounding_audit import model_series, step_of
    from model.validation.bass import fit_discrete_bass, yearly_curve

    rows = []
    for label, metric, column in REPLAY_SERIES:
        observed = cnnic_year_ends(column)
        first, latest = min(observed), max(observed)
        values = model_series(run, metric)
        at_dates = {year: float(values[step_of(f"{year}-12-31")]) for year in observed}
        for last in sorted({min(latest, end) for end in WINDOW_ENDS}):
            curve = yearly_curve(at_dates, last)
            if np.isfinite(curve[1:]).sum() < 3:
                continue
            fit = fit_discrete_bass(curve)
            span = f"{first}-{last}"
            rows += [(REPLAY, seed, -1, f"bass_{label}_{span}_{k}", getattr(fit, k)) for k in "pqm"]
    return rows


def replay_summary(rows, probe: str, label: str) -> dict[str, float | str]:
    """RMSE and largest gap of the seeds' mean replay curve to CNNIC, for one probe's rows.

    ``rows``: (probe, seed, week, series, value) tuples or a frame of those columns.
    """
    frame = (
        rows
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(rows, columns=["probe", "seed", "week", "series", "value"])
    )
    prefix = f"replay_{label}_gap_"
    mine = frame[(frame["probe"] == probe) & frame["series"].str.startswith(prefix)]
    mean = mine.groupby("series", sort=True)["value"].mean()
    worst = mean.abs().idxmax()
    return {
        "rmse": float(np.sqrt(np.mean(mean.to_numpy() ** 2))),
        "largest": float(mean[worst]),
        "at": worst[len(prefix) :],
    }


def main(argv: list[str] | None = None) -> int:
    """Run every probe on the seeds, print the curves and fits, write the CSV."""
    from model.commands.validate import parse_seeds
    from model.validation.bass import fit_discrete_bass

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1-3", help="seeds, e.g. 1-3, 1,2,5 or building")
    parser.add_argument("--consumers", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    seeds = list(parse_seeds(args.seeds))
    rows = []
    replay = []
    for name, values in probes().items():
        tables = [run(values, seed, args.consumers) for seed in seeds]
        replays = [replay_run(values, seed, args.consumers) for seed in seeds]
        for seed, table in zip(seeds, replays, strict=True):
            rows += replay_gaps(name, table, seed)
            if name == "baseline":
                replay += replay_fits(table, seed)
        shown = values if len(values) < 4 else "(every paid channel's awareness / 10)"
        print(f"== {name} {shown}")
        for label, column in SERIES.items():
            curves = np.array([t[column].to_numpy() for t in tables])
            for seed, curve in zip(seeds, curves, strict=True):
                rows += [(name, seed, w, label, float(curve[w])) for w in SHOWN]
            mean = curves.mean(axis=0)
            shown = "  ".join(f"{mean[w]:.3f}" for w in SHOWN)
            print(f"   {label:9s} weeks {SHOWN}: {shown}")
        for label in ("payment", "shoppers"):
            fits = [fit_discrete_bass(t[SERIES[label]].to_numpy()[::52]) for t in tables]
            for seed, fit in zip(seeds, fits, strict=True):
                rows += [(name, seed, -1, f"bass_{label}_{k}", getattr(fit, k)) for k in "pqm"]
            p = np.mean([f.p for f in fits])
            q = np.mean([f.q for f in fits])
            print(f"   Bass {label}: p {p:.3f}, q {q:.3f} per year (mean of {len(fits)} seeds)")
        for label, _, _ in REPLAY_GAPS:
            gaps = replay_summary(rows, name, label)
            print(
                f"   replay {label}: RMSE {gaps['rmse']:.1f}, largest gap {gaps['largest']:+.1f} "
                f"points ({gaps['at']}) to CNNIC"
            )
    print("== the calibrated replay (china_2013), fitted at CNNIC's year-ends")
    rows += replay
    frame = pd.DataFrame(replay, columns=["probe", "seed", "week", "series", "value"])
    for series, value in frame.groupby("series", sort=False)["value"].mean().items():
        print(f"   {series}: {value:.3f} (mean of {len(seeds)} seeds)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["probe", "seed", "week", "series", "value"]).to_csv(
        args.out, index=False
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
