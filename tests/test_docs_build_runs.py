"""The generated blocks about runs: missing records, the rebuild's time, tests and checks.

``python -m docs.build`` (docs/build.py) writes a block from its experiment's record; a
block whose experiment has no record says so and holds no number (the check passes and
names the experiment; a number typed into it fails). The rebuild-time sentence sums every
record and names the missing ones. The test-timing, sweep-benchmark, scale-target,
replay-size and docking-check blocks (docs/generators_runs.py, docs/generators_tables.py)
are rendered from results files written here, so each test changes a number in the
results and sees the block follow it.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs import build
from docs import generators_runs as runs
from docs import generators_tables as tables
from tests.conftest import load_experiment_script

ROOT = Path(__file__).resolve().parents[1]


def docs_build(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m docs.build`` with these arguments."""
    return subprocess.run(
        [sys.executable, "-m", "docs.build", *args], cwd=cwd, capture_output=True, text=True
    )


def fake_record(name: str, duration: float = 60.0, cores: int = 2, load: float = 0.5) -> dict:
    """A record as docs.build writes it (docs/build.py ``run_experiment``)."""
    return {
        "experiment": name,
        "command": f"python experiments/{name}.py --workers 2",
        "commit": "0123456789abcdef",
        "uncommitted_changes": False,
        "date": "2026-12-07T10:00:00+00:00",
        "machine": {"description": f"box, {cores} cores", "cores": cores},
        "load_average_at_start": [load, load, load],
        "seeds": [1],
        "duration_s": duration,
        "outputs": {},
    }


# --------------------------------------------------------------------------- records


def test_a_block_without_a_record_says_so_and_passes_until_a_number_is_typed(tmp_path):
    # a copy of the build with one experiment's record removed
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("*.md"))
    (tmp_path / "docs" / "build_records" / "platform_step_time.json").unlink()
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Step\n\n<!-- gen:platform-step-time:start -->\n4.2 ms\n"
        "<!-- gen:platform-step-time:end -->\n",
        encoding="utf-8",
    )
    done = docs_build("--check", "README.md", cwd=tmp_path)
    assert done.returncode == 1  # the hand-typed number is not what the generator writes
    assert "block 'platform-step-time' is not what its generator writes" in done.stderr

    assert docs_build("--from-records", "README.md", cwd=tmp_path).returncode == 0
    text = readme.read_text(encoding="utf-8")
    assert "4.2 ms" not in text
    assert "*Not yet recorded: `python -m docs.build --only platform-step-time` runs" in text
    done = docs_build("--check", "README.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not yet recorded (their blocks say so): platform_step_time" in done.stdout


def test_rebuild_time_sums_every_record_and_names_the_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "RECORDS", tmp_path)
    experiments = {g.experiment.name for g in build.GENERATORS.values() if g.experiment}
    missing = sorted(experiments)[:2]
    for i, name in enumerate(sorted(experiments)[2:]):
        record = fake_record(name, duration=60.0, load=0.5 + i / 10)
        (tmp_path / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")
    text = build.rebuild_time_text()
    recorded = len(experiments) - 2
    assert f"reruns {len(experiments)} experiments; {recorded} of them" in text
    assert f"{recorded} minutes in all on a 2-core machine (box, 2 cores)" in text
    assert f"Not yet recorded, so not in that time: {', '.join(missing)}." in text

    for name in missing:  # every experiment recorded: the full rebuild's time, no caveat
        record = fake_record(name, duration=90.0)
        (tmp_path / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")
    text = build.rebuild_time_text()
    total = (recorded * 60 + 2 * 90) / 60
    assert f"their recorded runs took {total:.0f} minutes in all on a 2-core machine" in text
    assert "Not yet recorded" not in text
    assert "load average 0.5-" in text


def test_the_test_runs_are_run_before_every_other_experiment(monkeypatch):
    ran = []
    monkeypatch.setattr(build, "run_experiment", lambda experiment: ran.append(experiment.name))
    monkeypatch.setattr(build, "rewrite", lambda paths, names, render: [])
    assert build.main(["--only", "bench-scale", "tests-full-time", "tests-quick-time"]) == 0
    assert ran[:2] == ["tests_full", "tests_quick"] or ran[:2] == ["tests_quick", "tests_full"]
    assert ran[2:] == ["bench_scale"]


def test_a_rerun_experiment_also_rewrites_the_rebuild_time(monkeypatch):
    """The README's sum of the recorded run times changes with any experiment's record, so
    `--only` with an experiment rewrites it too (it was left stale, and --check failed)."""
    names_seen = []
    monkeypatch.setattr(build, "run_experiment", lambda experiment: None)
    monkeypatch.setattr(
        build, "rewrite", lambda paths, names, render: names_seen.append(names) or []
    )
    assert build.main(["--only", "worlds-integrity"]) == 0
    assert "rebuild-time" in names_seen[-1] and "worlds-integrity" in names_seen[-1]
    names_seen.clear()
    assert build.main(["--from-records", "--only", "worlds-integrity"]) == 0
    assert names_seen[-1] == {"worlds-integrity"}


def test_every_rewrite_after_an_experiment_renders_from_fresh_records(monkeypatch):
    """A text rendered before an experiment ran is not reused after it (the full test
    run's block once kept the record of the run before)."""
    renderers = []
    monkeypatch.setattr(build, "run_experiment", lambda experiment: None)
    monkeypatch.setattr(
        build, "rewrite", lambda paths, names, render: renderers.append(render) or []
    )
    assert build.main(["--only", "tests-full-time", "tests-quick-time"]) == 0
    # one rewrite after each of the two test runs (they come first), then the final one
    assert len(renderers) == 3
    assert renderers[0] is not renderers[1]


# --------------------------------------------------------------------------- test timings


def load_test_timings():
    return load_experiment_script("test_timings")


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
<testcase classname="tests.test_a" name="test_one" time="1.5"/>
<testcase classname="tests.test_a" name="test_two" time="0.5"><failure message="no"/></testcase>
<testcase classname="tests.test_a" name="test_three" time="0.0"><skipped/></testcase>
<testcase classname="tests.test_notebooks" name="test_notebook_runs[01_first_run]" time="11.2"/>
<testcase classname="tests.test_notebooks" name="test_notebook_runs[04_calibration]"
 time="88.6"/>
</testsuite></testsuites>
"""


def test_test_timings_count_every_outcome_and_time_the_notebooks(tmp_path):
    timings = load_test_timings()
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT, encoding="utf-8")
    junit = timings.parse_junit(report)
    assert junit["counts"] == {"tests": 5, "failed": 1, "errors": 0, "skipped": 1, "passed": 3}
    command = ["/x/python", "-m", "pytest", "-m", "not slow", f"--junitxml={report}"]
    result = timings.summarise("full", command, 612.34, 1, junit)
    assert result["command"] == "python -m pytest -m not slow"
    assert result["notebooks"] == {"01_first_run": 11.2, "04_calibration": 88.6}
    assert result["slowest"][0] == {
        "test": "tests.test_notebooks::test_notebook_runs[04_calibration]",
        "seconds": 88.6,
    }

    result["load_average_at_start"] = [0.3, 0.2, 0.1]
    path = tmp_path / "tests_full.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    record = fake_record("tests_full", load=0.3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "TESTS_FULL", str(path))
        text = runs.tests_full_text(record)
        table = runs.notebook_times_text(record)
    assert "3 passed, 1 failed, 1 skipped in 10 min" in text  # failures are said, not hidden
    assert '`pytest -m "not slow" -n auto`' in text and "load average 0.3 at the start" in text
    assert "| `01_first_run` | 11 s |" in table and "| `04_calibration` | 89 s |" in table


# --------------------------------------------------------------------------- benchmarks


def test_the_sweep_benchmark_block_follows_its_results(tmp_path, monkeypatch):
    data = {
        "throughput": {"runs_per_minute_1_worker": 450.0, "runs_per_minute_2_worker": 900.0},
        "overhead": {
            "runs": 4,
            "direct_run_seconds_mean": 0.62,
            "part_write_seconds_median": 0.0031,
            "part_write_percent_of_run": 0.5,
            "scenario_check_seconds_median": 0.00008,
            "steady_overhead_percent_of_run": 0.51,
            "overhead_seconds_per_run": 0.012,
            "overhead_percent_of_run": 1.9,
            "start_seconds": 0.07,
        },
    }
    path = tmp_path / "bench_sweep.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(tables, "BENCH_SWEEP", str(path))
    text = tables.bench_sweep_table(fake_record("bench_sweep"))
    assert "| same, 2 workers | 900 runs/min |" in text
    assert "Two workers: 2.0x the throughput of one" in text
    assert "0.51% of a run, within the target of 5%" in text

    data["overhead"]["steady_overhead_percent_of_run"] = 6.2
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "6.20% of a run, above the target" in tables.bench_sweep_table(fake_record("x"))


def test_the_scale_targets_say_met_or_missed_from_the_benchmark(tmp_path, monkeypatch):
    summary = ROOT / "benchmarks" / "results" / "bench_scale_summary.csv"
    with summary.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0])

    def write(ratio: float, total: float) -> None:
        for row in rows:
            if row["engine"] == "mtsim" and row["consumers"] == "100000":
                row["ratio_vs_mesa"] = str(ratio)
            if row["engine"] == "mtsim" and row["consumers"] == "1000000":
                row["build_plus_100_steps_s"] = str(total)
        copy = tmp_path / "summary.csv"
        with copy.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        monkeypatch.setattr("docs.generators.SCALE_SUMMARY", str(copy))

    write(31.0, 36.1)
    text = runs.scale_targets_text(fake_record("bench_scale"))
    assert "31x the agent-steps per second" in text and "(target >= 30x: met)" in text
    assert "36.1 s" in text and "target < 60 s: met" in text
    write(27.0, 61.0)
    text = runs.scale_targets_text(fake_record("bench_scale"))
    assert "(target >= 30x: **missed**)" in text and "target < 60 s: **missed**" in text


def test_the_replay_sizes_table_follows_its_results(tmp_path, monkeypatch):
    path = tmp_path / "replay_sizes.csv"
    rows = [
        "consumers,runs,series,date,week,cnnic,model,gap_points",
        "1000,24,payment,2014-12-31,52,0.39,0.38,-1.0",
        "1000,24,payment,2015-06-30,78,0.465,0.49,2.5",
        "1000,24,shopping,2014-12-31,52,0.424,0.40,-2.4",
        "2000,24,payment,2014-12-31,52,0.39,0.40,1.0",
        "2000,24,payment,2015-06-30,78,0.465,0.425,-4.0",
        "2000,24,shopping,2014-12-31,52,0.424,0.40,3.0",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(runs, "REPLAY_SIZES", str(path))
    text = runs.replay_sizes_table(fake_record("replay_sizes"))
    assert "| consumers | runs | 2014 | mid-2015 | largest | shopping RMSE |" in text
    assert "| 1,000 | 24 | -1.0 | 2.5 | +2.5 | 2.4 |" in text
    assert "| 2,000 | 24 | 1.0 | -4.0 | -4.0 | 3.0 |" in text


# --------------------------------------------------------------------------- mtsim validate


def validation_json() -> dict:
    """A small validation.json: one row per kind of comparison of ``mtsim validate``."""

    def row(check, name, expected, measured, passed, **details):
        return {
            "check": check,
            "name": name,
            "expected": expected,
            "measured": measured,
            "passed": passed,
            "note": "",
            "details": details,
        }

    watts_note = "z inside the analytic window (1.02, 5.76), Watts's analytic chance 0.114"
    checks = {
        "bass": [
            row(
                "bass",
                "p=0.03: worst step t=22",
                0.99,
                0.99,
                True,
                max_abs_deviation=0.0021,
                max_deviation_over_tolerance=0.5,
            ),
            row(
                "bass",
                "p=0.1: worst step t=4",
                0.12,
                0.12,
                True,
                max_abs_deviation=0.0030,
                max_deviation_over_tolerance=0.7,
            ),
        ],
        "bass_closed_form": [
            row(
                "bass_closed_form",
                "k=20",
                0.03,
                0.03,
                True,
                max_abs_deviation=0.0012,
                max_deviation_over_tolerance=0.6,
            ),
        ],
        "watts_cascades": [
            {
                **row(
                    "watts_cascades",
                    "z=2: share",
                    0.74,
                    0.73,
                    True,
                    mean_degree=2.0,
                    runs=200,
                    hits=146,
                    reference_runs=4000,
                    reference_hits=2962,
                    analytic=0.754,
                    mean_cascade_size=0.80,
                ),
                "note": watts_note,
            },
            {
                **row(
                    "watts_cascades",
                    "z=5.7: share",
                    0.27,
                    0.268,
                    True,
                    mean_degree=5.7,
                    runs=1000,
                    hits=268,
                    reference_runs=4000,
                    reference_hits=1088,
                    analytic=0.114,
                    mean_cascade_size=0.99,
                ),
                "note": watts_note,
            },
        ],
        "ic_percolation": [
            row(
                "ic_percolation",
                "T=0.2 < 1/z: largest final share of 200 runs",
                0.0,
                0.015,
                True,
                runs=200,
                mean_final_share=0.001,
            ),
            row(
                "ic_percolation",
                "T=0.3: mean size of large outbreaks vs percolation giant cluster S",
                0.3137,
                0.3135,
                True,
                runs=876,
                large=281,
            ),
            row(
                "ic_percolation",
                "T=0.3: share of runs with a large outbreak (>5%) vs S",
                0.3137,
                0.3208,
                True,
                runs=876,
                hits=281,
            ),
        ],
        "ndlib_independent_cascade": [
            row(
                "ndlib_independent_cascade",
                "KS p-value: final sizes",
                None,
                0.181,
                True,
                ks_statistic=0.078,
                mann_whitney_p=0.09,
                runs_each=400,
            ),
        ],
        "ndlib_threshold": [
            row(
                "ndlib_threshold",
                "graphs with identical final aware sets",
                1.0,
                1.0,
                True,
                graphs=20,
            ),
            row(
                "ndlib_threshold",
                "KS p-value: final sizes",
                None,
                0.8635,
                True,
                ks_statistic=0.043,
                mann_whitney_p=0.15,
                runs_each=400,
            ),
        ],
    }
    settings = {
        "seed": 20240601, "bass_consumers": 10000, "bass_replications": 60, "bass_steps": 40,
        "closed_form_substeps": 20, "closed_form_consumers": 5000,
        "closed_form_replications": 40, "watts_nodes": 10000, "ic_nodes": 5000,
        "ndlib_nodes": 2000, "ndlib_graphs": 20, "ndlib_runs_per_graph": 20,
    }  # fmt: skip
    return {
        "mode": "full",
        "seconds": 1500.0,
        "settings": settings,
        "checks": [
            {"name": name, "skipped": False, "figure": f"{name}.png", "rows": rows}
            for name, rows in checks.items()
        ],
    }


def render_validation(tmp_path, monkeypatch, data: dict) -> tuple[str, str, str]:
    path = tmp_path / "validation.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(runs, "VALIDATION_JSON", str(path))
    record = fake_record("validate_classic")
    return (
        runs.validate_classic_notes(record),
        runs.readme_validate_classic(record),
        runs.watts_reference_table(record),
    )


def test_the_docking_blocks_follow_validation_json(tmp_path, monkeypatch):
    data = validation_json()
    notes, readme, watts = render_validation(tmp_path, monkeypatch, data)
    assert "Bass 60 runs of 10,000 consumers, 40 steps (largest deviation 0.50-0.70" in notes
    assert "Watts: 200-1,000 model runs per z on 10,000-node graphs (1,000 at z = 5.7)" in notes
    assert "(876 at T = 0.3, with 281 large outbreaks)" in notes
    assert "KS statistics 0.078 and 0.043, Mann-Whitney p 0.09 and 0.15" in notes
    assert "73% at z = 2 (74%; 75%) and 27% at z = 5.7 (27%; 11%)" in notes
    assert "stays within 0.0030 of the discrete recursion" in notes
    assert "global cascades in 73%, 27% of runs at z=2, 5.7" in readme
    assert "window 1.02-5.76" in readme and "none below T=1/z" in readme
    assert "still cascade in 27% of runs at z = 5.7 in the independent simulation" in readme
    assert "11 of 11 comparisons pass." in readme
    assert "| 5.7 | 0.1140 | 0.2720 (4,000 cascades) | 0.2680 (1,000 runs) |" in watts

    # a failing comparison is said as such, and the numbers follow the file
    bass = data["checks"][0]["rows"][1]
    bass["passed"], bass["details"]["max_abs_deviation"] = False, 0.0412
    data["checks"][2]["rows"][1]["details"]["hits"] = 300
    notes, readme, watts = render_validation(tmp_path, monkeypatch, data)
    assert "does **not** stay within 0.041 of the discrete recursion" in notes
    assert "global cascades in 73%, 30% of runs" in readme
    assert "10 of 11 comparisons pass." in readme
    assert "| 0.3000 (1,000 runs) |" in watts


def test_the_docking_table_says_workers_time_and_figures(tmp_path, monkeypatch):
    folder = tmp_path / "classic"
    folder.mkdir()
    (folder / "validation.json").write_text(json.dumps(validation_json()), encoding="utf-8")
    (folder / "validation.md").write_text(
        "| check | what | result |\n|---|---|---|\n| `bass` | x | pass |\n| `bass` | y | FAIL |\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(tables, "VALIDATION_DIR", str(folder))
    record = fake_record("validate_classic", load=3.2)
    record["command"] = "python -m model.cli validate --workers 1 --out x"
    text = tables.validation_classic_table(record)
    assert "1 of 2 comparisons pass. The run took 25 minutes with 1 worker(s), load average" in (
        text
    )
    assert "![bass](validation_results/classic/bass.png)" in text


# --------------------------------------------------------------------------- hand edits

RUN_BLOCKS = [
    ("README.md", "scale-targets"),
    ("docs/scale.md", "scale-targets"),
    ("README.md", "decision-timings"),
    ("README.md", "rebuild-time"),
    ("docs/calibration.md", "calibration-run-time"),
    ("docs/calibration.md", "replay-sizes"),
    ("docs/sweeps.md", "bench-sweep"),
    ("README.md", "tests-quick-time"),
    ("README.md", "tests-full-time"),
    ("docs/notebooks.md", "notebook-times"),
    ("docs/validation.md", "validate-classic"),
    ("docs/validation.md", "validate-classic-notes"),
    ("docs/validation.md", "watts-reference"),
    ("README.md", "readme-validate-classic"),
]
"""Blocks of this round (recorded or still saying they are not): a digit changed fails."""


@pytest.fixture(scope="module")
def renderer():
    """One renderer for the module: each generator renders once (the check runs in process;
    tests/test_docs_build.py runs the command itself)."""
    return build.Renderer()


@pytest.mark.parametrize(("document", "name"), RUN_BLOCKS, ids=[f"{d}:{n}" for d, n in RUN_BLOCKS])
def test_a_changed_digit_in_a_run_block_fails_the_check(tmp_path, document, name, renderer):
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    block = next(b for b in build.find_blocks(lines) if b.name == name)
    index = next(i for i in range(block.start + 1, block.end) if any(c.isdigit() for c in lines[i]))
    where = max(j for j, c in enumerate(lines[index]) if c.isdigit())
    line = lines[index]
    edited = list(lines)
    edited[index] = line[:where] + str((int(line[where]) + 1) % 10) + line[where + 1 :]
    path = tmp_path / Path(document).name
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    problems, _ = build.check([path], renderer)
    assert len(problems) == 1
    assert f"{path}:{index + 1}: block '{name}' is not what its generator writes" in problems[0]


def test_patterns_second_table_puts_the_two_seed_sets_side_by_side(tmp_path, monkeypatch):
    from docs import generators

    header = "fact,measured,seeds,verdict\n"
    for path, rows in (
        (generators.PATTERNS, "a,x 1,1001-1020,pass\nb,y 1,1001-1020,pass\n"),
        (generators.PATTERNS_SECOND, "a,x 2,3001-3020,pass\nb,y 2,3001-3020,FAIL\n"),
    ):
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(header + rows, encoding="utf-8")
    monkeypatch.setattr(generators, "ROOT", tmp_path)
    monkeypatch.setattr(generators, "_provenance", lambda path, record: "(provenance)")
    monkeypatch.setattr(generators, "_held_back_provenance", lambda path: "(held back)")
    text = generators.patterns_second_table({})
    assert "| `a` | x 1 | pass | x 2 | pass |" in text
    assert "| `b` | y 1 | pass | y 2 | FAIL |" in text
    assert "2 of 2 facts pass on seeds 1001-1020, 1 of 2 on seeds 3001-3020" in text
    assert "the verdicts differ for `b`." in text
    (tmp_path / generators.PATTERNS_SECOND).unlink()
    assert "has not been run on both seed sets" in generators.patterns_second_table({})


def test_ad_concave_steps_both_pools_the_per_seed_changes_of_the_two_sets(tmp_path, monkeypatch):
    from docs import generators

    def fact(per_seed):
        names = [f"marginal_{i + 1}" for i in range(3)]
        return {
            "facts": [
                {
                    "fact": "ad_concave",
                    "overall": dict.fromkeys(names, 0.0),
                    "per_seed": [dict(zip(names, row, strict=True)) for row in per_seed],
                }
            ]
        }

    first = [[3.0, 2.0, 2.0], [3.2, 2.1, 2.3]]
    second = [[2.9, 1.9, 1.7], [3.1, 2.0, 2.2]]
    for path, rows in (
        (generators.PATTERNS_JSON, first),
        (generators.PATTERNS_SECOND_JSON, second),
    ):
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(fact(rows)), encoding="utf-8")
    monkeypatch.setattr(generators, "ROOT", tmp_path)
    monkeypatch.setattr(generators, "_provenance", lambda path, record: "(provenance)")
    monkeypatch.setattr(generators, "_held_back_provenance", lambda path: "(held back)")
    text = generators.ad_concave_steps_both({})
    assert "over the 4 seeds" in text
    # step 1 -> 2: every seed falls by 1.0-1.1, so the pooled interval lies below 0
    assert "| 1 -> 2 | -1.1 [" in text and "| falls |" in text
    # step 2 -> 3: the seeds disagree (0.0, +0.2, -0.2, +0.2)
    assert "| 2 -> 3 | 0.05" in text and "cannot tell from 0" in text
    (tmp_path / generators.PATTERNS_SECOND_JSON).unlink()
    assert "has not been run on both seed sets" in generators.ad_concave_steps_both({})
