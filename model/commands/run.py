"""``mtsim run``: run one scenario (one or more replications) and write its results folder.

The folder (default ``results/<scenario>/<run id>/``) gets ``timeseries.csv`` (one
row per replication and step), ``manifest.json`` and ``summary.png``. Replication
r uses seed ``seed + r``, so replication 0 is the plain ``--seed`` run. When the
scenario asks for per-consumer history (``simulation.record_consumers_every``), each
replication's records go to ``consumers/replication-RRR.parquet`` (read them all with
``pandas.read_parquet(folder / "consumers")``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import UserError

KEY_METRICS = (
    "aware_share",
    "shopper_share",
    "payment_adoption",
    "mean_trust_domestic",
    "mean_trust_foreign",
    "orders",
    "cross_border_share",
    "gmv",
    "merchant_adoption",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a scenario and write time series, manifest and a summary figure",
        description="Run SCENARIO.yaml and write timeseries.csv, manifest.json and summary.png.",
    )
    parser.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    parser.add_argument("--steps", type=int, help="weeks to simulate (default: the scenario's)")
    parser.add_argument("--seed", type=int, help="seed of replication 0 (default: the scenario's)")
    parser.add_argument("--reps", type=int, default=1, help="replications (seeds seed..seed+R-1)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one scenario key, e.g. --set population.consumers=2000 (repeatable)",
    )
    parser.add_argument("--out", help="output folder (default: results/<scenario>/<run id>/)")
    parser.add_argument("--workers", type=int, default=1, help="processes for replications")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)


def _check_counts(args: argparse.Namespace) -> None:
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps: {args.steps}: must be at least 1")
    if args.reps < 1:
        raise UserError(f"--reps: {args.reps}: must be at least 1")
    if args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed: {args.seed}: must be 0 or more")


def consumer_file(out: Path, replication: int) -> Path:
    """Where replication r's per-consumer records go."""
    return Path(out) / "consumers" / f"replication-{replication:03d}.parquet"


def write_consumer_history(model, path: Path, replication: int) -> None:
    """Write the model's per-consumer records (if any were kept) as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.experiment.manifest import write_bytes_atomic

    if not model.scenario.simulation.record_consumers_every:
        return
    history = model.consumer_history()
    history.insert(0, "seed", np.int64(model.seed))
    history.insert(0, "replication", np.int32(replication))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(history, preserve_index=False), sink)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())


def simulate(
    scenario, seed: int, steps: int, out: Path, replication: int, progress: bool = False
) -> pd.DataFrame:
    """Run one replication, write its consumer records (if asked for), return its table."""
    from tqdm.auto import tqdm

    from model.market import MarketModel

    model = MarketModel(scenario, seed=seed)
    for _ in tqdm(range(steps), desc=scenario.name, unit="week", delay=1.0, disable=not progress):
        model.step()
    write_consumer_history(model, consumer_file(out, replication), replication)
    return model.timeseries()


def simulate_and_record(task) -> pd.DataFrame:
    """Runner work for one replication (picklable): ``simulate`` of a RunTask."""
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    steps = task.steps if task.steps is not None else scenario.simulation.steps
    return simulate(
        scenario, int(task.seed), steps, Path(task.meta["out"]), int(task.meta["replication"])
    )


def handle(args: argparse.Namespace) -> int:
    """Run the scenario and write the results folder."""
    import hashlib
    import json

    from model.analysis.run_summary import plot_run_summary
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_csv_atomic,
        write_json_atomic,
    )
    from model.experiment.runner import RunTask, run_tasks
    from model.scenario import load_scenario

    _check_counts(args)
    scenario = load_scenario(args.scenario, args.overrides)
    steps = args.steps or scenario.simulation.steps
    base_seed = scenario.simulation.seed if args.seed is None else args.seed
    seeds = [base_seed + r for r in range(args.reps)]
    resolved = scenario.resolved()
    ident = hashlib.sha256(
        json.dumps({"scenario": resolved, "seeds": seeds, "steps": steps}, sort_keys=True).encode()
    ).hexdigest()[:12]
    out = Path(args.out) if args.out else Path("results") / scenario.name / ident
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out: {str(out)!r}: cannot create folder ({exc.strerror})") from None
    started = now_iso()
    progress = not args.quiet
    recording = scenario.simulation.record_consumers_every > 0

    tables: dict[int, pd.DataFrame] = {}
    errors: dict[int, str] = {}
    if args.reps == 1:
        tables[0] = simulate(scenario, seeds[0], steps, out, 0, progress)
    else:
        tasks = [
            RunTask(
                key=f"rep{r}",
                scenario=resolved,
                seed=s,
                steps=steps,
                meta={"replication": r, "out": str(out)},
            )
            for r, s in enumerate(seeds)
        ]
        for result in run_tasks(
            tasks,
            workers=args.workers,
            progress=progress,
            desc=scenario.name,
            work=simulate_and_record,
        ):
            rep = int(result.meta["replication"])
            if result.ok:
                tables[rep] = result.table
            else:
                errors[rep] = result.error or "failed"
    parts = []
    for rep in sorted(tables):
        t = tables[rep].copy()
        t.insert(0, "seed", seeds[rep])
        t.insert(0, "replication", rep)
        t.insert(0, "scenario", scenario.name)
        parts.append(t)
    if parts:
        table = pd.concat(parts, ignore_index=True)
        write_csv_atomic(out / "timeseries.csv", table)
        plot_run_summary(table, out / "summary.png", f"mtsim: {scenario.name}")
    manifest = build_manifest(
        {scenario.name: resolved},
        seeds,
        started,
        now_iso(),
        command=" ".join(["mtsim", *sys.argv[1:]]) if sys.argv else "mtsim run",
        scenario_file=str(Path(args.scenario)),
        overrides=list(args.overrides),
        steps=steps,
        replications=args.reps,
        run_id=ident,
        failed_runs={str(r): msg for r, msg in errors.items()},
    )
    write_json_atomic(out / "manifest.json", manifest)

    print(f"mtsim run: {scenario.name}, {args.reps} replication(s) x {steps} weeks, "
          f"{scenario.population.consumers} consumers")
    if parts:
        final = table[table["step"] == steps][list(KEY_METRICS)].mean()
        for name, value in final.items():
            fmt = f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"
            print(f"  {name:<22} {fmt}   (week {steps}{', mean of reps' if args.reps > 1 else ''})")
    for rep, msg in errors.items():
        print(f"  replication {rep} (seed {seeds[rep]}) failed: {msg}", file=sys.stderr)
    if recording:  # files left by an earlier run into the same folder would mislead
        current = {consumer_file(out, rep).name for rep in tables}
        for stale in (out / "consumers").glob("replication-*.parquet"):
            if stale.name not in current:
                stale.unlink()
    written = ["timeseries.csv", "manifest.json"]
    if parts:
        written.append("summary.png")
    if recording and parts:
        written.append("consumers/")
    print(f"results: {out}/ ({', '.join(written)})")
    return 1 if errors else 0
