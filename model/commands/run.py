"""``mtsim run``: run one scenario (one or more replications) and write its results folder.

The folder (default ``results/<scenario>/<run id>/``) gets ``timeseries.csv`` (one
row per replication and step), ``manifest.json`` and ``summary.png``. Replication
r uses seed ``seed + r``, so replication 0 is the plain ``--seed`` run. When the
scenario asks for per-consumer history (``simulation.record_consumers_every``), each
replication's records go to ``consumers/replication-RRR.parquet`` (read them all with
``pandas.read_parquet(folder / "consumers")``).

Robustness (docs/robustness.md):

- the input (options, the scenario file) is checked before NumPy, pandas and the
  model are imported, so a mistake is reported in a fraction of a second;
- results are written into a hidden staging folder next to ``--out`` and moved in
  only at the end: a run that fails, is interrupted or finds a full disk leaves
  the earlier results in ``--out`` as they were, and never an empty new folder;
- moving in replaces mtsim's own files of an earlier run (``timeseries.csv``,
  ``summary.png``, ``manifest.json`` and every file its manifest lists under
  ``outputs``) and nothing else of the folder, so one folder never mixes two runs;
- Ctrl-C or SIGTERM during several replications writes the replications that had
  finished (and says how many), or says that nothing was written.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

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

MAX_STEPS = 100_000
"""Upper bound of ``--steps`` (the scenario schema's bound of ``simulation.steps``)."""

MAX_REPS = 100_000
"""Upper bound of ``--reps``."""

OWN_FILES = ("timeseries.csv", "summary.png", "manifest.json")
"""Files of a results folder that belong to mtsim (replaced by the next run into it)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a scenario and write time series, manifest and a summary figure",
        description="Run SCENARIO.yaml and write timeseries.csv, manifest.json and summary.png.",
    )
    parser.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    parser.add_argument(
        "--steps", type=int, help=f"weeks to simulate, 1 to {MAX_STEPS:,} (default: the scenario's)"
    )
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
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise UserError(f"--steps: {args.steps}: must be from 1 to {MAX_STEPS:,}")
    if not 1 <= args.reps <= MAX_REPS:
        raise UserError(f"--reps: {args.reps}: must be from 1 to {MAX_REPS:,}")
    if args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    if args.seed is not None and not 0 <= args.seed < 2**32 - MAX_REPS:
        raise UserError(f"--seed: {args.seed}: must be from 0 to {2**32 - MAX_REPS - 1:,}")


def consumer_file(out: Path, replication: int) -> Path:
    """Where replication r's per-consumer records go."""
    return Path(out) / "consumers" / f"replication-{replication:03d}.parquet"


def write_consumer_history(model, path: Path, replication: int) -> None:
    """Write the model's per-consumer records (if any were kept) as one Parquet file."""
    import numpy as np
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


def merchant_file(out: Path, replication: int) -> Path:
    """Where replication r's per-merchant channel table goes (with platforms only)."""
    return Path(out) / "merchants" / f"replication-{replication:03d}.parquet"


def write_merchant_table(model, path: Path, replication: int) -> None:
    """Write each merchant's orders by channel and platform share, one file per replication.

    Only with ``platforms:`` and ``platforms.record_merchants_every`` > 0.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.experiment.manifest import write_bytes_atomic
    from model.mechanisms.attribution import merchant_table

    spec = model.scenario.platforms
    if spec is None or not spec.record_merchants_every:
        return
    table = merchant_table(model)
    table.insert(0, "seed", np.int64(model.seed))
    table.insert(0, "replication", np.int32(replication))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())


def _write_error(out: Path, exc: OSError) -> UserError:
    """Return the one-line error for results that cannot be written (earlier results kept)."""
    earlier = f"; earlier results in {out}/ are unchanged" if out.is_dir() else ""
    return UserError(f"--out: {out}: cannot write results ({exc.strerror or exc}){earlier}")


def simulate(
    scenario, seed: int, steps: int, out: Path, replication: int, progress: bool = False
) -> pd.DataFrame:
    """Run one replication, write its consumer records (if asked for), return its table."""
    from tqdm.auto import tqdm

    from model.market import MarketModel

    model = MarketModel(scenario, seed=seed)
    model.track_groups()  # group table -> groups.csv (docs/population.md)
    for _ in tqdm(
        range(steps), desc=scenario.name[:40], unit="week", delay=1.0, disable=not progress
    ):
        model.step()
    write_consumer_history(model, consumer_file(out, replication), replication)
    write_merchant_table(model, merchant_file(out, replication), replication)
    from model.analysis.group_effects import write_replication_groups

    write_replication_groups(model, out, replication)
    return model.timeseries()


def simulate_and_record(task) -> pd.DataFrame:
    """Runner work for one replication (picklable): ``simulate`` of a RunTask."""
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    steps = task.steps if task.steps is not None else scenario.simulation.steps
    return simulate(
        scenario, int(task.seed), steps, Path(task.meta["out"]), int(task.meta["replication"])
    )


def format_value(metric: str, value: float, mean_of_reps: bool) -> str:
    """Format a final value for the console: shares and means with 3 decimals, counts whole.

    Counts and money (orders, GMV) are whole numbers in one replication and get one
    decimal as a mean of several.
    """
    from model.metrics import METRIC_INFO

    unit = METRIC_INFO.get(metric, {}).get("unit", "")
    if value != value:  # NaN
        return "n/a"
    if unit.startswith(("share", "mean")):
        return f"{value:.3f}"
    return f"{value:,.1f}" if mean_of_reps else f"{value:,.0f}"


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the writing
    raise _Terminated()


def folder_name(name: str) -> str:
    """Make a scenario name safe as one folder name (no separators, no '..', at most 80 chars)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:80]
    return safe or "scenario"


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder``'s missing parents; return those created (deepest last)."""
    missing = []
    for parent in reversed(folder.parents):
        if not parent.exists():
            missing.append(parent)
    for parent in missing:
        parent.mkdir()
    return missing


def _staging_folder(out: Path) -> Path:
    """Make a hidden folder beside ``out`` (or inside it, if its parent cannot be written)."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.mtsim-", dir=out.parent))
    except OSError:
        if not out.is_dir():
            raise
        return Path(tempfile.mkdtemp(prefix=".mtsim-staging-", dir=out))


def _old_outputs(out: Path) -> list[Path]:
    """List the files an earlier run into ``out`` wrote (from its manifest's ``outputs``)."""
    import json

    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(manifest, dict) or manifest.get("tool") != "mtsim":
        return []
    listed = manifest.get("outputs")
    if isinstance(listed, list):
        names = [n for n in listed if isinstance(n, str)]
    else:  # manifests written before the outputs list: the usual names
        names = [f"consumers/{p.name}" for p in (out / "consumers").glob("replication-*.parquet")]
    return [
        out / name
        for name in names
        if name and not Path(name).is_absolute() and ".." not in Path(name).parts
    ]


def _commit(stage: Path, out: Path, outputs: list[str]) -> bool:
    """Move the staged outputs into ``out``, replacing mtsim's files of an earlier run.

    Returns:
        True when earlier mtsim results in ``out`` were replaced.
    """
    out.mkdir(exist_ok=True)
    replaced = False
    emptied: set[Path] = set()
    for old in [*(out / name for name in OWN_FILES), *_old_outputs(out)]:
        if old.is_file():
            old.unlink()
            emptied.add(old.parent)
            replaced = True
    for name in outputs:
        target = out / name
        target.parent.mkdir(exist_ok=True)
        os.replace(stage / name, target)
    for folder in emptied:  # a folder only the earlier run's files were in
        if folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return replaced


def handle(args: argparse.Namespace) -> int:
    """Run the scenario and write the results folder."""
    from model.yamlio import read_yaml_mapping

    _check_counts(args)
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out: {args.out}: is a file, not a folder; choose a folder")
    # the file must exist and be readable YAML before the heavy imports below
    read_yaml_mapping(args.scenario, "scenario")

    from model.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run(args, scenario)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace, scenario) -> int:
    import hashlib
    import json

    import pandas as pd

    from model.analysis.run_summary import plot_run_summary
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_csv_atomic,
        write_json_atomic,
    )
    from model.experiment.runner import RunTask, run_tasks
    from model.yamlio import short_key

    steps = args.steps or scenario.simulation.steps
    base_seed = scenario.simulation.seed if args.seed is None else args.seed
    seeds = [base_seed + r for r in range(args.reps)]
    resolved = scenario.resolved()
    ident = hashlib.sha256(
        json.dumps({"scenario": resolved, "seeds": seeds, "steps": steps}, sort_keys=True).encode()
    ).hexdigest()[:12]
    out = Path(args.out) if args.out else Path("results") / folder_name(scenario.name) / ident
    if scenario.network.kind == "file":  # a bad graph file stops here, before any folder
        from model.network import load_graph_file

        load_graph_file(scenario.network, scenario.population.consumers)
    try:
        created = _make_parents(out.absolute())
        stage = _staging_folder(out.absolute())
    except OSError as exc:
        raise UserError(
            f"--out: {short_key(str(out), 200)!r}: cannot create folder ({exc.strerror})"
        ) from None
    started = now_iso()
    progress = not args.quiet

    tables: dict[int, pd.DataFrame] = {}
    errors: dict[int, str] = {}
    interrupted: KeyboardInterrupt | None = None
    committed = False
    try:
        try:
            if args.reps == 1:
                tables[0] = simulate(scenario, seeds[0], steps, stage, 0, progress)
            else:
                tasks = [
                    RunTask(
                        key=f"rep{r}",
                        scenario=resolved,
                        seed=s,
                        steps=steps,
                        meta={"replication": r, "out": str(stage)},
                    )
                    for r, s in enumerate(seeds)
                ]
                for result in run_tasks(
                    tasks,
                    workers=min(args.workers, args.reps),
                    progress=progress,
                    desc=scenario.name[:40],
                    work=simulate_and_record,
                ):
                    rep = int(result.meta["replication"])
                    if result.ok:
                        tables[rep] = result.table
                    else:
                        errors[rep] = result.error or "failed"
        except KeyboardInterrupt as exc:
            interrupted = exc
        except OSError as exc:  # a replication's own files (groups, records) in the stage
            raise _write_error(out, exc) from None
        if interrupted is not None and not tables:
            how = "terminated (SIGTERM)" if isinstance(interrupted, _Terminated) else "interrupted"
            print(
                f"mtsim: {how} before any replication finished; nothing was written"
                + (f" (earlier results in {out}/ are unchanged)" if out.is_dir() else ""),
                file=sys.stderr,
            )
            return 143 if isinstance(interrupted, _Terminated) else 130
        # finish writing what is kept: a Ctrl-C or SIGTERM now would lose finished results
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

        outputs: list[str] = []
        parts = []
        for rep in sorted(tables):
            t = tables[rep].copy()
            t.insert(0, "seed", seeds[rep])
            t.insert(0, "replication", rep)
            t.insert(0, "scenario", scenario.name)
            parts.append(t)
        table = pd.concat(parts, ignore_index=True) if parts else None
        try:
            if table is not None:
                write_csv_atomic(stage / "timeseries.csv", table)
                outputs.append("timeseries.csv")
                plot_run_summary(table, stage / "summary.png", f"mtsim: {scenario.name[:80]}")
                outputs.append("summary.png")
                # results by group (model/analysis/group_effects.py): the tables as groups.csv
                from model.analysis.group_effects import gather_group_tables

                outputs += gather_group_tables(stage, sorted(tables), seeds, scenario.name)
            for rep in sorted(tables):
                for folder, where in (("consumers", consumer_file), ("merchants", merchant_file)):
                    name = f"{folder}/{where(stage, rep).name}"
                    if (stage / name).is_file():
                        outputs.append(name)
            missing = [r for r in range(args.reps) if r not in tables and r not in errors]
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
                status="interrupted" if interrupted is not None else "complete",
                replications_written=sorted(tables),
                failed_runs={str(r): msg for r, msg in errors.items()},
                not_run=missing,
                outputs=[*outputs, "manifest.json"],
            )
            write_json_atomic(stage / "manifest.json", manifest)
            outputs.append("manifest.json")
            replaced = _commit(stage, out, outputs)
            committed = True
        except OSError as exc:
            raise _write_error(out, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not committed:
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:
                    break

    print(
        f"mtsim run: {scenario.name[:80]}, {args.reps} replication(s) x {steps} weeks, "
        f"{scenario.population.consumers} consumers"
    )
    if table is not None:
        final = table[table["step"] == steps][list(KEY_METRICS)].mean()
        several = len(tables) > 1
        for name, value in final.items():
            shown = format_value(str(name), float(value), several)
            print(f"  {name:<22} {shown}   (week {steps}{', mean of reps' if several else ''})")
    for rep, msg in sorted(errors.items()):
        print(f"  replication {rep} (seed {seeds[rep]}) failed: {msg}", file=sys.stderr)
    shown_outputs = [o for o in outputs if not o.startswith(("consumers/", "merchants/"))]
    for folder in ("consumers/", "merchants/"):
        if any(o.startswith(folder) for o in outputs):
            shown_outputs.append(folder)
    note = "; replaced the earlier results in this folder" if replaced else ""
    print(f"results: {out}/ ({', '.join(shown_outputs)}){note}")
    if interrupted is not None:
        how = "terminated (SIGTERM)" if isinstance(interrupted, _Terminated) else "interrupted"
        print(
            f"mtsim: {how}; {len(tables)} of {args.reps} replications had finished and were "
            f"written to {out}/",
            file=sys.stderr,
        )
        return 143 if isinstance(interrupted, _Terminated) else 130
    return 1 if errors else 0
