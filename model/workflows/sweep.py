"""Run a study's design on this machine or a Dask cluster, into a result store.

::

    from model.workflows.sweep import run_sweep
    summary = run_sweep("experiments/kol_payment_grid.yaml", "results/kol_grid", workers=2)

(``mtsim sweep`` is the command line of :func:`run_sweep`.) The runs are the
design table's (``model.experiment.sweep.build_design_table``): run r's seed is a
pure function of the master seed and the run's index, so the stored tables are
the same with one worker, many workers or a cluster, and whatever the order in
which runs finish. Each finished run is written at once as its own Parquet part
(atomically), each failed run as a failure record with its error and traceback;
``resume`` runs everything without a usable part again and never touches a
finished part.

``resume`` first checks that the folder holds this study: the experiment file's
spec is compared with the one stored in ``study.json`` (before the design is
built, so a changed file is refused at once, naming what changed; only ``name``,
``description`` and the spelling of ``base`` may differ), then the design table
run by run. It then reads every part's footer (``ResultStore.check_parts``) and
moves a damaged part to ``damaged/``, so that its run is computed again and
reported (:attr:`SweepSummary.damaged`).

An experiment with ``start: STATE.npz`` (docs/present.md) starts every run from the
saved state: run r continues the saved present with its design seed from the saved
week on (``model.experiment.runner``: a task whose ``meta["start"]`` names a state).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.experiment.executors import open_executor
from model.experiment.manifest import build_manifest, now_iso
from model.experiment.runner import (
    RunResult,
    RunTask,
    run_tasks,
    simulate_task,
    simulate_task_with_groups,
)
from model.experiment.spec import Experiment, ExperimentSpec, load_experiment
from model.experiment.store import ID_COLUMNS, PartBuilder, ResultStore, StoreError, part_layout
from model.experiment.study import check_same_study
from model.experiment.sweep import build_design_table, design_estimate


@dataclass
class SweepSummary:
    """What one ``sweep`` call did.

    Attributes:
        out: the result folder.
        runs: runs in the design.
        computed: runs finished in this call.
        failed: runs that failed in this call.
        skipped: runs already finished before this call (resume).
        damaged: runs whose part was damaged (resume): set aside in ``damaged/`` and run
            again (each is also counted in ``computed`` or ``failed``).
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
    damaged: list[int] = field(default_factory=list)


MANIFEST_EVERY_SECONDS = 10.0
"""While a sweep runs, its manifest's counts are rewritten at most this often."""


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
    warn: Callable[[str], None] | None = None,
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
        warn: called with a warning about a very large design (default: none).

    Returns:
        A SweepSummary.

    Raises:
        UserError: bad experiment file, or a folder that holds another study or a sweep
            without ``resume``, or a folder that cannot be written (full disk,
            read-only): finished parts are kept and ``--resume`` continues.
    """
    started_clock = time.perf_counter()
    if resume and out is not None:  # refuse a changed experiment file before the design is built
        _check_same_study(ResultStore(out), experiment_path)
    experiment = load_experiment(experiment_path)
    out_dir = Path(out) if out is not None else Path("results") / experiment.name
    if out_dir.exists() and not out_dir.is_dir():
        raise StoreError(f"{out_dir}: --out is a file, not a folder; choose a folder")
    store = ResultStore(out_dir)
    resuming = _check_folder(store, resume)
    if resuming and out is None:
        _check_same_study(store, experiment_path, experiment.spec)
    estimate = design_estimate(experiment)
    if estimate and warn is not None:
        warn(estimate)
    if warn is not None:  # a base policy that starts after the last week never acts
        for number, policy in enumerate(experiment.base.get("policies") or []):
            if int(policy.get("start") or 1) > experiment.steps:
                warn(
                    f"{experiment_path}: the base scenario's policies.{number} (lever "
                    f"{policy.get('lever')}) starts at week {policy.get('start')}, after the "
                    f"run's last week ({experiment.steps}): it never acts unless the design "
                    "sets its start"
                )
    design, scenarios = build_design_table(experiment, progress=progress)
    if resuming:
        store.check_same_design(design, str(experiment_path))
        stored_start = store.read_study().get("start")
        if stored_start != experiment.describe().get("start"):  # another saved present
            raise StoreError(
                f"{out_dir}: its runs started from {stored_start or 'week 0'}, not from "
                f"{experiment.describe().get('start') or 'week 0'}; choose another --out folder"
            )
    spec = experiment.spec
    layout = part_layout(experiment.describe())
    builder = PartBuilder(design, spec.outcomes, spec.metrics, layout)
    if spec.outcomes == "by_group" and work is simulate_task:
        work = simulate_task_with_groups
    param_names = [p.name for p in experiment.parameters]

    # connect (or start the cluster) before writing anything: a bad address leaves no folder
    with open_executor(workers, scheduler, dask_local) as (own, count, where):
        pool = executor if executor is not None else own
        if executor is not None:
            where = f"{type(executor).__name__} (given)"
        _start_store(store, experiment, Path(experiment_path), design, resuming)
        damaged = _set_aside_damaged(store, design, layout) if resuming else {}
        finished_before = store.finished_runs()
        todo = [int(r) for r in design["run"] if int(r) not in finished_before]
        seeds_column = design["seed"].to_numpy()
        tasks = (
            RunTask(
                key=f"run {run}",
                scenario=scenarios[run // spec.replications],
                seed=int(seeds_column[run]),
                steps=experiment.steps,
                meta={"run": run}
                | ({"start": str(experiment.start)} if experiment.start is not None else {}),
            )
            for run in todo
        )
        manifest = store.read_manifest()
        sessions = list(manifest.get("sessions", []))
        for earlier in sessions:  # a session still "running" ended without closing (killed)
            if isinstance(earlier, dict) and earlier.get("status") == "running":
                earlier["status"] = "killed"
        session: dict[str, Any] = {
            "started": now_iso(),
            "finished": None,
            "command": command,
            "executor": where,
            "skipped": len(finished_before),
            "damaged": {str(run): why for run, why in damaged.items()},
            "to_run": len(todo),
            "computed": 0,
            "failed": 0,
            "status": "running",
        }
        sessions.append(session)
        first_started = manifest.get("started") or session["started"]
        all_seeds = sorted(set(int(x) for x in seeds_column))

        def write_manifest(status: str, finished: str | None) -> None:
            counts = {
                "runs": len(design),
                "finished": len(store.finished_runs()),
                "failed": len(store.failed_runs()),
            }
            counts["missing"] = counts["runs"] - counts["finished"] - counts["failed"]
            store.write_manifest(
                build_manifest(
                    {"base": experiment.base},
                    all_seeds if len(all_seeds) <= 10_000 else [],
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
        write_error: OSError | None = None
        try:
            write_manifest("running", None)
        except OSError as exc:
            raise StoreError(
                f"{out_dir}: cannot write the manifest ({exc.strerror or exc})"
            ) from None
        desc = experiment.name + (
            f" (+{len(finished_before)} done before)" if finished_before else ""
        )
        results = run_tasks(
            tasks,
            executor=pool,
            workers=max(1, min(count, len(todo))) if pool is None else 1,
            progress=progress,
            desc=desc,
            work=work,
            total=len(todo),
            window=None if pool is None else max(64, 4 * count),
        )
        last_written = time.monotonic()
        try:
            for result in results:
                run_seconds += result.seconds
                try:
                    stored = _store_result(store, builder, design, param_names, result)
                except OSError as exc:
                    write_error = exc
                    status = "stopped"
                    break
                if stored:
                    computed += 1
                else:
                    failed += 1
                session["computed"], session["failed"] = computed, failed
                if time.monotonic() - last_written > MANIFEST_EVERY_SECONDS:
                    try:  # counts stay recent even if the process is killed
                        write_manifest("running", None)
                    except OSError as exc:
                        write_error, status = exc, "stopped"
                        break
                    last_written = time.monotonic()
            else:
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
            try:
                write_manifest(status, session["finished"] if status == "complete" else None)
            except OSError as exc:
                write_error = write_error or exc
        if write_error is not None:
            kept = len(store.finished_runs())
            raise StoreError(
                f"{out_dir}: cannot write results ({write_error.strerror or write_error}); "
                f"the {kept} finished runs are kept; make room and add --resume to continue"
            )
    return SweepSummary(
        out=out_dir,
        runs=len(design),
        computed=computed,
        failed=failed,
        skipped=len(finished_before),
        seconds=time.perf_counter() - started_clock,
        run_seconds=run_seconds,
        status=status,
        damaged=sorted(damaged),
    )


def _check_folder(store: ResultStore, resume: bool) -> bool:
    """Tell whether the folder holds a sweep to resume; refuse one that cannot be used.

    Raises:
        StoreError: a sweep without ``resume``, a folder with other files, or one that
            cannot be read.
    """
    out_dir = store.root
    try:
        resuming = store.exists()
        if resuming:
            store.check_own_folders()
            if not resume:
                done = len(store.finished_runs())
                raise StoreError(
                    f"{out_dir}: already holds a sweep ({done} of {len(store.load_design())} "
                    "runs finished); add --resume to finish it, or choose another --out folder"
                )
        elif out_dir.exists() and any(out_dir.iterdir()):
            raise StoreError(
                f"{out_dir}: folder is not empty and holds no sweep; choose another --out folder"
            )
    except OSError as exc:
        raise StoreError(f"{out_dir}: cannot read the folder ({exc.strerror or exc})") from None
    return resuming


def _check_same_study(
    store: ResultStore, experiment_path: str | Path, spec: ExperimentSpec | None = None
) -> None:
    """Refuse to resume a sweep whose stored study differs from the experiment file's.

    See ``model.experiment.study.check_same_study`` (light: the command checks it first).

    Raises:
        StoreError: the stored study cannot be read, or the spec changed (named in one line).
    """
    check_same_study(store.root, experiment_path, spec)


def _set_aside_damaged(store: ResultStore, design: pd.DataFrame, layout: str) -> dict[int, str]:
    """Move the parts a resumed sweep cannot use to ``damaged/``; return run -> why.

    Raises:
        StoreError: the parts cannot be moved.
    """
    damaged = store.check_parts(design, layout)
    try:
        store.set_aside(damaged)
    except OSError as exc:
        raise StoreError(
            f"{store.root}: cannot set {len(damaged)} damaged parts aside ({exc.strerror or exc})"
        ) from None
    return damaged


def _start_store(
    store: ResultStore,
    experiment: Experiment,
    experiment_path: Path,
    design: pd.DataFrame,
    resuming: bool,
) -> None:
    """Write a new store's design and study, or clean a resumed one's temporary files.

    A new store that cannot be written, or whose start is interrupted, is removed again.

    Raises:
        StoreError: the folder cannot be written.
    """
    created = not store.root.exists()
    try:
        if resuming:
            store.clean_temporary()
        else:
            sample = None
            if experiment.design.sample is not None:
                names = [p.name for p in experiment.parameters]
                sample = pd.DataFrame(experiment.design.sample, columns=names)
            store.initialise(
                design,
                experiment.describe(),
                experiment_text=experiment_path.read_bytes(),
                sample=sample,
            )
    except OSError as exc:
        if not resuming:
            _remove_new_store(store, created)
        raise StoreError(
            f"{store.root}: cannot write the result folder ({exc.strerror or exc})"
        ) from None
    except BaseException:  # interrupted while starting: leave no half-made store
        if not resuming:
            _remove_new_store(store, created)
        raise


def _remove_new_store(store: ResultStore, created: bool) -> None:
    """Remove what a failed start wrote into a new store (the folder too, if it made it)."""
    import shutil

    for name in (
        "design.parquet",
        "design.csv",
        "study.json",
        "experiment.yaml",
        "design_sample.parquet",
        "manifest.json",
    ):
        try:
            (store.root / name).unlink(missing_ok=True)
        except OSError:
            pass
    try:
        store.clean_temporary()
    except OSError:
        pass
    for folder in (store.parts_dir, store.failures_dir):
        try:
            folder.rmdir()
        except OSError:
            pass
    if created:
        shutil.rmtree(store.root, ignore_errors=True)


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
