"""The measured tables of docs/policies.md ("Measured") and docs/platform.md, from runs.

    python experiments/policy_measures.py TABLE [--workers W] [--reps R]

Each TABLE is one experiment of ``python -m docs.build`` (docs/build.py): it reruns the
runs behind one table, writes ``experiments/measured/TABLE.csv`` (and, for two tables, a
figure under docs/figures/), and docs/generators.py renders the table from the CSV. The
compare-based tables keep, from the outcome table of ``model.workflows.compare`` (its
``outcomes.csv``: per scenario, metric and measure the mean with its 95% t interval and
the paired difference from the reference with its own interval, replications paired by
seed), the rows the document shows; the comparison's whole folder (report.md, figures)
is left under ``results/measured/TABLE/`` (not kept in git).

Tables (scenario files under scenarios/; seeds ``simulation.seed + i`` unless said):

- ``policy_comparison``: baseline, payment_security, integrity, cross_border_facilitation
  and combined_package; 10 replications, 156 weeks.
- ``lever_targets``: every library lever at full strength against the same scenario
  without policy (``tests.test_levers.lever_effect``: its worlds, 8 paired runs on seeds
  1-8, the first 26 weeks the lever acts).
- ``marketing_levers``: baseline and the six marketing files at library strength; 6
  replications, 104 weeks.
- ``kol_campaign_budget``: ``mtsim sweep experiments/kol_campaign_budget.yaml`` (11
  levels, 6 replications, 104 weeks; master seed 11), the curve of
  experiments/kol_campaign_budget_plot.py and its figure.
- ``low_trust_coupons``: low_trust_world and the two coupon programmes in it; 6
  replications, 156 weeks.
- ``counterfeit_heavy``: baseline and counterfeit_heavy; 3 replications, 156 weeks; and
  the run summary figure of ``mtsim run scenarios/counterfeit_heavy.yaml --reps 3``.
- ``platform_routes``: platform_superapp, platform_verification and
  platform_state_integrity; 4 replications, 156 weeks.
- ``platform_levers`` (docs/platform.md): the seven platform scenarios on seeds 1-3, 156
  weeks, with the two-app interoperability scenario also paired with two apps
  without it.
- ``population_size`` (README): the baseline at 2,000 and 20,000 consumers (merchants and
  KOLs scaled, and not), shares at week 156, seeds 1-4 (tests/test_new_user.py's check).
- ``cnnic_replay`` (README): scenarios/china_2013.yaml against CNNIC's payment series,
  the mean of 24 runs on seeds 1000-1023 (tests/test_china_2013.py's replay).
- ``replay_sizes`` (docs/calibration.md, "Population size"): the same replay at 1,000,
  2,000, 5,000 and 10,000 consumers (merchants and KOLs in proportion; 24, 24, 12 and 6
  runs on seeds 1000 and up): the mean curve's gap to every CNNIC payment and shopping
  observation.
- ``platform_targets`` (docs/platform.md): the four figures of the material the
  platform world is calibrated to (``attribution.platform_targets``), platform_superapp
  at 2,000 consumers, seeds 1-8, the last 52 of 156 weeks.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
MEASURED = ROOT / "experiments" / "measured"
WORK = ROOT / "results" / "measured"
FIGURES = ROOT / "docs" / "figures"

COMPARE_COLUMNS = (
    "scenario",
    "reference",
    "metric",
    "measure",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "n_pairs",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
)


@dataclass(frozen=True)
class Table:
    """A compare-based table: its scenarios (the first is the reference) and kept rows.

    Attributes:
        files: scenario files (names under scenarios/), the reference first.
        reps: replications per scenario.
        rows: (metric, measure) pairs kept from the outcome table.
        steps: weeks (None: the files' own ``simulation.steps``).
        base_seed: seed of replication 0 (None: the reference's ``simulation.seed``).
        also_paired: (scenario, its reference) pairs summarised again against that
            reference (from the same runs).
    """

    files: tuple[str, ...]
    reps: int
    rows: tuple[tuple[str, str], ...]
    steps: int | None = None
    base_seed: int | None = None
    also_paired: tuple[tuple[str, str], ...] = field(default_factory=tuple)


STAKEHOLDERS = (
    ("active_merchants", "final"),
    ("merchant_profit", "cumulative"),
    ("net_fiscal_cost", "cumulative"),
    ("consumer_surplus", "cumulative"),
)
"""The parties' outcomes every comparison table shows (issue 27's report)."""

TABLES: dict[str, Table] = {
    "policy_comparison": Table(
        files=(
            "baseline",
            "payment_security",
            "integrity",
            "cross_border_facilitation",
            "combined_package",
        ),
        reps=10,
        rows=(
            ("payment_adoption", "final"),
            ("orders", "last_quarter"),
            ("cross_border_orders", "last_quarter"),
            ("cross_border_share", "last_quarter"),
            ("mean_trust_domestic", "final"),
            ("merchant_adoption", "final"),
            ("mobile_share_of_consumption", "last_quarter"),
            ("counterfeit_incidents", "last_quarter"),
            ("counterfeit_incidents", "cumulative"),
            ("fraud_incidents", "last_quarter"),
            *STAKEHOLDERS,
            ("counterfeit_loss_value", "cumulative"),
            ("total_welfare", "cumulative"),
            ("policy_cost", "total"),
            ("state_tariff_revenue", "cumulative"),
            ("forgone_tariff_revenue", "cumulative"),
            ("merchant_fines", "cumulative"),
            ("cross_border_value", "cumulative"),
            ("cross_border_created_value", "cumulative"),
            ("cross_border_diverted_value", "cumulative"),
            ("traditional_import_spending", "cumulative"),
        ),
    ),
    "marketing_levers": Table(
        files=(
            "baseline",
            "marketing_qr_o2o",
            "marketing_app_market",
            "marketing_mobile_search",
            "marketing_short_video",
            "kol_campaign",
            "merchant_promotion",
        ),
        reps=6,
        steps=104,
        rows=(("orders", "run_mean"), *STAKEHOLDERS, ("policy_cost", "total")),
    ),
    "low_trust_coupons": Table(
        files=(
            "low_trust_world",
            "low_trust_coupons_before_trust",
            "low_trust_coupons_after_trust",
        ),
        reps=6,
        rows=(
            ("orders", "weeks_1_26"),
            ("orders", "weeks_79_104"),
            ("orders", "cumulative"),
            ("orders", "last_quarter"),
            *STAKEHOLDERS,
            ("policy_cost", "total"),
        ),
    ),
    "counterfeit_heavy": Table(
        files=("baseline", "counterfeit_heavy"),
        reps=3,
        rows=(
            ("aware_share", "final"),
            ("shopper_share", "final"),
            ("lapsed_shopper_share", "final"),
            ("mean_trust_domestic", "final"),
            ("orders", "last_quarter"),
            ("orders", "cumulative"),
            ("counterfeit_incidents", "last_quarter"),
            ("merchant_adoption", "run_mean"),
            ("active_merchants", "final"),
            ("merchant_exits", "cumulative"),
            ("merchant_entries", "cumulative"),
            ("merchant_profit", "cumulative"),
            ("consumer_surplus", "cumulative"),
            ("counterfeit_loss_value", "cumulative"),
        ),
    ),
    "platform_routes": Table(
        files=("platform_superapp", "platform_verification", "platform_state_integrity"),
        reps=4,
        rows=(
            ("counterfeit_incidents", "weeks_13_156"),
            ("orders", "weeks_13_156"),
            ("platform_orders", "weeks_13_156"),
            ("mean_trust_domestic", "final"),
            ("counterfeit_incidents", "last_quarter"),
            ("orders", "last_quarter"),
            ("merchant_adoption", "final"),
            ("platform_stores_delisted", "final"),
            *STAKEHOLDERS,
            ("policy_cost", "total"),
        ),
    ),
    "platform_levers": Table(
        files=(
            "platform_superapp",
            "platform_fee",
            "platform_verification",
            "platform_state_integrity",
            "platform_spam_control",
            "platform_two_apps",
            "platform_interoperability",
        ),
        reps=3,
        base_seed=1,
        rows=(
            ("orders", "weeks_13_156"),
            ("platform_orders", "weeks_13_156"),
            ("counterfeit_incidents", "weeks_13_156"),
            ("platform_fees", "weeks_13_156"),
            ("platform_stores", "final"),
            ("platform_stores_delisted", "final"),
            ("platform_follows_per_user", "final"),
            ("group_buy_successes", "weeks_13_156"),
            ("cross_platform_failures", "weeks_13_156"),
            ("offline_qr_payments", "weeks_13_156"),
            ("mean_trust_domestic", "final"),
            ("active_merchants", "final"),
            ("merchant_profit", "weeks_13_156"),
            ("consumer_surplus", "weeks_13_156"),
            ("net_fiscal_cost", "weeks_13_156"),
            ("policy_cost", "total"),
        ),
        also_paired=(("platform_interoperability", "platform_two_apps"),),
    ),
}


def _write(path: Path, columns: Sequence[str], rows: list[dict[str, object]]) -> None:
    """Write rows as CSV, floats to 6 significant digits (a stable file for the record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def compare_table(name: str, table: Table, workers: int, reps: int | None) -> Path:
    """Run a table's comparison (the compare workflow) and keep its rows; return the CSV."""
    from model.analysis import stats
    from model.workflows.compare import load_scenarios, run_comparison

    names, scenarios, sources = load_scenarios([SCENARIOS / f"{f}.yaml" for f in table.files])
    out = WORK / name
    shutil.rmtree(out, ignore_errors=True)
    comparison = run_comparison(
        names,
        scenarios,
        out,
        reps=reps or table.reps,
        steps=table.steps,
        workers=workers,
        base_seed=table.base_seed,
        sources={n: str(Path(s).relative_to(ROOT)) for n, s in sources.items()},
        progress=False,
        command=f"python experiments/policy_measures.py {name}",
    )
    if comparison.failures:
        raise SystemExit(f"{name}: {len(comparison.failures)} run(s) failed; see {out}")
    summaries = [comparison.summary]
    for scenario, reference in table.also_paired:
        outcomes = stats.measures_per_run(
            comparison.timeseries[comparison.timeseries["scenario"].isin([reference, scenario])],
            metrics=sorted({metric for metric, _ in table.rows if metric != "policy_cost"}),
            windows=[(13, int(comparison.timeseries["step"].max()))],
        )
        again = stats.summarize(outcomes, scenarios=[reference, scenario])
        summaries.append(again[again["scenario"] == scenario])
    keep = set(table.rows)
    rows = []
    for summary in summaries:
        for record in summary.to_dict("records"):
            if (record["metric"], record["measure"]) in keep:
                rows.append({column: record[column] for column in COMPARE_COLUMNS})
    found = {(r["metric"], r["measure"]) for r in rows}
    missing = sorted(keep - found)
    if missing:
        raise SystemExit(f"{name}: the outcome table has no rows for {missing}")
    order = {pair: i for i, pair in enumerate(table.rows)}
    rows.sort(key=lambda r: order[(r["metric"], r["measure"])])  # stable: scenarios in order
    path = MEASURED / f"{name}.csv"
    _write(path, COMPARE_COLUMNS, rows)
    return path


LEVER_COLUMNS = (
    "lever",
    "scenario",
    "target",
    "sign",
    "consumers",
    "merchants",
    "kols",
    "reps",
    "without",
    "with",
    "diff",
    "low",
    "high",
)


def lever_targets(reps: int | None) -> Path:
    """Every library lever at full strength against no policy (tests/test_levers.py)."""
    sys.path.insert(0, str(ROOT))
    from tests import test_levers as check

    rows = []
    for lever in sorted(check.LIBRARY):
        world = check._world(lever)
        effect = check.lever_effect(
            lever,
            check.LIBRARY[lever],
            overrides=world,
            replications=reps or check.REPLICATIONS,
        )
        rows.append(
            {
                "lever": lever,
                "scenario": check.LIBRARY[lever].name,
                "target": effect["metric"],
                "sign": effect["sign"],
                "consumers": world["population.consumers"],
                "merchants": world["population.merchants"],
                "kols": world["population.kols"],
                "reps": reps or check.REPLICATIONS,
                **{k: effect[k] for k in ("without", "with", "diff", "low", "high")},
            }
        )
        print(f"lever_targets: {lever} done", flush=True)
    path = MEASURED / "lever_targets.csv"
    _write(path, LEVER_COLUMNS, rows)
    return path


def kol_campaign_budget(workers: int) -> Path:
    """Run the KOL campaign budget sweep; write its curve (CSV) and its figure."""
    sys.path.insert(0, str(ROOT / "experiments"))
    import kol_campaign_budget_plot as plot

    from model.workflows.sweep import run_sweep

    out = WORK / "kol_campaign_budget"
    shutil.rmtree(out, ignore_errors=True)
    summary = run_sweep(
        ROOT / "experiments" / "kol_campaign_budget.yaml", out, workers=workers, progress=False
    )
    if summary.status != "complete":
        raise SystemExit(f"kol_campaign_budget: sweep {summary.status}; see {out}")
    argv = sys.argv
    try:  # the plot script draws docs/figures/kol_campaign_budget_curve.png from the folder
        sys.argv = [plot.__file__, str(out)]
        plot.main()
    finally:
        sys.argv = argv
    curve = plot.curve(str(out))
    path = MEASURED / "kol_campaign_budget.csv"
    _write(path, list(curve.columns), curve.to_dict("records"))
    return path


def counterfeit_figure(workers: int) -> None:
    """Redraw docs/figures/counterfeit_heavy_summary.png (``mtsim run ... --reps 3``)."""
    from model.scenario import load_scenario
    from model.workflows.run import run_replications

    out = WORK / "counterfeit_heavy_run"
    scenario = load_scenario(SCENARIOS / "counterfeit_heavy.yaml")
    run_replications(scenario, reps=3, out=out, workers=workers, progress=False)
    shutil.copyfile(out / "summary.png", FIGURES / "counterfeit_heavy_summary.png")


def platform_targets() -> Path:
    """Measure the platform world's four material figures per seed (docs/platform.md)."""
    from model.market import MarketModel
    from model.mechanisms import attribution
    from model.scenario import load_scenario

    scenario = load_scenario(
        SCENARIOS / "platform_superapp.yaml",
        [
            "population.consumers=2000",
            "population.merchants=80",
            "population.kols=8",
            "merchant_dynamics.max_merchants=120",
        ],
    )
    rows = []
    for seed in range(1, 9):
        model = MarketModel(scenario, seed=seed)
        snapshot = None
        for _ in range(156):
            model.step()
            if model.steps == 104:
                snapshot = model.platforms.channel_orders.copy()
        window = attribution.orders_since(
            snapshot, 104, model.platforms.channel_orders, model.merchants.entry_week
        )
        found = attribution.platform_targets(model.timeseries(), window, 105)
        for name, value in found.items():
            target, low, high = attribution.TARGETS[name]
            rows.append(
                {"seed": seed, "figure": name, "value": float(value), "target": target,
                 "low": low, "high": high}
            )
        print(f"platform_targets: seed {seed} done", flush=True)
    path = MEASURED / "platform_targets.csv"
    _write(path, ("seed", "figure", "value", "target", "low", "high"), rows)
    return path


def population_size() -> Path:
    """Measure the baseline's shares at week 156 at 2,000 and 20,000 consumers (README)."""
    import warnings

    from model.market import run_model
    from model.scenario import load_scenario

    worlds = {
        "2,000 (80, 8)": {"population.consumers": 2000},
        "20,000, scaled (800, 80)": {"population.consumers": 20000},
        "20,000, consumers alone (80, 8)": {
            "population.consumers": 20000,
            "population.merchants": 80,
            "population.kols": 8,
        },
    }
    metrics = ("payment_adoption", "shopper_share", "merchant_adoption")
    rows = []
    for world, overrides in worlds.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scenario = load_scenario(SCENARIOS / "baseline.yaml", overrides)
        for seed in range(1, 5):
            last = run_model(scenario, seed=seed).iloc[-1]
            rows.append({"world": world, "seed": seed, **{m: float(last[m]) for m in metrics}})
        print(f"population_size: {world} done", flush=True)
    path = MEASURED / "population_size.csv"
    _write(path, ("world", "seed", *metrics), rows)
    return path


def cnnic_replay() -> Path:
    """Measure the calibrated replay's payment gaps to CNNIC (README; tests/test_china_2013.py)."""
    import numpy as np
    import pandas as pd

    from model.market import run_model
    from model.scenario import load_scenario

    size = {
        "population.consumers": 2000,
        "population.merchants": 80,
        "population.kols": 8,
        "simulation.space_max_consumers": 1000,
    }
    scenario = load_scenario(SCENARIOS / "china_2013.yaml", size)
    column = "payment_adoption_connected"
    curves = [run_model(scenario, seed=s)[column].to_numpy(dtype=float) for s in range(1000, 1024)]
    mean = np.mean(curves, axis=0)
    observed = pd.read_csv(ROOT / "experiments" / "data" / "cnnic_targets.csv")
    days = (pd.to_datetime(observed["date"]) - pd.Timestamp("2013-12-31")).dt.days
    observed["week"] = (days / 7).round().astype(int)
    observed = observed[(observed["week"] > 0) & observed["mobile_payment_share"].notna()]
    rows = [
        {
            "date": str(r.date),
            "week": int(r.week),
            "cnnic": float(r.mobile_payment_share),
            "model": float(mean[int(r.week)]),
            "gap_points": 100 * (float(mean[int(r.week)]) - float(r.mobile_payment_share)),
        }
        for r in observed.itertuples()
    ]
    path = MEASURED / "cnnic_replay.csv"
    _write(path, ("date", "week", "cnnic", "model", "gap_points"), rows)
    return path


REPLAY_SIZES = {1000: 24, 2000: 24, 5000: 12, 10000: 6}
"""docs/calibration.md's population-size table: consumers -> runs (seeds 1000 and up)."""


def replay_sizes() -> Path:
    """Measure the calibrated replay's gaps to CNNIC at four population sizes (calibration.md)."""
    import numpy as np
    import pandas as pd

    from model.market import run_model
    from model.scenario import load_scenario
    from model.validation.calibration import simulated_metric

    observed = pd.read_csv(ROOT / "experiments" / "data" / "cnnic_targets.csv")
    days = (pd.to_datetime(observed["date"]) - pd.Timestamp("2013-12-31")).dt.days
    observed["week"] = (days / 7).round().astype(int)
    observed = observed[observed["week"] > 0]
    from model.validation.calibration import load_calibration

    config = load_calibration(ROOT / "experiments" / "calibrate_cnnic.yaml").config
    series = {  # CNNIC's column -> the model's metric and denominator, as the fit maps them
        config.series[name].value_column: (
            name,
            config.series[name].metric,
            config.series[name].denominator,
        )
        for name in ("payment", "shopping")
    }
    rows = []
    for consumers, runs in REPLAY_SIZES.items():
        size = {
            "population.consumers": consumers,
            "population.merchants": consumers * 80 // 2000,
            "population.kols": consumers * 8 // 2000,
            "simulation.space_max_consumers": 1000,
        }
        scenario = load_scenario(SCENARIOS / "china_2013.yaml", size)
        tables = [run_model(scenario, seed=s) for s in range(1000, 1000 + runs)]
        for column, (name, metric, denominator) in series.items():
            mean = np.mean([simulated_metric(t, metric, denominator) for t in tables], axis=0)
            for r in observed[observed[column].notna()].itertuples():
                value = float(getattr(r, column))
                rows.append(
                    {
                        "consumers": consumers,
                        "runs": runs,
                        "series": name,
                        "date": str(r.date),
                        "week": int(r.week),
                        "cnnic": value,
                        "model": float(mean[int(r.week)]),
                        "gap_points": 100 * (float(mean[int(r.week)]) - value),
                    }
                )
        print(f"replay_sizes: {consumers:,} consumers done", flush=True)
    path = MEASURED / "replay_sizes.csv"
    columns = ("consumers", "runs", "series", "date", "week", "cnnic", "model", "gap_points")
    _write(path, columns, rows)
    return path


EXTRA = {
    "platform_targets": platform_targets,
    "population_size": population_size,
    "cnnic_replay": cnnic_replay,
    "replay_sizes": replay_sizes,
}

NAMES = ("lever_targets", "kol_campaign_budget", *EXTRA, *TABLES)


def main(argv: list[str] | None = None) -> int:
    """Run one table's experiment and write its CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", choices=NAMES)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--reps", type=int, default=None, help="replications (default: the table's)"
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.table == "lever_targets":
        path = lever_targets(args.reps)
    elif args.table == "kol_campaign_budget":
        path = kol_campaign_budget(args.workers)
    elif args.table in EXTRA:
        path = EXTRA[args.table]()
    else:
        path = compare_table(args.table, TABLES[args.table], args.workers, args.reps)
        if args.table == "counterfeit_heavy":
            counterfeit_figure(args.workers)
    print(f"policy_measures: {args.table} -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
