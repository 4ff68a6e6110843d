r"""``mtsim discover SWEEP_DIR --outcome EXPR``: which parameter ranges make an outcome true (PRIM).

::

    mtsim discover results/lhs_main --outcome "payment_adoption_final < 0.5"
    mtsim discover results/lhs_main --outcome "shopper_share < 0.3 or orders_mean < 10" --boxes 2

The work lives in ``model.decision.discover`` (EMA workbench's PRIM). The folder,
the expression (``model.decision.expression``: its limits too) and that the output
folder can be written are checked before anything heavy is imported, so input errors
show in well under a second. The outputs are written as a whole
(``model.workflows.validate.staged_folder``): a disk that fills while they are
written is one line, and earlier outputs in the folder stay as they were.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.errors import UserError
from model.workflows.folders import check_out_folder, staged_folder


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``discover`` subcommand."""
    parser = subparsers.add_parser(
        "discover",
        help="scenario discovery: parameter ranges where an outcome expression holds (PRIM)",
        description=(
            "Find boxes of a sweep's parameters where the outcome expression is mostly true "
            "(PRIM from the EMA workbench). Writes boxes.csv, peeling.csv, peeling.png and "
            "discovery.md into SWEEP_DIR/discovery (or --out)."
        ),
    )
    parser.add_argument("sweep", metavar="SWEEP_DIR", help="a sweep's result folder")
    parser.add_argument(
        "--outcome",
        required=True,
        metavar="EXPR",
        help="a true/false test on outcomes, e.g. 'payment_adoption_final < 0.5' "
        "(names: <metric>_final, <metric>_mean, or a metric for its final value; "
        "comparisons, and/or/not, + - * /)",
    )
    parser.add_argument(
        "--boxes", type=int, default=1, metavar="K", help="boxes to find (default 1)"
    )
    parser.add_argument(
        "--density",
        type=float,
        default=0.8,
        metavar="D",
        help="density the chosen box should reach (default 0.8): the box with the largest "
        "coverage among those at least this dense",
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default SWEEP_DIR/discovery)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim discover``."""
    folder = Path(args.sweep)
    if not folder.is_dir():
        raise UserError(f"{args.sweep}: no such sweep folder")
    if not (folder / "design.parquet").exists():
        raise UserError(f"{args.sweep}: not a sweep result folder (no design.parquet)")
    if args.boxes < 1:
        raise UserError(f"--boxes: {args.boxes}: must be at least 1")
    if not 0 < args.density <= 1:
        raise UserError(f"--density: {args.density}: must be above 0 and at most 1")
    _check_names(folder, args.outcome)
    out = Path(args.out) if args.out is not None else folder / "discovery"
    check_out_folder(out)
    from model.decision.discover import discover

    with staged_folder(out) as stage:  # written as a whole: a full disk leaves out as it was
        result = discover(folder, args.outcome, stage, boxes=args.boxes, min_density=args.density)
    if result.left_out:  # damaged or foreign parts: named in one line, as mtsim analyze does
        items = sorted(result.left_out.items())
        reasons = "; ".join(f"run {run} {why}" for run, why in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        print(f"{folder}: left out {len(items)} part(s): {reasons}{more}", file=sys.stderr)
    print(
        f"'{args.outcome}' holds in {result.cases_true} of {result.cases} runs; "
        f"{len(result.boxes)} box(es):"
    )
    for text in result.sentences:
        print(f"- {text}")
    print(f"report: {out / result.files['report'].name}")
    return 0


def _check_names(folder: Path, expression: str) -> None:
    """Check the expression's names against the sweep's metrics before loading the results."""
    import json

    from model.decision.expression import parse_outcome

    metrics: list[str] = []
    try:
        study = json.loads((folder / "study.json").read_text(encoding="utf-8"))
        metrics = list(study.get("spec", {}).get("metrics") or [])
    except (OSError, ValueError):
        pass
    if not metrics:
        from model.metrics import METRIC_NAMES

        metrics = list(METRIC_NAMES)
    available = [f"{m}_{s}" for m in metrics for s in ("final", "mean")]
    parse_outcome(expression, available)
