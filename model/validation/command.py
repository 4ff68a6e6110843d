"""``mtsim validate [--quick] [--out DIR]``: run the docking checks, print and save the verdict.

Prints a table of check, expected, measured, tolerance and pass/fail; writes
``validation.json`` (every row, the settings, a manifest), the same table as
``validation.md`` and one figure per check (``<check>.png``) into the output
folder; exits 1 when any check fails (2 on bad options, as every mtsim
command). ``--quick`` runs the same checks with fewer and smaller runs (for
CI); the default is the full set.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from model.errors import UserError
from model.validation.checks import (
    CHECKS,
    FULL,
    QUICK,
    CheckOutcome,
    Settings,
    plot_outcome,
    run_checks,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim validate`` to the CLI."""
    parser = subparsers.add_parser(
        "validate",
        help="dock the word-of-mouth core against classic results (Bass, Watts, NDlib, ...)",
        description=(
            "Run docking experiments through the real model: Bass diffusion vs the discrete "
            "recursion and the closed form, Watts (2002) threshold cascades, independent "
            "cascades vs bond percolation, and the same runs against NDlib. Prints a table, "
            "writes validation.json and one figure per check, exits 1 if any check fails."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller version for CI (well under a minute)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: results/validation, or results/validation-quick)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated subset of checks ({', '.join(CHECKS)})",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes for the runs (default 1)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="base seed of all runs (default: fixed)"
    )
    parser.set_defaults(func=handler)


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.4f}"


def format_table(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a plain-text table (one line per comparison)."""
    header = (
        f"{'check':<27} {'comparison':<58} {'expected':>9} {'measured':>9} {'tolerance':>9}  result"
    )
    lines = [header, "-" * len(header)]
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"{outcome.name:<27} {'(skipped: ' + outcome.skipped[:70] + ')':<58}")
            continue
        for row in outcome.rows:
            name = row.name if len(row.name) <= 58 else row.name[:55] + "..."
            lines.append(
                f"{outcome.name:<27} {name:<58} {_fmt(row.expected):>9} {_fmt(row.measured):>9} "
                f"{_fmt(row.tolerance):>9}  {'pass' if row.passed else 'FAIL'}"
            )
    return "\n".join(lines)


def format_markdown(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a Markdown table (written as ``validation.md``)."""
    lines = [
        "| check | comparison | expected | measured | tolerance | result |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"| `{outcome.name}` | skipped: {outcome.skipped} | | | | |")
            continue
        for row in outcome.rows:
            lines.append(
                f"| `{outcome.name}` | {row.name} | {_fmt(row.expected)} | {_fmt(row.measured)} "
                f"| {_fmt(row.tolerance)} | {'pass' if row.passed else '**FAIL**'} |"
            )
    return "\n".join(lines) + "\n"


def handler(args: argparse.Namespace) -> int:
    """Run ``mtsim validate``."""
    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_bytes_atomic,
        write_json_atomic,
    )

    names = list(CHECKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in CHECKS]
        if unknown:
            raise UserError(f"--only: unknown check {unknown[0]!r} (allowed: {', '.join(CHECKS)})")
    if args.workers < 1:
        raise UserError(f"--workers: {args.workers}: must be at least 1")
    settings: Settings = QUICK if args.quick else FULL
    if args.seed is not None:
        if args.seed < 0:
            raise UserError(f"--seed: {args.seed}: must be >= 0")
        settings = Settings(**{**asdict(settings), "seed": args.seed})
    out_dir = Path(args.out or ("results/validation-quick" if args.quick else "results/validation"))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out: {out_dir}: cannot create folder ({exc.strerror})") from None

    started = now_iso()
    t0 = time.perf_counter()
    print(
        f"mtsim validate{' --quick' if args.quick else ''}: {len(names)} checks, "
        f"{args.workers} worker(s), output {out_dir}/",
        file=sys.stderr,
        flush=True,
    )

    def done(outcome: CheckOutcome) -> None:
        plot_outcome(outcome, out_dir / f"{outcome.name}.png")
        verdict = "skipped" if outcome.skipped else ("pass" if outcome.passed else "FAIL")
        print(f"  {outcome.name}: {verdict} ({outcome.seconds:.1f} s)", file=sys.stderr, flush=True)

    executor: Executor | None = None
    if args.workers > 1:
        executor = ProcessPoolExecutor(max_workers=args.workers)
    try:
        outcomes = run_checks(settings, names, executor, on_done=done)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    failed = [o.name for o in outcomes if not o.passed]
    payload = {
        "passed": not failed,
        "failed_checks": failed,
        "mode": "quick" if args.quick else "full",
        "seconds": time.perf_counter() - t0,
        "settings": asdict(settings),
        "checks": [
            {
                "name": o.name,
                "title": o.title,
                "passed": o.passed,
                "skipped": o.skipped,
                "seconds": o.seconds,
                "figure": o.figure.name if o.figure else None,
                "rows": [r.as_dict() for r in o.rows],
            }
            for o in outcomes
        ],
        "manifest": build_manifest(
            {}, [settings.seed], started=started, finished=now_iso(), command=" ".join(sys.argv)
        ),
    }
    write_json_atomic(out_dir / "validation.json", payload)
    write_bytes_atomic(out_dir / "validation.md", format_markdown(outcomes).encode())
    print(format_table(outcomes))
    rows = sum(len(o.rows) for o in outcomes)
    bad = sum(1 for o in outcomes for r in o.rows if not r.passed)
    skipped = sum(1 for o in outcomes if o.skipped)
    print(
        f"\n{rows - bad} of {rows} comparisons passed"
        + (f", {skipped} check(s) skipped" if skipped else "")
        + f" in {payload['seconds']:.0f} s; wrote {out_dir / 'validation.json'} and figures"
    )
    return 1 if failed else 0
