"""Generated blocks about runs of the project's own tools: its tests and its docking checks.

``tests_quick_text``, ``tests_full_text``, ``notebook_times_text``: the README's test
commands timed by experiments/test_timings.py (experiments/measured/tests_quick.json,
tests_full.json): the number of tests, their wall time, the machine and its load, and
each notebook's run time inside the full run.

``validate_classic_notes``, ``watts_reference_table``, ``readme_validate_classic``: what
docs/validation.md and the README say around the table of ``mtsim validate`` (the
docking checks, docs/generators_tables.py's ``validation_classic_table``): the sizes of
the runs, the numbers the reading of the table rests on, the finite-graph reference of
Watts's cascades, from ``validation.json`` of the recorded run.

Each function takes the experiment's record (docs/build.py), reads only files, and
returns Markdown ending in a newline.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from docs.generators import _provenance, significant

ROOT = Path(__file__).resolve().parents[1]

TESTS_QUICK = "experiments/measured/tests_quick.json"
TESTS_FULL = "experiments/measured/tests_full.json"
"""experiments/test_timings.py's results: the quick tier and the full run."""


# --------------------------------------------------------------------------- common


def _machine(record: dict[str, Any]) -> str:
    machine = record["machine"]
    return machine if isinstance(machine, str) else machine.get("description", "")


def _load(record: dict[str, Any]) -> str:
    loads = record.get("load_average_at_start") or []
    return f"load average {loads[0]:.1f} at the start" if loads else "load not recorded"


def _run_line(source: str, record: dict[str, Any]) -> str:
    """Return a timing's provenance: date, commit, machine, load and the record."""
    return (
        f"run of {record['date'][:10]} at commit {record['commit'][:7]} on "
        f"{_machine(record)}, {_load(record)} (`{source}`; record: "
        f"`docs/build_records/{record['experiment']}.json`)"
    )


def _workers(command: str) -> str:
    """Say how many processes a command ran with, from its ``--workers`` / ``-n``."""
    found = re.search(r"(?:--workers|-n)\s+(\S+)", command)
    if not found:
        return "in one process"
    value = found.group(1)
    if value == "auto":
        return "with `-n auto` (one test process per core)"
    return f"with {value} worker{'s' if value != '1' else ''}"


def _duration(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


# --------------------------------------------------------------------------- tests


def _tests(path: str) -> dict[str, Any]:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def _counts(data: dict[str, Any]) -> str:
    parts = [f"{data['passed']:,} passed"]
    for key, word in (("failed", "failed"), ("errors", "in error"), ("skipped", "skipped")):
        if data.get(key):
            parts.append(f"{data[key]:,} {word}")
    return ", ".join(parts)


def _tests_text(path: str, record: dict[str, Any]) -> str:
    data = _tests(path)
    selection = (
        f" (a selection only: {' '.join(data['selection'])})" if data.get("selection") else ""
    )
    return (
        f'`pytest -m "{data["marker"]}" -n auto` ({data["cores"]} test processes): '
        f"{_counts(data)} in {_duration(data['wall_seconds'])}{selection}; "
        f"{_run_line(path, record)}.\n"
    )


def tests_quick_text(record: dict[str, Any]) -> str:
    """README: the quick tier's last recorded run (count, wall time, machine, load)."""
    return _tests_text(TESTS_QUICK, record)


def tests_full_text(record: dict[str, Any]) -> str:
    """README: the full test run's last recorded run (CI's tests, without the install)."""
    return _tests_text(TESTS_FULL, record)


def notebook_times_text(record: dict[str, Any]) -> str:
    """README and docs/notebooks.md: each notebook's run time inside the full test run."""
    data = _tests(TESTS_FULL)
    notebooks = data.get("notebooks") or {}
    if not notebooks:
        return (
            f"The recorded full test run executed no notebook ({_run_line(TESTS_FULL, record)}).\n"
        )
    rows = ["| notebook | run time |", "|---|---:|"]
    rows += [f"| `{name}` | {seconds:.0f} s |" for name, seconds in sorted(notebooks.items())]
    return (
        "\n".join(rows) + "\n\nEach executed by nbclient in a fresh kernel "
        "(`tests/test_notebooks.py::test_notebook_runs`) inside the full test run "
        f'(`pytest -m "{data["marker"]}" -n auto`, {data["cores"]} cores, other tests '
        f"running beside it); {_run_line(TESTS_FULL, record)}.\n"
    )


# --------------------------------------------------------------------------- calibration.md

REPLAY_SIZES = "experiments/measured/replay_sizes.csv"
"""experiments/policy_measures.py replay_sizes: the replay's gaps to CNNIC by population size."""


def _date_label(date: str) -> str:
    """Name an observation's date as the table does: 2015, mid-2015, Mar 2020."""
    import datetime as dt

    day = dt.date.fromisoformat(date)
    if (day.month, day.day) == (12, 31):
        return str(day.year)
    if (day.month, day.day) == (6, 30):
        return f"mid-{day.year}"
    return day.strftime("%b %Y")


def replay_sizes_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: the replay's payment gaps to CNNIC at four population sizes."""
    import csv

    with (ROOT / REPLAY_SIZES).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sizes = sorted({int(r["consumers"]) for r in rows})
    dates = sorted({r["date"] for r in rows if r["series"] == "payment"})
    out = [
        "| consumers | runs | "
        + " | ".join(_date_label(d) for d in dates)
        + " | largest | shopping RMSE |",
        "|---:|---:|" + "---:|" * (len(dates) + 2),
    ]
    for size in sizes:
        mine = [r for r in rows if int(r["consumers"]) == size]
        gaps = {r["date"]: float(r["gap_points"]) for r in mine if r["series"] == "payment"}
        shopping = [float(r["gap_points"]) for r in mine if r["series"] == "shopping"]
        largest = max(gaps.values(), key=abs)
        rmse = math.sqrt(sum(g * g for g in shopping) / len(shopping)) if shopping else math.nan
        out.append(
            f"| {size:,} | {mine[0]['runs']} | "
            + " | ".join(f"{gaps[d]:.1f}" if d in gaps else "—" for d in dates)
            + f" | {largest:+.1f} | {rmse:.1f} |"
        )
    return (
        "\n".join(out)
        + "\n\nGap = the mean curve of the runs minus CNNIC's share, in points, at each "
        "payment observation (payment among the connected); largest = the largest gap by "
        "size; shopping RMSE over CNNIC's shopping observations, in points. Seeds 1000 and "
        "up; merchants and KOLs in proportion (80 and 8 per 2,000 consumers).\n\n"
        + _provenance(REPLAY_SIZES, record)
        + "\n"
    )


def calibration_run_time(record: dict[str, Any]) -> str:
    """docs/calibration.md: how long one run of the fit takes, from the measured step time."""
    import csv
    import statistics

    from docs.generators_tables import PLATFORM_STEP_TIME

    with (ROOT / PLATFORM_STEP_TIME).open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["scenario"] == "baseline"]
    step = statistics.median(float(r["ms_per_step"]) for r in rows) / 1000
    consumers = int(rows[0]["consumers"])
    return (
        f"A week of the baseline at {consumers:,} consumers takes {step * 1000:.1f} ms on one "
        f"core (median of {len(rows)} runs: the step-time measurement of docs/platform.md), "
        f"so one 365-week run of the fit takes about {significant(365 * step, 2)} s of "
        "stepping, plus its start; early rejection stops many runs sooner. Step time: "
        f"{_run_line(PLATFORM_STEP_TIME, record)}.\n"
    )


# --------------------------------------------------------------------------- scale


def scale_targets_text(record: dict[str, Any]) -> str:
    """README and docs/scale.md: where the scale targets stand in the recorded benchmark."""
    from docs.generators import _scale_rows

    ours, _ = _scale_rows()
    by_size = {int(r["consumers"]): r for r in ours}
    parts = []
    million = by_size.get(1_000_000)
    if million:
        total = float(million["build_plus_100_steps_s"])
        peak = float(million["peak_rss_mib_median"])
        parts.append(
            f"build + 100 weeks at 1,000,000 consumers {significant(total, 3)} s (build "
            f"{significant(float(million['build_s_median']), 2)} s + 100 x "
            f"{significant(float(million['step_s_median']), 3)} s; target < 60 s: "
            f"{'met' if total < 60 else '**missed**'}), peak {peak:,.0f} MiB (target "
            f"< 4 GiB: {'met' if peak < 4096 else '**missed**'})"
        )
    hundred = by_size.get(100_000)
    if hundred and hundred.get("ratio_vs_mesa"):
        ratio = float(hundred["ratio_vs_mesa"])
        parts.append(
            f"at 100,000 consumers {significant(ratio, 2)}x the agent-steps per second of "
            f"Mesa's per-agent example (target >= 30x: {'met' if ratio >= 30 else '**missed**'})"
        )
    if not parts:
        return (
            f"The recorded benchmark has neither size of the targets "
            f"({_run_line(SCALE, record)}).\n"
        )
    return (
        "Targets in the recorded benchmark: "
        + "; ".join(parts)
        + f" ({_run_line(SCALE, record)}).\n"
    )


SCALE = "benchmarks/results/bench_scale_summary.csv"


# --------------------------------------------------------------------------- mtsim validate

VALIDATION_JSON = "docs/validation_results/classic/validation.json"
"""``mtsim validate``'s every row with its details (docs/generators_tables.VALIDATION_DIR)."""


def _validation() -> dict[str, Any]:
    return json.loads((ROOT / VALIDATION_JSON).read_text(encoding="utf-8"))


def _rows(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [row for c in data["checks"] if c["name"] == check for row in c["rows"]]


def _skipped(data: dict[str, Any], check: str) -> bool:
    return any(c["name"] == check and c.get("skipped") for c in data["checks"])


def _value(name: str, key: str) -> float:
    """Return the number after ``key=`` in a row's name (``z=1.2: ...`` -> 1.2)."""
    found = re.search(rf"\b{key}=([0-9.]+)", name)
    return float(found.group(1)) if found else math.nan


def _pct(share: float) -> str:
    """Write a share as per cent: two significant digits below 10%, whole per cent above."""
    value = 100 * share
    if value == 0:
        return "0%"
    return f"{value:.0f}%" if value >= 9.5 else f"{significant(value, 2)}%"


def _watts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the Watts rows by z: model and reference shares, analytic chance, size."""
    out = []
    for row in _rows(data, "watts_cascades"):
        d = row["details"]
        out.append(
            {
                "z": d.get("mean_degree", _value(row["name"], "z")),
                "model": d["hits"] / d["runs"],
                "runs": d["runs"],
                "reference": d["reference_hits"] / d["reference_runs"],
                "reference_runs": d["reference_runs"],
                "analytic": d.get("analytic", math.nan),
                "size": d.get("mean_cascade_size", 0.0),
                "passed": row["passed"],
            }
        )
    return sorted(out, key=lambda r: r["z"])


def _window(data: dict[str, Any]) -> tuple[float, float] | None:
    for row in _rows(data, "watts_cascades"):
        found = re.search(r"window \(([0-9.]+), ([0-9.]+)\)", row.get("note", ""))
        if found:
            return float(found.group(1)), float(found.group(2))
    return None


def _percolation(data: dict[str, Any]) -> dict[str, Any]:
    """Return the percolation rows: large outbreaks' size and frequency by T; below 1/z."""
    sizes, freqs, below = {}, {}, {}
    for row in _rows(data, "ic_percolation"):
        t = _value(row["name"], "T")
        if "mean size of large outbreaks" in row["name"]:
            sizes[t] = (row["measured"], row["expected"], row["details"])
        elif "share of runs with a large outbreak" in row["name"]:
            freqs[t] = (row["measured"], row["expected"], row["details"])
        else:
            below[t] = (row["measured"], row["passed"], row["details"])
    return {"sizes": sizes, "freqs": freqs, "below": below}


def _ndlib(data: dict[str, Any]) -> dict[str, Any]:
    """NDlib's KS p-values and statistics, Mann-Whitney p and identical aware sets."""
    out: dict[str, Any] = {}
    for check, key in (("ndlib_independent_cascade", "cascade"), ("ndlib_threshold", "threshold")):
        for row in _rows(data, check):
            if row["name"].startswith("KS p-value"):
                out[key] = {"p": row["measured"], **row["details"]}
            elif "identical" in row["name"]:
                out["identical"] = (round(row["measured"] * row["details"]["graphs"]), row)
    return out


def _bass(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [{**row["details"], "passed": row["passed"]} for row in _rows(data, check)]


def _join(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _provenance_line(record: dict[str, Any]) -> str:
    duration = record.get("duration_s")
    took = f", {significant(duration / 60, 2)} min" if duration else ""
    return (
        f"*From `{VALIDATION_JSON}`: {_run_line(VALIDATION_JSON, record).split(' (`')[0]}"
        f"{took} (record: `docs/build_records/{record['experiment']}.json`; written by "
        "`python -m docs.build`).*"
    )


def validate_classic_notes(record: dict[str, Any]) -> str:
    """docs/validation.md: the runs' sizes and the numbers the reading of the table rests on."""
    data = _validation()
    s = data["settings"]
    sizes, bullets = [], []
    bass, closed = _bass(data, "bass"), _bass(data, "bass_closed_form")
    if bass:
        ratios = [b["max_deviation_over_tolerance"] for b in bass]
        sizes.append(
            f"Bass {s['bass_replications']} runs of {s['bass_consumers']:,} consumers, "
            f"{s['bass_steps']} steps (largest deviation {min(ratios):.2f}-{max(ratios):.2f} "
            f"of the tolerance on the {len(bass)} curves)"
        )
        worst = max(b["max_abs_deviation"] for b in bass)
        verb = "stays" if all(b["passed"] for b in bass) else "does **not** stay"
        text = (
            f"Bass: the fully mixed rule's mean curve {verb} within "
            f"{significant(worst, 2)} of the discrete recursion at every step for the "
            f"{len(bass)} (p, q, F0)"
        )
        if closed:
            gap = max(c["max_abs_deviation"] for c in closed)
            text += (
                f"; with {s['closed_form_substeps']} sub-steps per unit it "
                f"{'follows' if all(c['passed'] for c in closed) else 'does **not** follow'} "
                f"the continuous closed form (largest gap {significant(gap, 2)})"
            )
        bullets.append(text + ".")
    if closed:
        sizes.append(
            f"closed form {s['closed_form_replications']} runs of "
            f"{s['closed_form_consumers']:,} with {s['closed_form_substeps']} sub-steps"
        )
    watts = _watts(data)
    if watts:
        runs = [w["runs"] for w in watts]
        most = [w for w in watts if w["runs"] == max(runs)]
        sizes.append(
            f"Watts: {min(runs):,}-{max(runs):,} model runs per z on "
            f"{s['watts_nodes']:,}-node graphs ({max(runs):,} at z = "
            f"{_join([f'{w["z"]:g}' for w in most])}) against "
            f"{watts[0]['reference_runs']:,} cascades of the independent simulation per z"
        )
        shares = _join(
            [
                f"{_pct(w['model'])} at z = {w['z']:g} ({_pct(w['reference'])}; "
                f"{_pct(w['analytic'])})"
                for w in watts
            ]
        )
        cascading = [w for w in watts if w["model"] > 0.05 and w["size"] > 0]
        cover = (
            " Global cascades cover "
            + _join([f"{_pct(w['size'])} of the nodes at z = {w['z']:g}" for w in cascading])
            + "."
            if cascading
            else ""
        )
        verdict = "pass" if all(w["passed"] for w in watts) else "do **not** all pass"
        bullets.append(
            "Threshold cascades, share of runs with a global cascade (the independent "
            "simulation at the same size; Watts's analytic infinite-graph chance): "
            f"{shares}; the {len(watts)} comparisons {verdict}.{cover}"
        )
    perc = _percolation(data)
    if perc["sizes"]:
        runs = [d["runs"] for _, _, d in [*perc["sizes"].values(), *perc["below"].values()]]
        t_most, (_, _, most) = max(perc["sizes"].items(), key=lambda kv: kv[1][2]["runs"])
        sizes.append(
            f"percolation: {min(runs):,}-{max(runs):,} runs of {s['ic_nodes']:,} nodes per T "
            f"({most['runs']:,} at T = {t_most:g}, with {most['large']:,} large outbreaks)"
        )
        ts = sorted(perc["sizes"])
        text = (
            "Independent cascades against bond percolation: large outbreaks' mean size "
            + ", ".join(f"{perc['sizes'][t][0]:.4f}" for t in ts)
            + " against the giant cluster S = "
            + ", ".join(f"{perc['sizes'][t][1]:.4f}" for t in ts)
            + f" at T = {_join([f'{t:g}' for t in ts])}"
        )
        if perc["freqs"]:
            text += ", in " + ", ".join(_pct(perc["freqs"][t][0]) for t in ts) + " of runs"
        if perc["below"]:
            worst = max(perc["below"].items(), key=lambda kv: kv[1][0])
            text += (
                f"; below T = 1/z the largest outbreak is {_pct(worst[1][0])} of the nodes "
                f"(T = {worst[0]:g})"
            )
        bullets.append(text + ".")
    nd = _ndlib(data)
    if nd:
        part = (
            f"NDlib {s['ndlib_graphs']} graphs of {s['ndlib_nodes']:,} nodes x "
            f"{s['ndlib_runs_per_graph']} runs per implementation"
        )
        stats = [nd[k] for k in ("cascade", "threshold") if k in nd]
        if stats:
            part += (
                " (KS statistics "
                + " and ".join(f"{x['ks_statistic']:.3f}" for x in stats)
                + ", Mann-Whitney p "
                + " and ".join(f"{x['mann_whitney_p']:.2f}" for x in stats)
                + ")"
            )
        sizes.append(part)
        text = "NDlib on the same graphs and seed sets: KS p " + " and ".join(
            f"{nd[k]['p']:.2f} ({'independent cascade' if k == 'cascade' else 'thresholds'})"
            for k in ("cascade", "threshold")
            if k in nd
        )
        if "identical" in nd:
            agree, row = nd["identical"]
            text += (
                f"; with one threshold {agree} of {row['details']['graphs']} graphs end with "
                "identical aware sets"
            )
        bullets.append(text + ".")
    skipped = [c["name"] for c in data["checks"] if c.get("skipped")]
    return (
        "Sizes: "
        + "; ".join(sizes)
        + "."
        + (f" Skipped: {', '.join(skipped)}." if skipped else "")
        + "\n\nThe numbers the reading below rests on (model; in brackets the reference):\n\n"
        + "\n".join(f"- {b}" for b in bullets)
        + "\n\n"
        + _provenance_line(record)
        + "\n"
    )


def watts_reference_table(record: dict[str, Any]) -> str:
    """docs/validation.md: Watts's analytic chance against the finite-graph simulation."""
    data = _validation()
    watts = _watts(data)
    nodes = data["settings"]["watts_nodes"]
    rows = [
        f"| z | analytic | independent simulation, {nodes:,} nodes | mtsim, {nodes:,} nodes |",
        "|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {w['z']:g} | {w['analytic']:.4f} | {w['reference']:.4f} "
        f"({w['reference_runs']:,} cascades) | {w['model']:.4f} ({w['runs']:,} runs) |"
        for w in watts
    ]
    return "\n".join(rows) + "\n\n" + _provenance_line(record) + "\n"


def readme_validate_classic(record: dict[str, Any]) -> str:
    """README: the docking checks' results in four rows, and the finite-graph remark."""
    data = _validation()
    s = data["settings"]
    all_rows = [row for c in data["checks"] for row in c["rows"]]
    passed = sum(row["passed"] for row in all_rows)
    out = ["| check | result (full run) |", "|---|---|"]
    bass, closed = _bass(data, "bass"), _bass(data, "bass_closed_form")
    if bass:
        worst = max(b["max_abs_deviation"] for b in bass)
        out.append(
            "| Bass, fully mixed, p=0.03 q=0.38 (Sultan, Farley & Lehmann 1990) and two others "
            f"| mean curve within {significant(worst, 2)} of F(t+1)=F+(p+qF)(1-F) at every "
            "step"
            + (
                f"; with {s['closed_form_substeps']} sub-steps it "
                + ("follows" if all(c["passed"] for c in closed) else "does **not** follow")
                + " the closed form"
                if closed
                else ""
            )
            + " |"
        )
    watts = _watts(data)
    window = _window(data)
    if watts:
        zs = ", ".join(f"{w['z']:g}" for w in watts)
        out.append(
            f"| Watts (2002) threshold cascades, phi=0.18, ER {s['watts_nodes']:,} nodes | "
            f"global cascades in {', '.join(_pct(w['model']) for w in watts)} of runs at "
            f"z={zs}, against {', '.join(_pct(w['reference']) for w in watts)} in an "
            "independent threshold-cascade simulation on graphs of the same size "
            f"({watts[0]['reference_runs']:,} cascades per z); analytic (infinite graph) "
            f"{', '.join(f'{w["analytic"]:.2f}' for w in watts)}"
            + (f"; window {window[0]:.2f}-{window[1]:.2f}" if window else "")
            + " |"
        )
    perc = _percolation(data)
    if perc["sizes"]:
        ts = sorted(perc["sizes"])
        none_below = perc["below"] and all(ok for _, ok, _ in perc["below"].values())
        out.append(
            f"| independent cascade vs percolation, ER z=4, {s['ic_nodes']:,} nodes | large "
            "outbreaks "
            + ", ".join(f"{perc['sizes'][t][0]:.4f}" for t in ts)
            + f" of nodes at T={', '.join(f'{t:g}' for t in ts)} (theory "
            + ", ".join(f"{perc['sizes'][t][1]:.4f}" for t in ts)
            + ")"
            + (
                ", in " + ", ".join(_pct(perc["freqs"][t][0]) for t in ts) + " of runs (theory = S)"
                if all(t in perc["freqs"] for t in ts)
                else ""
            )
            + ("; none below T=1/z" if none_below else "")
            + " |"
        )
    nd = _ndlib(data)
    if nd:
        cells = [
            f"KS p = {nd[k]['p']:.2f} ({'cascade' if k == 'cascade' else 'thresholds'})"
            for k in ("cascade", "threshold")
            if k in nd
        ]
        if "identical" in nd:
            agree, row = nd["identical"]
            graphs = row["details"]["graphs"]
            cells.append(
                "identical aware sets with one threshold"
                if agree == graphs
                else f"identical aware sets on {agree} of {graphs} graphs with one threshold"
            )
        out.append(f"| NDlib on the same graphs and seed sets | {'; '.join(cells)} |")
    remark = ""
    if watts and window:
        edge = [w for w in watts if w["z"] < window[1]]
        if edge:
            w = edge[-1]
            remark = (
                f"\n\nWatts's analytic cascade chance is an infinite-graph limit: near the upper "
                f"edge of the window ({window[1]:.2f}) graphs of {s['watts_nodes']:,} nodes "
                f"still cascade in {_pct(w['reference'])} of runs at z = {w['z']:g} in the "
                f"independent simulation (analytic {_pct(w['analytic'])})."
            )
    return (
        "\n".join(out)
        + f"\n\n{passed} of {len(all_rows)} comparisons pass."
        + remark
        + "\n\n"
        + _provenance_line(record)
        + "\n"
    )
