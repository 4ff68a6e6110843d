"""``mtsim sweep``: run a study's design on this machine or a Dask cluster, into a result store.

::

    mtsim sweep experiments/kol_payment_grid.yaml                 # local process pool
    mtsim sweep EXPERIMENT.yaml --workers 1                        # in this process
    mtsim sweep EXPERIMENT.yaml --dask-local 4                     # a Dask LocalCluster
    mtsim sweep EXPERIMENT.yaml --scheduler tcp://host:8786        # an existing Dask cluster
    mtsim sweep EXPERIMENT.yaml --resume --out results/my_study    # finish an interrupted sweep

Run r of a study is replication ``r % R`` of design point ``r // R`` (R
replications). Its seed is ``design.run_seed(master, point, replication)``, a
pure function of the master seed and the run's index, so the stored tables are
the same with one worker, many workers or a cluster, and whatever the order in
which runs finish. Each finished run is written at once as its own Parquet part
(atomically), each failed run as a failure record with its error and traceback;
``--resume`` runs everything without a part again and never touches a finished
part.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import UserError
from model.experiment.design import run_seed
from model.experiment.manifest import build_manifest, now_iso
from model.experiment.runner import RunResult, RunTask, default_workers, run_tasks, simulate_task
from model.experiment.spec import Experiment, load_experiment
from model.experiment.store import ID_COLUMNS, PartBuilder, ResultStore, StoreError
from model.scenario import run_id


@dataclass
class SweepSummary:
    """What one ``sweep`` call did.

    Attributes:
        out: the result folder.
        runs: runs in the design.
        computed: runs finished in this call.
        failed: runs that failed in this call.
        skipped: runs already finished before this call (resume).
        seconds: wall time of this call.
        run_seconds: summed wall time of the runs themselves (as measured in the workers).
        status: ``complete`` (every run finished), ``incomplete`` (some failed or missing)
            or ``interrupted``.
    """

    out: Path
    runs: int
    computed: int
    failed: int
    skipped: int
    seconds: float
    run_seconds: float
    status: str


def build_design_table(experiment: Experiment) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Expand design points into runs: the design table and each point's resolved scenario.

    Returns:
        (design table with ID_COLUMNS then one column per parameter, resolved scenario
        of each design point)
    """
    spec = experiment.spec
    reps = spec.replications
    common = spec.seeds == "common"
    points = experiment.design.points
    scenarios: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for point in range(len(points)):
        scenario = experiment.scenario_at(point)
        scenarios.append(scenario.resolved())
        for replication in range(reps):
            seed = run_seed(spec.seed, point, replication, common=common)
            rows.append(
                {
                    "run": point * reps + replication,
                    "point": point,
                    "replication": replication,
                    "seed": seed,
                    "run_id": run_id(scenario, seed),
                }
            )
    ids = pd.DataFrame(rows, columns=list(ID_COLUMNS))
    for column in ("run", "point", "replication", "seed"):
        ids[column] = ids[column].astype("int64")
    ids["run_id"] = ids["run_id"].astype(object)
    params = points.drop(columns="point").iloc[ids["point"].to_numpy()].reset_index(drop=True)
    return pd.concat([ids, params], axis=1), scenarios


@contextmanager
def open_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> Iterator[tuple[Executor | None, int, str]]:
    """Yield (executor or None, workers, description) for the chosen way of running.

    None with workers 1 runs in this process; None with more workers lets the runner
    open (and close) a local process pool. ``scheduler`` connects to an existing Dask
    cluster; ``dask_local`` starts a LocalCluster on 127.0.0.1 and closes it at the end.
    """
    if scheduler is None and dask_local is None:
        count = default_workers() if workers is None else int(workers)
        if count < 1:
            raise UserError(f"--workers: {count}: must be at least 1")
        where = "this process" if count == 1 else f"local process pool ({count} workers)"
        yield None, count, where
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise UserError(
            "Dask is not installed: pip install 'mtsim[sweep]' (dask[distributed])"
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(f"--scheduler: {scheduler}: cannot connect ({exc})") from None
        try:
            count = len(client.scheduler_info().get("workers", {})) or 1
            yield client.get_executor(), count, f"Dask cluster at {scheduler}"
        finally:
            client.close()
        return
    assert dask_local is not None
    if dask_local < 1:
        raise UserError(f"--dask-local: {dask_local}: must be at least 1")
    cluster = LocalCluster(
        n_workers=dask_local,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        client = Client(cluster)
        try:
            plural = "s" if dask_local != 1 else ""
            yield (
                client.get_executor(),
                dask_local,
                f"Dask LocalCluster ({dask_local} worker{plural})",
            )
        finally:
            client.close()
    finally:
        cluster.close()


def run_sweep(
    experiment_path: str | Path,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    executor: Executor | None = None,
    progress: bool = True,
    work: Callable[[RunTask], pd.DataFrame] = simulate_task,
    command: list[str] | None = None,
) -> SweepSummary:
    """Run (or resume) a study into a result store.

    Args:
        experiment_path: the experiment YAML file.
        out: the result folder (default ``results/<experiment name>``).
        resume: finish a sweep in ``out``: skip finished runs, rerun failed and missing ones.
        workers: local processes (1: in this process; default: the machine's cores).
        scheduler: address of a Dask scheduler (``tcp://host:port``).
        dask_local: start a Dask LocalCluster with this many worker processes.
        executor: any ``concurrent.futures.Executor`` to use instead (the caller closes it).
        progress: show the progress bar (runs done, failed, time left).
        work: what a task does (the model by default; tests pass a failing function).
        command: the command line, for the manifest.

    Returns:
        A SweepSummary.

    Raises:
        UserError: bad experiment file, or a folder that holds another study or a sweep
            without ``resume``.
    """
    started_clock = time.perf_counter()
    experiment = load_experiment(experiment_path)
    out_dir = Path(out) if out is not None else Path("results") / experiment.name
    store = ResultStore(out_dir)
    design, scenarios = build_design_table(experiment)
    resuming = store.exists()
    if resuming:
        if not resume:
            done = len(store.finished_runs())
            raise StoreError(
                f"{out_dir}: already holds a sweep ({done} of {len(store.load_design())} runs "
                "finished); add --resume to finish it, or choose another --out folder"
            )
        store.check_same_design(design, str(experiment_path))
    elif out_dir.exists() and any(out_dir.iterdir()):
        raise StoreError(
            f"{out_dir}: folder is not empty and holds no sweep; choose another --out folder"
        )
    spec = experiment.spec
    builder = PartBuilder(design, spec.outcomes, spec.metrics)
    param_names = [p.name for p in experiment.parameters]

    # connect (or start the cluster) before writing anything: a bad address leaves no folder
    with open_executor(workers, scheduler, dask_local) as (own, count, where):
        pool = executor if executor is not None else own
        if executor is not None:
            where = f"{type(executor).__name__} (given)"
        if resuming:
            store.clean_temporary()
        else:
            sample = None
            if experiment.design.sample is not None:
                sample = pd.DataFrame(experiment.design.sample, columns=param_names)
            store.initialise(
                design,
                experiment.describe(),
                experiment_text=Path(experiment_path).read_bytes(),
                sample=sample,
            )
        finished_before = store.finished_runs()
        todo = [int(r) for r in design["run"] if int(r) not in finished_before]
        tasks = [
            RunTask(
                key=f"run {run}",
                scenario=scenarios[run // spec.replications],
                seed=int(design.at[run, "seed"]),
                steps=experiment.steps,
                meta={"run": run},
            )
            for run in todo
        ]
        manifest = store.read_manifest()
        sessions = list(manifest.get("sessions", []))
        session: dict[str, Any] = {
            "started": now_iso(),
            "finished": None,
            "command": command,
            "executor": where,
            "skipped": len(finished_before),
            "to_run": len(todo),
            "computed": 0,
            "failed": 0,
            "status": "running",
        }
        sessions.append(session)
        first_started = manifest.get("started") or session["started"]

        def write_manifest(status: str, finished: str | None) -> None:
            seeds = sorted(set(int(s) for s in design["seed"]))
            counts = {
                "runs": len(design),
                "finished": len(store.finished_runs()),
                "failed": len(store.failed_runs()),
            }
            counts["missing"] = counts["runs"] - counts["finished"] - counts["failed"]
            store.write_manifest(
                build_manifest(
                    {"base": experiment.base},
                    seeds if len(seeds) <= 10_000 else [],
                    first_started,
                    finished,
                    study=experiment.name,
                    experiment_file=str(Path(experiment_path).resolve()),
                    design=experiment.design.kind,
                    outcomes=spec.outcomes,
                    replications=spec.replications,
                    steps=experiment.steps,
                    master_seed=spec.seed,
                    seed_scheme=spec.seeds,
                    status=status,
                    counts=counts,
                    sessions=sessions,
                )
            )

        computed = failed = 0
        run_seconds = 0.0
        status = "interrupted"
        write_manifest("running", None)
        desc = experiment.name + (
            f" (+{len(finished_before)} done before)" if finished_before else ""
        )
        results = run_tasks(
            tasks,
            executor=pool,
            workers=max(1, min(count, len(tasks))) if pool is None else 1,
            progress=progress,
            desc=desc,
            work=work,
        )
        try:
            for result in results:
                run_seconds += result.seconds
                if _store_result(store, builder, design, param_names, result):
                    computed += 1
                else:
                    failed += 1
                session["computed"], session["failed"] = computed, failed
            status = (
                "complete"
                if not store.failed_runs() and len(store.finished_runs()) == len(design)
                else "incomplete"
            )
        finally:
            results.close()  # cancel what is still queued (interrupt) and close the pool
            session["finished"] = now_iso()
            session["status"] = status
            session["run_seconds"] = round(run_seconds, 3)
            session["wall_seconds"] = round(time.perf_counter() - started_clock, 3)
            write_manifest(status, session["finished"] if status == "complete" else None)
    return SweepSummary(
        out=out_dir,
        runs=len(design),
        computed=computed,
        failed=failed,
        skipped=len(finished_before),
        seconds=time.perf_counter() - started_clock,
        run_seconds=run_seconds,
        status=status,
    )


def _store_result(
    store: ResultStore,
    builder: PartBuilder,
    design: pd.DataFrame,
    param_names: list[str],
    result: RunResult,
) -> bool:
    """Write a finished run's part, or a failed run's record; True when the run finished."""
    run = int(result.meta["run"])
    error, trace = result.error, result.traceback
    if result.ok and result.table is not None:
        try:
            part = builder.build(run, result.table)
        except (KeyError, ValueError) as exc:
            error, trace = f"{type(exc).__name__}: {exc}", None
        else:
            store.write_part(run, part)
            return True
    row = design.iloc[run]
    record = {column: _plain(row[column]) for column in (*ID_COLUMNS, *param_names)}
    record.update(error=error, traceback=trace, seconds=round(result.seconds, 6), at=now_iso())
    store.write_failure(run, record)
    return False


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# --------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim sweep`` to the command line."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a study (experiments/*.yaml) locally or on a Dask cluster",
        description=(
            "Run every design point and replication of an experiment file into a result "
            "folder (Parquet parts, design table, manifest). Interrupted sweeps continue "
            "with --resume."
        ),
    )
    parser.add_argument("experiment", help="experiment YAML file (see experiments/)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="local worker processes (1: run in this process; default: number of cores)",
    )
    how.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786",
    )
    how.add_argument(
        "--dask-local",
        type=int,
        metavar="N",
        help="start a Dask LocalCluster of N worker processes on 127.0.0.1 for this sweep",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish the sweep in --out: skip finished runs, rerun failed and missing ones",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="result folder (default: results/<experiment name>)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim sweep``."""
    summary = run_sweep(
        args.experiment,
        args.out,
        resume=args.resume,
        workers=args.workers,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
        progress=not args.no_progress,
        command=["mtsim", *sys.argv[1:]],
    )
    earlier = f", {summary.skipped} finished earlier" if summary.skipped else ""
    print(
        f"{summary.out}: {summary.computed} runs finished now{earlier}, "
        f"{summary.failed} failed, of {summary.runs} ({summary.seconds:.1f} s)"
    )
    if summary.failed:
        print(
            f"mtsim: {summary.failed} runs failed; errors and tracebacks are in "
            f"{summary.out / 'failures'}; rerun them with --resume",
            file=sys.stderr,
        )
        return 1
    return 0
