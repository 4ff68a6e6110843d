"""Generated blocks computed from the shipped reference data alone (no model run).

``bass_of_data_table``: the discrete Bass model fitted, the way the pattern suite fits the
model's curves (model/validation/bass.py), to CNNIC's own yearly series of mobile
payment and mobile shopping among mobile Internet users (experiments/data/cnnic_targets.csv).
It says what Bass coefficients China's recorded diffusion itself has, beside the
meta-analytic range the pattern suite asks of the baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SERIES = (
    ("mobile_payment_share", "mobile payment users / mobile Internet users"),
    ("mobile_shopping_share", "mobile shoppers / mobile Internet users"),
)
"""The CNNIC columns fitted, with their meaning."""


def _fit_rows() -> list[tuple]:
    """Per CNNIC series and window: (label, span, points[, discrete fit, continuous fit])."""
    from experiments.diffusion_probes import WINDOW_ENDS, cnnic_year_ends
    from model.validation.bass import fit_continuous_bass, fit_discrete_bass, yearly_curve

    rows = []
    for column, label in SERIES:
        observed = cnnic_year_ends(column)
        first, latest = min(observed), max(observed)
        # one point a year from the first; a year without a year-end value is a gap the
        # recursion steps over (model/validation/bass.py)
        for last in sorted({min(latest, w) for w in WINDOW_ENDS}):
            curve = yearly_curve(observed, last)
            span = f"{first}-{last}"
            points = ", ".join("(none)" if np.isnan(v) else f"{v:.3f}" for v in curve)
            if np.isfinite(curve[1:]).sum() < 3:
                rows.append((label, span, points))
                continue
            rows.append((label, span, points, fit_discrete_bass(curve), fit_continuous_bass(curve)))
    return rows


def bass_of_data_table() -> str:
    """docs/validation.md: Bass p, q, m of CNNIC's own yearly series."""
    lines = [
        "| CNNIC series | years | year-end shares | p per year | q per year | m | "
        "continuous time: p, q, m |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for row in _fit_rows():
        if len(row) == 3:
            label, span, points = row
            lines.append(
                f"| {label} | {span} | {points} | (fewer than 3 years after the first) | | | |"
            )
            continue
        label, span, points, fit, cont = row
        lines.append(
            f"| {label} | {span} | {points} | {fit.p:.3f} | {fit.q:.3f} | {fit.m:.3f} | "
            f"{cont.p:.3f}, {cont.q:.3f}, {cont.m:.3f} |"
        )
    lines.append("")
    lines.append(
        "*Computed from `experiments/data/cnnic_targets.csv` (year-end observations; a year "
        "without one is a gap the fit steps over, shown as (none)) by "
        "`model/validation/bass.py`'s fit (the suite's discrete recursion; in continuous "
        "time: nonlinear least squares on the continuous model, `fit_continuous_bass`); "
        "written by `python -m docs.build` "
        "(docs/generators_data.py).*"
    )
    return "\n".join(lines) + "\n"


TIME_INTERVAL_CURVES = (
    (0.03, 0.38, "the meta-analytic means (Sultan, Farley & Lehmann 1990)"),
    (0.01, 0.6, "little external influence, q at the criterion's top"),
    (0.0, 0.9, "no external influence at all"),
    (0.0, 1.3, "no external influence at all, faster imitation"),
    (0.03, 1.3, "a little external influence, faster imitation"),
)
"""(p, q per year of the continuous Bass model, what the curve stands for)."""
TIME_INTERVAL_M = 0.83
"""The market potential of the illustration: about the baseline payment curve's fitted m
(docs/validation.md, the pattern table)."""


def bass_time_interval_table() -> str:
    """docs/validation.md: what the suite's yearly discrete fit reads from continuous curves.

    Continuous Bass curves (:func:`model.validation.bass.continuous_bass`) from the
    baseline's starting share of payers, sampled once a year for six years as the suite
    samples the baseline, fitted by the suite's discrete fit.
    """
    from model.scenario import load_scenario
    from model.validation.bass import continuous_bass, fit_discrete_bass
    from model.validation.patterns import _bass_passes

    start = load_scenario(ROOT / "scenarios" / "baseline.yaml").regions
    f0 = float(start["domestic"].initial_payment_adoption)
    years = np.arange(7.0)
    lines = [
        "| continuous p, q per year | what it stands for | yearly shares, years 0-6 | "
        "the suite's yearly discrete fit: p, q | passes the criterion |",
        "|---|---|---|---|---|",
    ]
    for p, q, words in TIME_INTERVAL_CURVES:
        curve = continuous_bass(p, q, TIME_INTERVAL_M, f0, years)
        fit = fit_discrete_bass(curve)
        ok = _bass_passes({"p": fit.p, "q": fit.q})
        lines.append(
            f"| {p:g}, {q:g} | {words} | {', '.join(f'{v:.3f}' for v in curve)} | "
            f"{fit.p:.3f}, {fit.q:.3f} | {'yes' if ok else 'no'} |"
        )
    lines.append("")
    lines.append(
        f"Curves of the continuous Bass model (`model/validation/bass.py`, "
        f"`continuous_bass`) from the baseline's {f0:.0%} of payers with market potential "
        f"{TIME_INTERVAL_M}, read once a year and fitted by the suite's discrete fit "
        "(`fit_discrete_bass`); no model run. *Written by `python -m docs.build` "
        "(docs/generators_data.py).*"
    )
    return "\n".join(lines) + "\n"


CONSUMPTION = ROOT / "experiments" / "data" / "consumption_targets.csv"


def consumption_targets_table() -> str:
    """docs/calibration.md: the fitted band of the mobile share of consumption, per year."""
    from docs.generators_tables import _read_csv as _csv_rows

    nbs = {
        r["year"]: r
        for r in _csv_rows(ROOT / "experiments" / "data" / "nbs_online_retail_share.csv")
    }
    mobile = {
        r["year"]: r
        for r in _csv_rows(ROOT / "experiments" / "data" / "mobile_share_of_online_shopping.csv")
    }
    lines = [
        "| year (31 December) | NBS: online physical goods / retail sales | mobile share of "
        "online shopping (low-high) | band fitted (low-high) | point shown |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in _csv_rows(CONSUMPTION):
        year = row["date"][:4]
        lines.append(
            f"| {year} | {float(nbs[year]['online_physical_goods_share_of_retail']):.1%} | "
            f"{float(mobile[year]['low']):.1%}-{float(mobile[year]['high']):.1%} | "
            f"{float(row['low']):.1%}-{float(row['high']):.1%} | "
            f"{float(row['mobile_share_of_consumption']):.1%} |"
        )
    lines.append("")
    lines.append(
        "*From `experiments/data/consumption_targets.csv` (written by "
        "`experiments/data/derive_targets.py` from `nbs_online_retail_share.csv` and "
        "`mobile_share_of_online_shopping.csv`, each row with its sources); written by "
        "`python -m docs.build` (docs/generators_data.py).*"
    )
    return "\n".join(lines) + "\n"


WORLDS = ROOT / "experiments" / "measured"
FOCUS = "merchants.integrity_erosion"


def worlds_integrity_text(record: dict) -> str:
    """docs/decisions.md: the robust comparison of integrity against the baseline (3a)."""
    import json

    import pandas as pd

    from docs.generators import _provenance

    run = json.loads((WORLDS / "worlds_integrity_run.json").read_text(encoding="utf-8"))
    sens = pd.read_csv(WORLDS / "worlds_integrity_sensitivity.csv")
    lines = [
        f"`{run['command']}`: {run['runs']} runs ({run['scenarios']} scenarios x "
        f"{run['worlds']} worlds x {run['reps']} replications, 2,000 consumers, 156 weeks) "
        f"took {run['seconds'] / 60:.1f} minutes with {run['workers']} workers on the 2-core "
        "machine. The report's first paragraph:",
        "",
        f"> {run['first_paragraph']}",
        "",
        f"Where `{FOCUS}` stands, per outcome (PAWN index, rank correlation with the "
        "effect, rank among the parameters, above the dummies' noise floor or not):",
        "",
        "| outcome | PAWN | rank correlation | rank | above noise | parameters |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for metric, block in sens.groupby("metric", sort=False):
        row = block[block["parameter"] == FOCUS]
        if row.empty:
            lines.append(f"| {metric} | | | not varied | | {len(block)} |")
            continue
        r = row.iloc[0]
        lines.append(
            f"| {metric} | {r['pawn']:.3f} | {r['rho']:+.2f} | {int(r['rank'])} | "
            f"{'yes' if bool(r['above_noise']) else 'no'} | {len(block)} |"
        )
    lines += ["", _provenance("experiments/measured/worlds_integrity_*.csv", record)]
    return "\n".join(lines) + "\n"


DISCOVER = ROOT / "experiments" / "measured"
"""``python experiments/discover_example.py``: discover_example.json and _boxes.csv."""


def decisions_discover_text(record: dict) -> str:
    """docs/decisions.md section 5: the example discovery on the LHS sweep, as measured."""
    import json

    import pandas as pd

    from docs.generators import _provenance

    run = json.loads((DISCOVER / "discover_example.json").read_text(encoding="utf-8"))
    boxes = pd.read_csv(DISCOVER / "discover_example_boxes.csv")
    share = run["true"] / run["cases"] if run["cases"] else 0.0
    lines = [
        f"The sweep ({run['runs']} runs of 2,000 consumers for 104 weeks, {run['workers']} "
        f"workers) took {run['sweep_seconds']:.0f} s, the discovery "
        f"{run['discover_seconds']:.0f} s (PRIM itself {run['prim_seconds']:.1f} s; the "
        "rest starts Python, reads the sweep and imports the EMA workbench). The median of "
        f"`payment_adoption_final` over the runs was {run['median']:.2f}, so the outcome "
        f"was `{run['expression']}`; it holds in {run['true']} of the {run['cases']} runs "
        f"({share:.0%}).",
        "",
    ]
    if not run["boxes"]:
        lines.append("> No box was found.")
    for number, sentence in enumerate(run["boxes"]):
        lines += ([">"] if number else []) + [f"> {sentence}"]
    limits = boxes[boxes["parameter"] != "(none)"]
    if not limits.empty:
        lines += [
            "",
            "| box | parameter | low | high | coverage | density | mass |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in limits.itertuples(index=False):
            low = "" if pd.isna(r.low) else f"{r.low:.4g}"
            high = "" if pd.isna(r.high) else f"{r.high:.4g}"
            lines.append(
                f"| {r.box} | `{r.parameter}` | {low} | {high} | {r.coverage:.2f} | "
                f"{r.density:.2f} | {r.mass:.2f} |"
            )
    lines += [
        "",
        _provenance("experiments/measured/discover_example.json", record),
    ]
    return "\n".join(lines) + "\n"


__all__ = ["bass_of_data_table", "worlds_integrity_text"]


def regret_example_text(record: dict) -> str:
    """docs/decisions.md section 3: the regret example's sentences and table."""
    import json

    import pandas as pd

    from docs.generators import _provenance

    run = json.loads((WORLDS / "regret_example.json").read_text(encoding="utf-8"))
    table = pd.read_csv(WORLDS / "regret_example_summary.csv")
    lines = [
        f"{run['packages']} packages x {run['worlds']} worlds x 2 replications of 1,000 "
        f"consumers for 52 weeks, {run['runs']} runs with 2 workers: "
        f"{run['seconds']:.0f} s. The report's sentences:",
        "",
        *(f"- {s}" for s in run["sentences"]),
        "",
        "| package | outcome | mean regret | 90th percentile | worst case | best in |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.package} | {r.metric} | {r.mean_regret:.4g} | {r.p90_regret:.4g} | "
            f"{r.max_regret:.4g} | {r.share_best:.0%} |"
        )
    lines += ["", _provenance("experiments/measured/regret_example_summary.csv", record)]
    return "\n".join(lines) + "\n"


DIFFUSION_PROBES = "experiments/measured/diffusion_probes.csv"
PROBE_WORDS = {
    "baseline": "the baseline as it is",
    "no_kol_awareness": "KOL posts make nobody aware (`kols.awareness_gain` 0)",
    "low_kol_awareness": "`kols.awareness_gain` 0.05 (a tenth)",
    "weak_channel_awareness": "paid channels' `awareness_conversion` at a tenth",
    "reinforcement_1": "complex contagion of payment (`payment.reinforcement` 1)",
    "reinforcement_3": "`payment.reinforcement` 3",
    "reinforcement_3_peer_x2": "`payment.reinforcement` 3 and `payment.peer_influence` doubled",
}


def diffusion_probes_table(record: dict) -> str:
    """docs/validation.md: the baseline's early curves and Bass fits under awareness probes."""
    import pandas as pd

    from docs.generators import _provenance
    from experiments.diffusion_probes import replay_summary

    frame = pd.read_csv(ROOT / DIFFUSION_PROBES)
    seeds = sorted(frame["seed"].unique())
    lines = [
        "| probe | aware at week 13 / 52 | shoppers at year 1 / 2 | payment (connected) at "
        "year 0 / 1 / 2 | Bass payment p, q | Bass shoppers p, q | china_2013 replay to "
        "2020, gap to CNNIC: payment RMSE, largest | shopping RMSE, largest |",
        "|---|---|---|---|---|---|---|---|",
    ]
    frame = frame[frame["probe"] != REPLAY_PROBE]
    for probe, rows in frame.groupby("probe", sort=False):
        mean = rows.groupby(["series", "week"])["value"].mean()

        def gaps(label: str, probe=probe) -> str:
            mine = frame["series"].str.startswith(f"replay_{label}_gap_")
            if not (mine & (frame["probe"] == probe)).any():
                return "(not run)"
            g = replay_summary(frame, probe, label)
            return f"{g['rmse']:.1f}, {g['largest']:+.1f} ({g['at']})"

        def at(series: str, week: int, mean=mean) -> str:
            return f"{mean[(series, week)]:.1%}"

        def fit(label: str, mean=mean) -> str:
            return f"{mean[(f'bass_{label}_p', -1)]:.2f}, {mean[(f'bass_{label}_q', -1)]:.2f}"

        lines.append(
            f"| {PROBE_WORDS.get(probe, probe)} | {at('aware', 13)} / {at('aware', 52)} "
            f"| {at('shoppers', 52)} / {at('shoppers', 104)} "
            f"| {at('payment', 0)} / {at('payment', 52)} / {at('payment', 104)} "
            f"| {fit('payment')} | {fit('shoppers')} | {gaps('payment')} | {gaps('shopping')} |"
        )
    lines.append("")
    lines.append(
        f"Means over seeds {', '.join(str(s) for s in seeds)} (building seeds) of the "
        "curves, and of each seed's yearly Bass fit (p and q per year). The last two "
        "columns run the probe's values in `scenarios/china_2013.yaml` (2,000 consumers, the "
        "same seeds) and compare the seeds' mean curve with CNNIC's at each of its dates "
        "to 2020 (share points, model - CNNIC; shopping as CNNIC counts it, the last 26 "
        "weeks, among the connected; the largest gap's date in brackets). "
        + _provenance(DIFFUSION_PROBES, record)
    )
    return "\n".join(lines) + "\n"


def diffusion_probes_continuous_table(record: dict) -> str:
    """docs/validation.md: each probe's yearly curves fitted in continuous time as well."""
    import pandas as pd

    from docs.generators import _provenance
    from model.validation.bass import fit_continuous_bass, fit_discrete_bass

    frame = pd.read_csv(ROOT / DIFFUSION_PROBES)
    frame = frame[(frame["probe"] != REPLAY_PROBE) & (frame["week"] >= 0)]
    seeds = sorted(frame["seed"].unique())
    lines = [
        "| probe | payment: discrete p, q | payment: continuous p, q | shoppers: discrete p, "
        "q | shoppers: continuous p, q |",
        "|---|---|---|---|---|",
    ]
    for probe, rows in frame.groupby("probe", sort=False):
        cells = []
        for label in ("payment", "shoppers"):
            fits = {"discrete": [], "continuous": []}
            for _, one in rows[rows["series"] == label].groupby("seed"):
                yearly = one[one["week"] % 52 == 0].sort_values("week")["value"].to_numpy()
                fits["discrete"].append(fit_discrete_bass(yearly))
                fits["continuous"].append(fit_continuous_bass(yearly))
            for kind in ("discrete", "continuous"):
                p = np.mean([f.p for f in fits[kind]])
                q = np.mean([f.q for f in fits[kind]])
                cells.append(f"{p:.2f}, {q:.2f}")
        lines.append(f"| {PROBE_WORDS.get(probe, probe)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "The diffusion probes' yearly curves (the probes table further up; seeds "
        f"{', '.join(str(s) for s in seeds)}), "
        "each seed fitted by the suite's discrete recursion (`fit_discrete_bass`) and by "
        "nonlinear least squares on the continuous model (`fit_continuous_bass`, Srinivasan "
        "& Mason 1986); means over the seeds. " + _provenance(DIFFUSION_PROBES, record)
    )
    return "\n".join(lines) + "\n"


SEEDING_PROBES = "experiments/measured/seeding_probes.csv"
SEEDING_WORDS = {
    "baseline": "the baseline as it is (a stochastic block model, Poisson-like degrees)",
    "heavy_tailed": "a heavy-tailed graph (`network.kind: barabasi_albert`, the same mean degree)",
    "no_kol_awareness": "KOL posts make nobody aware (`kols.awareness_gain` 0)",
    "heavy_tailed_no_kol_awareness": "both",
}


def seeding_probes_table(record: dict) -> str:
    """docs/validation.md: hub_seeding's difference under the graph and KOL awareness probes."""
    import pandas as pd

    from docs.generators import _provenance
    from experiments.seeding_probes import summary

    frame = pd.read_csv(ROOT / SEEDING_PROBES)
    seeds = sorted(frame["seed"].unique())
    means = frame.groupby("probe", sort=False)[["shoppers_degree", "shoppers_random"]].mean()
    lines = [
        "| probe | shoppers at week 52: hubs seeded / random seeds | hubs minus random "
        "(points) | 95% interval | the seeds say |",
        "|---|---|---:|---|---|",
    ]
    for row in summary(frame).itertuples():
        says = (
            "hubs spread further"
            if row.low > 0
            else ("random spread further" if row.high < 0 else "cannot tell from 0")
        )
        lines.append(
            f"| {SEEDING_WORDS.get(row.probe, row.probe)} "
            f"| {means.loc[row.probe, 'shoppers_degree']:.1%} / "
            f"{means.loc[row.probe, 'shoppers_random']:.1%} "
            f"| {100 * row.diff:+.2f} | {100 * row.low:+.2f} to {100 * row.high:+.2f} | {says} |"
        )
    lines.append("")
    lines.append(
        f"The suite's measurement (the 1% initially aware chosen by degree against at random, "
        f"the same seeds; shoppers at week 52; paired 95% t interval) on building seeds "
        f"{seeds[0]}-{seeds[-1]} ({len(seeds)} seeds). " + _provenance(SEEDING_PROBES, record)
    )
    return "\n".join(lines) + "\n"


REPLAY_PROBE = "china_2013_replay"
REPLAY_LABELS = {
    "mobile payment users / mobile Internet users": "payment",
    "mobile shoppers / mobile Internet users": "shopping",
}


def replay_bass_table(record: dict) -> str:
    """docs/validation.md: CNNIC's Bass fits beside the calibrated replay's, same years."""
    import pandas as pd

    from docs.generators import _provenance

    frame = pd.read_csv(ROOT / DIFFUSION_PROBES)
    frame = frame[frame["probe"] == REPLAY_PROBE]
    seeds = sorted(frame["seed"].unique())
    lines = [
        "| series | years | CNNIC p, q, m | replay p (range) | replay q (range) | replay m |",
        "|---|---|---|---|---|---:|",
    ]
    for row in _fit_rows():
        if len(row) == 3:
            continue
        label, span, _, fit, _ = row
        p, q, m = fit.p, fit.q, fit.m
        key = f"bass_{REPLAY_LABELS[label]}_{span}"
        cells = []
        for k in "pqm":
            values = frame.loc[frame["series"] == f"{key}_{k}", "value"]
            cells.append((values.mean(), values.min(), values.max()))
        (rp, rp0, rp1), (rq, rq0, rq1), (rm, _, _) = cells
        lines.append(
            f"| {REPLAY_LABELS[label]} among the connected | {span} | {p:.2f}, {q:.2f}, {m:.2f} "
            f"| {rp:.2f} ({rp0:.2f}-{rp1:.2f}) | {rq:.2f} ({rq0:.2f}-{rq1:.2f}) | {rm:.2f} |"
        )
    lines.append("")
    lines.append(
        f"The replay is `scenarios/china_2013.yaml` at the calibration's size (2,000 "
        f"consumers), building seeds {', '.join(str(s) for s in seeds)}, read at CNNIC's "
        "year-ends only (the years CNNIC lacks are gaps in both fits); shoppers are those "
        "of the last 26 weeks. Mean and range over the seeds of each seed's fit. "
        + _provenance(DIFFUSION_PROBES, record)
    )
    return "\n".join(lines) + "\n"


FORECAST = "experiments/measured/forecast.csv"
FORECAST_SERIES = (
    ("payment", "payment among the connected"),
    ("shopping_26w", "shoppers (last 26 weeks) among the connected"),
    ("access", "mobile access"),
    ("mobile_share_of_consumption", "mobile share of consumption"),
)


def forecast_table(record: dict) -> str:
    """docs/calibration.md: the calibrated replay's forecast for 2021-2025 (no data after 2020)."""
    import pandas as pd

    from docs.generators import _provenance

    frame = pd.read_csv(ROOT / FORECAST)
    cells = {(r.series, int(r.year)): r for r in frame.itertuples()}
    years = sorted(frame["year"].unique())
    lines = [
        "| year-end | " + " | ".join(words for _, words in FORECAST_SERIES) + " |",
        "|---|" + "---:|" * len(FORECAST_SERIES),
    ]
    for year in years:
        out = []
        for series, _ in FORECAST_SERIES:
            r = cells[(series, year)]
            out.append(f"{r.mean:.1%} [{r.min:.1%}-{r.max:.1%}]")
        label = f"{year} (last year with data)" if year == years[0] else str(year)
        lines.append(f"| {label} | " + " | ".join(out) + " |")
    lines.append("")
    lines.append(
        "Mean of the runs [lowest-highest single run]; the mobile share of consumption is "
        "the calendar year's (flows over the 52 weeks to 31 December). "
        + _provenance(FORECAST, record)
    )
    return "\n".join(lines) + "\n"


CALIBRATION_CONFIG = "experiments/calibrate_cnnic.yaml"


def calibration_priors_table() -> str:
    """docs/calibration.md: the fitted parameters, their keys and priors, from the config."""
    import yaml

    config = yaml.safe_load((ROOT / CALIBRATION_CONFIG).read_text(encoding="utf-8"))
    lines = [
        "| parameter | scenario key(s) | prior | what it is |",
        "|---|---|---|---|",
    ]
    for name, spec in config["parameters"].items():
        keys = ", ".join(f"`{p}`" for p in spec["paths"])
        kind = "log-uniform" if spec.get("log") else "uniform"
        prior = f"{kind} [{spec['low']:g}, {spec['high']:g}]"
        lines.append(f"| {name} | {keys} | {prior} | {spec.get('description', '')} |")
    lines.append("")
    lines.append(
        f"*{len(config['parameters'])} parameters, read from `{CALIBRATION_CONFIG}` "
        "(`parameters:`); `policies.N` is the N-th policy of scenarios/china_2013.yaml; "
        "written by `python -m docs.build` (docs/generators_data.py).*"
    )
    return "\n".join(lines) + "\n"
