"""``mtsim sweep``: run a study's design on this machine or a Dask cluster, into a result store.

::

    mtsim sweep experiments/kol_payment_grid.yaml                 # local process pool
    mtsim sweep EXPERIMENT.yaml --workers 1                        # in this process
    mtsim sweep EXPERIMENT.yaml --dask-local 4                     # a Dask LocalCluster
    mtsim sweep EXPERIMENT.yaml --scheduler tcp://host:8786        # an existing Dask cluster
    mtsim sweep EXPERIMENT.yaml --resume --out results/my_study    # finish an interrupted sweep

The work itself is ``model.experiment.sweep.run_sweep``. This module only reads
the command line: the experiment file is checked (exists, readable, valid YAML)
before the heavy modules (NumPy, pandas, the model) are imported, so a mistyped
file name is reported at once. SIGTERM stops a sweep like Ctrl-C: the runs in
flight are cancelled, the pool's workers end, the manifest says ``interrupted``,
and ``--resume`` finishes the rest.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from model.errors import UserError


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the sweep stops the same way."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup
    raise Terminated()


def _warn(message: str) -> None:
    print(f"mtsim: warning: {message}", file=sys.stderr, flush=True)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim sweep``."""
    from model.yamlio import read_yaml_mapping

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    if args.dask_local is not None and args.dask_local < 1:
        raise UserError(f"--dask-local: {args.dask_local}: must be at least 1")
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserError(f"--out: {args.out}: is a file, not a folder; choose a folder")
    read_yaml_mapping(args.experiment, "experiment")  # quick check before the heavy imports

    from model.experiment.sweep import run_sweep

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        summary = run_sweep(
            args.experiment,
            args.out,
            resume=args.resume,
            workers=args.workers,
            scheduler=args.scheduler,
            dask_local=args.dask_local,
            progress=not args.no_progress,
            command=["mtsim", *sys.argv[1:]],
            warn=_warn,
        )
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        where = f" in {args.out}" if args.out else ""
        print(
            f"mtsim: sweep {how}; finished runs are kept{where}; "
            "the same command with --resume finishes the rest",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
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
