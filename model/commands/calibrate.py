"""``mtsim calibrate CALIBRATION.yaml``: Bayesian calibration (ABC-SMC) to observed series.

Only light modules are imported at the top: the calibration file, its scenario and
its data, and that the output folder can be written, are checked first
(:func:`model.validation.calibration.load_calibration`), and pyabc, pandas, the model
and matplotlib are imported only once the input is known to be good, so a mistake is
reported in well under a second. The folder is written as a whole at the end
(``model.workflows.calibrate.calibrate``): a full disk, Ctrl-C (exit 130) or SIGTERM
(exit 143) leaves an earlier fit there as it was, in one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.commands.common import (
    add_executor_options,
    add_set_option,
    check_executor_options,
    executor_options,
    interrupt_exit,
    sigterm_as_interrupt,
)
from model.errors import UserError
from model.workflows.folders import check_out_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim calibrate`` to the CLI."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit scenario parameters to observed series (ABC-SMC, pyabc)",
        description=(
            "Fit scenario parameters to observed time series by approximate Bayesian "
            "computation (ABC-SMC, pyabc). Writes the posterior (posterior.csv, "
            "posterior_summary.csv), predictive bands against the data (predictive.png), "
            "pairwise posterior plots (pairs.png), fitted_scenario.yaml and calibration.json; "
            "with --holdout also out_of_sample.csv (RMSE, 50%% and 90%% coverage against "
            "carry-forward, linear-trend, logistic and Bass baselines), appended to the "
            "validation log (holdout.log) with --note."
        ),
    )
    parser.add_argument(
        "config", help="calibration file (YAML), e.g. experiments/calibrate_cnnic.yaml"
    )
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="fit only up to holdout.fit_until and predict the later observations",
    )
    parser.add_argument(
        "--note",
        metavar="TEXT",
        help=(
            "with --holdout (required): what changed since the hold-out was last scored; "
            "it goes into the validation log with the scores"
        ),
    )
    parser.add_argument(
        "--out", metavar="DIR", help="output folder (default: the file's 'output', + /holdout)"
    )
    add_executor_options(
        parser,
        workers_help="local worker processes (default: abc.workers; 1 is exactly reproducible)",
        dask_local_help="start a Dask LocalCluster of N worker processes on 127.0.0.1",
    )
    parser.add_argument("--particles", type=int, metavar="P", help="override abc.population_size")
    parser.add_argument("--generations", type=int, metavar="G", help="override abc.max_generations")
    parser.add_argument(
        "--max-simulations", type=int, metavar="S", help="override abc.max_simulations"
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        metavar="M",
        help="override abc.max_minutes: stop ABC-SMC after the generation running at M minutes",
    )
    parser.add_argument(
        "--draws",
        type=int,
        metavar="D",
        help=(
            "override abc.predictive_draws (and run the point estimate, and choose among,"
            " at most D times and D candidates; refine it with at most D points)"
        ),
    )
    parser.add_argument(
        "--outputs-only",
        action="store_true",
        help=(
            "do not fit: redo the posterior predictive runs, the point estimate, the tables "
            "and figures from the fit already in the output folder"
        ),
    )
    add_set_option(
        parser,
        (
            "override one key of the base scenario for every run, added to the file's "
            "overrides, e.g. --set population.consumers=500 for a quick first try (repeatable)"
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=handle)


def _check_options(args: argparse.Namespace) -> None:
    check_executor_options(args)
    for option, value, least in (
        ("--particles", args.particles, 5),
        ("--generations", args.generations, 1),
        ("--max-simulations", args.max_simulations, 10),
        ("--draws", args.draws, 1),
    ):
        if value is not None and value < least:
            raise UserError(f"{option}: {value}: must be at least {least}")
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise UserError(f"--max-minutes: {args.max_minutes}: must be more than 0")
    if args.holdout and not (args.note or "").strip():
        raise UserError(
            "--holdout scores the forecast against held-out data: say what changed since "
            'its last scoring with --note "..." (it goes into the validation log)'
        )
    if args.note is not None and not args.holdout:
        raise UserError("--note: only with --holdout (it labels a scoring in the validation log)")


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim calibrate``."""
    _check_options(args)
    source = Path(args.config)
    if not source.exists():
        raise UserError(f"{source}: file not found")
    if source.is_dir():
        raise UserError(f"{source}: is a folder, not a calibration file")
    from model.validation.calibration import check_earlier_fit, default_output, load_calibration

    # the folder first (the schema alone gives its default): one line before the full check
    out_dir = Path(args.out) if args.out else default_output(args.config, args.holdout)
    if args.outputs_only:
        check_earlier_fit(out_dir)
    check_out_folder(out_dir)
    calibration = load_calibration(args.config, holdout=args.holdout, overrides=args.overrides)
    if args.scheduler is not None:  # one line now, not after the heavy imports
        from model.experiment.executors import check_scheduler

        check_scheduler(args.scheduler)

    # the input is good: now the heavy imports
    from model.workflows.calibrate import calibrate

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    cfg = calibration.config
    fitted = sum(int(calibration.fit_mask(n).sum()) for n in calibration.series_names)
    log(
        f"calibrating {cfg.name}: {len(cfg.parameters)} parameters, {len(cfg.series)} series, "
        f"{fitted} fitted observations, {calibration.steps} steps per run"
        + (" (hold-out)" if args.holdout else "")
    )
    if calibration.events_off:
        log(
            "hold-out: off because they start after the cut: "
            + "; ".join(calibration.events_off)
            + (
                f" (not fitted: {', '.join(calibration.parameters_off)})"
                if calibration.parameters_off
                else ""
            )
        )
    earlier = None
    if args.outputs_only:
        from model.validation.abc import load_result

        earlier = load_result(calibration, out_dir)
        log(
            f"--outputs-only: the fit in {out_dir} ({len(earlier.particles)} particles); no ABC run"
        )
    try:
        with sigterm_as_interrupt():
            run, paths = calibrate(
                calibration,
                out_dir,
                population_size=args.particles,
                max_generations=args.generations,
                max_simulations=args.max_simulations,
                max_minutes=args.max_minutes,
                draws=args.draws,
                **executor_options(args),
                quiet=args.quiet,
                log=log,
                result=earlier,
                note=args.note,
            )
    except KeyboardInterrupt as exc:
        how, code = interrupt_exit(exc)
        print(f"mtsim: calibrate {how}; nothing written, {out_dir}/ is as it was", file=sys.stderr)
        return code

    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 20):
        summary = run.abc.summary().drop(columns=["paths"])
        print("posterior (last generation, weighted):")
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(
            "\nin sample (point estimate, mean of runs; points: share points, or percent "
            "of an index's reference value):"
        )
        print(run.in_sample_check().to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if args.holdout:
            print("\nout of sample (points as above; coverage of the 50% and 90% intervals):")
            print(run.out_of_sample().to_string(index=False, float_format=lambda v: f"{v:.2f}"))
            from model.validation.validation_log import read_log
            from model.workflows.calibrate import validation_log_path

            logged = read_log(validation_log_path(calibration))
            if logged:
                print(
                    f"\nvalidation log: scoring {logged[-1]['scoring']} "
                    f"({logged[-1]['status']}) appended to {validation_log_path(calibration)}"
                )
    print(
        f"\n{run.abc.simulations} model runs in {len(run.abc.generations)} "
        f"generation{'' if len(run.abc.generations) == 1 else 's'} "
        f"({run.abc.stop_reason}); ABC {run.abc.seconds:.0f} s, predictive "
        f"{run.predictive_seconds:.0f} s, {run.abc.sampler}; wrote {out_dir}/"
    )
    for path in paths.values():
        print(f"  {path.name}")
    return 0


__all__ = ["register", "handle"]
