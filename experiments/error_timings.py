"""How long mtsim takes to refuse bad input: docs/robustness.md, "Errors before heavy imports".

    python experiments/error_timings.py [--repeats 5]

Runs each command of the page's table ``--repeats`` times as a new process (interpreter
start included), from the repository root, and writes
experiments/measured/robustness_error_timings.csv: per input, the exit code, the fastest,
median and slowest wall time in seconds, and the load average at the start (a shared
machine is slower). The alias bomb is the "billion laughs" file of
tests/test_hostile_input.py (nine levels of nine aliases), written to a temporary folder.
About 20 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "measured" / "robustness_error_timings.csv"


def alias_bomb() -> str:
    """Return the 'billion laughs' file: nine levels of nine aliases, one unknown key."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    lines.append("surprise: 1")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Time each bad command and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mtsim-errors-") as tmp:
        bomb = Path(tmp) / "bomb.yaml"
        bomb.write_text(alias_bomb(), encoding="utf-8")
        cases = [
            (
                "mtsim run scenarios/basline.yaml",
                "file not found",
                ["run", "scenarios/basline.yaml"],
            ),
            (
                "mtsim sweep experiments/nope.yaml",
                "file not found",
                ["sweep", "experiments/nope.yaml"],
            ),
            ("mtsim run bomb.yaml", "alias bomb", ["run", str(bomb)]),
            (
                "mtsim run scenarios/baseline.yaml --set ordering.price_weight=.inf",
                "needs the schema",
                ["run", "scenarios/baseline.yaml", "--set", "ordering.price_weight=.inf"],
            ),
        ]
        rows = []
        for shown, why, argv in cases:
            times, code = [], None
            for _ in range(args.repeats):
                clock = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "model.cli", *argv],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                times.append(time.perf_counter() - clock)
                code = done.returncode
            rows.append(
                {
                    "input": shown,
                    "why": why,
                    "exit_code": code,
                    "repeats": args.repeats,
                    "min_s": f"{min(times):.3f}",
                    "median_s": f"{statistics.median(times):.3f}",
                    "max_s": f"{max(times):.3f}",
                    "load_average_1min": f"{load:.2f}",
                }
            )
            print(f"{shown}: exit {code}, median {statistics.median(times):.2f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
