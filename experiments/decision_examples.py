"""The example numbers of docs/decisions.md, from the commands the page shows.

    python experiments/decision_examples.py EXAMPLE [--workers 2]

Each EXAMPLE is one experiment of ``python -m docs.build`` (docs/build.py): it runs the
command docs/decisions.md shows (with ``--workers``, ``--quiet`` and an output folder
under ``results/decisions/``, not kept in git), then keeps the rows the page quotes in
``experiments/measured/decisions_EXAMPLE.csv``; docs/generators_tables.py renders them.

- ``threshold`` (section 1): ``mtsim compare scenarios/baseline.yaml
  scenarios/coupons_before_trust.yaml scenarios/coupons_after_trust.yaml --threshold
  payment_adoption=0.3``: 10 replications of the files' size, 156 weeks (30 runs; about
  a minute on an idle 2-core machine). Kept: each coupon programme's effect while it
  acts, over the run and at the end, and the time to 30% paying by mobile.
- ``decompose`` (section 2): ``mtsim compare scenarios/baseline.yaml
  scenarios/combined_package.yaml --decompose``: 10 replications of the package, each of
  its levers alone and the baseline, 156 weeks (90 runs; about 3 minutes on an idle
  2-core machine). Kept: the decomposition of three outcomes at week 156, and its
  figure as docs/figures/decisions_decomposition.png.
- ``optimize`` (section 4): ``mtsim optimize experiments/optimize_payment_trust.yaml``:
  48 mixes x 3 replications of 1,000 consumers, 52 weeks (144 runs; about a minute).
  Kept: the Pareto front (pareto.csv) and its figure as docs/figures/decisions_pareto.png.
  The folder is emptied first, so the search is
  rerun rather than resumed from an old journal.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "experiments" / "measured"
WORK = ROOT / "results" / "decisions"
FIGURES = {
    "decompose": ("decomposition-1.png", ROOT / "docs" / "figures" / "decisions_decomposition.png"),
    "optimize": ("pareto.png", ROOT / "docs" / "figures" / "decisions_pareto.png"),
}
"""The figure of an example that docs/decisions.md shows: (file in the output, copy)."""

THRESHOLD_SCENARIOS = ("coupons_before_trust", "coupons_after_trust")
THRESHOLD_METRICS = ("payment_adoption", "shopper_share", "orders", "counterfeit_incidents")
DECOMPOSE_METRICS = ("payment_adoption", "merchant_adoption", "mean_trust_domestic")

COMMANDS = {
    "threshold": [
        "compare",
        "scenarios/baseline.yaml",
        "scenarios/coupons_before_trust.yaml",
        "scenarios/coupons_after_trust.yaml",
        "--threshold",
        "payment_adoption=0.3",
    ],
    "decompose": [
        "compare",
        "scenarios/baseline.yaml",
        "scenarios/combined_package.yaml",
        "--decompose",
    ],
    "optimize": ["optimize", "experiments/optimize_payment_trust.yaml"],
}


def read_csv(path: Path) -> list[dict[str, str]]:
    """Return a CSV file's rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows as CSV, numbers to 6 significant digits (a stable file for the record)."""

    def tidy(value: str) -> str:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        return f"{number:.6g}" if value.strip() not in ("True", "False") else value

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: tidy(v) for k, v in r.items()} for r in rows)


def run(name: str, workers: int) -> Path:
    """Run an example's command into a fresh folder; return the folder."""
    out = WORK / name
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "model.cli", *COMMANDS[name], "--workers", str(workers)]
    command += ["--out", str(out)] + (["--quiet"] if name != "optimize" else [])
    print("decision_examples:", " ".join(command[2:]), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    return out


def keep_threshold(out: Path) -> list[dict[str, str]]:
    """Keep the coupon programmes' rows of section 1 from outcomes.csv."""
    rows = read_csv(out / "outcomes.csv")
    kept = []
    for r in rows:
        if r["scenario"] not in THRESHOLD_SCENARIOS:
            continue
        acting = r["measure"].startswith("weeks_") and not r["measure"].startswith("weeks_to")
        if (
            (r["metric"] in THRESHOLD_METRICS and (acting or r["measure"] == "final"))
            or (r["metric"] == "orders" and r["measure"] == "cumulative")
            or (r["metric"] == "payment_adoption" and r["measure"].startswith("weeks_to_"))
        ):
            kept.append(r)
    return kept


def keep_decompose(out: Path) -> list[dict[str, str]]:
    """Keep three outcomes at the end of the run from decomposition.csv."""
    rows = read_csv(out / "decomposition.csv")
    return [r for r in rows if r["metric"] in DECOMPOSE_METRICS and r["measure"] == "final"]


def main() -> None:
    """Run one example and keep its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", choices=sorted(COMMANDS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    out = run(args.example, args.workers)
    if args.example == "threshold":
        rows = keep_threshold(out)
    elif args.example == "decompose":
        rows = keep_decompose(out)
    else:
        rows = [  # the session column names the process that ran a trial: left out
            {k: v for k, v in r.items() if k != "session"} for r in read_csv(out / "pareto.csv")
        ]
    MEASURED.mkdir(parents=True, exist_ok=True)
    write_csv(MEASURED / f"decisions_{args.example}.csv", rows)
    if args.example in FIGURES:
        name, target = FIGURES[args.example]
        shutil.copyfile(out / name, target)


if __name__ == "__main__":
    main()
