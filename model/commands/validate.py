"""``mtsim validate [--quick] [--out DIR]``: run the docking checks, print and save the verdict.

``mtsim validate --patterns [--quick] [--seeds S] [--out DIR]`` checks the stylised facts
instead (model/validation/patterns.py): prints one row per fact (criterion, measured
value, seeds passing, verdict) and writes patterns.csv, patterns.md and patterns.json
into the output folder (default results/patterns, or results/patterns-quick); exits 0
when the suite ran, whatever the verdicts (``--strict``: 1 when a fact fails).

Prints a table with one row per comparison: the check, what is compared (which
number the model produced and what it is set against), the expected and measured
values, the pass criterion and pass/fail. Writes ``validation.json`` (every row,
the settings, a manifest), the same table as ``validation.md`` and one figure per
check (``<check>.png``) into the output folder; exits 1 when any check fails (2 on
bad options, as every mtsim command). ``--quick`` runs the same checks with fewer
and smaller runs (for CI); the default is the full set.

The options, and that the output folder can be written, are checked before NumPy,
SciPy or the model are imported. The folder is written as a whole at the end: a full
disk, Ctrl-C (exit 130) or SIGTERM (exit 143) leaves earlier results as they were,
in one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.commands.common import interrupt_exit, sigterm_as_interrupt
from model.errors import UserError
from model.workflows.folders import check_out_folder

#: the checks, in the order they run (``model.validation.checks.CHECKS`` has the same
#: names; kept here so that ``--only`` is checked without importing the checks)
CHECK_NAMES: tuple[str, ...] = (
    "bass",
    "bass_closed_form",
    "watts_cascades",
    "ic_percolation",
    "ndlib_independent_cascade",
    "ndlib_threshold",
)

#: the stylised facts of ``--patterns``, in table order (``model.validation.patterns.FACTS``
#: has the same names; kept here so that ``--only`` is checked without importing them)
PATTERN_NAMES: tuple[str, ...] = (
    "bass_payment",
    "bass_shopping",
    "takeoff",
    "ad_concave",
    "ad_elasticity",
    "kol_engagement",
    "kol_commercial_credibility",
    "negativity_bias",
    "multi_homing",
    "hub_seeding",
    "peer_exposure",
    "trust_experience",
    "gravity",
    "fraud_deters_payment",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim validate`` to the CLI."""
    parser = subparsers.add_parser(
        "validate",
        help="dock the word-of-mouth core against classic results (Bass, Watts, NDlib, ...)",
        description=(
            "Run docking experiments through the real model: Bass diffusion vs the discrete "
            "recursion and the closed form, Watts (2002) threshold cascades vs an independent "
            "threshold-cascade simulation and the analytic window, independent cascades vs "
            "bond percolation, and the same runs against NDlib. Prints a table (what is "
            "compared, expected, measured, criterion, result), writes validation.json, "
            "validation.md and one figure per check, exits 1 if any check fails."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller version for CI (a few minutes on 2 cores)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: results/validation, or results/validation-quick; "
        "with --patterns results/patterns, or results/patterns-quick)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated subset of checks ({', '.join(CHECK_NAMES)}); with --patterns, "
        "of facts (see docs/validation.md)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes for the runs (default 1)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="base seed of all runs (default: fixed)"
    )
    parser.add_argument(
        "--patterns",
        action="store_true",
        help="check the stylised facts from the literature on the baseline instead "
        "(Bass coefficients, ad response, KOL engagement, negativity bias, ...; "
        "docs/validation.md, 'Stylised facts')",
    )
    parser.add_argument(
        "--seeds",
        default=None,
        help="with --patterns: the seeds, as held-back (the default, 1001-1020), building "
        "(1-20, the seeds the suite was built on), A-B or a comma-separated list",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="with --patterns: exit 1 when a fact fails (default: 0 once the suite ran)",
    )
    parser.set_defaults(func=handle)


# --------------------------------------------------------------------------- the command


def _check_pattern_options(
    args: argparse.Namespace,
) -> tuple[list[str] | None, tuple[int, ...] | None, Path]:
    """Check the options of ``--patterns`` (no heavy import): facts, seeds, output folder."""
    if args.seed is not None:
        raise UserError("--seed: not with --patterns; choose the seeds with --seeds")
    names = None
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in PATTERN_NAMES]
        if unknown or not names:
            import difflib

            close = difflib.get_close_matches(unknown[0], PATTERN_NAMES, n=1) if unknown else []
            hint = f"; did you mean {close[0]!r}?" if close else ""
            what = f"unknown fact {unknown[0]!r}{hint}" if unknown else "no fact named"
            raise UserError(f"--only: {what} (allowed: {', '.join(PATTERN_NAMES)})")
    seeds = None
    if args.seeds is not None:
        seeds = parse_seeds(args.seeds)
    if args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    out_dir = Path(args.out or ("results/patterns-quick" if args.quick else "results/patterns"))
    check_out_folder(out_dir)
    return names, seeds, out_dir


#: ``--seeds`` by name (``model.validation.patterns.HELD_BACK_SEEDS`` and ``BUILDING_SEEDS``)
NAMED_SEEDS: dict[str, tuple[int, ...]] = {
    "held-back": tuple(range(1001, 1021)),
    "building": tuple(range(1, 21)),
}


def parse_seeds(text: str) -> tuple[int, ...]:
    """Read ``--seeds``: ``held-back``, ``building``, ``1-20``, ``1,2,5`` or ``1-3,7``.

    Raises:
        UserError: one line.
    """
    named = NAMED_SEEDS
    text = text.strip()
    if text in named:
        return named[text]
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            span = range(int(low), int(high) + 1) if dash else [int(part)]
        except ValueError:
            raise UserError(
                f"--seeds: {part!r} is not a seed, a range A-B, held-back or building"
            ) from None
        if dash and not span:
            raise UserError(f"--seeds: {part!r}: the range runs backwards")
        seeds.extend(span)
    if any(s < 0 for s in seeds):
        raise UserError("--seeds: seeds must be >= 0")
    if len(set(seeds)) != len(seeds):
        raise UserError("--seeds: a seed is listed twice")
    return tuple(seeds)


def _check_options(args: argparse.Namespace) -> tuple[list[str], Path]:
    """Check every option (no heavy import); return the checks to run and the output folder."""
    if args.seeds is not None or args.strict:
        option = "--seeds" if args.seeds is not None else "--strict"
        raise UserError(f"{option}: only with --patterns")
    names = list(CHECK_NAMES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in CHECK_NAMES]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], CHECK_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"--only: unknown check {unknown[0]!r}{hint} (allowed: {', '.join(CHECK_NAMES)})"
            )
        if not names:
            raise UserError(f"--only: no check named (allowed: {', '.join(CHECK_NAMES)})")
    if args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed: {args.seed}: must be >= 0")
    out_dir = Path(args.out or ("results/validation-quick" if args.quick else "results/validation"))
    check_out_folder(out_dir)
    return names, out_dir


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim validate``."""
    if args.patterns:
        return handle_patterns(args)
    names, out_dir = _check_options(args)

    from model.experiment.runner import usable_workers
    from model.validation.verdict import format_table
    from model.workflows.validate import run_validation

    workers = usable_workers(args.workers)
    print(
        f"mtsim validate{' --quick' if args.quick else ''}: {len(names)} checks, "
        f"{workers} worker(s), output {out_dir}/",
        file=sys.stderr,
        flush=True,
    )
    try:
        with sigterm_as_interrupt():
            result = run_validation(
                names,
                out_dir,
                quick=args.quick,
                seed=args.seed,
                workers=workers,
                command=" ".join(sys.argv),
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
    except KeyboardInterrupt as exc:
        how, code = interrupt_exit(exc)
        print(f"mtsim: validate {how}; nothing written, {out_dir}/ is as it was", file=sys.stderr)
        return code
    print(format_table(result.outcomes))
    rows = sum(len(o.rows) for o in result.outcomes)
    bad = sum(1 for o in result.outcomes for r in o.rows if not r.passed)
    skipped = sum(1 for o in result.outcomes if o.skipped)
    print(
        f"\n{rows - bad} of {rows} comparisons passed"
        + (f", {skipped} check(s) skipped" if skipped else "")
        + f" in {result.seconds:.0f} s; wrote {result.files['json']} and figures"
    )
    return 1 if result.failed else 0


def handle_patterns(args: argparse.Namespace) -> int:
    """Run ``mtsim validate --patterns``: the stylised facts, their table and files."""
    names, seeds, out_dir = _check_pattern_options(args)

    from model.experiment.runner import usable_workers
    from model.validation.patterns import FULL, QUICK, console_table
    from model.workflows.validate import run_pattern_suite

    workers = usable_workers(args.workers)
    count = len(seeds) if seeds is not None else len((QUICK if args.quick else FULL).seeds)
    print(
        f"mtsim validate --patterns{' --quick' if args.quick else ''}: "
        f"{len(names) if names else len(PATTERN_NAMES)} facts, {count} seeds, "
        f"{workers} worker(s), output {out_dir}/",
        file=sys.stderr,
        flush=True,
    )
    try:
        with sigterm_as_interrupt():
            result = run_pattern_suite(
                names,
                out_dir,
                quick=args.quick,
                seeds=seeds,
                workers=workers,
                command=" ".join(sys.argv),
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
    except KeyboardInterrupt as exc:
        how, code = interrupt_exit(exc)
        print(f"mtsim: validate {how}; nothing written, {out_dir}/ is as it was", file=sys.stderr)
        return code
    print(console_table(result.report))
    total = len(result.report.results)
    print(
        f"\n{total - len(result.failed)} of {total} facts pass in {result.seconds:.0f} s; "
        f"wrote {result.files['csv']}, {result.files['markdown'].name} and "
        f"{result.files['json'].name}"
    )
    return 1 if (args.strict and result.failed) else 0
