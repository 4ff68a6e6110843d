r"""``mtsim compare BASE POLICY... --worlds N``: the paired comparison across plausible worlds.

::

    from model.workflows.worlds import run_worlds
    result = run_worlds(names, scenarios, "results/robust", worlds=32, reps=2)

A world is one draw of every behavioural parameter from its plausible range
(model/ranges.yaml, docs/ranges.md): a Latin hypercube (``scipy.stats.qmc``, seeded by
``--seed``), uniform within each range, or log-uniform where the range spans a factor of
10 or more and starts above 0 (a rate known to an order of magnitude). With
``--worlds-from posterior`` the fitted parameters are drawn from the calibration's
posterior particles (``results/calibration/cnnic/posterior.csv``, weighted) and the others
from the hypercube. The same world values are set in every scenario, and replication r of
every scenario in every world uses seed ``SEED + r`` (common random numbers): the
effects are paired within a world.

Output folder: ``worlds.csv`` (the drawn worlds), ``runs/`` (one small JSON file per
finished run: its headline outcomes; written atomically, so a killed study resumes
with ``--resume`` and computes only the missing runs), ``effects.csv`` (policy, world,
outcome, paired effect), ``robust_summary.csv`` (per policy and outcome: median, 10-90%,
share of worlds keeping the sign, what it depends on), ``sensitivity.csv`` (every
parameter's PAWN index and rank correlation), ``regret.csv`` and ``regret_summary.csv``
(several policies), ``report.md`` and ``report.html`` (the first paragraph gives the
answer), ``study.json`` (what was asked: resume refuses another study) and
``manifest.json``. The tables are :mod:`model.analysis.worlds`.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import UserError

MAX_WORLDS = 100_000
"""Most worlds of one study."""

POSTERIOR_FILE = Path("results/calibration/cnnic/posterior.csv")
"""The calibration's last generation (``mtsim calibrate experiments/calibrate_cnnic.yaml``)."""

POSTERIOR_KEYS = {
    "access_growth": "regions.*.access_growth",
    "rigid_demand_rate": "payment.rigid_demand_rate",
    "peer_influence": "payment.peer_influence",
    "mobile_appeal": "ordering.mobile_appeal",
}
"""Posterior column -> range key (experiments/calibrate_cnnic.yaml's parameters)."""


@dataclass
class WorldsResult:
    """What a robust comparison produced.

    Attributes:
        out: the folder.
        summary: ``model.analysis.worlds.robust_summary``'s table.
        paragraph: the report's first paragraph.
        runs: runs in the study; computed: finished in this call; skipped: finished before.
        failures: failed runs (scenario, world, replication, error).
        files: written files by role.
        seconds: wall time of this call.
    """

    out: Path
    summary: pd.DataFrame
    paragraph: str
    runs: int
    computed: int
    skipped: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def parse_worlds(text: str | int) -> int:
    """Check a ``--worlds`` value: a whole number from 2 to MAX_WORLDS.

    Raises:
        UserError: one line saying what is allowed.
    """
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None  # type: ignore[assignment]
    if value is None or str(value) != str(text).strip().lstrip("+") or not 2 <= value <= MAX_WORLDS:
        raise UserError(
            f"--worlds: {text!s}: give a whole number of worlds from 2 to {MAX_WORLDS:,} "
            "(e.g. --worlds 32)"
        )
    return value


def select_keys(table: Any, vary: Sequence[str] = ()) -> list[str]:
    """Return the range keys ``vary`` names (a key, or a prefix such as a section); all if none.

    Raises:
        UserError: a name that matches no range (one line, with the sections).
    """
    keys = table.names()
    if not vary:
        return keys
    chosen: list[str] = []
    for name in vary:
        name = name.strip().rstrip(".")
        found = [k for k in keys if k == name or k.startswith(name + ".")]
        if not found:
            raise UserError(
                f"--vary: {name}: no behavioural parameter has this key or prefix; sections: "
                + ", ".join(table.sections)
                + " (model/ranges.yaml, docs/ranges.md)"
            )
        chosen.extend(k for k in found if k not in chosen)
    return [k for k in keys if k in chosen]


def _log_scale(low: float, high: float) -> bool:
    return low > 0 and high / low >= 10.0


def draw_worlds(
    n: int,
    seed: int,
    method: str = "lhs",
    posterior: str | Path | None = None,
    table: Any = None,
    vary: Sequence[str] = (),
) -> pd.DataFrame:
    """Draw ``n`` worlds: one row per world (index ``world``), one column per range key.

    Deterministic for a seed; every value lies in its range (counts rounded). ``vary``
    (sections or keys) restricts the worlds to those ranges; the rest keep the scenario's
    values.
    """
    from scipy.stats import qmc

    from model.ranges import load_ranges

    table = table or load_ranges()
    keys = select_keys(table, vary)
    unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(seed)).random(n)
    columns: dict[str, np.ndarray] = {}
    for column, key in enumerate(keys):
        rng = table.ranges[key]
        u = unit[:, column]
        if _log_scale(rng.low, rng.high):
            values = np.exp(np.log(rng.low) + u * (np.log(rng.high) - np.log(rng.low)))
        else:
            values = rng.low + u * (rng.high - rng.low)
        values = np.clip(values, rng.low, rng.high)
        if rng.integer:
            values = np.clip(np.round(values), math.ceil(rng.low), math.floor(rng.high))
        columns[key] = values
    if method == "posterior":
        particles = pd.read_csv(posterior or POSTERIOR_FILE)
        weights = particles["weight"].to_numpy(dtype=float) if "weight" in particles else None
        if weights is not None:
            weights = weights / weights.sum()
        pick = np.random.default_rng([seed, 1]).choice(len(particles), size=n, p=weights)
        for name, key in POSTERIOR_KEYS.items():
            if name in particles and key in columns:
                columns[key] = particles[name].to_numpy(dtype=float)[pick]
    frame = pd.DataFrame(columns)
    frame.index.name = "world"
    return frame


def _study_id(
    names: Sequence[str],
    resolved: Mapping[str, Any],
    worlds: pd.DataFrame,
    reps: int,
    steps: int,
    seed: int,
    method: str,
) -> dict[str, Any]:
    digest = hashlib.sha256(
        json.dumps({n: resolved[n] for n in names}, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    world_digest = hashlib.sha256(
        pd.util.hash_pandas_object(worlds.round(12), index=True).values.tobytes()
    ).hexdigest()[:16]
    return {
        "kind": "compare --worlds",
        "scenarios": list(names),
        "scenarios_sha256": digest,
        "worlds": len(worlds),
        "worlds_sha256": world_digest,
        "worlds_from": method,
        "replications": reps,
        "steps": steps,
        "seed": seed,
    }


def _values_of(key: str, resolved: Mapping[str, Any], names: Sequence[str]) -> set[str]:
    """Return the distinct values a range key has in the scenarios (as JSON text)."""
    from model.ranges import expand_key

    found = set()
    for name in names:
        node = resolved[name]
        values = []
        for path in expand_key(key, node):
            value: Any = node
            for part in path.split("."):
                value = value[part]
            values.append(value)
        found.add(json.dumps(values))
    return found


def _run_file(out: Path, world: int, rep: int, index: int) -> Path:
    return out / "runs" / f"w{world:05d}-r{rep:03d}-s{index:02d}.json"


def _headline(table: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    from model.analysis import stats
    from model.metrics import metric_info

    table = table.copy()
    table.insert(0, "seed", 0)
    table.insert(0, "replication", 0)
    table.insert(0, "scenario", "run")
    summary = stats.measures_per_run(table, metrics=[m for m in metrics if m in table.columns])
    out = {}
    for row in summary.itertuples():
        if row.metric in metrics and row.measure == metric_info(row.metric).headline_measure:
            out[row.metric] = float(row.value)
    return out


def time_estimate(first_seconds: float, todo: int, workers: int) -> str:
    """One line: the study's expected wall time from one timed run."""
    total = first_seconds * todo / max(1, workers)
    minutes = total / 60
    what = f"{minutes:.0f} min" if minutes >= 1 else f"{total:.0f} s"
    return (
        f"estimate: {todo} runs x {first_seconds:.1f} s (the first run, timed) / {workers} "
        f"worker(s) = about {what}"
    )


def run_worlds(
    names: Sequence[str],
    scenarios: Mapping[str, Any],
    out: str | Path,
    *,
    worlds: int,
    reps: int = 2,
    steps: int | None = None,
    seed: int | None = None,
    worlds_from: str = "lhs",
    posterior: str | Path | None = None,
    vary: Sequence[str] = (),
    workers: int | None = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
    say: Callable[[str], None] | None = None,
) -> WorldsResult:
    """Run every scenario in every world ``reps`` times, paired, and write the folder.

    Raises:
        UserError: a bad value, a folder holding another study (or a study without
            ``resume``), a missing posterior file: one line.
    """
    from model.analysis.worlds import first_paragraph, paired_effects, robust_summary
    from model.atomic_files import write_bytes_atomic, write_csv_atomic, write_json_atomic
    from model.decision.robustness import (
        judged_outcomes,
        summarize_regret,
        world_regret,
        world_values,
    )
    from model.experiment.executors import open_executor
    from model.experiment.manifest import build_manifest, now_iso
    from model.experiment.runner import RunTask, run_tasks
    from model.ranges import expand_key, load_ranges, world_overrides
    from model.scenario import ScenarioError, apply_overrides, scenario_from_dict
    from model.workflows.compare import common_steps

    started_clock = time.perf_counter()
    names = list(names)
    worlds = parse_worlds(worlds)
    if reps < 1:
        raise UserError(f"--reps: {reps}: must be at least 1")
    if worlds_from not in ("lhs", "posterior"):
        raise UserError(f"--worlds-from: {worlds_from}: choose lhs or posterior")
    if worlds_from == "posterior" and not Path(posterior or POSTERIOR_FILE).is_file():
        raise UserError(
            f"--worlds-from posterior: no posterior file {posterior or POSTERIOR_FILE} (run "
            "mtsim calibrate experiments/calibrate_cnnic.yaml first, or use --worlds-from lhs)"
        )
    n_steps = common_steps({n: scenarios[n] for n in names}, steps)
    base_seed = scenarios[names[0]].simulation.seed if seed is None else int(seed)
    if base_seed < 0:
        raise UserError(f"--seed: {base_seed}: must be 0 or more")
    table = load_ranges()
    drawn = draw_worlds(worlds, base_seed, worlds_from, posterior, table, vary)
    resolved = {n: scenarios[n].resolved() for n in names}
    study = _study_id(names, resolved, drawn, reps, n_steps, base_seed, worlds_from)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out}: exists and is not a folder")
    study_file = out / "study.json"
    if study_file.is_file():
        stored = json.loads(study_file.read_text(encoding="utf-8"))
        if not resume:
            raise UserError(
                f"--out: {out}: holds a robust comparison already; add --resume to finish it, "
                "or choose another --out"
            )
        changed = [k for k in study if stored.get(k) != study[k]]
        if changed:
            raise UserError(
                f"--resume: {out} holds another study ({', '.join(changed)} differ); "
                "choose another --out"
            )
    elif resume and out.exists() and any(out.iterdir()):
        raise UserError(f"--resume: {out}: holds no robust comparison (no study.json)")
    metrics = judged_outcomes()
    seeds = [base_seed + r for r in range(reps)]
    # a behavioural value the scenarios set differently is part of what is compared (a
    # policy scenario's own world): it keeps each scenario's value in every world
    own = [k for k in drawn.columns if len(_values_of(k, resolved, names)) > 1]
    # every world's scenarios, validated before any run
    data: dict[tuple[int, int], dict[str, Any]] = {}
    problems: list[str] = []
    for world in range(worlds):
        values = {k: v for k, v in drawn.loc[world].to_dict().items() if k not in own}
        for index, name in enumerate(names):
            try:
                overrides = world_overrides(table, values, resolved[name])
                merged = apply_overrides(resolved[name], overrides, source=f"world {world}")
                data[(world, index)] = scenario_from_dict(
                    merged, source=f"{name} in world {world}"
                ).resolved()
            except ScenarioError as exc:
                problems.extend(str(exc).splitlines())
    if problems:
        raise UserError("\n".join(list(dict.fromkeys(problems))[:5]))
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_json_atomic(study_file, study)
    written = drawn.reset_index()
    write_csv_atomic(out / "worlds.csv", written)
    all_runs = [
        (world, rep, index)
        for world in range(worlds)
        for rep in range(reps)
        for index in range(len(names))
    ]
    todo = [k for k in all_runs if not _run_file(out, *k).is_file()]
    skipped = len(all_runs) - len(todo)
    failures: list[dict[str, Any]] = []
    computed = 0

    def task(key: tuple[int, int, int]) -> RunTask:
        world, rep, index = key
        return RunTask(
            key=f"{names[index]}/{world}/{rep}",
            scenario=data[(world, index)],
            seed=seeds[rep],
            steps=n_steps,
            meta={"world": world, "replication": rep, "index": index},
        )

    def store(result: Any) -> None:
        nonlocal computed
        meta = result.meta
        if not result.ok or result.table is None:
            failures.append(
                {
                    "scenario": names[int(meta["index"])],
                    "world": int(meta["world"]),
                    "replication": int(meta["replication"]),
                    "error": result.error,
                }
            )
            return
        record = {
            "scenario": names[int(meta["index"])],
            **{k: int(v) for k, v in meta.items()},
            "seed": int(result.seed),
            "seconds": round(float(result.seconds), 3),
            "values": _headline(result.table, metrics),
        }
        write_json_atomic(_run_file(out, meta["world"], meta["replication"], meta["index"]), record)
        computed += 1

    with open_executor(workers, scheduler, dask_local) as (pool, count, where):
        if todo:
            first = todo.pop(0)  # timed in this process: the estimate before the rest starts
            clock = time.perf_counter()
            for result in run_tasks([task(first)], workers=1, progress=False):
                store(result)
            first_seconds = time.perf_counter() - clock
            if say is not None:
                say(time_estimate(first_seconds, len(todo) + 1, count) + f" ({where})")
        if todo:
            results = run_tasks(
                (task(k) for k in todo),
                executor=pool,
                workers=count if pool is None else 1,
                progress=progress,
                desc=f"worlds (+{skipped + 1} done before)" if skipped else "worlds",
                total=len(todo),
            )
            try:
                for result in results:
                    store(result)
            finally:
                results.close()
    # read every finished run back (this call's and earlier ones')
    records = []
    for path in sorted((out / "runs").glob("w*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        for metric, value in rec["values"].items():
            records.append(
                {
                    "package": rec["scenario"],
                    "world": int(rec["world"]),
                    "replication": int(rec["replication"]),
                    "metric": metric,
                    "value": float(value),
                }
            )
    runs = pd.DataFrame(records, columns=["package", "world", "replication", "metric", "value"])
    # a world counts when every scenario has every replication
    counts = runs.groupby(["world", "package"])["replication"].nunique()
    full = counts[counts == reps].reset_index().groupby("world")["package"].nunique()
    done_worlds = sorted(int(w) for w in full[full == len(names)].index)
    runs = runs[runs["world"].isin(done_worlds)]
    values = world_values(runs, names)
    effects = paired_effects(values, names)
    # the parameters that act in these scenarios (platform keys need a platform) and vary
    parameters = [
        k
        for k in drawn.columns
        if np.ptp(drawn[k].to_numpy()) > 0
        and k not in own
        and any(expand_key(k, resolved[n]) for n in names)
    ]
    from model.decision.discover import find_boxes

    summary, sens = robust_summary(
        effects, drawn, parameters, seed=base_seed, find_boxes=find_boxes
    )
    regret = None
    files = {
        "worlds": out / "worlds.csv",
        "effects": out / "effects.csv",
        "summary": out / "robust_summary.csv",
        "sensitivity": out / "sensitivity.csv",
    }
    write_csv_atomic(files["effects"], effects)
    write_csv_atomic(files["summary"], summary)
    write_csv_atomic(files["sensitivity"], sens)
    if len(names) > 2 and not values.empty:
        regrets = world_regret(values[values["package"] != names[0]])
        regret = summarize_regret(regrets)
        files["regret"] = out / "regret.csv"
        files["regret_summary"] = out / "regret_summary.csv"
        write_csv_atomic(files["regret"], regrets)
        write_csv_atomic(files["regret_summary"], regret)
    method = (
        "posterior draws for the fitted parameters, a Latin hypercube for the others"
        if worlds_from == "posterior"
        else "a Latin hypercube"
    ) + (f" over {len(parameters)} parameters" if vary else "")
    paragraph = first_paragraph(summary, regret, names, len(done_worlds), reps, n_steps, method)
    if own:
        paragraph += (
            " Kept at each scenario's own value (the scenarios differ in it): "
            + ", ".join(own)
            + "."
        )
    if len(done_worlds) < worlds:
        paragraph = (
            f"Incomplete: {len(done_worlds)} of {worlds} worlds finished (--resume continues). "
            + paragraph
        )
    files["report_md"] = out / "report.md"
    files["report"] = out / "report.html"
    markdown = _report_markdown(paragraph, summary, regret, command, where_seed=base_seed)
    write_bytes_atomic(files["report_md"], markdown.encode("utf-8"))
    write_bytes_atomic(files["report"], _report_html(paragraph, summary, regret, command))
    files["manifest"] = out / "manifest.json"
    write_json_atomic(
        files["manifest"],
        build_manifest(
            resolved,
            seeds,
            now_iso(),
            now_iso(),
            **{("scenario_names" if k == "scenarios" else k): v for k, v in study.items()},
            command=command,
            runs=len(all_runs),
            kept_own_values=own,
            worlds_finished=len(done_worlds),
            runs_failed=len(failures),
            failures=failures[:20],
            status="complete" if len(done_worlds) == worlds else "incomplete",
            files={k: p.name for k, p in files.items() if k != "manifest"},
        ),
    )
    return WorldsResult(
        out=out,
        summary=summary,
        paragraph=paragraph,
        runs=len(all_runs),
        computed=computed,
        skipped=skipped,
        failures=failures,
        files=files,
        seconds=time.perf_counter() - started_clock,
    )


def _summary_rows(summary: pd.DataFrame) -> list[list[str]]:
    from model.metrics import format_number, metric_info

    rows = []
    for r in summary.itertuples():
        disp = metric_info(r.metric)
        rows.append(
            [
                str(r.policy),
                disp.label,
                format_number(r.median * disp.scale, significant=3),
                f"{format_number(r.p10 * disp.scale, significant=3)} to "
                f"{format_number(r.p90 * disp.scale, significant=3)}",
                f"{r.keeps_sign:.0%} of {r.worlds}",
                str(r.depends_on) or "none above noise",
                str(r.flip_box or ""),
            ]
        )
    return rows


HEADERS = [
    "policy",
    "outcome",
    "median effect",
    "10-90% of worlds",
    "keeps its sign",
    "depends most on (sign of rank correlation)",
    "where it loses its sign (PRIM box)",
]


def _report_markdown(
    paragraph: str,
    summary: pd.DataFrame,
    regret: pd.DataFrame | None,
    command: str,
    where_seed: int,
) -> str:
    lines = ["# Robust comparison across plausible worlds", "", paragraph, ""]
    lines += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += [
        "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
        for row in _summary_rows(summary)
    ]
    if regret is not None and not regret.empty:
        cols = list(regret.columns)
        lines += ["", "## Best policy and regret", "", "| " + " | ".join(cols) + " |"]
        lines += ["|" + "---|" * len(cols)]
        lines += [
            "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |"
            for row in regret.itertuples(index=False)
        ]
    lines += [
        "",
        'How to read it: docs/decisions.md, "Robust comparison over plausible worlds". '
        "Parameters are named only when their PAWN index exceeds the largest index of "
        "pure-noise dummy parameters; with fewer worlds than parameters, read them as leads.",
        "",
        f"Command: `{command}`" if command else f"Seed: {where_seed}",
        "",
    ]
    return "\n".join(lines)


def _report_html(
    paragraph: str, summary: pd.DataFrame, regret: pd.DataFrame | None, command: str
) -> bytes:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for row in _summary_rows(summary)
    )
    regret_html = ""
    if regret is not None and not regret.empty:
        regret_html = "<h2>Best policy and regret</h2>" + regret.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Robust comparison across plausible worlds</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px}</style>"
        "</head><body><h1>Robust comparison across plausible worlds</h1>"
        f"<p id='answer'>{esc(paragraph)}</p><table><tr>{head}</tr>{body}</table>{regret_html}"
        '<p>How to read it: docs/decisions.md, "Robust comparison over plausible worlds".</p>'
        + (f"<p>Command: <code>{esc(command)}</code></p>" if command else "")
        + "</body></html>"
    )
    return page.encode("utf-8")
