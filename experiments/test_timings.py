"""How long the README's two test commands take: the quick tier and the full run.

    python experiments/test_timings.py quick     # pytest -m quick -n auto
    python experiments/test_timings.py full      # pytest -m "not slow" -n auto (CI's tests)
    python experiments/test_timings.py quick --out /tmp/t.json -- tests/test_odd.py

Runs the README's command for the tier from the repository root with this interpreter
(``python -m pytest -m MARKER -n auto``, plus ``-p no:cacheprovider`` and a JUnit XML
report in a temporary folder; arguments after ``--`` are passed on, e.g. a test file to
try the script on a small selection), times it as a whole, and writes
experiments/measured/tests_<tier>.json: the command, the wall time, the number of tests
passed, failed, skipped and in error, pytest's exit code, the cores and the load average
at the start, the ten slowest tests and, for the full run, each notebook's run time
(tests/test_notebooks.py's ``test_notebook_runs``). Failed tests are recorded, not
hidden: the script exits 0 whenever pytest ran and wrote its report (exit codes 0 and 1)
and 1 otherwise (no test collected, an internal error, an interrupted run).

The quick tier takes one to two minutes on an idle 2-core machine, the full run about
ten: both want an idle machine (their times are the ones the README states).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIERS = {"quick": "quick", "full": "not slow"}
"""Tier -> the README's marker expression (``pytest -m ...``)."""
NOTEBOOK_TEST = "test_notebook_runs["


def out_path(tier: str) -> Path:
    """Where a tier's results are written by default."""
    return ROOT / "experiments" / "measured" / f"tests_{tier}.json"


def parse_junit(path: Path) -> dict:
    """Return the counts and per-test durations of a JUnit XML report (pytest's)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failed": 0, "errors": 0, "skipped": 0}
    durations: dict[str, float] = {}
    for suite in suites:
        for case in suite.iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            durations[name] = float(case.get("time") or 0.0)
            counts["tests"] += 1
            if case.find("failure") is not None:
                counts["failed"] += 1
            elif case.find("error") is not None:
                counts["errors"] += 1
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
    counts["passed"] = counts["tests"] - counts["failed"] - counts["errors"] - counts["skipped"]
    return {"counts": counts, "durations": durations}


def summarise(tier: str, command: list[str], wall: float, exit_code: int, junit: dict) -> dict:
    """Return the results file's content."""
    durations = junit["durations"]
    slowest = sorted(durations.items(), key=lambda item: -item[1])[:10]
    notebooks = {
        name.split(NOTEBOOK_TEST, 1)[1].rstrip("]"): round(seconds, 1)
        for name, seconds in sorted(durations.items())
        if NOTEBOOK_TEST in name
    }
    return {
        "tier": tier,
        "marker": TIERS[tier],
        "command": " ".join(
            ["python", *(arg for arg in command[1:] if not arg.startswith("--junitxml="))]
        ),
        "wall_seconds": round(wall, 1),
        "exit_code": exit_code,
        **junit["counts"],
        "cores": os.cpu_count(),
        "slowest": [{"test": name, "seconds": round(s, 1)} for name, s in slowest],
        "notebooks": notebooks,
    }


def main(argv: list[str] | None = None) -> int:
    """Run one tier and write its results; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier", choices=sorted(TIERS))
    parser.add_argument("--out", type=Path, help="the JSON written (default tests_<tier>.json)")
    argv = list(sys.argv[1:] if argv is None else argv)
    passed_on = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.pytest_args = passed_on
    out = args.out or out_path(args.tier)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mtsim-test-timings-") as tmp:
        report = Path(tmp) / "junit.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            TIERS[args.tier],
            "-n",
            "auto",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report}",
            *args.pytest_args,
        ]
        clock = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT)
        wall = time.perf_counter() - clock
        if done.returncode not in (0, 1) or not report.exists():
            print(
                f"test_timings: pytest exited {done.returncode}; nothing written", file=sys.stderr
            )
            return 1
        junit = parse_junit(report)
    result = summarise(args.tier, command, wall, done.returncode, junit)
    if args.pytest_args:
        result["selection"] = args.pytest_args
    result["load_average_at_start"] = [round(value, 2) for value in load]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"test_timings: {args.tier}: {result['passed']} passed, {result['failed']} failed, "
        f"{result['skipped']} skipped, {result['errors']} errors in {wall:.0f} s; wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
