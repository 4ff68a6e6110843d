"""Where runs execute: this process, a local process pool, or a Dask cluster.

``open_executor`` turns the three ways of running (``--workers``, ``--dask-local``,
``--scheduler``) into an executor for ``model.experiment.runner.run_tasks``;
``dask_client`` opens the Dask client itself (also used by calibration, whose ABC
sampler takes a client rather than an executor).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from model.errors import UserError
from model.experiment.runner import default_workers


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
    optimization and calibration (model/validation/abc.py).
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
