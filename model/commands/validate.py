"""``mtsim validate [--quick] [--out DIR]``: run the docking checks, print and save the verdict.

Prints a table with one row per comparison: the check, what is compared (which
number the model produced and what it is set against), the expected and measured
values, the pass criterion and pass/fail. Writes ``validation.json`` (every row,
the settings, a manifest), the same table as ``validation.md`` and one figure per
check (``<check>.png``) into the output folder; exits 1 when any check fails (2 on
bad options, as every mtsim command). ``--quick`` runs the same checks with fewer
and smaller runs (for CI); the default is the full set.

The options are checked before NumPy, SciPy or the model are imported.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from model.validation.checks import CheckOutcome, CheckRow

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
        help="output folder (default: results/validation, or results/validation-quick)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated subset of checks ({', '.join(CHECK_NAMES)})",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes for the runs (default 1)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="base seed of all runs (default: fixed)"
    )
    parser.set_defaults(func=handle)


# --------------------------------------------------------------------------- tables


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.4f}"


def criterion(row: CheckRow) -> str:
    """Return the pass criterion of a row in a few words, with its numbers."""
    if row.criterion:
        return row.criterion
    return f"|measured - expected| <= {row.tolerance:.4f}"


#: column headers of the console table and validation.md
HEADERS: tuple[str, ...] = ("check", "what is compared", "expected", "measured", "criterion")


def format_table(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a plain-text table (one line per comparison, with headers).

    Columns are as wide as their longest entry: nothing is cut.
    """
    cells = []
    for outcome in outcomes:
        if outcome.skipped:
            cells.append((outcome.name, f"(skipped: {outcome.skipped})", "", "", "", ""))
            continue
        for row in outcome.rows:
            cells.append(
                (
                    outcome.name,
                    row.name,
                    _fmt(row.expected),
                    _fmt(row.measured),
                    criterion(row),
                    "pass" if row.passed else "FAIL",
                )
            )
    titles = (*HEADERS, "result")
    widths = [max([len(titles[i])] + [len(c[i]) for c in cells]) for i in range(len(titles))]
    right = {2, 3}  # numbers

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    header = line(titles)
    return "\n".join([header, "-" * len(header), *(line(c) for c in cells)])


def format_markdown(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a Markdown table (written as ``validation.md``)."""
    lines = [
        "| " + " | ".join(HEADERS) + " | result |",
        "|---|---|---:|---:|---|---|",
    ]
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"| `{outcome.name}` | skipped: {outcome.skipped} | | | | |")
            continue
        for row in outcome.rows:
            lines.append(
                f"| `{outcome.name}` | {_cell(row.name)} | {_fmt(row.expected)} "
                f"| {_fmt(row.measured)} | {_cell(criterion(row))} "
                f"| {'pass' if row.passed else '**FAIL**'} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Escape a Markdown table cell (``|diff|`` would end the cell)."""
    return text.replace("|", "\\|")


# --------------------------------------------------------------------------- the command


def _check_options(args: argparse.Namespace) -> tuple[list[str], Path]:
    """Check every option (no heavy import); return the checks to run and the output folder."""
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
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out: {out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out: {out_dir}: cannot create folder ({exc.strerror})") from None
    return names, out_dir


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim validate``."""
    names, out_dir = _check_options(args)

    from concurrent.futures import Executor, ProcessPoolExecutor
    from dataclasses import asdict

    from model.experiment.manifest import (
        build_manifest,
        now_iso,
        write_bytes_atomic,
        write_json_atomic,
    )
    from model.validation.checks import (
        FULL,
        QUICK,
        Settings,
        plot_outcome,
        run_checks,
    )

    settings: Settings = QUICK if args.quick else FULL
    if args.seed is not None:
        settings = Settings(**{**asdict(settings), "seed": args.seed})

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
                "rows": [{**r.as_dict(), "criterion": criterion(r)} for r in o.rows],
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
