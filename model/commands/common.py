"""What several commands share: the executor options, and SIGTERM handled as an interrupt.

Light: argparse, signal and ``model.errors`` only, so a command can use it before
checking its input. The executor itself is opened by
``model.experiment.executors.open_executor`` (imported when one is opened).
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Executor

SCHEDULER_HELP = "address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786"


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add ``--set PATH=VALUE`` (repeatable; the texts land in ``args.overrides``)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=help_text,
    )


def add_executor_options(
    parser: argparse.ArgumentParser,
    *,
    workers_help: str,
    dask_local_help: str,
    scheduler_help: str = SCHEDULER_HELP,
) -> None:
    """Add ``--workers W``, ``--scheduler ADDRESS`` and ``--dask-local N`` (one of them).

    Args:
        parser: the command's parser.
        workers_help: help of ``--workers`` (what its default is, for this command).
        dask_local_help: help of ``--dask-local``.
        scheduler_help: help of ``--scheduler``.
    """
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--workers", type=int, metavar="W", help=workers_help)
    how.add_argument("--scheduler", metavar="ADDRESS", help=scheduler_help)
    how.add_argument("--dask-local", type=int, metavar="N", help=dask_local_help)


def check_executor_options(args: argparse.Namespace) -> None:
    """Check ``--workers`` and ``--dask-local`` before anything heavy is imported.

    Raises:
        UserError: a count below 1.
    """
    for option, value in (("--workers", args.workers), ("--dask-local", args.dask_local)):
        if value is not None and value < 1:
            raise UserError(f"{option}: {value}: must be at least 1")


def executor_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the executor options as keywords: ``workers``, ``scheduler``, ``dask_local``."""
    return {"workers": args.workers, "scheduler": args.scheduler, "dask_local": args.dask_local}


@contextmanager
def executor_from_args(args: argparse.Namespace) -> Iterator[tuple[Executor | None, int, str]]:
    """Open the executor the options ask for: yield (executor or None, workers, description).

    None with one worker runs in this process, None with more lets the runner open a
    local process pool; a Dask cluster (``--scheduler``, ``--dask-local``) is closed at
    the end (``model.experiment.executors.open_executor``).
    """
    from model.experiment.executors import open_executor

    with open_executor(**executor_options(args)) as opened:
        yield opened


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that a command stops the same way."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM while the block runs; restore the handler after."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_exit(exc: KeyboardInterrupt) -> tuple[str, int]:
    """Describe an interrupt and give its exit code: SIGTERM 143, Ctrl-C 130."""
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM)", 143
    return "interrupted", 130
