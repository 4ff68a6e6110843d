"""``mtsim run``: run one scenario (one or more replications) and write its results folder.

The work is ``model.workflows.run.run_replications`` (the folder, its files, staging
and replacing an earlier run: see there). This module reads the command line and
prints the outcome:

- the input (options, the scenario file) is checked before NumPy, pandas and the
  model are imported, so a mistake is reported in a fraction of a second;
- Ctrl-C or SIGTERM during several replications writes the replications that had
  finished (and says how many), or says that nothing was written (exit code 130 for
  Ctrl-C, 143 for SIGTERM);
- the summary gives the metrics tagged ``run_summary`` in the metric registry
  (model/metrics.py) at the last week, as the registry formats them (the mean of
  the replications when there are several); every line names the replications it
  covers the same way (``mean of the 2 finished replications of 20`` after an
  interrupt or failures: ``RunOutcome.averaged_over``); exit code 1 when a
  replication failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.commands.common import add_set_option, interrupt_exit, sigterm_as_interrupt
from model.errors import UserError
from model.workflows.run import (
    MAX_STEPS,
    RunOutcome,
    check_run_options,
    check_targets,
    run_replications,
    warn_policies_never_act,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a scenario and write time series, manifest and a summary figure",
        description=(
            "Run SCENARIO.yaml and write timeseries.csv, groups.csv, manifest.json and "
            "summary.png; with simulation.record_consumers_every also "
            "consumers/replication-RRR.parquet, with platforms.record_merchants_every "
            "merchants/replication-RRR.parquet."
        ),
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        help="scenario YAML file, e.g. scenarios/baseline.yaml (with --from-state: optional, "
        "the saved scenario plus policies from the saved week on)",
    )
    parser.add_argument(
        "--steps", type=int, help=f"weeks to simulate, 1 to {MAX_STEPS:,} (default: the scenario's)"
    )
    parser.add_argument("--seed", type=int, help="seed of replication 0 (default: the scenario's)")
    parser.add_argument("--reps", type=int, default=1, help="replications (seeds seed..seed+R-1)")
    add_set_option(
        parser, "override one scenario key, e.g. --set population.consumers=2000 (repeatable)"
    )
    parser.add_argument("--out", help="output folder (default: results/<scenario>/<run id>/)")
    parser.add_argument("--workers", type=int, default=1, help="processes for replications")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--save-state",
        type=int,
        metavar="WEEK",
        help="save the run's full state at the end of week WEEK (0: the start) into the results "
        "folder as state-week-WWW.npz (or --state-out); start runs from it with --from-state",
    )
    parser.add_argument("--state-out", metavar="PATH", help="where --save-state writes the state")
    parser.add_argument(
        "--from-state",
        metavar="PATH",
        help="start from a state saved with --save-state and run on to the scenario's last week "
        "(or --steps); the same scenario and seed continue the saved run byte for byte",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the scenario, write the results folder and print a summary."""
    from model.workflows.folders import check_out_folder
    from model.yamlio import read_yaml_mapping

    check_run_options(args.steps, args.reps, args.workers, args.seed, args.out)
    if args.out:  # a read-only or unwritable folder: one line, before the heavy imports
        check_out_folder(Path(args.out))
    if args.state_out and args.save_state is None:
        raise UserError("--state-out: give --save-state WEEK too (the week to save)")
    if args.scenario is None and args.from_state is None:  # as argparse says it
        print("mtsim run: error: the following arguments are required: scenario", file=sys.stderr)
        return 2
    if args.scenario is not None:  # must exist and be readable YAML before the heavy imports
        read_yaml_mapping(args.scenario, "scenario")
    if args.from_state is not None:
        from model.state_io import read_state

        saved = read_state(args.from_state)  # another version or a changed scenario: one line
        if args.scenario is None:
            scenario = saved.scenario(args.overrides)
        else:
            from model.scenario import load_scenario

            scenario = load_scenario(args.scenario, args.overrides)
        from model.state_io import StateError, future_difference, scenario_hash

        problem = future_difference(saved.scenario(), scenario, saved.week)
        if problem is not None:  # one line: the file, what differs, the two hashes
            raise StateError(
                f"{args.from_state}: {args.scenario or '--set'}: {problem} (scenario hash "
                f"{scenario_hash(scenario)[:12]}, saved {saved.scenario_hash[:12]})"
            )
        source = args.scenario or f"{args.from_state} (saved scenario)"
    else:
        from model.scenario import load_scenario

        scenario = load_scenario(args.scenario, args.overrides)
        source = args.scenario
    check_targets(scenario, source)
    warn_policies_never_act(scenario, args.steps or scenario.simulation.steps)
    with sigterm_as_interrupt():
        outcome = run_replications(
            scenario,
            steps=args.steps,
            seed=args.seed,
            reps=args.reps,
            out=args.out,
            workers=args.workers,
            progress=not args.quiet,
            command=" ".join(["mtsim", *sys.argv[1:]]) if sys.argv else "mtsim run",
            scenario_file=args.scenario,
            overrides=args.overrides,
            start=args.from_state,
            save_state=args.save_state,
            state_out=args.state_out,
        )
    code = _report(outcome, args.reps, scenario.population.consumers)
    if args.from_state is not None and outcome.finished:
        print(f"started from: {args.from_state} (week {saved.week})")
    if args.save_state is not None and outcome.finished:
        from model.workflows.run import state_file_name

        where = args.state_out or str(outcome.out / state_file_name(args.save_state))
        print(
            f"state saved: {where} (week {args.save_state}); go on from it with "
            f"mtsim run --from-state {where}"
        )
    return code


def _report(outcome: RunOutcome, reps: int, consumers: int) -> int:
    """Print what the run wrote; return the exit code."""
    out, steps = outcome.out, outcome.steps
    if outcome.interrupted is not None and not outcome.finished:
        how, code = interrupt_exit(outcome.interrupted)
        print(
            f"mtsim: {how} before any replication finished; nothing was written"
            + (f" (earlier results in {out}/ are unchanged)" if out.is_dir() else ""),
            file=sys.stderr,
        )
        return code
    done = len(outcome.finished)
    replications = (
        f"{reps} replication{'s' * (reps > 1)}"
        if done == reps
        else f"{done} of {reps} replications finished"
    )
    print(
        f"mtsim run: {outcome.scenario[:80]}, {replications} x {steps} weeks, {consumers} consumers"
    )
    if outcome.table is not None:
        from model.metrics import format_metric, metrics_tagged

        table = outcome.table
        final = table[table["step"] == steps][list(metrics_tagged("run_summary"))].mean()
        over = outcome.averaged_over()
        shown = {
            str(name): format_metric(str(name), float(value), averaged=done > 1)
            for name, value in final.items()
        }
        width = max(map(len, shown.values()), default=0)
        for name, text in shown.items():
            print(f"  {name:<22} {text:>{width}}   (week {steps}{', ' + over if over else ''})")
    for rep, msg in sorted(outcome.failures.items()):
        print(f"  replication {rep} (seed {outcome.seeds[rep]}) failed: {msg}", file=sys.stderr)
    outputs = outcome.outputs
    shown_outputs = [o for o in outputs if not o.startswith(("consumers/", "merchants/"))]
    for folder in ("consumers/", "merchants/"):
        if any(o.startswith(folder) for o in outputs):
            shown_outputs.append(folder)
    note = "; replaced the earlier results in this folder" if outcome.replaced else ""
    if outcome.stale_staging:
        count = len(outcome.stale_staging)
        note += f"; removed {count} staging folder{'s' * (count > 1)} left by a killed run"
    print(f"results: {out}/ ({', '.join(shown_outputs)}){note}")
    if outcome.interrupted is not None:
        how, code = interrupt_exit(outcome.interrupted)
        print(
            f"mtsim: {how}; {done} of {reps} replications had finished and were written to {out}/",
            file=sys.stderr,
        )
        return code
    return 1 if outcome.failures else 0
