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

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import UserError
from model.experiment.design import run_seed
from model.experiment.manifest import build_manifest, now_iso
from model.experiment.runner import RunResult, RunTask, default_workers, run_tasks, simulate_task
from model.experiment.spec import Experiment, _overlay, _value_at, load_experiment
from model.experiment.store import ID_COLUMNS, PartBuilder, ResultStore, StoreError


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


class PointScenarios(Sequence):
    """The resolved scenario of each design point, built when asked for (not held in memory).

    ``scenarios[point]`` is ``experiment.scenario_at(point).resolved()``; the last
    few are cached, since replications of a point run one after the other.
    """

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self._cache: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.experiment.design)

    def __getitem__(self, point):  # type: ignore[override]
        if isinstance(point, slice):
            return [self[i] for i in range(*point.indices(len(self)))]
        point = int(point)
        if point < 0:
            point += len(self)
        if not 0 <= point < len(self):
            raise IndexError(point)
        found = self._cache.get(point)
        if found is None:
            found = self.experiment.scenario_at(point).resolved()
            if len(self._cache) >= 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[point] = found
        return found


MANIFEST_EVERY_SECONDS = 10.0
"""While a sweep runs, its manifest's counts are rewritten at most this often."""

DESIGN_WARN_RUNS = 100_000
"""Above this many runs, ``mtsim sweep`` warns with an estimate before it starts."""

DESIGN_SECONDS_PER_POINT = 3e-4
"""Measured cost of preparing one design point (checking its scenario, hashing its runs).

Measured on a 2-core VM shared with other work; see docs/robustness.md.
"""


def build_design_table(
    experiment: Experiment, progress: bool = False
) -> tuple[pd.DataFrame, PointScenarios]:
    """Expand design points into runs: the design table and each point's resolved scenario.

    Every design point's scenario is validated once and serialised once; the run
    ids of its replications hash that text with each seed. The table itself is
    built column by column with NumPy.

    Args:
        experiment: the loaded study.
        progress: show a progress bar while the points are checked (large designs).

    Returns:
        (design table with ID_COLUMNS then one column per parameter, resolved scenario
        of each design point, built on demand)
    """
    from tqdm.auto import tqdm

    spec = experiment.spec
    reps = spec.replications
    common = spec.seeds == "common"
    points = experiment.design.points
    n_points = len(points)
    point_index = np.repeat(np.arange(n_points, dtype=np.int64), reps)
    replication = np.tile(np.arange(reps, dtype=np.int64), n_points)
    if common:
        per_rep = [run_seed(spec.seed, 0, r, common=True) for r in range(reps)]
        seeds = np.tile(np.asarray(per_rep, dtype=np.int64), n_points)
    else:
        seeds = np.fromiter(
            (run_seed(spec.seed, p, r, common=False) for p in range(n_points) for r in range(reps)),
            dtype=np.int64,
            count=n_points * reps,
        )
    run_ids_: list[str] = []
    bar = tqdm(
        total=n_points,
        desc="checking design points",
        unit="point",
        disable=not progress or n_points < 2000,
        delay=1.0,
    )
    texts = _ScenarioTexts(experiment)
    try:
        for point in range(n_points):
            prefix = b'{"scenario":' + texts.text(point) + b',"seed":'
            for seed in seeds[point * reps : (point + 1) * reps].tolist():
                run_ids_.append(hashlib.sha256(prefix + b"%d}" % seed).hexdigest()[:16])
            bar.update(1)
    finally:
        bar.close()
    ids = pd.DataFrame(
        {
            "run": np.arange(n_points * reps, dtype=np.int64),
            "point": point_index,
            "replication": replication,
            "seed": seeds,
            "run_id": pd.Series(run_ids_, dtype=object),
        },
        columns=list(ID_COLUMNS),
    )
    params = points.drop(columns="point").iloc[point_index].reset_index(drop=True)
    return pd.concat([ids, params], axis=1), PointScenarios(experiment)


class _ScenarioTexts:
    """The canonical JSON text of each design point's resolved scenario (as ``run_id`` hashes it).

    Every point's scenario is validated. Its text is then assembled from a template
    (the resolved base with a placeholder at each parameter's path) and the
    point's resolved values at those paths, instead of serialising the whole
    scenario again. The first points are also serialised in full and compared;
    if the two ever differ (a validator that changes other keys), every point is
    serialised in full.
    """

    CHECKED_POINTS = 32

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self.paths = [p.path for p in experiment.parameters]
        self.pieces: list[str] | None = None
        self.order: list[int] = []
        self.exact = True

    def _template(self, resolved: dict[str, Any]) -> None:
        marks = {path: f"\x00mtsim-parameter-{i}\x00" for i, path in enumerate(self.paths)}
        try:
            data = _overlay(resolved, marks)
        except (KeyError, IndexError, ValueError, TypeError):
            self.exact = False
            return
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        parts = re.split(r'"\\u0000mtsim-parameter-(\d+)\\u0000"', text)
        self.pieces = parts[0::2]
        self.order = [int(i) for i in parts[1::2]]
        if sorted(self.order) != list(range(len(self.paths))):
            self.exact = False

    def text(self, point: int) -> bytes:
        """Return the JSON text (UTF-8) of design point ``point``'s resolved scenario."""
        resolved = self.experiment.scenario_at(point).resolved()
        if self.pieces is None and self.exact:
            self._template(resolved)
        full = None
        if not self.exact or point < self.CHECKED_POINTS:
            full = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
            if not self.exact:
                return full.encode()
        values = [_value_at(resolved, path) for path in self.paths]
        assert self.pieces is not None
        out = [self.pieces[0]]
        for index, piece in zip(self.order, self.pieces[1:], strict=True):
            out.append(json.dumps(values[index], sort_keys=True, separators=(",", ":")))
            out.append(piece)
        text = "".join(out)
        if full is not None and text != full:
            self.exact = False
            return full.encode()
        return text.encode()


def design_estimate(experiment: Experiment) -> str | None:
    """Return a warning with the cost of a very large design (None up to ``DESIGN_WARN_RUNS``)."""
    runs = experiment.n_runs
    if runs <= DESIGN_WARN_RUNS:
        return None
    points = len(experiment.design)
    prepare = points * DESIGN_SECONDS_PER_POINT
    # a summary part measured 15.5 kB (Parquet metadata of ~50 columns dominates)
    per_run_bytes = 16_000
    if experiment.spec.outcomes != "summary":
        per_run_bytes += 200 * experiment.steps
    design_bytes = runs * 200
    return (
        f"{runs:,} runs ({points:,} design points x {experiment.spec.replications} "
        f"replications): checking the design takes about {_duration(prepare)} before the "
        f"first run; the design table needs about {_size(design_bytes)} and the results "
        f"about {_size(runs * per_run_bytes)} on disk (one file per run)"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _size(count: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}"
        count /= 1000
    return f"{count:.0f} TB"


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
    with dask_client(scheduler, dask_local) as (client, count, where):
        yield client.get_executor(), count, where


@contextmanager
def dask_client(scheduler: str | None, dask_local: int | None) -> Iterator[tuple[Any, int, str]]:
    """Yield (Dask client, workers, description): an existing cluster or a LocalCluster.

    ``scheduler`` connects to a running cluster; otherwise ``dask_local`` workers start
    on 127.0.0.1 (one thread each, no dashboard) and stop at the end. Shared by sweeps,
    compare and calibration (model/validation/abc.py).
    """
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
            yield client, count, f"Dask cluster at {scheduler}"
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
            yield client, dask_local, f"Dask LocalCluster ({dask_local} worker{plural})"
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
    experiment = load_experiment(experiment_path)
    out_dir = Path(out) if out is not None else Path("results") / experiment.name
    if out_dir.exists() and not out_dir.is_dir():
        raise StoreError(f"{out_dir}: --out is a file, not a folder; choose a folder")
    store = ResultStore(out_dir)
    try:
        resuming = store.exists()
        if resuming:
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
    estimate = design_estimate(experiment)
    if estimate and warn is not None:
        warn(estimate)
    design, scenarios = build_design_table(experiment, progress=progress)
    if resuming:
        store.check_same_design(design, str(experiment_path))
    spec = experiment.spec
    builder = PartBuilder(design, spec.outcomes, spec.metrics)
    if spec.outcomes == "by_group" and work is simulate_task:
        from model.analysis.group_effects import simulate_task_with_groups

        work = simulate_task_with_groups
    param_names = [p.name for p in experiment.parameters]

    # connect (or start the cluster) before writing anything: a bad address leaves no folder
    with open_executor(workers, scheduler, dask_local) as (own, count, where):
        pool = executor if executor is not None else own
        if executor is not None:
            where = f"{type(executor).__name__} (given)"
        created = not out_dir.exists()
        try:
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
        except OSError as exc:
            if not resuming:
                _remove_new_store(store, created)
            raise StoreError(
                f"{out_dir}: cannot write the result folder ({exc.strerror or exc})"
            ) from None
        except BaseException:  # interrupted while starting: leave no half-made store
            if not resuming:
                _remove_new_store(store, created)
            raise
        finished_before = store.finished_runs()
        todo = [int(r) for r in design["run"] if int(r) not in finished_before]
        seeds_column = design["seed"].to_numpy()
        tasks = (
            RunTask(
                key=f"run {run}",
                scenario=scenarios[run // spec.replications],
                seed=int(seeds_column[run]),
                steps=experiment.steps,
                meta={"run": run},
            )
            for run in todo
        )
        manifest = _previous_manifest(store)
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
    )


def _previous_manifest(store: ResultStore) -> dict[str, Any]:
    """Read the manifest of an earlier session, or an empty one when it is missing or unreadable."""
    try:
        manifest = store.read_manifest()
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


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
