r"""``mtsim optimize OPTIMIZATION.yaml``: search policy mixes for the best trade-offs.

::

    mtsim optimize experiments/optimize_payment_trust.yaml --workers 2
    mtsim optimize experiments/optimize_payment_trust.yaml --dask-local 4
    mtsim optimize experiments/optimize_payment_trust.yaml     # again: resumes

The problem is ``model.decision.optimize``; the search (Optuna NSGA-II, journal storage)
``model.workflows.optimize``.
Only light modules are imported at the top, so input errors show in well under a second.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from model.commands.common import (
    add_executor_options,
    check_executor_options,
    executor_from_args,
)
from model.errors import UserError
from model.workflows.folders import check_out_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``optimize`` subcommand."""
    parser = subparsers.add_parser(
        "optimize",
        help="search policy mixes (levers, strengths, timing) for the Pareto front within a budget",
        description=(
            "Multi-objective search (Optuna NSGA-II) over the lever strengths, start weeks and "
            "durations of an optimization file, with the model-computed total policy cost as a "
            "budget constraint and common random numbers across candidates. Writes trials.csv, "
            "pareto.csv, pareto.png, mixes/mix-KK.yaml, report.html and manifest.json; the "
            "study journal in the output folder lets a rerun resume."
        ),
    )
    parser.add_argument("optimization", metavar="OPTIMIZATION.yaml", help="optimization file")
    add_executor_options(
        parser,
        workers_help="local worker processes (default: the machine's cores)",
        dask_local_help="start a Dask LocalCluster of N worker processes for this search",
        scheduler_help="address of a running Dask scheduler",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default results/<name>); rerun with it to resume",
    )
    parser.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="evaluate N trials in total (overrides the file's trials:)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim optimize``."""
    if not Path(args.optimization).is_file():
        raise UserError(f"{args.optimization}: no such optimization file")
    if args.trials is not None and args.trials < 1:
        raise UserError(f"--trials: {args.trials}: must be at least 1")
    check_executor_options(args)
    if args.out:  # a read-only or unwritable folder: one line, before the file is checked
        check_out_folder(Path(args.out))
    from model.decision.optimize import load_problem
    from model.workflows.optimize import check_same_problem, run_optimization

    problem = load_problem(args.optimization)  # before the runner's heavy imports
    if args.trials is not None:
        problem.spec = problem.spec.model_copy(update={"trials": args.trials})
    out = Path(args.out) if args.out else Path("results") / problem.name
    check_out_folder(out)  # a read-only or unwritable folder: one line, before any run
    check_same_problem(problem, out)  # a changed file: one line, before Optuna is imported
    command = "mtsim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with executor_from_args(args) as (executor, workers, where):
        if not args.quiet:
            print(f"optimize {problem.name}: evaluating on {where}", file=sys.stderr)
        result = run_optimization(
            problem,
            out,
            executor=executor,
            workers=workers,
            progress=not args.quiet,
            command=command,
        )
    names = problem.objective_names()
    print(
        f"{result.out}: {len(result.trials)} trials ({result.evaluated_now} evaluated now, "
        f"{result.resumed_from} finished earlier), {len(result.front)} on the Pareto front "
        f"within budget {problem.spec.budget:,.0f} ({result.seconds:.1f} s)"
    )
    for _, row in result.front.sort_values(names[0]).head(10).iterrows():
        mix = ", ".join(f"{v.name}={row[v.name]:.3g}" for v in problem.variables)
        shown = problem.shown_objectives(row)  # in the units of the report (% for shares)
        units = [o.shown()[1] for o in problem.spec.objectives]
        objs = ", ".join(f"{n}={v} [{u}]" for n, v, u in zip(names, shown, units, strict=True))
        print(f"- {mix}: {objs}, cost {row['total_policy_cost']:,.0f}")
    print(f"report: {result.files['report']}")
    mixes = sorted((result.out / "mixes").glob("mix-*.yaml"))
    if ("base_mix" in result.files or problem.start is not None) and mixes:
        from model.decision.optimize import check_command

        base = result.files.get("base_mix", result.out / "mixes" / "base.yaml")
        print(f"check a mix: {check_command(problem, base, mixes[0])}")
    return 0
