"""The example of docs/decisions.md section 5: ``mtsim discover`` on the LHS sweep.

    python experiments/discover_example.py [--workers 2]

Runs ``mtsim sweep experiments/lhs_main.yaml`` (64 worlds x 2 replications, 128 runs of
2,000 consumers for 104 weeks) into a temporary folder, then ``mtsim discover`` on it.

The outcome's threshold is fixed by a rule chosen before the result is seen, so that the
example asks a question with cases on both sides on whatever model is current: the
median of ``payment_adoption_final`` over the sweep's runs, rounded to 2 decimals. The
expression ``payment_adoption_final < MEDIAN`` then holds in about half of the runs.

Writes (experiment ``discover_example`` of ``python -m docs.build``):

- ``experiments/measured/discover_example_boxes.csv``: discover's ``boxes.csv``;
- ``experiments/measured/discover_example.json``: the expression, the median, the number
  of runs and of runs where it holds, the box sentences (from discovery.md), and the
  sweep's and the discovery's wall times with the number of workers;
- ``docs/figures/decisions_peeling.png``: discover's peeling figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "experiments" / "measured"
EXPERIMENT = "experiments/lhs_main.yaml"
METRIC = "payment_adoption_final"
BOXES = MEASURED / "discover_example_boxes.csv"
SUMMARY = MEASURED / "discover_example.json"
FIGURE = ROOT / "docs" / "figures" / "decisions_peeling.png"


def mtsim(*arguments: str) -> float:
    """Run an mtsim command from the repository root; return its wall time in seconds."""
    command = [sys.executable, "-m", "model.cli", *arguments]
    print("discover_example:", " ".join(command[2:]), flush=True)
    clock = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - clock


def median_threshold(sweep: Path) -> tuple[float, int]:
    """Return the threshold by the rule (median of the final adoption, 2 decimals) and the runs."""
    from model.analysis.sensitivity import outcome_columns
    from model.decision.discover import load_cases
    from model.decision.expression import parse_outcome

    cases, _, _ = load_cases(sweep)
    column = parse_outcome(f"{METRIC} < 1", outcome_columns(cases)).names[METRIC]
    values = np.asarray(cases[column], dtype=float)
    return round(float(np.median(values)), 2), len(values)


def main() -> None:
    """Run the sweep and the discovery, and keep what docs/decisions.md shows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="discover_example_") as folder:
        sweep = Path(folder) / "lhs_main"
        out = Path(folder) / "discovery"
        sweep_s = mtsim(
            "sweep", EXPERIMENT, "--workers", str(args.workers), "--out", str(sweep),
            "--no-progress",
        )  # fmt: skip
        median, runs = median_threshold(sweep)
        expression = f"{METRIC} < {median:.2f}"
        discover_s = mtsim("discover", str(sweep), "--outcome", expression, "--out", str(out))
        found = json.loads((out / "discovery.json").read_text(encoding="utf-8"))
        report = (out / "discovery.md").read_text(encoding="utf-8").splitlines()
        sentences = [line[2:] for line in report if line.startswith("- Box ")]
        MEASURED.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "boxes.csv", BOXES)
        if (out / "peeling.png").exists():
            shutil.copyfile(out / "peeling.png", FIGURE)
    summary = {
        "experiment": EXPERIMENT,
        "rule": f"median of {METRIC} over the sweep's runs, rounded to 2 decimals",
        "median": median,
        "expression": expression,
        "runs": runs,
        "cases": found["cases"],
        "true": found["true"],
        "boxes": sentences,
        "workers": args.workers,
        "sweep_seconds": round(sweep_s, 1),
        "discover_seconds": round(discover_s, 1),
        "prim_seconds": found["seconds"],
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
