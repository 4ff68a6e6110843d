"""``mtsim analyze DIR``: response curves, heatmaps, Sobol' and Morris indices of a sweep.

The command layer of ``model.analysis.sensitivity`` (which holds the statistics and the
figures): it checks that DIR is a sweep's result folder before importing pandas,
matplotlib or the model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import UserError
from model.workflows.folders import check_out_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mtsim analyze`` to the command line."""
    parser = subparsers.add_parser(
        "analyze",
        help="response curves, heatmaps, Sobol' and Morris indices of a sweep",
        description=(
            "Analyse a sweep's result folder according to its design: response curves "
            "(1-D grid), heatmaps (2-D grid), rank correlations (LHS), Sobol' S1/ST with "
            "95% intervals, Morris mu*/sigma; figures as PNG, every number as CSV."
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="result folder of mtsim sweep")
    parser.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help=(
            "outcome to analyse (repeatable): a metric (its final value), "
            "<metric>_final, <metric>_mean, or 'all' (default: a few headline outcomes)"
        ),
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default: DIR/analysis)")
    parser.set_defaults(func=handle)


def check_directory(directory: str | Path) -> Path:
    """Fail in one line unless ``directory`` is a sweep's result folder (no heavy import)."""
    path = Path(directory)
    try:
        if not path.exists():
            raise UserError(f"{directory}: no such folder")
        if not path.is_dir():
            raise UserError(f"{directory}: not a folder (give the result folder of mtsim sweep)")
        if not (path / "design.parquet").is_file():
            raise UserError(f"{directory}: not a sweep result folder (no design.parquet)")
    except OSError as exc:  # a name too long, a folder that cannot be read, ...
        raise UserError(f"{str(directory)[:200]!r}: cannot be used ({exc.strerror})") from None
    return path


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim analyze``."""
    check_directory(args.directory)
    try:
        if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
            raise UserError(f"--out: {args.out}: exists and is not a folder")
    except OSError as exc:  # a name too long, a folder that cannot be read, ...
        raise UserError(f"--out: {args.out[:200]!r}: cannot be used ({exc.strerror})") from None
    check_out_folder(Path(args.out) if args.out else Path(args.directory) / "analysis")

    from model.workflows.analyze import analyze_store

    written = analyze_store(args.directory, args.out, args.outcome)
    folder = Path(written["analysis.md"]).parent
    print(f"{folder}: wrote {len(written)} files ({', '.join(sorted(written))})")
    return 0
