"""Where runs execute: this process, a local process pool, or a Dask cluster.

``open_executor`` turns the three ways of running (``--workers``, ``--dask-local``,
``--scheduler``) into an executor for ``model.experiment.runner.run_tasks``;
``dask_client`` opens the Dask client itself (also used by calibration, whose ABC
sampler takes a client rather than an executor): the one place mtsim opens one.

Local workers (``--workers``, ``--dask-local``) are capped at what the machine
allows (``model.experiment.runner.usable_workers``, said in one line). A scheduler
that does not answer is reported in one line within :data:`CONNECT_SECONDS`: an
address where nothing listens at once, one that does not answer after the timeout.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from model.errors import UserError
from model.experiment.runner import default_workers, start_pool_worker, usable_workers

CONNECT_SECONDS = 3.0
"""How long to wait for a Dask scheduler (``--scheduler``) to answer."""


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
        count = usable_workers(count)
        where = "this process" if count == 1 else f"local process pool ({count} workers)"
        yield None, count, where
        return
    with dask_client(scheduler, dask_local) as (client, count, where):
        yield client.get_executor(), count, where


@contextmanager
def dask_client(scheduler: str | None, dask_local: int | None) -> Iterator[tuple[Any, int, str]]:
    """Yield (Dask client, workers, description): an existing cluster or a LocalCluster.

    ``scheduler`` connects to a running cluster; otherwise ``dask_local`` workers start
    on 127.0.0.1 (one thread each, no dashboard, only Dask's errors logged; at most
    what ``usable_workers`` allows) and stop at the end. Shared by sweeps, optimization
    and calibration (model/validation/abc.py).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise UserError(
            "Dask is not installed: pip install 'mtsim[sweep]' (dask[distributed])"
        ) from None
    if scheduler is not None:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=f"{CONNECT_SECONDS:g}s")
        except MemoryError:  # something listens there, but answers with another protocol
            raise UserError(
                f"--scheduler: {scheduler}: cannot connect (the answer is not a Dask scheduler's)"
            ) from None
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UserError(f"--scheduler: {scheduler}: cannot connect ({reason})") from None
        try:
            count = len(client.scheduler_info().get("workers", {})) or 1
            yield client, count, f"Dask cluster at {scheduler}"
        finally:
            client.close()
        return
    assert dask_local is not None
    if dask_local < 1:
        raise UserError(f"--dask-local: {dask_local}: must be at least 1")
    dask_local = usable_workers(dask_local, "--dask-local")
    cluster = LocalCluster(
        n_workers=dask_local,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,  # no warning per worker when Ctrl-C stops them
        preload=[__name__],  # each worker runs dask_setup below
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


def dask_setup(worker: Any) -> None:
    """Start a LocalCluster worker as every mtsim pool worker starts (Dask's preload hook).

    The worker process is a child of this process (its nanny runs here), so
    :func:`model.experiment.runner.start_pool_worker` ends it when this process is
    gone and leaves Ctrl-C to this process, which closes the cluster.
    """
    start_pool_worker(os.getppid())


def check_scheduler(scheduler: str) -> None:
    """Refuse a TCP scheduler address where nothing listens, at once (one line).

    Dask's client keeps retrying a refused connection until its timeout; a plain
    socket is refused in a moment. Other transports (``tls://``, ``ucx://``) are left to
    the client and its timeout.
    """
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(scheduler)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--scheduler: {scheduler}: not an address ({exc})") from None
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise UserError(
            f"--scheduler: {scheduler}: cannot connect ({reason}); is the Dask scheduler "
            "running there?"
        ) from None
