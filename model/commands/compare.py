r"""``mtsim compare``: the command line of a policy comparison (work in model.workflows.compare).

::

    mtsim compare scenarios/baseline.yaml scenarios/coupons_before_trust.yaml \
        --threshold payment_adoption=0.5 --reps 10
    mtsim compare scenarios/baseline.yaml scenarios/combined_package.yaml --decompose
    mtsim compare scenarios/baseline.yaml scenarios/payment_security.yaml \
        scenarios/integrity.yaml --uncertain experiments/uncertain_worlds.yaml

Only light modules are imported at the top, so input errors show in well under a second.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from model.commands.common import add_set_option, interrupt_exit, sigterm_as_interrupt
from model.errors import UserError
from model.workflows.compare import DEFAULT_REPS
from model.workflows.folders import check_out_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    parser = subparsers.add_parser(
        "compare",
        help="compare policy scenarios side by side (figures, outcome table, HTML report)",
        description=(
            "Run every scenario R times with common random numbers (replication i of every "
            "scenario uses seed SEED+i, the rule of mtsim run) and write timeseries.csv, "
            "outcomes.csv, comparison.png/svg, effects.png, timelines.png, report.html and "
            "manifest.json. The first scenario is the reference the others are compared with: "
            "give two or more."
        ),
    )
    parser.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO.yaml",
        help="scenario files: the reference first, then one or more to compare with it",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        metavar="R",
        help=f"replications per scenario (default {DEFAULT_REPS}; with --uncertain: the "
        "experiment's replications)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="weeks to simulate (default: the scenarios' simulation.steps)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="worker processes (default: the machine's cores; 1 runs in this process)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default results/compare-<names>-<hash>)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of replication 0; replication i uses SEED+i (default: the first "
        "scenario's simulation.seed)",
    )
    add_set_option(
        parser,
        "override a key in every scenario, e.g. --set population.consumers=2000 (repeatable)",
    )
    parser.add_argument(
        "--threshold",
        dest="thresholds",
        action="append",
        default=[],
        metavar="METRIC=LEVEL",
        help="also report the weeks until METRIC reaches LEVEL, e.g. payment_adoption=0.5 "
        "(repeatable)",
    )
    parser.add_argument(
        "--decompose",
        action="store_true",
        help="also run each lever of every package alone and split the package's effect into "
        "its levers and their interaction",
    )
    parser.add_argument(
        "--uncertain",
        metavar="EXPERIMENT.yaml",
        default=None,
        help="instead: run every scenario in each world of the experiment file's design and "
        "report regret (shortfall from the best scenario of each world)",
    )
    parser.add_argument(
        "--from-state",
        metavar="PATH",
        default=None,
        help="start every run from a state saved with mtsim run --save-state WEEK: the reference "
        "is the saved scenario, each SCENARIO.yaml a policy file (name, description, policies "
        "starting at WEEK or later); give --steps, the last week",
    )
    parser.add_argument(
        "--allow-different-populations",
        action="store_true",
        help="compare scenarios of different population sizes (refused by default: the effects "
        "would include the size); the first line of the output names the difference",
    )
    add_worlds_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)


def add_worlds_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of a robust comparison across worlds (model/workflows/worlds.py)."""
    parser.add_argument(
        "--worlds",
        default=None,
        metavar="N",
        help="instead: repeat the paired comparison in N plausible worlds drawn from the "
        "behavioural parameters' ranges (model/ranges.yaml; Latin hypercube seeded by --seed) "
        "and report how often each effect keeps its sign and what it depends on "
        "(default --reps 2; docs/decisions.md)",
    )
    parser.add_argument(
        "--worlds-from",
        choices=("lhs", "posterior"),
        default="lhs",
        help="with --worlds: lhs (default), or posterior: the fitted parameters from the "
        "calibration's posterior particles (results/calibration/cnnic/posterior.csv)",
    )
    parser.add_argument(
        "--vary",
        default=None,
        metavar="KEYS",
        help="with --worlds: vary only these behavioural parameters, comma-separated keys or "
        "sections (e.g. merchants,trust); the others keep the scenarios' values",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --worlds: finish the study in --out, running only the missing runs",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="with --worlds: run on this Dask scheduler (tcp://host:port)",
    )
    parser.add_argument(
        "--dask-local",
        type=int,
        default=None,
        metavar="W",
        help="with --worlds: start a local Dask cluster with W worker processes",
    )


def _command_line() -> str:
    if sys.argv[1:2] != ["compare"]:
        return ""
    return "mtsim compare " + " ".join(shlex.quote(a) for a in sys.argv[2:])


def check_something_to_compare(files: list[str]) -> None:
    """Refuse one scenario alone: a comparison needs a reference and one more scenario.

    Raises:
        UserError: one line that says what to run instead.
    """
    if len(files) < 2:
        raise UserError(
            "compare: one scenario leaves nothing to compare; give the reference and at least "
            "one more (e.g. mtsim compare scenarios/baseline.yaml scenarios/payment_security.yaml)"
            f", or run it alone: mtsim run {files[0]} --reps {DEFAULT_REPS}"
        )


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim compare``; returns 0, or 1 when some runs failed."""
    from model.workflows.compare import (
        common_steps,
        default_out_dir,
        load_scenarios,
        parse_thresholds,
        replication_seeds,
        run_comparison,
    )

    if args.uncertain is not None:
        from model.yamlio import missing_file_hint, read_yaml_mapping

        if not Path(args.uncertain).is_file():
            hint = missing_file_hint(args.uncertain)
            raise UserError(f"--uncertain: {args.uncertain}: no such experiment file{hint}")
        read_yaml_mapping(args.uncertain, "experiment")  # readable, and an experiment file
    if args.worlds is not None or args.resume or args.scheduler or args.dask_local or args.vary:
        return _handle_worlds(args)
    if args.uncertain is not None and (args.decompose or args.thresholds):
        raise UserError("--uncertain: cannot be combined with --decompose or --threshold")
    reps = args.reps if args.reps is not None else (None if args.uncertain else DEFAULT_REPS)
    if reps is not None and reps < 1:
        raise UserError(f"--reps: {reps}: must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    if args.out:  # a read-only or unwritable folder: one line, before the scenarios load
        check_out_folder(Path(args.out))
    saved = None
    if args.from_state is not None:
        from model.state_io import read_state
        from model.workflows.compare import scenarios_from_state

        if args.uncertain is not None:
            raise UserError("--from-state: cannot be combined with --uncertain")
        saved = read_state(args.from_state)  # another version or a changed scenario: one line
        names, scenarios, sources = scenarios_from_state(
            args.from_state, args.scenarios, args.overrides
        )
    else:
        names, scenarios, sources = load_scenarios(args.scenarios, args.overrides)
    from model.workflows.compare import check_like_with_like

    note = check_like_with_like(names, scenarios, args.allow_different_populations)
    if note is not None:
        print(note, flush=True)
    thresholds = parse_thresholds(args.thresholds)
    steps = common_steps(scenarios, args.steps) if args.uncertain is None else None
    if saved is not None:
        if steps is None or steps <= saved.week:
            raise UserError(
                f"--steps: {args.from_state} was saved at week {saved.week}; give the last week "
                f"of the comparison, after it (e.g. --steps {saved.week + 52})"
            )
    else:
        check_something_to_compare(args.scenarios)
    if steps is not None:
        from model.workflows.run import warn_policies_never_act

        for scenario in scenarios.values():
            warn_policies_never_act(scenario, steps)
    from model.experiment.runner import default_workers

    workers = default_workers() if args.workers is None else args.workers
    if args.uncertain is not None:
        return _handle_uncertain(args, names, scenarios, reps, workers)
    assert steps is not None
    base = scenarios[names[0]].simulation.seed if args.seed is None else args.seed
    if saved is not None and args.seed is None:
        base = saved.seed  # replication 0 continues the saved run
    if base < 0:
        raise UserError(f"--seed: {base}: must be 0 or more")
    plan = None
    all_names = names
    if args.decompose:
        from model.analysis.decomposition import lever_variants

        all_names, scenarios, plan = lever_variants(names, scenarios)
        if not plan:
            raise UserError(
                "--decompose: no scenario after the reference has two or more levers to split"
            )
    out = (
        Path(args.out)
        if args.out
        else default_out_dir(all_names, scenarios, replication_seeds(base, reps), steps)
    )
    if saved is not None and not args.out:  # another present, another folder
        out = out.with_name(f"{out.name}-from-week{saved.week}-{saved.scenario_hash[:6]}")
    check_out_folder(out)  # a read-only or unwritable folder: one line, before any run
    try:
        with sigterm_as_interrupt():  # SIGTERM like Ctrl-C: finished runs are kept
            result = run_comparison(
                all_names,
                scenarios,
                out,
                reps=reps,
                steps=steps,
                workers=workers,
                base_seed=base,
                sources=sources,
                progress=not args.quiet,
                command=_command_line(),
                thresholds=thresholds,
                decomposition=plan,
                start=args.from_state,
            )
    except KeyboardInterrupt as exc:
        what, code = interrupt_exit(exc)
        print(
            f"mtsim: compare {what}; the runs that finished are kept in {out}/ "
            "(manifest.json says interrupted)",
            file=sys.stderr,
        )
        return code
    for fail in result.failures:
        print(
            f"mtsim: run failed: {fail['scenario']} replication {fail['replication']} "
            f"(seed {fail['seed']}): {fail['error']}",
            file=sys.stderr,
        )
    if result.summary is None:
        print(
            f"mtsim: error: every run failed; see {result.out / 'manifest.json'}", file=sys.stderr
        )
        return 1
    from model.analysis.compare import package_window
    from model.analysis.report import scenario_sentences

    done = [n for n in dict.fromkeys(result.summary["scenario"]) if n in names]
    from model.workflows.compare import future_policies

    since = saved.week if saved is not None else 0  # from a state: its policies from then on
    windows = {
        n: w
        for n in done
        if (w := package_window(future_policies(scenarios[n].resolved(), since), steps)) is not None
    }
    if len(done) > 1:
        print("Effects (in brackets: 95% interval of the paired difference):")
    sentences = scenario_sentences(
        result.summary, done, steps, windows=windows, thresholds=thresholds
    )
    for name, text in sentences.items():
        print(f"- {text}" if name != done[0] else f"Reference: {name}")
    if plan and "decomposition" in result.files:
        import pandas as pd

        from model.analysis.decomposition import interaction_words

        table = pd.read_csv(result.files["decomposition"])
        for package in plan:
            rows = table[
                (table["package"] == package)
                & (table["term"] == "interaction")
                & (table["measure"] == "final")
                & (table["metric"].isin(["payment_adoption", "shopper_share"]))
            ]
            for _, row in rows.iterrows():
                print(
                    f"- {package}, interaction of its levers on {row['metric']} at the end: "
                    f"{interaction_words(row)} ({row['mean']:+.4f}, "
                    f"{row['ci_low']:+.4f} to {row['ci_high']:+.4f})"
                )
    print(f"report: {result.files.get('report', result.out)}")
    print(f"folder: {result.out}")
    return 1 if result.failures else 0


def _handle_uncertain(args, names, scenarios, reps, workers) -> int:
    from model.workflows.robustness import run_robustness

    out = (
        Path(args.out)
        if args.out
        else Path("results")
        / ("robustness-" + "-".join(names[:3]) + ("-and-more" if len(names) > 3 else ""))
    )
    result = run_robustness(
        names,
        scenarios,
        args.uncertain,
        out,
        reps=reps,
        steps=args.steps,
        workers=workers,
        progress=not args.quiet,
        command=_command_line(),
    )
    for fail in result.failures:
        print(
            f"mtsim: run failed: {fail['package']} world {fail['world']} replication "
            f"{fail['replication']}: {fail['error']}",
            file=sys.stderr,
        )
    print("Regret (shortfall from the best package in each world):")
    for text in result.sentences:
        print(f"- {text}")
    print(f"report: {result.files['report']}")
    print(f"folder: {result.out}")
    return 1 if result.failures else 0


def _handle_worlds(args: argparse.Namespace) -> int:
    """``--worlds N``: the robust comparison (model/workflows/worlds.py)."""
    from model.workflows.compare import load_scenarios
    from model.workflows.worlds import parse_worlds, run_worlds

    if args.worlds is None:
        raise UserError("--vary, --resume, --scheduler and --dask-local go with --worlds N")
    worlds = parse_worlds(args.worlds)
    if args.uncertain is not None or args.decompose or args.thresholds:
        raise UserError("--worlds: cannot be combined with --uncertain, --decompose or --threshold")
    reps = 2 if args.reps is None else args.reps
    if reps < 1:
        raise UserError(f"--reps: {reps}: must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    check_something_to_compare(args.scenarios)
    from model.workflows.worlds import POSTERIOR_FILE

    if args.worlds_from == "posterior" and not POSTERIOR_FILE.is_file():
        raise UserError(
            f"--worlds-from posterior: no posterior file {POSTERIOR_FILE} (run mtsim calibrate "
            "experiments/calibrate_cnnic.yaml first, or use --worlds-from lhs)"
        )
    names, scenarios, _ = load_scenarios(args.scenarios, args.overrides)
    out = (
        Path(args.out)
        if args.out
        else Path("results") / ("worlds-" + "-".join(names[:3]) + f"-{worlds}")
    )
    check_out_folder(out)
    try:
        with sigterm_as_interrupt():
            result = run_worlds(
                names,
                scenarios,
                out,
                worlds=worlds,
                reps=reps,
                steps=args.steps,
                seed=args.seed,
                worlds_from=args.worlds_from,
                vary=[v for v in (args.vary or "").split(",") if v.strip()],
                workers=args.workers,
                scheduler=args.scheduler,
                dask_local=args.dask_local,
                resume=args.resume,
                progress=not args.quiet,
                command=_command_line(),
                say=lambda text: print(text, file=sys.stderr, flush=True),
            )
    except KeyboardInterrupt as exc:
        what, code = interrupt_exit(exc)
        print(
            f"mtsim: compare --worlds {what}; the finished runs are kept in {out}/runs/; "
            "add --resume to the same command to finish",
            file=sys.stderr,
        )
        return code
    for fail in result.failures:
        print(
            f"mtsim: run failed: {fail['scenario']} world {fail['world']} replication "
            f"{fail['replication']}: {fail['error']}",
            file=sys.stderr,
        )
    print(result.paragraph)
    print(f"report: {result.files['report']}")
    print(f"folder: {result.out}")
    return 1 if result.failures else 0
