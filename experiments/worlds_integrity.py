"""The robust comparison of docs/decisions.md (section 3a): integrity against the baseline.

    python experiments/worlds_integrity.py [--worlds 32] [--reps 4] [--workers 2]

Runs ``mtsim compare scenarios/baseline.yaml scenarios/integrity.yaml --worlds 32 --reps 4
--workers 2 --seed 1`` (2,000 consumers, 156 weeks: the baseline's own size) into a
temporary folder, times it, and keeps the small tables the docs read:

- ``experiments/measured/worlds_integrity_summary.csv``: ``robust_summary.csv`` (per
  outcome: worlds keeping the sign, median, 10-90%, what it depends on);
- ``experiments/measured/worlds_integrity_sensitivity.csv``: for the headline outcomes,
  every parameter's PAWN index, rank correlation and whether it is above the dummies'
  noise floor, with ``merchants.integrity_erosion``'s rank among them;
- ``experiments/measured/worlds_integrity_run.json``: the command, the report's first
  paragraph, the number of runs and the wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "measured"
HEADLINE = (
    "orders",
    "payment_adoption",
    "shopper_share",
    "gmv",
    "counterfeit_incidents",
    "merchant_adoption",
)
"""Outcomes whose sensitivity rows are kept (those the first paragraph names, and more)."""
FOCUS = "merchants.integrity_erosion"


def main() -> None:
    """Run the comparison and write the three files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=32)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "worlds"
        command = [
            "mtsim", "compare", "scenarios/baseline.yaml", "scenarios/integrity.yaml",
            "--worlds", str(args.worlds), "--reps", str(args.reps),
            "--workers", str(args.workers), "--seed", "1", "--out", str(out), "--quiet",
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "model.cli", *command[1:]], cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        summary = pd.read_csv(out / "robust_summary.csv")
        sens = pd.read_csv(out / "sensitivity.csv")
        report = (out / "report.md").read_text(encoding="utf-8")
    keep = sens[sens["metric"].isin(HEADLINE)].copy()
    keep["rank"] = keep.groupby(["policy", "metric"]).cumcount() + 1
    OUT.mkdir(parents=True, exist_ok=True)
    summary.to_csv(OUT / "worlds_integrity_summary.csv", index=False, float_format="%.6g")
    keep.to_csv(OUT / "worlds_integrity_sensitivity.csv", index=False, float_format="%.6g")
    paragraph = next(
        (p.strip() for p in report.split("\n\n") if p.strip().startswith("Across")), ""
    )
    (OUT / "worlds_integrity_run.json").write_text(
        json.dumps(
            {
                "command": " ".join(command[:-3]),
                "worlds": args.worlds,
                "reps": args.reps,
                "scenarios": 2,
                "runs": 2 * args.worlds * args.reps,
                "workers": args.workers,
                "seconds": round(seconds, 1),
                "first_paragraph": paragraph,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
