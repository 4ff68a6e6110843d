"""The grounding audit (experiments/grounding_audit.py, docs/generators_grounding.py; issue 28).

Its three blocks (docs/calibration.md's tables A and B, README's sentences) are what their
generators write from the files the audit's record names; a hand-edited number or a
results file changed without a recorded rerun fails ``docs.build``'s check. The audit's
yearly mobile share of consumption sums the flows (not a mean of weekly ratios) over the
same denominator as ``mobile_share_of_consumption``, and its single-run counts are what
the gaps say.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from docs import build
from docs import generators_grounding as grounding
from tests.conftest import load_experiment_script

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = (
    ("docs/calibration.md", "grounding-cnnic"),
    ("docs/calibration.md", "grounding-money"),
    ("README.md", "grounding-summary"),
)


def audit_script():
    """Import experiments/grounding_audit.py."""
    return load_experiment_script("grounding_audit")


def block_text(document: str, name: str) -> list[str]:
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    block = next(b for b in build.find_blocks(lines) if b.name == name)
    return lines[block.start + 1 : block.end]


@pytest.mark.parametrize(("document", "name"), BLOCKS, ids=[n for _, n in BLOCKS])
def test_each_block_is_what_its_generator_writes_from_the_record(document, name):
    generator = build.GENERATORS[name]
    assert generator.experiment is build.GROUNDING_AUDIT
    record = build.load_record(build.GROUNDING_AUDIT)
    assert record["seeds"] == list(range(2001, 2011))
    assert block_text(document, name) == generator.render(record).splitlines()
    assert build.record_problems(build.GROUNDING_AUDIT) == []


@pytest.mark.parametrize(("document", "name"), BLOCKS, ids=[n for _, n in BLOCKS])
def test_a_hand_edited_number_in_a_grounding_block_fails_the_check(tmp_path, document, name):
    text = (ROOT / document).read_text(encoding="utf-8")
    lines = text.splitlines()
    block = next(b for b in build.find_blocks(lines) if b.name == name)
    index = next(i for i in range(block.start + 1, block.end) if "%" in lines[i])  # a result
    where = max(k for k, c in enumerate(lines[index]) if c.isdigit())
    edited = list(lines)
    edited[index] = (
        lines[index][:where] + str((int(lines[index][where]) + 1) % 10) + lines[index][where + 1 :]
    )
    path = tmp_path / Path(document).name
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    problems, _ = build.check([path])
    assert any(f"block '{name}' is not what its generator writes" in p for p in problems)


def test_a_results_file_changed_without_a_recorded_run_fails(tmp_path, monkeypatch):
    for output in build.GROUNDING_AUDIT.outputs:
        (tmp_path / output).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / output, tmp_path / output)
    records = tmp_path / "docs" / "build_records"
    records.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build.record_path(build.GROUNDING_AUDIT), records / "grounding_audit.json")
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "RECORDS", records)
    assert build.record_problems(build.GROUNDING_AUDIT) == []

    years = tmp_path / grounding.YEARS
    years.write_text(years.read_text(encoding="utf-8").replace("2015,", "2014,", 1))
    problems = build.record_problems(build.GROUNDING_AUDIT)
    assert problems and "grounding_audit_years.csv: changed since" in problems[0]
    assert json.loads((records / "grounding_audit.json").read_text())["outputs"]


def test_the_yearly_share_sums_the_flows_over_the_52_weeks_of_the_year():
    audit = audit_script()
    steps = np.arange(0, 366)
    gmv = np.zeros(steps.size)
    needs = np.ones(steps.size)
    last = audit.step_of("2016-12-31")
    year = (steps > last - 52) & (steps <= last)
    gmv[year] = 1.0
    needs[year] = 10.0
    first_week = np.flatnonzero(year)[0]
    gmv[first_week], needs[first_week] = 51.0, 510.0  # one heavy week, the same ratio
    gmv[first_week + 1], needs[first_week + 1] = 0.0, 500.0  # one heavy week, no mobile
    run = pd.DataFrame({"step": steps, "gmv": gmv, "basket_value": needs})
    assert audit.yearly_flows(run, 2016) == (gmv[year].sum(), needs[year].sum())
    share = audit.mobile_share_of_year(run, 2016)
    assert share == pytest.approx(gmv[year].sum() / needs[year].sum())
    weekly_mean = float(np.mean(gmv[year] / needs[year]))
    assert abs(share - weekly_mean) > 0.01  # not a mean of weekly ratios


def test_the_audit_divides_by_the_needs_the_metric_divides_by():
    audit = audit_script()
    from model.market import run_model
    from model.scenario import load_scenario

    size = {"population.consumers": 300, "population.merchants": 12, "population.kols": 2}
    run = audit.one_run(7, size=size, steps=30)
    table = run_model(load_scenario(audit.SCENARIO, size), seed=7, steps=30)
    weeks = run["basket_value"] > 0
    assert weeks.sum() == 30  # every week has shopping needs; step 0 has none
    assert np.allclose(
        run.loc[weeks, "gmv"] / run.loc[weeks, "basket_value"],
        table.loc[weeks.to_numpy(), "mobile_share_of_consumption"],
    )
    assert np.array_equal(run["payment_adoption_connected"], table["payment_adoption_connected"])


def test_single_run_counts_follow_the_gaps():
    rows = []
    gaps_by_date = ([1.0, -2.0, 4.0], [2.5, 3.5, -1.0])  # runs: within, not, not
    for date, gaps in zip(("2015-12-31", "2016-12-31"), gaps_by_date, strict=True):
        row = {"series": "payment", "date": date, "gap_points": str(np.mean(gaps))}
        row |= {f"gap_{2001 + k}": str(g) for k, g in enumerate(gaps)}
        rows.append(row)
    summary = grounding.series_summary(rows, "payment")
    assert summary["runs"] == 3 and summary["runs_within"] == 1
    assert summary["median_run_largest"] == 3.5 and summary["worst_run_largest"] == 4.0
    assert summary["mean_within"] and summary["largest_date"] == "2016-12-31"
