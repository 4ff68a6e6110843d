"""``mtsim sweep``: run a study's design on this machine or a Dask cluster, into a result store.

::

    mtsim sweep experiments/kol_payment_grid.yaml                 # local process pool
    mtsim sweep EXPERIMENT.yaml --workers 1                        # in this process
    mtsim sweep EXPERIMENT.yaml --dask-local 4                     # a Dask LocalCluster
    mtsim sweep EXPERIMENT.yaml --scheduler tcp://host:8786        # an existing Dask cluster
    mtsim sweep EXPERIMENT.yaml --resume --out results/my_study    # finish an interrupted sweep

The work itself is ``model.workflows.sweep.run_sweep``. This module only reads
the command line: the experiment file is checked (exists, readable, valid YAML)
before the heavy modules (NumPy, pandas, the model) are imported, so a mistyped
file name is reported at once. ``--resume`` recomputes a damaged part (a truncated
or empty file, a part of another study: ``model.workflows.sweep``) and says so on the
summary line. SIGTERM stops a sweep like Ctrl-C: the runs in
flight are cancelled, the pool's workers end, the manifest says ``interrupted``,
and ``--resume`` finishes the rest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.commands.common import (
    add_executor_options,
    check_executor_options,
    executor_options,
    interrupt_exit,
    sigterm_as_interrupt,
)
from model.errors import UserError
from model.workflows.folders import check_out_folder


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
    add_executor_options(
        parser,
        workers_help="local worker processes (1: run in this process; default: number of cores)",
        dask_local_help="start a Dask LocalCluster of N worker processes on 127.0.0.1 for this "
        "sweep",
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


def _warn(message: str) -> None:
    print(f"mtsim: warning: {message}", file=sys.stderr, flush=True)


def _damaged_note(damaged: list[int], runs: int, out: Path) -> str:
    """Say what ``--resume`` did with damaged parts (empty when there were none)."""
    if not damaged:
        return ""
    recomputed = sum(run < runs for run in damaged)
    foreign = len(damaged) - recomputed
    said = []
    if recomputed:
        said.append(f"{recomputed} damaged part{'s' * (recomputed > 1)} recomputed")
    if foreign:
        said.append(f"{foreign} part{'s' * (foreign > 1)} of runs not in the design set aside")
    return f"; {', '.join(said)} (the files are kept in {out / 'damaged'})"


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim sweep``."""
    from model.yamlio import read_yaml_mapping

    check_executor_options(args)
    try:
        if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
            raise UserError(f"--out: {args.out}: is a file, not a folder; choose a folder")
    except OSError as exc:  # a name too long, a folder that cannot be read, ...
        raise UserError(f"--out: {args.out[:200]!r}: cannot be used ({exc.strerror})") from None
    read_yaml_mapping(args.experiment, "experiment")  # quick check before the heavy imports
    from model.experiment.spec import read_experiment_spec

    spec = read_experiment_spec(args.experiment)  # the schema: still before pandas and PyArrow
    out = Path(args.out) if args.out is not None else Path("results") / str(spec.name)
    if args.resume and args.out is not None:  # a changed study: one line, from study.json
        from model.experiment.study import check_same_study

        check_same_study(out, args.experiment, spec)
    check_out_folder(out)  # a read-only or unwritable folder: one line, before any import

    from model.workflows.sweep import run_sweep

    try:
        with sigterm_as_interrupt():
            summary = run_sweep(
                args.experiment,
                args.out,
                resume=args.resume,
                **executor_options(args),
                progress=not args.no_progress,
                command=["mtsim", *sys.argv[1:]],
                warn=_warn,
            )
    except KeyboardInterrupt as exc:
        how, code = interrupt_exit(exc)
        where = f" in {args.out}" if args.out else ""
        print(
            f"mtsim: sweep {how}; finished runs are kept{where}; "
            "the same command with --resume finishes the rest",
            file=sys.stderr,
        )
        return code
    earlier = f", {summary.skipped} finished earlier" if summary.skipped else ""
    print(
        f"{summary.out}: {summary.computed} runs finished now{earlier}, "
        f"{summary.failed} failed, of {summary.runs} ({summary.seconds:.1f} s)"
        + _damaged_note(summary.damaged, summary.runs, summary.out)
    )
    if summary.failed:
        print(
            f"mtsim: {summary.failed} runs failed; errors and tracebacks are in "
            f"{summary.out / 'failures'}; rerun them with --resume",
            file=sys.stderr,
        )
        return 1
    return 0
