"""Running many models over any ``concurrent.futures.Executor``.

A run is a pure function of (resolved scenario, seed, steps), so the same tasks
give the same tables whichever executor runs them: in this process, a local
process pool, or a Dask cluster (``distributed.Client(...).get_executor()``).
A run that raises is returned as a failed ``RunResult`` with its message and
traceback; it never stops the others. A task's work is :func:`simulate_task` (the
run table), or :func:`simulate_task_with_groups` (with the group table as well).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from model.market import MarketModel
    from model.scenario import Scenario


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
    start = task.meta.get("start")
    if start is not None:  # from a saved state (model/state_io.py): the weeks after it
        return model_with_groups(
            scenario, seed=int(task.seed), steps=task.steps, start=start, groups=False
        ).timeseries()
    return run_model(scenario, seed=int(task.seed), steps=task.steps)


def start_model(scenario: Scenario, seed: int | None = None, start: str | Path | None = None):
    """Build the model at week 0, or at the week of the saved state ``start``.

    From a state, ``scenario`` must differ from the saved one only in its future
    (model/state_io.py ``future_difference``), and ``seed`` drives the weeks from the
    saved week on (None: the saved run's seed, which continues that run exactly).
    """
    if start is None:
        from model.market import MarketModel

        return MarketModel(scenario, seed=seed)
    from model.state_io import read_state, resume_model

    return resume_model(read_state(start), scenario, seed=seed)


def model_with_groups(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: bool = False,
    start: str | Path | None = None,
    save_state: tuple[int, str | Path] | None = None,
    groups: bool = True,
) -> MarketModel:
    """Build a model that records the group table and run it to week ``steps``.

    The run table is the one of ``model.market.run_model`` (recording draws nothing);
    the model keeps ``model.group_table()`` (docs/population.md) and any per-consumer
    records its scenario asks for.

    Args:
        scenario: the scenario.
        seed: the seed (None: the scenario's; from a state: the saved run's).
        steps: the last week (None: the scenario's ``simulation.steps``); from a state
            saved at week W the run goes on from W to ``steps``.
        progress: show a progress bar of the weeks on stderr.
        start: a state file to start from (model/state_io.py), None: week 0.
        save_state: (week, path): save the full state at the end of that week.
        groups: record the group table.
    """
    from tqdm.auto import tqdm

    model = start_model(scenario, seed=seed, start=start)
    if groups:
        model.track_groups()
    last = scenario.simulation.steps if steps is None else int(steps)
    first = int(model.steps)
    if last < first:
        from model.errors import UserError

        raise UserError(f"--steps: {last}: the state starts at week {first}; give {first} or more")

    def save_if_due() -> None:
        if save_state is not None and int(model.steps) == int(save_state[0]):
            from model.state_io import save_state as write_state

            write_state(model, save_state[1])

    save_if_due()
    for _ in tqdm(
        range(last - first), desc=scenario.name[:40], unit="week", delay=1.0, disable=not progress
    ):
        model.step()
        save_if_due()
    return model


def run_with_groups(
    scenario: Scenario, seed: int | None = None, steps: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one model recording the group table: ``(run table, group table)``."""
    model = model_with_groups(scenario, seed=seed, steps=steps)
    return model.timeseries(), model.group_table()


def simulate_task_with_groups(task: RunTask) -> pd.DataFrame:
    """Work of a task that also keeps the group table (compare, sweeps by group).

    Runs the task like :func:`simulate_task` and returns the run table with the
    group table in ``table.attrs["groups"]`` (pandas keeps ``attrs`` through
    pickling, so this works with process pools). Take it out at once with
    ``table.attrs.pop("groups")``: pandas copies ``attrs`` into frames derived from
    the table.
    """
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    start = task.meta.get("start")
    if start is None:
        table, groups = run_with_groups(scenario, seed=int(task.seed), steps=task.steps)
    else:  # from a saved state (model/state_io.py): the weeks after it
        model = model_with_groups(scenario, seed=int(task.seed), steps=task.steps, start=start)
        table, groups = model.timeseries(), model.group_table()
    table.attrs["groups"] = groups
    return table


def execute_task(
    task: RunTask, work: Callable[[RunTask], pd.DataFrame] = simulate_task
) -> RunResult:
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


WORKERS_PER_CORE = 4
"""Most local worker processes per core (more would only wait for a core)."""

TASKS_PER_WORKER = 4
"""Processes and threads counted for one worker against the user's process limit."""

_told: set[tuple[str, int]] = set()  # (option, count) already said to be capped


def usable_workers(requested: int, option: str = "--workers") -> int:
    """Return how many local worker processes to start when ``requested`` are asked for.

    At most :data:`WORKERS_PER_CORE` per core, and no more than the user's process
    limit (``ulimit -u``, RLIMIT_NPROC) leaves room for, so that ``--workers 100000``
    neither fails to fork nor hangs. When fewer are used, one line on stderr says so
    (once per option and count), e.g. ``mtsim: --workers 100000: using 8 (the
    machine has 2 cores)``. Every local pool and Dask LocalCluster goes through here.

    Args:
        requested: the count asked for (at least 1).
        option: where the count came from, for the message (``--dask-local``, ...).
    """
    cores = default_workers()
    allowed = cores * WORKERS_PER_CORE
    why = f"the machine has {cores} core{'s' if cores != 1 else ''}"
    room = _process_room()
    if room is not None and room < allowed:
        allowed, why = room, f"the process limit (ulimit -u) leaves room for {room}"
    if requested <= allowed:
        return requested
    if (option, requested) not in _told:
        _told.add((option, requested))
        print(f"mtsim: {option} {requested}: using {allowed} ({why})", file=sys.stderr, flush=True)
    return allowed


def _process_room() -> int | None:
    """Return how many workers the user's process limit leaves room for (None: no limit)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        entries = os.listdir("/proc")
    except (ImportError, OSError):  # no such limit, or no /proc to count with
        return None
    if soft == resource.RLIM_INFINITY or os.geteuid() == 0:  # root is not held to it
        return None
    uid, used = os.getuid(), 0
    for entry in filter(str.isdigit, entries):
        try:
            lines = Path(f"/proc/{entry}/status").read_text().splitlines()
            fields = dict(line.split(":", 1) for line in lines if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                used += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):  # gone meanwhile, or unreadable
            continue
    return max(1, (soft - used) // TASKS_PER_WORKER)


PARENT_CHECK_SECONDS = 0.5
"""How often a pool worker checks that the process that started it is still alive."""


def start_pool_worker(parent_pid: int) -> None:
    """Start an mtsim pool worker: die with the parent, leave Ctrl-C to the parent.

    A watchdog thread ends the worker as soon as its parent is gone (``kill -9`` of
    ``mtsim sweep`` leaves no orphans); SIGINT is ignored because the parent stops
    the pool itself. Every pool mtsim starts runs it first in each worker: the
    runner's, the docking checks' and the calibration's pools, pyabc's workers
    (``model.validation.abc``) and Dask LocalCluster workers
    (``model.experiment.executors.dask_setup``).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_CHECK_SECONDS)

    threading.Thread(target=watch, name="mtsim-parent-watch", daemon=True).start()


def new_process_pool(workers: int) -> ProcessPoolExecutor:
    """Open a local process pool whose workers end when this process ends, however it ends.

    ``workers`` is capped by :func:`usable_workers` (as ``--workers``).
    """
    return ProcessPoolExecutor(
        max_workers=usable_workers(workers),
        initializer=start_pool_worker,
        initargs=(os.getpid(),),
    )


def stop_process_pool(pool: ProcessPoolExecutor, now: bool) -> None:
    """Close a pool: wait for it (``now`` False), or end its workers at once (interrupts)."""
    if now:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            try:
                process.terminate()
            except (OSError, AttributeError):
                pass
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            try:
                process.join(timeout=5)
            except (OSError, AssertionError, AttributeError):
                pass
    else:
        pool.shutdown(wait=True, cancel_futures=True)


INTERRUPT_CHECK_SECONDS = 0.2
"""While runs are in flight, how often the runner looks for a held-off Ctrl-C or SIGTERM."""


class _HeldSignals:
    """Hold Ctrl-C and SIGTERM off while the runner works a pool; act on them where it is safe.

    The standard library's futures and process pools are not safe against an exception
    raised at an arbitrary point of the main thread, which is what a signal handler does
    (Ctrl-C's KeyboardInterrupt, ``sigterm_as_interrupt``'s Terminated): raised inside
    ``concurrent.futures.wait`` between taking two futures' locks, it leaves a lock held;
    the pool's manager thread then blocks on that future for good, and the interpreter
    waits for that thread at exit (a sweep that printed "terminated" and never ended, in
    CI on 2026-12-07). So while a pool runs, a signal is only noted; :meth:`check`, called
    between two steps of the runner with no lock held, puts the handlers back and raises
    the signal again, so the handler that was there before acts on it as it would have
    (raising its exception, or ending the process). A second signal before that is
    dropped. Only the main thread can set handlers: elsewhere this does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.pending: int | None = None

    def _note(self, signum: int, frame: Any) -> None:  # noqa: ARG002 - handler signature
        if self.pending is None:
            self.pending = signum

    def start(self) -> None:
        """Note Ctrl-C and SIGTERM from now on (main thread; ignored signals stay ignored)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self.SIGNALS:
            handler = signal.getsignal(sig)
            if handler in (signal.SIG_IGN, None):  # None: set outside Python, left alone
                continue
            self.previous[sig] = handler
            signal.signal(sig, self._note)

    def check(self) -> None:
        """Act on a noted signal now, through the handler that was there before."""
        sig, self.pending = self.pending, None
        if sig is not None:
            self.stop()
            signal.raise_signal(sig)  # its Python handler runs (and raises) right here

    def stop(self) -> None:
        """Put back the handlers found (where nobody replaced ours); deliver a noted signal."""
        for sig, handler in self.previous.items():
            if signal.getsignal(sig) == self._note:
                signal.signal(sig, handler)
        self.previous = {}
        self.check()


@contextmanager
def interrupts_between_waits() -> Iterator[_HeldSignals]:
    """Hold Ctrl-C and SIGTERM off while a block works a pool (see :class:`_HeldSignals`).

    Wait for its futures with :func:`result_when_done`, which acts on a held signal
    between two waits; a signal still held when the block ends acts then.
    """
    held = _HeldSignals()
    held.start()
    try:
        yield held
    finally:
        held.stop()


def result_when_done(future: Future, held: _HeldSignals) -> Any:
    """Return ``future.result()`` once done, acting on a held signal while waiting.

    It waits in steps of :data:`INTERRUPT_CHECK_SECONDS`; between two, a held Ctrl-C or
    SIGTERM acts (raising as its handler does).
    """
    while not future.done():
        held.check()
        wait([future], timeout=INTERRUPT_CHECK_SECONDS)
    held.check()
    return future.result()


def _run_chunk(fn: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    return [fn(item) for item in chunk]


def map_in_order(
    executor: Executor, fn: Callable[[Any], Any], items: Iterable[Any], chunksize: int = 1
) -> list[Any]:
    """``list(executor.map(fn, items, chunksize=chunksize))``, interruptible safely.

    Ctrl-C and SIGTERM act between two waits (:func:`result_when_done`), never inside
    the pool's own locking; on an interrupt the chunks not started are cancelled (the
    caller stops the pool). ``fn`` must pickle, as for ``executor.map``.
    """
    items = list(items)
    chunks = [items[i : i + chunksize] for i in range(0, len(items), max(1, chunksize))]
    futures: list[Future] = []
    with interrupts_between_waits() as held:
        try:
            futures = [executor.submit(_run_chunk, fn, chunk) for chunk in chunks]
            return [out for future in futures for out in result_when_done(future, held)]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _died(task: RunTask, attempts: int, exc: BaseException) -> RunResult:
    times = "once" if attempts == 1 else f"{attempts} times"
    return RunResult(
        key=task.key,
        meta=dict(task.meta),
        seed=int(task.seed),
        table=None,
        error=(
            f"worker failed: its process died {times} while running this run "
            f"(killed, or out of memory?): {type(exc).__name__}"
        ),
        traceback="".join(traceback.format_exception(exc)),
    )


def run_tasks(
    tasks: Iterable[RunTask],
    executor: Executor | None = None,
    workers: int = 1,
    progress: bool = True,
    desc: str = "runs",
    work: Callable[[RunTask], pd.DataFrame] = simulate_task,
    *,
    total: int | None = None,
    retries: int = 2,
    window: int | None = None,
) -> Iterator[RunResult]:
    """Run tasks and yield their results as they finish.

    Tasks are taken from ``tasks`` lazily, a bounded number in flight at a time, so a
    study of millions of runs never holds millions of scenarios in memory.

    With mtsim's own process pool, a worker process that dies (killed, out of
    memory) breaks the pool: the pool is recreated and the runs that were in flight
    are run again one at a time, so the run that kills its worker is found; a run
    whose worker dies ``retries + 1`` times is recorded as failed, the others finish.
    The pool's workers end with this process, even after ``kill -9``. While a pool runs,
    Ctrl-C and SIGTERM are held off and acted on between two results (within
    :data:`INTERRUPT_CHECK_SECONDS`), never inside the pool's own locking; a result the
    caller is handling when one comes is finished first.

    Args:
        tasks: the runs (any iterable; read lazily).
        executor: any ``concurrent.futures.Executor`` (a Dask client's ``get_executor()``
            for a cluster). None: in this process when ``workers`` is 1, else a local
            process pool of ``workers`` processes, closed at the end.
        workers: processes for the default pool.
        progress: show a progress bar (runs done, failed, time left) on stderr.
        desc: label of the progress bar.
        work: the function that turns a task into a table (must be picklable for pools).
        total: number of tasks, for the progress bar (default: ``len(tasks)`` if it has one).
        retries: how often a run whose worker process died is run again (own pool only).
        window: most runs in flight (default: 2 per worker + 2 for the own pool, 1000 for
            a given executor).

    Yields:
        RunResult for every task, in completion order.
    """
    from tqdm.auto import tqdm

    if total is None and hasattr(tasks, "__len__"):
        total = len(tasks)  # type: ignore[arg-type]
    bar = tqdm(total=total, desc=desc, unit="run", disable=not progress or total == 0)
    failed = 0

    def _tick(result: RunResult) -> None:
        nonlocal failed
        failed += 0 if result.ok else 1
        bar.set_postfix(failed=failed, refresh=False)
        bar.update(1)

    pending = iter(tasks)
    own_pool: ProcessPoolExecutor | None = None
    finished = False
    held = _HeldSignals()
    try:
        if executor is None and workers <= 1:
            for task in pending:
                result = execute_task(task, work)
                _tick(result)
                yield result
            finished = True
            return
        held.start()  # from here on, Ctrl-C and SIGTERM act at held.check() only
        if executor is None:
            workers = usable_workers(workers)
            own_pool = new_process_pool(workers)
            executor = own_pool
            limit = window or (2 * workers + 2)
        else:
            limit = window or 1000
        inflight: dict[Future, tuple[RunTask, int]] = {}
        suspects: deque[tuple[RunTask, int]] = deque()  # in flight when a worker died
        exhausted = False
        while True:
            held.check()
            # fill the window; after a worker died, suspects run one at a time
            while True:
                if suspects:
                    if inflight:
                        break
                    task, attempts = suspects.popleft()
                elif len(inflight) < limit and not exhausted:
                    nxt = next(pending, None)
                    if nxt is None:
                        exhausted = True
                        break
                    task, attempts = nxt, 0
                else:
                    break
                try:
                    future = executor.submit(execute_task, task, work)
                except BrokenProcessPool:
                    suspects.appendleft((task, attempts))
                    break
                inflight[future] = (task, attempts)
            if not inflight:
                if exhausted and not suspects:
                    break
                if own_pool is None:  # a given pool that broke: nothing more can run
                    while suspects:
                        task, attempts = suspects.popleft()
                        result = _died(task, attempts + 1, BrokenProcessPool("pool broken"))
                        _tick(result)
                        yield result
                    if exhausted:
                        break
                    continue
                stop_process_pool(own_pool, now=True)
                own_pool = new_process_pool(workers)
                executor = own_pool
                continue
            done, _ = wait(inflight, timeout=INTERRUPT_CHECK_SECONDS, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task, attempts = inflight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    broken = True
                    alone = len(done) == 1 and not inflight
                    tries = attempts + 1 if alone else attempts
                    if own_pool is not None and tries <= retries:
                        suspects.append((task, tries))
                        continue
                    result = _died(task, tries, exc)
                except Exception as exc:  # noqa: BLE001 - the worker itself failed
                    result = RunResult(
                        key=task.key,
                        meta=dict(task.meta),
                        seed=int(task.seed),
                        table=None,
                        error=f"worker failed: {type(exc).__name__}: {exc}".splitlines()[0],
                        traceback="".join(traceback.format_exception(exc)),
                    )
                _tick(result)
                yield result
            if broken and own_pool is not None:
                # every other run in flight fails with the pool: collect them as suspects
                for future in list(inflight):
                    task, attempts = inflight.pop(future)
                    suspects.append((task, attempts))
                stop_process_pool(own_pool, now=True)
                own_pool = new_process_pool(workers)
                executor = own_pool
        finished = True
    finally:
        bar.close()
        try:
            if own_pool is not None:
                stop_process_pool(own_pool, now=not finished)
        finally:
            held.stop()  # a signal noted since the last check acts now, the pool closed
