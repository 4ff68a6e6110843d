"""Running many models over any ``concurrent.futures.Executor``.

A run is a pure function of (resolved scenario, seed, steps), so the same tasks
give the same tables whichever executor runs them: in this process, a local
process pool, or a Dask cluster (``distributed.Client(...).get_executor()``).
A run that raises is returned as a failed ``RunResult`` with its message and
traceback; it never stops the others.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class RunTask:
    """One model run to do.

    Attributes:
        key: a unique name of the run within its study (e.g. its run id).
        scenario: the resolved scenario (``Scenario.resolved()``), plain data so it pickles small.
        seed: the run's seed.
        steps: steps to run (None: the scenario's ``simulation.steps``).
        meta: anything to carry through to the result (scenario name, replication, design point).
    """

    key: str
    scenario: Mapping[str, Any]
    seed: int
    steps: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """The outcome of one run.

    Attributes:
        key: the task's key.
        meta: the task's meta.
        seed: the task's seed.
        table: the run table (one row per step) or None when the run failed.
        error: one-line error message when it failed.
        traceback: the full traceback when it failed.
        seconds: wall time of the run.
    """

    key: str
    meta: Mapping[str, Any]
    seed: int
    table: pd.DataFrame | None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the run finished."""
        return self.error is None


def simulate_task(task: RunTask) -> pd.DataFrame:
    """Build the scenario and run the model: the default work of a task."""
    from model.market import run_model
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    return run_model(scenario, seed=int(task.seed), steps=task.steps)


def execute_task(task: RunTask, work: Callable[[RunTask], pd.DataFrame] = simulate_task) -> RunResult:
    """Run one task and capture its table or its error (never raises, picklable)."""
    start = time.perf_counter()
    try:
        table = work(task)
    except Exception as exc:  # noqa: BLE001 - a failed run is data, not a crash
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return RunResult(
            key=task.key,
            meta=dict(task.meta),
            seed=int(task.seed),
            table=None,
            error=message,
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - start,
        )
    return RunResult(
        key=task.key,
        meta=dict(task.meta),
        seed=int(task.seed),
        table=table,
        seconds=time.perf_counter() - start,
    )


def default_workers() -> int:
    """Worker processes to use by default: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def run_tasks(
    tasks: Iterable[RunTask],
    executor: Executor | None = None,
    workers: int = 1,
    progress: bool = True,
    desc: str = "runs",
    work: Callable[[RunTask], pd.DataFrame] = simulate_task,
) -> Iterator[RunResult]:
    """Run tasks and yield their results as they finish.

    Args:
        tasks: the runs.
        executor: any ``concurrent.futures.Executor`` (a Dask client's ``get_executor()``
            for a cluster). None: in this process when ``workers`` is 1, else a local
            process pool of ``workers`` processes, closed at the end.
        workers: processes for the default pool.
        progress: show a progress bar (runs done, failed, time left) on stderr.
        desc: label of the progress bar.
        work: the function that turns a task into a table (must be picklable for pools).

    Yields:
        RunResult for every task, in completion order.
    """
    from tqdm.auto import tqdm

    todo = list(tasks)
    bar = tqdm(total=len(todo), desc=desc, unit="run", disable=not progress or not todo)
    failed = 0

    def _tick(result: RunResult) -> None:
        nonlocal failed
        failed += 0 if result.ok else 1
        bar.set_postfix(failed=failed, refresh=False)
        bar.update(1)

    own_pool: Executor | None = None
    try:
        if executor is None and workers <= 1:
            for task in todo:
                result = execute_task(task, work)
                _tick(result)
                yield result
            return
        if executor is None:
            own_pool = ProcessPoolExecutor(max_workers=workers)
            executor = own_pool
        futures: dict[Future, RunTask] = {executor.submit(execute_task, t, work): t for t in todo}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker itself died
                result = RunResult(
                    key=task.key,
                    meta=dict(task.meta),
                    seed=int(task.seed),
                    table=None,
                    error=f"worker failed: {type(exc).__name__}: {exc}".splitlines()[0],
                    traceback=traceback.format_exc(),
                )
            _tick(result)
            yield result
    finally:
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
