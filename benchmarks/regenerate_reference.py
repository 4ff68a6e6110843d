"""Regenerate the stored reference run tables that tests/test_scale.py compares exactly.

The reference guards the optimised model core: for the fixed scenarios and seeds of
``tests/data/reference_cases.json`` the run table must stay bit-identical. Run this
ONLY when a change of the model's output is intended (a new mechanism, a fixed bug),
and say so in the commit message:

    python -m benchmarks.regenerate_reference            # rewrite tests/data/reference_small.csv
    python -m benchmarks.regenerate_reference --check    # compare only, exit 1 on a difference

The CSV has a ``case`` column, then ``step`` and the metrics; floats are written in
their shortest round-trip form (pandas' default, as model.experiment.manifest does), so
the text is exact and the test compares it character for character.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from model.atomic_files import write_bytes_atomic
from model.market import run_model
from model.scenario import read_scenario_data, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
CASES_PATH = ROOT / "tests" / "data" / "reference_cases.json"
REFERENCE_PATH = ROOT / "tests" / "data" / "reference_small.csv"
BASELINE_PATH = ROOT / "scenarios" / "baseline.yaml"


def load_cases(path: Path = CASES_PATH) -> dict[str, dict]:
    """The reference cases: name -> {"seed": int, "overrides": {dotted key: value}}."""
    cases = json.loads(path.read_text())
    return {name: case for name, case in cases.items() if not name.startswith("_")}


def run_case(case: dict) -> pd.DataFrame:
    """The run table of one reference case (baseline scenario with the case's overrides)."""
    data = read_scenario_data(BASELINE_PATH)
    data.setdefault("name", "baseline")
    scenario = scenario_from_dict(data, str(BASELINE_PATH), case["overrides"])
    return run_model(scenario, seed=case["seed"])


def reference_table(cases: dict[str, dict] | None = None) -> pd.DataFrame:
    """All cases' run tables stacked, with a leading ``case`` column."""
    cases = load_cases() if cases is None else cases
    parts = []
    for name, case in cases.items():
        table = run_case(case)
        # per-region and per-pair columns (``exports_value.R``, ``x.O>D``) differ between
        # cases with different regions; the totals they add up to are kept
        table = table[[c for c in table.columns if "." not in c]]
        table.insert(0, "case", name)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def to_csv_text(table: pd.DataFrame) -> str:
    """The CSV text exactly as stored (floats in shortest round-trip form)."""
    return table.to_csv(index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored file only")
    parser.add_argument("--out", type=Path, default=REFERENCE_PATH, help="reference CSV path")
    args = parser.parse_args(argv)
    table = reference_table()
    if args.check:
        stored = args.out.read_text() if args.out.exists() else ""
        same = stored == to_csv_text(table)
        print(f"{args.out}: {'identical' if same else 'DIFFERENT'} ({len(table)} rows)")
        return 0 if same else 1
    write_bytes_atomic(args.out, to_csv_text(table).encode())
    print(f"wrote {args.out} ({len(table)} rows, {table['case'].nunique()} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
