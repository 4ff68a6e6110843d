"""Generated blocks for the calibration, validation, decision-support and performance tables.

Each function renders one results file (and the record of the run that wrote it,
docs/build.py) into the Markdown of one block, as docs/generators.py does for the other
tables: the calibration's posterior, in-sample and out-of-sample tables
(experiments/calibration_tables.py, from the shipped fits in docs/calibration_results/),
the docking checks of ``mtsim validate``, the example outputs of docs/decisions.md,
docs/robustness.md and docs/sweeps.md, and docs/platform.md's timing paragraph. None
draws a random number or writes a file; each returns Markdown ending in a newline.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from docs.generators import _provenance, cell, significant

ROOT = Path(__file__).resolve().parents[1]


def _read_csv(path: str | Path) -> list[dict[str, str]]:
    with (ROOT / path).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- calibration


CAL_POSTERIOR = "experiments/measured/calibration_posterior.csv"
CAL_IN_SAMPLE = "experiments/measured/calibration_in_sample.csv"
CAL_HOLDOUT = "experiments/measured/calibration_holdout.csv"
CAL_FITS = "experiments/measured/calibration_fits.json"
"""experiments/calibration_tables.py's tables, from the shipped docs/calibration_results/."""

_CAL_UNITS = {
    "access_growth": "per week",
    "rigid_demand_rate": "per week",
    "peer_influence": "per week",
    "late_payment": "multiplier",
    "middle_payment": "multiplier",
    "offline_campaigns": "per week, the 2015-2016 campaigns",
    "covid_push": "per week, Wuhan's lockdown",
    "pilot_zones": "share",
    "mobile_appeal": "utility",
    "transmission": "per week",
    "habit_weight": "utility per ln(1 + habit)",
    "checkout_adoption": "probability",
}
_SERIES_LABELS = {
    "access": "mobile access",
    "payment": "mobile payment",
    "shopping": "mobile shopping",
    "customs": "customs (index)",
}
_METHODS = (
    ("mtsim (ABC posterior predictive)", "mtsim (ABC posterior predictive)"),
    ("carry_forward", "carry-forward"),
    ("logistic", "logistic"),
    ("bass", "Bass"),
)


def _calibration_fits() -> dict[str, Any]:
    """Return the fits' summary; ValueError when a shipped source changed since it was read."""
    fits = json.loads((ROOT / CAL_FITS).read_text(encoding="utf-8"))
    for source in fits["sources"].values():
        path = ROOT / source["path"]
        if hashlib.sha256(path.read_bytes()).hexdigest() != source["sha256"]:
            raise ValueError(
                f"{source['path']} changed after experiments/calibration_tables.py read it; "
                "rerun python -m docs.build --only calibration-posterior"
            )
    return fits


def _fit_note(fits: dict[str, Any], *names: str) -> str:
    """Say which shipped files a table's numbers are from, and when they were shipped."""
    sources = [fits["sources"][name] for name in names]
    shipped = sorted({f"{s['date']} ({s['commit']})" for s in sources if s["date"]})
    files = ", ".join(f"`{s['path']}`" for s in sources)
    when = f", shipped {' and '.join(shipped)}" if shipped else ""
    return (
        f"*Fit results: {files}{when}; `mtsim calibrate` wrote them, and `python -m docs.build` "
        "does not rerun a fit or score a hold-out.*"
    )


def _derived_note(table: str, record: dict[str, Any]) -> str:
    """Say when experiments/calibration_tables.py derived a table from the shipped fits."""
    return (
        f"*`{table}` derived by `experiments/calibration_tables.py` on {record['date'][:10]} "
        f"at commit {record['commit'][:7]} (record: `docs/build_records/"
        f"{record['experiment']}.json`; written by `python -m docs.build`).*"
    )


def _cal_number(value: float) -> str:
    return significant(value, 2) if abs(value) < 100 else f"{value:,.0f}"


def calibration_posterior_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: the full fit's posterior and the point estimate (before -> after)."""
    fits = _calibration_fits()
    out = [
        "| parameter | prior | median | 5% | 95% | width ratio | point estimate |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in _read_csv(CAL_POSTERIOR):
        name = r["parameter"]
        unit = f" ({_CAL_UNITS[name]})" if name in _CAL_UNITS else ""
        before, after = float(r["point_before_refit"]), float(r["point_after_refit"])
        point = significant(before, 3)
        if significant(after, 3) != point:
            point += f" -> {significant(after, 3)}"
        if not r["median"]:  # fitted by the refit only (added after the ABC fit)
            out.append(
                f"| {name}{unit} | {cell(r['prior'])} | (not in that fit) | | | | {point} |"
            )
            continue
        out.append(
            f"| {name}{unit} | {cell(r['prior'])} | {_cal_number(float(r['median']))} | "
            f"{_cal_number(float(r['q05']))} | {_cal_number(float(r['q95']))} | "
            f"{float(r['width_ratio']):.2f} | {point} |"
        )
    refit = fits["refit"]
    return (
        "\n".join(out)
        + f"\n\nPoint estimate: before -> after the in-sample refit ({refit['chosen_candidate']}"
        f" of {refit['trials']} points; mean distance {refit['current_distance']:.4f} -> "
        f"{refit['chosen_distance']:.4f}), to 3 significant digits.\n\n"
        + _fit_note(fits, "full_posterior", "refit")
        + "\n\n"
        + _derived_note(CAL_POSTERIOR, record)
        + "\n"
    )


def calibration_fits_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: the two fits' generations, runs, epsilon and effective sample size."""
    fits = _calibration_fits()
    out = [
        "| fit | generations | runs | epsilon, first -> last generation "
        "| effective sample size of the last generation |",
        "|---|---:|---:|---|---|",
    ]
    for name, label in (("full", "full (2014-2020)"), ("holdout", "hold-out (2014-2016)")):
        gens = fits[name]["generations"]
        # pyabc first runs one population from the prior to set epsilon (section 1)
        runs = sum(g["samples"] for g in gens) + gens[0]["particles"]
        out.append(
            f"| {label} | {len(gens)} | {runs:,} | {gens[0]['epsilon']:.3f} -> "
            f"{gens[-1]['epsilon']:.3f} | {gens[-1]['ess']:.1f} of {gens[-1]['particles']} |"
        )
    return (
        "\n".join(out)
        + "\n\nRuns: every generation's proposals plus the first population that sets "
        "epsilon; a generation dropped at the time budget is not in the tables.\n\n"
        + _fit_note(fits, "full_generations", "holdout_generations")
        + "\n\n"
        + _derived_note(CAL_FITS, record)
        + "\n"
    )


def calibration_in_sample_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: the point estimate's in-sample check, per series."""
    fits = _calibration_fits()
    rows = [r for r in _read_csv(CAL_IN_SAMPLE) if r["role"] == "fit"]
    out = [
        "| series | fitted observations | RMSE (points) | largest gap (points, date) "
        "| inside the 90% predictive band |",
        "|---|---:|---:|---|---:|",
    ]
    for series in dict.fromkeys(r["series"] for r in rows):
        mine = [r for r in rows if r["series"] == series]
        gaps = [float(r["gap_points"]) for r in mine]
        rmse = math.sqrt(sum(g * g for g in gaps) / len(gaps))
        worst = max(mine, key=lambda r: abs(float(r["gap_points"])))
        inside = sum(r["inside_90"] == "True" for r in mine)
        digits = 1 if rmse < 100 else 0
        out.append(
            f"| {_SERIES_LABELS.get(series, series)} | {len(mine)} | {rmse:.{digits}f} | "
            f"{float(worst['gap_points']):+.{digits}f} ({worst['date']}) | "
            f"{inside} of {len(mine)} |"
        )
    return (
        "\n".join(out) + "\n\nGap: the mean of the point estimate's in-sample check runs minus the "
        "observation, in share points (the customs index: per cent of 2018's value).\n\n"
        + _fit_note(fits, "full_observations")
        + "\n\n"
        + _derived_note(CAL_IN_SAMPLE, record)
        + "\n"
    )


def _date_label(date: str) -> str:
    year, month = date[:4], date[5:7]
    return {"12": year, "06": f"mid-{year}", "03": f"Mar {year}"}.get(month, date)


def calibration_payment_gaps_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: payment gaps at each CNNIC date, the fit's check and the replay."""
    from docs.build import CNNIC_REPLAY, load_record

    fits = _calibration_fits()
    fitted = [
        r for r in _read_csv(CAL_IN_SAMPLE) if r["series"] == "payment" and r["role"] == "fit"
    ]
    replay = {r["date"]: r for r in _read_csv("experiments/measured/cnnic_replay.csv")}
    replay_record = load_record(CNNIC_REPLAY)
    dates = [r["date"] for r in fitted]
    fit_date = fits["sources"]["full_observations"]["date"]
    out = [
        "| runs | " + " | ".join(_date_label(d) for d in dates) + " |",
        "|---|" + "---:|" * len(dates),
        f"| `mtsim calibrate`'s in-sample check of the fit shipped {fit_date} | "
        + " | ".join(f"{float(r['gap_points']):.1f}" for r in fitted)
        + " |",
        f"| tests/test_china_2013.py's replay, seeds 1000-1023, model of "
        f"{replay_record['date'][:10]} | "
        + " | ".join(f"{float(replay[d]['gap_points']):.1f}" if d in replay else "—" for d in dates)
        + " |",
    ]
    return (
        "\n".join(out)
        + "\n\n"
        + _fit_note(fits, "full_observations")
        + "\n\n"
        + _derived_note(CAL_IN_SAMPLE, record)
        + "\n\n"
        + _provenance("experiments/measured/cnnic_replay.csv", replay_record)
        + "\n"
    )


def _holdout_rows() -> dict[str, dict[str, dict[str, str]]]:
    rows = _read_csv(CAL_HOLDOUT)
    table: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        table.setdefault(r["series"], {})[r["method"]] = r
    return table


def _rmse(value: str) -> str:
    number = float(value)
    return f"{number:.2f}" if number < 100 else f"{number:,.0f}"


def calibration_holdout_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: the hold-out fit's out-of-sample RMSE and coverage per method."""
    fits = _calibration_fits()
    out = [
        "| series | held out | " + " | ".join(label for _, label in _METHODS) + " |",
        "|---|---:|" + "---|" * len(_METHODS),
    ]
    for row, (series, methods) in enumerate(_holdout_rows().items()):
        scored = {m: float(methods[m]["rmse_points"]) for m, _ in _METHODS if m in methods}
        best = min(scored, key=scored.get) if len(scored) > 1 else None
        cells = []
        for number, (method, _) in enumerate(_METHODS):
            if method not in methods:
                cells.append("-")
                continue
            coverage = float(methods[method]["coverage_90"])
            text = _rmse(methods[method]["rmse_points"])
            text = f"**{text}**" if method == best else text
            cells.append(
                f"{text} ({'coverage ' if number == 0 and row == 0 else ''}{coverage:.2f})"
            )
        held_out = next(iter(methods.values()))["observations"]
        out.append(
            f"| {_SERIES_LABELS.get(series, series)} | {held_out} | " + " | ".join(cells) + " |"
        )
    return (
        "\n".join(out)
        + "\n\nRMSE of the held-out observations in points (the customs index: per cent of "
        "2018's value); in brackets the share of them inside the 90% interval; **bold**: the "
        "lowest RMSE of the row.\n\n"
        + _fit_note(fits, "holdout_out_of_sample")
        + "\n\n"
        + _derived_note(CAL_HOLDOUT, record)
        + "\n"
    )


def readme_holdout_table(record: dict[str, Any]) -> str:
    """README: out-of-sample RMSE of mtsim and the three curves, 2017-2020, share points."""
    fits = _calibration_fits()
    order = ("mtsim (ABC posterior predictive)", "logistic", "bass", "carry_forward")
    out = ["| series | mtsim | logistic | Bass | carry-forward |", "|---|---:|---:|---:|---:|"]
    for series, methods in _holdout_rows().items():
        if not all(m in methods for m in order):
            continue  # the customs index has no curve baselines
        out.append(
            f"| {_SERIES_LABELS.get(series, series)} | "
            + " | ".join(_rmse(methods[m]["rmse_points"]) for m in order)
            + " |"
        )
    return (
        "\n".join(out)
        + "\n\n"
        + _fit_note(fits, "holdout_out_of_sample")
        + "\n\n"
        + _derived_note(CAL_HOLDOUT, record)
        + "\n"
    )


# --------------------------------------------------------------------------- mtsim validate


VALIDATION_DIR = "docs/validation_results/classic"
"""``mtsim validate --workers 2 --out docs/validation_results/classic``: the docking checks."""


def validation_classic_table(record: dict[str, Any]) -> str:
    """docs/validation.md section 2: every docking comparison of ``mtsim validate``."""
    data = json.loads((ROOT / VALIDATION_DIR / "validation.json").read_text(encoding="utf-8"))
    table = (ROOT / VALIDATION_DIR / "validation.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    passed = sum(line.rstrip().endswith("| pass |") for line in rows)
    skipped = sum("| skipped:" in line for line in rows)
    seed = data.get("settings", {}).get("seed")
    size = "the CI size (`--quick`)" if data.get("mode") == "quick" else "full size"
    workers = re.search(r"--workers (\d+)", record.get("command", ""))
    load = record.get("load_average_at_start") or []
    timing = (
        f" The run took {data['seconds'] / 60:.0f} minutes"
        + (f" with {workers.group(1)} worker(s)" if workers else "")
        + (f", load average {load[0]:.1f} at the start" if load else "")
        + "."
        if data.get("seconds")
        else ""
    )
    summary = (
        f"`mtsim validate` at {size}"
        + (f", seed {seed}" if seed is not None else "")
        + f": {passed} of {len(rows) - skipped} comparisons pass"
        + (f" ({skipped} check(s) skipped)" if skipped else "")
        + "."
        + timing
        + "\n\n"
    )
    figures = [
        f"![{c['name']}](validation_results/classic/{c['figure']})"
        for c in data.get("checks", [])
        if c.get("figure")
    ]
    return (
        summary
        + table.rstrip("\n")
        + "\n\n"
        + ("\n".join(figures) + "\n\n" if figures else "")
        + _provenance(f"{VALIDATION_DIR}/validation.md", record)
        + "\n"
    )


# --------------------------------------------------------------------------- performance


PLATFORM_STEP_TIME = "experiments/measured/platform_step_time.csv"


def platform_step_time_text(record: dict[str, Any]) -> str:
    """docs/platform.md: the median step time without and with one platform."""
    import statistics

    rows = _read_csv(PLATFORM_STEP_TIME)
    by: dict[str, list[float]] = {}
    for r in rows:
        by.setdefault(r["scenario"], []).append(float(r["ms_per_step"]))
    base, app = rows[0], next(r for r in rows if r["scenario"] == "platform_superapp")
    seeds = sorted({int(r["seed"]) for r in rows})
    machine = record["machine"]
    machine_text = machine if isinstance(machine, str) else machine.get("description", "")
    load = record.get("load_average_at_start", [float(base["load_average_1min"])])[0]
    without = significant(statistics.median(by["baseline"]), 2)
    with_one = significant(statistics.median(by["platform_superapp"]), 2)
    return (
        f"Measured on {record['date'][:10]} on {machine_text} (load average {load:.1f} at the "
        f"start), commit {record['commit'][:7]}, at the baseline's own size, "
        f"{int(base['consumers']):,} consumers, {int(base['merchants']):,} merchants, "
        f"{int(base['kols']):,} KOLs: a step takes {without} ms without platforms "
        f"(`scenarios/baseline.yaml`) and {with_one} ms with one "
        f"(`scenarios/platform_superapp.yaml`, {int(app['consumers']):,} consumers), median "
        f"of {len(seeds)} runs (seeds {seeds[0]}-{seeds[-1]}) of {base['steps']} weeks, model "
        f"construction excluded (`{PLATFORM_STEP_TIME}`; record: "
        f"`docs/build_records/{record['experiment']}.json`).\n"
    )


# --------------------------------------------------------------------------- decisions.md


def _decisions_rows(name: str) -> list[dict[str, str]]:
    return _read_csv(f"experiments/measured/decisions_{name}.csv")


def _weeks(row: dict[str, str] | None) -> str:
    """Write a paired difference in weeks with its interval; bold when it excludes zero."""
    if row is None or not row["diff"]:
        return "—"
    diff, low, high = (float(row[k]) for k in ("diff", "diff_ci_low", "diff_ci_high"))
    text = f"{diff:+.1f} ({low:.1f} to {high:.1f})"
    return f"**{text}**" if low > 0 or high < 0 else text


def decisions_threshold_table(record: dict[str, Any]) -> str:
    """docs/decisions.md section 1: the coupon programmes in each one's weeks, over the run."""
    from docs.generators import _effect, _outcome, _seeds_text
    from model.metrics import metric_label

    rows = _decisions_rows("threshold")
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    index = {(r["scenario"], r["metric"], r["measure"]): r for r in rows}
    pairs = list(dict.fromkeys((r["metric"], r["measure"]) for r in rows))

    def order(pair: tuple[str, str]) -> tuple[int, int]:
        measure = pair[1]
        rank = (
            0
            if measure.startswith("weeks_") and not measure.startswith("weeks_to")
            else (1 if measure == "cumulative" else 2 if measure == "final" else 3)
        )
        start = int(measure.split("_")[1]) if rank == 0 else 0
        return rank, start

    out = [
        "| outcome | " + " | ".join(f"`{s}`" for s in scenarios) + " |",
        "|---|" + "---:|" * len(scenarios),
    ]
    for metric, measure in sorted(pairs, key=order):
        if measure.startswith("weeks_to_"):
            level = float(measure[len("weeks_to_") :])
            ref = index[(scenarios[0], metric, measure)]
            name = metric_label(metric)
            label = (
                f"weeks until {name[:1].lower() + name[1:]} reaches {level:.0%} (baseline: "
                f"{float(ref['mean']) - float(ref['diff']):.1f} weeks)"
            )
            cells = [_weeks(index.get((s, metric, measure))) for s in scenarios]
        else:
            label = _outcome(metric, measure)
            cells = [
                _effect(index[(s, metric, measure)]) if (s, metric, measure) in index else "—"
                for s in scenarios
            ]
        out.append(f"| {cell(label)} | " + " | ".join(cells) + " |")
    reps = rows[0]["n"] if rows else "0"
    return (
        "\n".join(out)
        + f"\n\n{reps} paired replications per scenario ({_seeds_text(record)}); each cell is "
        f"the mean paired difference from `{rows[0]['reference']}` with its 95% t interval "
        "(**bold**: it excludes zero); shares in per cent, their differences in points; "
        "time to threshold: a negative difference is sooner.\n\n"
        + _provenance("experiments/measured/decisions_threshold.csv", record)
        + "\n"
    )


def decisions_decompose_table(record: dict[str, Any]) -> str:
    """docs/decisions.md section 2: the package's effect at week 156 split into its levers."""
    from docs.generators import _effect, _outcome

    rows = _decisions_rows("decompose")
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    terms = list(dict.fromkeys(r["term"] for r in rows))
    index = {(r["metric"], r["term"]): r for r in rows}
    out = [
        "| term | " + " | ".join(cell(_outcome(m, "final")) for m in metrics) + " |",
        "|---|" + "---:|" * len(metrics),
    ]
    names = {"total": "the package (total)", "interaction": "interaction (total minus the levers)"}
    for term in terms:
        label = names.get(term) or f"`{term.removeprefix('lever:')}` alone"
        cells = []
        for m in metrics:
            r = index.get((m, term))
            if r is None:
                cells.append("—")
                continue
            cells.append(
                _effect(
                    {
                        "metric": m,
                        "diff": r["mean"],
                        "diff_ci_low": r["ci_low"],
                        "diff_ci_high": r["ci_high"],
                    }
                )
            )
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    reps = rows[0]["n"] if rows else "0"
    package = rows[0]["package"] if rows else ""
    return (
        "\n".join(out)
        + f"\n\n`{package}` against the reference, {reps} paired replications, at the end "
        "of the run: each cell the mean difference from the reference with its 95% t "
        "interval (**bold**: it excludes zero), in points; an interaction below zero: the "
        "levers overlap (substitutes), above: they reinforce each other (complements).\n\n"
        + _provenance("experiments/measured/decisions_decompose.csv", record)
        + "\n"
    )


_FRONT_SKIP = ("trial", "state", "feasible", "pareto", "session")


def _front_value(column: str, value: str) -> str:
    if value in ("", "nan", "None"):
        return "—"
    number = float(value)
    if column.startswith("payment_adoption") or column.endswith("_share_final"):
        return f"{number:.1%}"
    if "cost" in column:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def decisions_optimize_table(record: dict[str, Any]) -> str:
    """docs/decisions.md section 4: the Pareto front of the example optimisation."""
    rows = _decisions_rows("optimize")
    columns = [c for c in (rows[0] if rows else {}) if c not in _FRONT_SKIP]
    out = [
        "| mix | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---:|" + "---:|" * len(columns),
    ]
    for number, r in enumerate(rows, start=1):
        out.append(f"| {number} | " + " | ".join(_front_value(c, r[c]) for c in columns) + " |")
    return (
        "\n".join(out)
        + f"\n\n{len(rows)} mixes on the front within the budget, sorted by the first "
        "objective; each the mean of the experiment file's replications (common seeds); "
        "strengths and start weeks as searched, costs in yuan (2015 prices).\n\n"
        + _provenance("experiments/measured/decisions_optimize.csv", record)
        + "\n"
    )


# --------------------------------------------------------------------------- sweeps.md


BENCH_SWEEP = "benchmarks/results/bench_sweep.json"
"""``python -m benchmarks.bench_sweep --out benchmarks/results/bench_sweep.json``."""


def bench_sweep_table(record: dict[str, Any]) -> str:
    """docs/sweeps.md: sweep throughput and the runner's and store's overhead per run."""
    data = json.loads((ROOT / BENCH_SWEEP).read_text(encoding="utf-8"))
    t, o = data["throughput"], data["overhead"]
    runs = o["runs"]
    load = record.get("load_average_at_start") or ["?"]
    rows = [
        "| measure | value |",
        "|---|---|",
        f"| throughput, small world (1,000 consumers, 52 steps), 1 worker | "
        f"{t['runs_per_minute_1_worker']:,.0f} runs/min |",
        f"| same, 2 workers | {t['runs_per_minute_2_worker']:,.0f} runs/min |",
        f"| 10,000 consumers, 100 steps: `run_model` alone | "
        f"{o['direct_run_seconds_mean']:.2f} s |",
        f"| part build + atomic write (fsync) per run | "
        f"{o['part_write_seconds_median'] * 1000:.1f} ms "
        f"({o['part_write_percent_of_run']:.2f}%) |",
        f"| scenario check in each task | {o['scenario_check_seconds_median'] * 1000:.2f} ms |",
        f"| part + check, share of a run | {o['steady_overhead_percent_of_run']:.2f}% |",
        f"| sweep wall minus start minus direct runs, per run ({runs} runs) | "
        f"{o['overhead_seconds_per_run'] * 1000:.0f} ms "
        f"({o['overhead_percent_of_run']:.1f}%) |",
        f"| one-off start of a sweep (experiment, design table, manifests) | "
        f"{o['start_seconds']:.2f} s |",
    ]
    ratio = t["runs_per_minute_2_worker"] / t["runs_per_minute_1_worker"]
    steady = o["steady_overhead_percent_of_run"]
    return (
        "\n".join(rows)
        + f"\n\nTwo workers: {ratio:.1f}x the throughput of one. The runner's and store's "
        f"own costs per run (part write + scenario check): {steady:.2f}% of a run, "
        f"{'within' if steady < 5 else 'above'} the target of 5%. Load average at the "
        f"start: {load[0]} (a timing wants an idle machine).\n\n"
        + _provenance(BENCH_SWEEP, record)
        + "\n"
    )


# --------------------------------------------------------------------------- robustness.md


ERROR_TIMINGS = "experiments/measured/robustness_error_timings.csv"
"""experiments/error_timings.py: how long each bad command takes to fail."""


def error_timings_table(record: dict[str, Any]) -> str:
    """docs/robustness.md: time to the error of four bad commands (new processes)."""
    rows = _read_csv(ERROR_TIMINGS)
    out = ["| input | exit code | time to the error (fastest-slowest; median) |", "|---|---:|---|"]
    for r in rows:
        out.append(
            f"| `{r['input']}` ({r['why']}) | {r['exit_code']} | {float(r['min_s']):.2f}-"
            f"{float(r['max_s']):.2f} s; {float(r['median_s']):.2f} s |"
        )
    load = rows[0]["load_average_1min"] if rows else "?"
    repeats = rows[0]["repeats"] if rows else "0"
    return (
        "\n".join(out)
        + f"\n\n{repeats} runs of each, a new process each time (interpreter start included), "
        f"load average {float(load):.1f} at the start.\n\n"
        + _provenance(ERROR_TIMINGS, record)
        + "\n"
    )


# --------------------------------------------------------------------------- README


def _by(rows: list[dict[str, str]], scenario: str, metric: str, measure: str) -> dict[str, str]:
    return next(
        r for r in rows if (r["scenario"], r["metric"], r["measure"]) == (scenario, metric, measure)
    )


def _amount(row: dict[str, str], scale: float = 1.0, negate: bool = False) -> str:
    """Write a paired difference as an amount with its 95% interval, e.g. 13.0 (11.1 to 14.9)."""
    from docs.generators import _interval_decimals, _plain

    sign = -1.0 if negate else 1.0
    diff = sign * float(row["diff"]) * scale
    low, high = sorted(sign * float(row[k]) * scale for k in ("diff_ci_low", "diff_ci_high"))
    decimals = _interval_decimals(low, high, diff)
    return f"{_plain(diff, decimals)} ({_plain(low, decimals)} to {_plain(high, decimals)})"


def _cost(rows: list[dict[str, str]], scenario: str) -> str:
    return f"{float(_by(rows, scenario, 'policy_cost', 'total')['mean']):,.0f}"


def readme_policy_effects(record: dict[str, Any]) -> str:
    """README: what the three single-lever policy files do against the baseline, in a sentence."""
    from docs.generators import _measured

    rows = _measured("policy_comparison")
    security = _by(rows, "payment_security", "payment_adoption", "final")
    trust = _by(rows, "integrity", "mean_trust_domestic", "final")
    fakes = _by(rows, "integrity", "counterfeit_incidents", "last_quarter")
    fakes_base = float(_by(rows, "baseline", "counterfeit_incidents", "last_quarter")["mean"])
    share = _by(rows, "cross_border_facilitation", "cross_border_share", "last_quarter")
    orders = _by(rows, "cross_border_facilitation", "orders", "last_quarter")
    added = _by(rows, "cross_border_facilitation", "cross_border_value", "cumulative")
    created = _by(rows, "cross_border_facilitation", "cross_border_created_value", "cumulative")
    return (
        f"`payment_security` raises consumers paying by mobile by {_amount(security, 100)} "
        f"points for {_cost(rows, 'payment_security')}; `integrity` raises domestic trust by "
        f"{_amount(trust, 100)} points and cuts counterfeits by {_amount(fakes, negate=True)} "
        f"a week ({-float(fakes['diff']) / fakes_base:.0%} of the baseline's) for "
        f"{_cost(rows, 'integrity')}; `cross_border_facilitation` raises the cross-border "
        f"share by {_amount(share, 100)} points and total mobile orders by {_amount(orders)} "
        f"a week for {_cost(rows, 'cross_border_facilitation')}, and of the "
        f"{float(added['diff']):,.0f} of cross-border trade it added over the run, "
        f"{_amount(created)} was created rather than diverted (the last 13 weeks' means, "
        "trust and adoption at week 156, costs computed by the model).\n\n"
        + _provenance("experiments/measured/policy_comparison.csv", record)
        + "\n"
    )
