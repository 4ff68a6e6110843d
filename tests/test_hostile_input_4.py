"""Hostile input, fourth pass (issue 32, items 8, 9d and 10, and the slow refusals).

Each bad value that ran into a traceback (a population too small for its regions,
``consumers: true``, ``mean_order_value: 1e300``, ``days_per_step: 1e-300``, an
optimization ``budget: .nan``) or was accepted without a word (unknown targets,
``--threshold ...=nan``, a ``!!binary`` value, ``regions: {}``, a region named twice,
a policy that starts after the run, optimization ranges that are empty, inverted,
non-finite or outside the run, ``--out ''``, calibration data with a negative share,
shares in per cent or a date twice, standard output on a full disk) is answered in
one line naming the file, the key and the problem (exit 2; exit 1 for the full
stdout), or, for the policy after the run's end, a one-line note.

The refusals that were slow are checked for what makes them fast: they happen before
pandas, PyArrow, Optuna or the model are imported (the times are measured outside the
tests, not asserted). ``optimize`` resumed after an interruption gives exactly the
trials of the uninterrupted search (item 9d).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model.cli import main
from model.errors import UserError
from tests.conftest import BASELINE, ROOT

SCENARIOS = ROOT / "scenarios"
SMALL = ["--set", "population.consumers=300", "--set", "population.merchants=20"]


def refused(args: list[str], capsys, code: int = 2) -> str:
    """Run ``mtsim ARGS`` in this process; return its one stderr line (after any notes)."""
    assert main(args) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("mtsim: note:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("mtsim: error: "), lines[0]
    return lines[0]


def scenario_file(folder: Path, name: str, text: str, base: Path = BASELINE) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"extends: {base}\n{text}")
    return path


# --------------------------------------------------------------------------- item 8


@pytest.mark.parametrize("consumers", [1, 2])
@pytest.mark.parametrize("base", ["baseline", "platform_superapp"])
def test_too_few_consumers_for_the_regions_is_one_line(tmp_path, capsys, consumers, base):
    path = scenario_file(
        tmp_path, "few", f"population:\n  consumers: {consumers}\n", SCENARIOS / f"{base}.yaml"
    )
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line == (
        f"mtsim: error: {path}: population.consumers: {consumers}: too few for 2 regions "
        "(region 'foreign' would get none at population_share 0.2); 3 consumers give every "
        "region one"
    )
    assert not (tmp_path / "out").exists()


FIXED = {"population.merchants": 4, "population.kols": 1}


def test_the_fewest_consumers_that_give_every_region_one_run(tmp_path):
    """The number the message names is enough: each region gets a consumer and the model runs."""
    from model.market import MarketModel
    from model.scenario import consumers_per_region, load_scenario

    four = SCENARIOS / "four_regions.yaml"
    with pytest.raises(UserError, match=r"population.consumers: 3: too few for 4 regions") as no:
        load_scenario(four, {"population.consumers": 3, **FIXED})
    least = int(str(no.value).rsplit("); ", 1)[1].split()[0].replace(",", ""))
    scenario = load_scenario(four, {"population.consumers": least, **FIXED})
    shares = [r.population_share for r in scenario.regions.values()]
    assert min(consumers_per_region(least, shares)) == 1
    assert min(consumers_per_region(least - 1, shares)) == 0
    model = MarketModel(scenario, seed=1)
    for _ in range(3):
        model.step()
    assert len(model.timeseries()) == 4


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("population:\n  consumers: true\n", "population.consumers: true: not a number"),
        ("payment:\n  fraud_rate: false\n", "payment.fraud_rate: false: not a number"),
        ("simulation:\n  steps: true\n", "simulation.steps: true: not a number"),
    ],
)
def test_true_or_false_for_a_number_is_refused(tmp_path, capsys, text, where):
    path = scenario_file(tmp_path, "yes", text)
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line.startswith(f"mtsim: error: {path}: {where}"), line


def test_true_for_a_number_is_refused_in_set_and_the_other_files(tmp_path):
    from model.scenario import load_scenario

    with pytest.raises(UserError, match=r"--set: population.consumers: true: not a number"):
        load_scenario(BASELINE, ["population.consumers=true"])
    from model.decision.optimize import load_problem

    path = optimization_file(tmp_path, budget="true")
    with pytest.raises(UserError, match=r"budget: true: not a number"):
        load_problem(path)


def test_mean_order_value_has_a_finite_bound(tmp_path, capsys):
    path = scenario_file(tmp_path, "rich", "ordering:\n  mean_order_value: 1.0e+300\n")
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert "ordering.mean_order_value: 1e+300: out of range (allowed: <= 10000000.0)" in line


def test_the_largest_mean_order_value_keeps_every_account_finite():
    import numpy as np

    from model.market import MarketModel
    from model.scenario import load_scenario

    scenario = load_scenario(
        BASELINE,
        {
            "population.consumers": 300,
            "population.merchants": 12,
            "population.kols": 3,
            "ordering.mean_order_value": 10_000_000,
            "simulation.steps": 5,
        },
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(5):
        model.step()
    table = model.timeseries().select_dtypes("number")
    assert np.isfinite(table.to_numpy(dtype=float)).all()


# --------------------------------------------------------------------------- calibration data


ORIGIN = dt.date(2020, 1, 1)


def calibration(folder: Path, rows: list[tuple[str, str]], **time) -> Path:
    """A calibration file of one share series (mobile access) read from ``rows``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "data.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "access"])
        writer.writerows(rows)
    config = {
        "name": "tiny",
        "scenario": str(BASELINE),
        "overrides": {
            "population.consumers": 300,
            "population.merchants": 12,
            "population.kols": 3,
        },
        "data": "data.csv",
        "time": {"origin": ORIGIN.isoformat(), "days_per_step": 7, **time},
        "series": {"access": {"value_column": "access", "metric": "mobile_access_share"}},
        "parameters": {
            "growth": {"paths": ["regions.domestic.access_growth"], "low": 0.0, "high": 0.01}
        },
    }
    path = folder / "cal.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def weekly(values: list[float]) -> list[tuple[str, str]]:
    return [
        ((ORIGIN + dt.timedelta(days=7 * (i + 1))).isoformat(), f"{v:g}")
        for i, v in enumerate(values)
    ]


def test_good_calibration_data_loads(tmp_path):
    from model.validation.calibration import load_calibration

    cal = load_calibration(calibration(tmp_path, weekly([0.3, 0.35, 0.4])))
    assert list(cal.observations["access"].values) == [0.3, 0.35, 0.4]
    assert cal.observations["access"].rows == [2, 3, 4]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            weekly([0.3, -0.2, 0.4]),
            "data.csv: row 3: access: -0.2: series access compares with the share "
            "mobile_access_share, which cannot be negative",
        ),
        (
            weekly([30, 35, 40]),
            "data.csv: row 2: access: 30: series access compares with the share "
            "mobile_access_share, which is from 0 to 1; these look like percentages: add "
            "'scale: 0.01' to the series",
        ),
        (
            [*weekly([0.3, 0.35]), (weekly([0.3])[0][0], "0.5")],
            f"data.csv: row 4: date: {weekly([0.3])[0][0]} is the date of row 2 too; "
            "series access needs one observation per date",
        ),
    ],
    ids=["negative", "percent", "duplicate-date"],
)
def test_bad_calibration_data_is_one_line(tmp_path, capsys, rows, expected):
    path = calibration(tmp_path, rows)
    line = refused(["calibrate", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line.endswith(expected), line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ({"days_per_step": 1e-300}, "time.days_per_step: 1e-300: out of range (allowed: >= 0.1)"),
        ({"days_per_step": 1000}, "time.days_per_step: 1000: out of range (allowed: <= 366.0)"),
        ({"days_per_step": True}, "time.days_per_step: true: not a number"),
    ],
)
def test_days_per_step_is_bounded(tmp_path, capsys, time, expected):
    path = calibration(tmp_path, weekly([0.3, 0.35]), **time)
    line = refused(["calibrate", str(path), "--out", str(tmp_path / "out")], capsys)
    assert expected in line, line


def test_an_observation_beyond_the_longest_run_is_one_line(tmp_path, capsys):
    late = (ORIGIN + dt.timedelta(days=30 * 365)).isoformat()
    path = calibration(tmp_path, [*weekly([0.3]), (late, "0.4")], days_per_step=0.1)
    line = refused(["calibrate", str(path), "--out", str(tmp_path / "out")], capsys)
    assert f"row 3: date: {late} maps to step 109,500 (time.days_per_step: 0.1)" in line
    assert "beyond the 100,000 steps a calibration can simulate" in line


# --------------------------------------------------------------------------- optimize


def optimization_file(folder: Path, lever: str = "strength: [0, 1], step: 0.25", **top) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fields = {
        "name": "tiny",
        "base": str(BASELINE),
        "set": "{population.consumers: 300, population.merchants: 20, population.kols: 2}",
        "steps": "3",
        "replications": "1",
        "seed": "3",
        "budget": "6000",
        "trials": "12",
        "population": "4",
        "batch": "4",
        **top,
    }
    lines = [f"{key}: {value}" for key, value in fields.items()]
    lines += [
        "levers:",
        f"  - {{lever: infrastructure, {lever}, fields_per_strength: {{cost_per_step: 250}}}}",
        "  - {lever: integrity, strength: [0, 1], fields_per_strength: {cost_per_step: 250}}",
        "objectives:",
        "  - {metric: mobile_access_share, direction: maximize}",
        "  - {metric: verified_merchant_share, direction: maximize}",
    ]
    path = folder / "problem.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("top", "lever", "expected"),
    [
        ({"budget": ".nan"}, None, "budget: nan: must be a finite number, 0 or more"),
        ({"budget": ".inf"}, None, "budget: inf: must be a finite number, 0 or more"),
        ({}, "strength: [.nan, 1]", "levers.0.strength.0: nan: must be a finite number"),
        ({}, "strength: [0, .inf]", "levers.0.strength.1: inf: must be a finite number"),
        ({}, "strength: [1, 0]", "levers.0.strength: [1, 0]: need 0 <= low <= high <= 1"),
        ({}, "strength: [0.5, 0.5]", "levers.0.strength: [0.5, 0.5]: an empty range"),
        ({}, "strength: [0, 1], start: [2, 2]", "levers.0.start: [2, 2]: an empty range"),
        ({}, "strength: [0, 1], start: [3, 1]", "levers.0.start: [3, 1]: need 1 <= low <= high"),
        (
            {},
            "strength: [0, 0.2], step: 0.5",
            "levers.0.step: 0.5: larger than the range [0, 0.2], so only 0 would be tried",
        ),
        ({}, "strength: 0.5, step: 0.1", "levers.0.step: a step needs a searched strength"),
        (
            {},
            "strength: [0, 1], start: [1, 40]",
            "levers.0.start: [1, 40]: after the run's last week (3); a lever starting then "
            "never acts",
        ),
        ({}, "strength: [0, 1], start: 9", "levers.0.start: 9: after the run's last week (3)"),
        (
            {},
            "strength: [0, 1], duration: [1, 30]",
            "levers.0.duration: [1, 30]: longer than the run (3 weeks)",
        ),
    ],
)
def test_optimization_budget_and_ranges_are_checked(tmp_path, capsys, top, lever, expected):
    path = optimization_file(tmp_path, lever or "strength: [0, 1], step: 0.25", **top)
    line = refused(["optimize", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line.startswith(f"mtsim: error: {path}: {expected}"), line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- accepted silently


def test_unknown_targets_are_refused_by_run_and_compare(tmp_path, capsys):
    one = scenario_file(tmp_path, "one", "targets: {paymnet_adoption: 0.5}\n")
    expected = (
        f"mtsim: error: {one}: targets: 'paymnet_adoption': not a metric of the run table; "
        "did you mean 'payment_adoption'? (the metrics: README, Metrics)"
    )
    assert refused(["run", str(one), "--out", str(tmp_path / "o1")], capsys) == expected
    args = ["compare", str(BASELINE), str(one), "--out", str(tmp_path / "o2")]
    assert refused(args, capsys) == expected
    many = tmp_path / "many.yaml"
    many.write_text(
        f"extends: {BASELINE}\ntargets:\n" + "".join(f"  m{i}: 0.5\n" for i in range(30_000))
    )
    line = refused(["run", str(many), "--out", str(tmp_path / "o3")], capsys)
    assert "targets: 'm0', 'm1', 'm2' and 29,997 more: not metrics of the run table" in line
    assert not any((tmp_path / f"o{i}").exists() for i in (1, 2, 3))


def test_known_targets_and_a_region_column_pass(tmp_path):
    from model.scenario import load_scenario
    from model.workflows.run import check_targets

    path = scenario_file(
        tmp_path, "ok", "targets: {payment_adoption: [0.3, 0.5], exports_value.domestic: 10}\n"
    )
    check_targets(load_scenario(path), str(path))


@pytest.mark.parametrize("level", ["nan", "inf", "-inf"])
def test_a_threshold_must_be_finite(capsys, level, tmp_path):
    args = ["compare", str(BASELINE), str(BASELINE), "--threshold", f"payment_adoption={level}"]
    line = refused([*args, "--out", str(tmp_path / "out")], capsys)
    assert line == (
        f"mtsim: error: --threshold: payment_adoption={level}: '{level}': must be a finite number"
    )


def test_a_binary_value_is_refused_in_files_and_set(tmp_path, capsys):
    path = scenario_file(tmp_path, "bytes", "name: !!binary aGVsbG8=\n")
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line == (
        f"mtsim: error: {path}: a !!binary value at line 2; mtsim files hold text and "
        "numbers, not bytes (remove the !!binary tag)"
    )
    from model.scenario import load_scenario

    with pytest.raises(UserError, match="a !!binary value"):
        load_scenario(BASELINE, ["name=!!binary aGVsbG8="])


def test_an_empty_regions_block_is_refused(tmp_path, capsys):
    path = scenario_file(tmp_path, "none", "regions: {}\n")
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line == (
        f"mtsim: error: {path}: regions: empty; a scenario needs at least one region; to keep "
        f"the regions of {BASELINE} (extends), leave the key out"
    )


def test_a_region_named_twice_is_refused(tmp_path, capsys):
    path = scenario_file(
        tmp_path,
        "twice",
        "regions:\n  - {name: home, population_share: 0.5}\n"
        "  - {name: away, population_share: 0.2}\n  - {name: home, population_share: 0.3}\n",
    )
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line == (
        f"mtsim: error: {path}: regions.2.name: 'home' is the name of regions.0 too; give "
        "each region its own name"
    )


def test_a_policy_that_starts_after_the_run_is_noted(tmp_path, capsys):
    path = scenario_file(
        tmp_path,
        "late",
        "policies:\n  - {lever: payment_security, start: 200, strength: 0.5, label: late}\n",
    )
    out = tmp_path / "out"
    assert main(["run", str(path), "--steps", "2", *SMALL, "--quiet", "--out", str(out)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "never acts" in line]
    assert notes == [
        "mtsim: note: baseline: policies.0 (late): lever payment_security starts at week 200, "
        "after the run's last week (2): it never acts and costs nothing"
    ]


def test_a_sweep_warns_of_a_base_policy_that_starts_after_the_run(tmp_path, capsys):
    study = tiny_experiment(tmp_path / "in")
    spec = yaml.safe_load(study.read_text())
    spec["set"]["policies"] = [{"lever": "payment_security", "start": 50, "strength": 0.0}]
    spec["parameters"][0] = {"name": "s", "path": "policies.0.strength", "values": [0.1, 0.2]}
    study.write_text(yaml.safe_dump(spec, sort_keys=False))
    args = ["sweep", str(study), "--workers", "1", "--no-progress", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    assert (
        f"mtsim: warning: {study}: the base scenario's policies.0 (lever payment_security) "
        "starts at week 50, after the run's last week (2): it never acts unless the design "
        "sets its start"
    ) in capsys.readouterr().err.splitlines()


def test_a_policy_within_the_run_gets_no_note():
    from model.scenario import load_scenario
    from model.workflows.run import policy_notes

    scenario = load_scenario(SCENARIOS / "payment_security.yaml")
    assert policy_notes(scenario, scenario.simulation.steps) == []
    assert policy_notes(scenario, 0)  # every policy starts after week 0


@pytest.mark.parametrize(
    "args",
    [
        ["run", str(BASELINE)],
        ["compare", str(BASELINE), str(BASELINE)],
        ["sweep", "x.yaml"],
        ["analyze", "folder"],
        ["calibrate", "x.yaml"],
        ["optimize", "x.yaml"],
        ["validate", "--quick"],
        ["discover", "folder", "--outcome", "payment_adoption_final < 0.5"],
    ],
    ids=lambda a: a[0],
)
def test_an_empty_out_is_refused(capsys, args):
    assert refused([*args, "--out", ""], capsys) == (
        "mtsim: error: --out: an empty name; give a name, or omit --out"
    )


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "args",
    [["schema"], ["--version"], ["run", str(BASELINE), "--steps", "1", "--quiet", *SMALL]],
    ids=["schema", "version", "run"],
)
def test_standard_output_on_a_full_disk_is_one_line_and_exit_1(tmp_path, args):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "out")]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "model.cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    lines = [line for line in done.stderr.splitlines() if not line.startswith("mtsim: note:")]
    assert done.returncode == 1, done.stderr
    assert lines == ["mtsim: error: cannot write to standard output (No space left on device)"]


# --------------------------------------------------------------------------- one line, not two


def test_a_union_value_gets_the_deeper_error_only():
    from pydantic import ValidationError

    from model.decision.optimize import LeverSpec
    from model.schema_errors import deepest_errors

    with pytest.raises(ValidationError) as caught:
        LeverSpec.model_validate({"lever": "integrity", "strength": [float("nan"), 1.0]})
    kept = deepest_errors(caught.value.errors())
    assert len(caught.value.errors()) == 2 and len(kept) == 1
    assert kept[0]["type"] == "finite_number"


# --------------------------------------------------------------------------- fast refusals


def test_a_file_read_twice_is_parsed_once(tmp_path, monkeypatch):
    """A command reads its file before the heavy imports and again to load it: one parse."""
    from model import yamlio

    calls = []
    real = yamlio.parse_yaml_text
    monkeypatch.setattr(yamlio, "parse_yaml_text", lambda *a: calls.append(1) or real(*a))
    path = tmp_path / "s.yaml"
    path.write_text("name: a\npopulation: {consumers: 10}\n")
    first = yamlio.read_yaml_mapping(path, "scenario")
    first["population"]["consumers"] = 99  # the caller's copy: not the cached one
    second = yamlio.read_yaml_mapping(path, "scenario")
    assert len(calls) == 1 and second == {"name": "a", "population": {"consumers": 10}}
    path.write_text("name: b\npopulation: {consumers: 10}\n")  # same size, new content
    assert yamlio.read_yaml_mapping(path, "scenario")["name"] == "b" and len(calls) == 2


def test_a_syntax_error_at_the_end_of_a_large_file_is_found_first(tmp_path, monkeypatch):
    from model import yamlio

    lines = ["name: big\nextra:\n"]
    lines += [f"  key_{i}: [1, 2, 3, 'text', {{a: 1, b: 2}}]\n" for i in range(9000)]
    path = tmp_path / "big.yaml"
    path.write_text("".join(lines) + "population: [1, 2\n")
    assert path.stat().st_size > yamlio.SYNTAX_FIRST_CHARS
    monkeypatch.setattr(yamlio, "check_node_graph", lambda *a: pytest.fail("parsed in full"))
    with pytest.raises(UserError, match=r"invalid YAML at line 9004, column 1"):
        yamlio.read_yaml_mapping(path, "scenario")


HEAVY = ("pandas", "pyarrow", "optuna", "pyabc", "model.market", "matplotlib")


def heavy_imports(args: list[str], cwd: Path) -> tuple[int, str, list[str]]:
    """Run ``main(args)`` in a fresh interpreter; return its code, stderr and heavy modules."""
    code = (
        "import sys\n"
        "from model.cli import main\n"
        f"code = main({args!r})\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(code, ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    status, _, heavy = done.stdout.strip().rpartition("\n")[2].partition(" ")
    return int(status), done.stderr, [m for m in heavy.split(",") if m]


def tiny_experiment(folder: Path, outcomes: str = "summary") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "base": str(BASELINE),
                "set": {"population.consumers": 300, "population.merchants": 20},
                "parameters": [{"name": "f", "path": "payment.fraud_rate", "values": [0.0, 0.1]}],
                "design": {"kind": "grid"},
                "replications": 1,
                "steps": 2,
                "outcomes": outcomes,
            },
            sort_keys=False,
        )
    )
    return path


@pytest.mark.subprocess
def test_sweep_refusals_come_before_pandas_and_pyarrow(tmp_path):
    study = tiny_experiment(tmp_path / "in")
    wrong = tmp_path / "in" / "wrong.yaml"
    wrong.write_text(study.read_text().replace("replications: 1", "replications: many"))
    # a sweep folder made by the file, then resumed with a changed file
    assert main(["sweep", str(study), "--workers", "1", "--out", str(tmp_path / "sw")]) == 0
    changed = tiny_experiment(tmp_path / "changed", outcomes="timeseries")
    cases = {
        "wrong type": (["sweep", str(wrong)], 'replications: "many"'),
        "read-only out": (["sweep", str(study), "--out", "/proc/mtsim-out"], "--out: /proc"),
        "changed study": (
            ["sweep", str(changed), "--resume", "--out", str(tmp_path / "sw")],
            'outcomes "summary" -> "timeseries"',
        ),
    }
    for name, (args, expected) in cases.items():
        code, err, heavy = heavy_imports(args, tmp_path)
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, (name, err)
        assert heavy == [], (name, heavy)


@pytest.mark.subprocess
def test_out_folder_refusals_come_before_the_heavy_imports(tmp_path):
    cal = calibration(tmp_path / "cal", weekly([0.3, 0.35]))
    empty = tmp_path / "empty"
    empty.mkdir()
    problem = optimization_file(tmp_path / "opt")
    cases = {
        "run": ["run", str(BASELINE), "--out", "/proc/mtsim-out"],
        "compare": ["compare", str(BASELINE), str(BASELINE), "--out", "/proc/mtsim-out"],
        "optimize": ["optimize", str(problem), "--out", "/proc/mtsim-out"],
        "calibrate": ["calibrate", str(cal), "--out", "/proc/mtsim-out"],
        "calibrate --outputs-only": ["calibrate", str(cal), "--outputs-only", "--out", str(empty)],
    }
    for name, args in cases.items():
        code, err, heavy = heavy_imports(args, tmp_path)
        assert code == 2 and len(err.strip().splitlines()) == 1, (name, err)
        assert heavy == [], (name, heavy)


@pytest.mark.subprocess
def test_optimize_rerun_with_a_changed_file_is_refused_before_optuna(tmp_path):
    from model.decision.optimize import load_problem
    from model.workflows.optimize import PROBLEM_FILE, open_study

    problem = load_problem(optimization_file(tmp_path / "a"))
    out = tmp_path / "out"
    open_study(problem, out)  # the folder of a search begun with the first file
    assert json.loads((out / PROBLEM_FILE).read_text())["name"] == "tiny"
    changed = optimization_file(tmp_path / "b", seed="4")
    code, err, heavy = heavy_imports(["optimize", str(changed), "--out", str(out)], tmp_path)
    assert code == 2 and "holds a search of a different problem" in err, err
    assert "optuna" not in heavy and "pandas" not in heavy, heavy


# --------------------------------------------------------------------------- item 9d


COLUMNS = [
    "trial",
    "state",
    "infrastructure.strength",
    "integrity.strength",
    "mobile_access_share_final",
    "verified_merchant_share_final",
    "total_policy_cost",
]


@pytest.mark.long
def test_optimize_resumed_after_an_interrupt_equals_the_uninterrupted_search(tmp_path, monkeypatch):
    """Cut short while a batch is evaluated, while it is asked, or while it is told."""
    import optuna
    import pandas as pd

    import model.workflows.optimize as search
    from model.decision.optimize import load_problem

    path = optimization_file(tmp_path / "p", trials="16")

    def trials(out: Path) -> pd.DataFrame:
        table = pd.read_csv(out / "trials.csv")
        return table[COLUMNS].sort_values("trial").reset_index(drop=True)

    def run(out: Path) -> None:
        search.run_optimization(load_problem(path), out, workers=1, progress=False)

    run(tmp_path / "whole")
    whole = trials(tmp_path / "whole")
    assert len(whole) == 16

    def cut_after(patch: pytest.MonkeyPatch, owner: object, name: str, calls: int) -> None:
        """Make ``owner.name`` raise KeyboardInterrupt (a kill) after ``calls`` calls."""
        real = getattr(owner, name)
        count = {"n": 0}

        def cut(*args, **kwargs):
            count["n"] += 1
            if count["n"] > calls:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        patch.setattr(owner, name, cut)

    cuts = {
        "evaluating": (search, "evaluate", 2),  # the third batch's runs
        "asking": (optuna.study.Study, "ask", 10),  # after two of the third batch's trials
        "telling": (optuna.study.Study, "tell", 9),  # after one of the third batch's tells
    }
    for when, (owner, name, calls) in cuts.items():
        out = tmp_path / when
        with monkeypatch.context() as patch:  # undone when the block ends
            cut_after(patch, owner, name, calls)
            with pytest.raises(KeyboardInterrupt):
                run(out)
        run(out)
        resumed = trials(out)
        pd.testing.assert_frame_equal(resumed, whole, obj=f"cut while {when}")
        sessions = pd.read_csv(out / "trials.csv")["session"].nunique()
        assert sessions == 2, when
    shutil.rmtree(tmp_path / "whole")


# --------------------------------------------------------------------------- item 11: bounds


def schema_numbers(
    node: dict, path: str, defs: dict, data: object = None, *, with_data: bool = False
) -> list[tuple[str, str, float | None, float | None]]:
    """Every numeric field of a JSON schema: (dotted path, type, lowest, highest).

    Follows ``$ref``, ``anyOf`` branches, ``items`` (path ``.N`` with data, ``[]``
    without) and ``additionalProperties`` of dicts (path ``.KEY`` with data, ``*``
    without). With ``with_data``, only the fields present in ``data`` (plain scenario
    data), under their real paths; an optional number that is null counts as present.
    """
    if "$ref" in node:
        return schema_numbers(
            defs[node["$ref"].split("/")[-1]], path, defs, data, with_data=with_data
        )
    found = []
    for branch in node.get("anyOf", []):
        found += schema_numbers(branch, path, defs, data, with_data=with_data)
    kind = node.get("type")
    if kind in ("number", "integer") and (
        not with_data
        or data is None
        or (isinstance(data, (int, float)) and not isinstance(data, bool))
    ):
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        if "exclusiveMaximum" in node and high is not None:
            high = high - 1 if kind == "integer" else high * (1 - 1e-12)
        found.append((path, kind, low, high))

    def join(key: object) -> str:
        return f"{path}.{key}" if path else str(key)

    for name, sub in node.get("properties", {}).items():
        if not with_data:
            found += schema_numbers(sub, join(name), defs)
        elif isinstance(data, dict) and name in data:
            found += schema_numbers(sub, join(name), defs, data[name], with_data=True)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        if not with_data:
            found += schema_numbers(extra, join("*"), defs)
        elif isinstance(data, dict):
            for key, value in data.items():
                found += schema_numbers(extra, join(key), defs, value, with_data=True)
    if isinstance(node.get("items"), dict):
        if not with_data:
            found += schema_numbers(node["items"], f"{path}[]", defs)
        elif isinstance(data, (list, tuple)):
            for number, value in enumerate(data):
                found += schema_numbers(node["items"], join(number), defs, value, with_data=True)
    return found


def test_every_number_of_a_scenario_has_a_finite_range():
    """A schema walk: every numeric field, also in anyOf branches, lists and dicts."""
    import math

    from model.scenario import scenario_json_schema

    schema = scenario_json_schema()
    fields = schema_numbers(schema, "", schema.get("$defs", {}))
    assert len(fields) > 200  # the walk reaches the nested sections
    unbounded = [
        f"{path} ({low}, {high})"
        for path, _, low, high in fields
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high))
    ]
    assert not unbounded, f"{len(unbounded)} numeric fields without a finite range: {unbounded}"


SMALL_WORLD = {
    "population.consumers": 200,
    "population.merchants": 10,
    "population.kols": 3,
    "simulation.steps": 20,
}
"""The world of the run at each bound: 200 consumers for 20 weeks."""

MAY_BE_NAN = {
    "accepting_merchant_share",  # README, metrics: NaN when no merchant sells by mobile
    "kol_credibility",  # README, metrics: NaN without KOLs
    # model/metrics.py: a platform ratio is NaN in a week its denominator is 0
    "platform_order_share",
    "intention_conversion",
    "search_action_rate",
    "search_purchase_rate",
    "platform_multihoming",  # users of two or more platforms / users: NaN with no users
    "wallet_multihoming",  # ... / wallet holders: NaN with no wallet holder
    "wallet_payment_share",  # per platform (wallet_payment_share.P): NaN with no payment
}
"""Run-table columns documented as NaN in some weeks (never infinite); a per-platform
column ``name.P`` is named by ``name``."""

SIZES = {*SMALL_WORLD, "merchant_dynamics.max_merchants"}
"""Numbers that set the world's size, kept small (10 million merchant slots take minutes)."""

NORMALISED = ("population_share",)
"""Fields normalised over the regions: set in every region at once (a region whose share
is a millionth of another's has no consumer among 200, which is refused)."""


def bound_cases() -> list[tuple[str, str, dict[str, object]]]:
    """(case, scenario, overrides) setting one number to its maximum, one at a time.

    The baseline's numbers, and the ``platforms`` section's on platform_superapp.yaml
    (the baseline has none). The world's size (:data:`SIZES`) stays small; numbers
    inside a list or a dict of numbers (``links``, ``region_reach``, ``targets``,
    ``initial_aware_nodes``) are left out (the schema walk checks their bounds). Each
    lever runs at its maximum strength with the largest programme cost, on
    platform_superapp.yaml for the platform levers; a last policy has the longest ramp
    and the latest end.
    """
    from model.levers import LEVER_MAX
    from model.scenario import MAX_STEPS, load_scenario, scenario_json_schema

    schema = scenario_json_schema()
    defs = schema.get("$defs", {})
    cases: dict[str, tuple[str, dict[str, object]]] = {}
    for name, section in (("baseline", ""), ("platform_superapp", "platforms.")):
        data = load_scenario(SCENARIOS / f"{name}.yaml").resolved()
        for path, kind, _, high in schema_numbers(schema, "", defs, data, with_data=True):
            if not path.startswith(section) or path in SIZES or path.startswith("targets"):
                continue
            if any(part.isdigit() for part in path.split(".")) or ".region_reach." in path:
                continue
            value = int(high) if kind == "integer" else high
            leaf = path.rsplit(".", 1)[-1]
            if leaf in NORMALISED:
                cases[leaf] = (name, {f"regions.{r}.{leaf}": value for r in data["regions"]})
            else:
                cases[path] = (name, {path: value})
    cost = defs["Intervention"]["properties"]["cost_per_step"]["maximum"]
    for lever, top in LEVER_MAX.items():
        name = "platform_superapp" if lever in PLATFORM_LEVERS else "baseline"
        policy = {"lever": lever, "strength": top, "cost_per_step": cost}
        cases[f"policies: {lever}"] = (name, {"policies": [policy]})
    policy = {"lever": "consumer_incentives", "strength": 0.9, "ramp": MAX_STEPS}
    cases["policies: longest ramp, latest end"] = (
        "baseline",
        {"policies": [{**policy, "end": MAX_STEPS + 1}]},
    )
    return [(case, name, over) for case, (name, over) in cases.items()]


PLATFORM_LEVERS = ("platform_fee", "platform_verification", "interoperability", "spam_control")
"""Levers that act only with a ``platforms:`` section (model/levers.py)."""


def not_finite_columns(scenario_name: str, overrides: dict[str, object]) -> list[str]:
    """Run a small world with ``overrides``; return the run-table columns not finite.

    A column of :data:`MAY_BE_NAN` may be NaN (not infinite).
    """
    import numpy as np

    from model.market import MarketModel
    from model.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / f"{scenario_name}.yaml", {**SMALL_WORLD, **overrides})
    model = MarketModel(scenario, seed=3)
    for _ in range(scenario.simulation.steps):
        model.step()
    table = model.timeseries().select_dtypes("number")
    bad = []
    for column in table.columns:
        values = table[column].to_numpy(dtype=float)
        may_be_nan = column in MAY_BE_NAN or column.split(".")[0] in MAY_BE_NAN
        allowed = ~np.isinf(values) if may_be_nan else np.isfinite(values)
        if not allowed.all():
            bad.append(column)
    return bad


@pytest.mark.long
def test_every_number_at_its_maximum_keeps_the_run_table_finite():
    """Each number of the baseline (and of a platform) at its upper bound, one at a time."""
    import warnings

    cases = bound_cases()
    assert len(cases) > 150
    failed = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a policy after the run's end, scaled counts, ...
        for case, name, overrides in cases:
            bad = not_finite_columns(name, overrides)
            if bad:
                failed[case] = bad
    assert not failed, f"columns not finite with a number at its maximum: {failed}"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "policies:\n  - {lever: integrity, cost_per_step: 1.0e+300}\n",
            "policies.0.cost_per_step: 1e+300: out of range (allowed: <= 10000000000.0)",
        ),
        (
            "marketing:\n  budget_per_merchant: 1.0e+300\n",
            "marketing.budget_per_merchant: 1e+300: out of range (allowed: <= 10000000.0)",
        ),
        (
            "accounts:\n  fixed_cost: 1.0e+300\n",
            "accounts.fixed_cost: 1e+300: out of range (allowed: <= 10000000.0)",
        ),
        (
            "trust:\n  experience_gain: 1.0e+300\n",
            "trust.experience_gain: 1e+300: out of range (allowed: <= 100.0)",
        ),
        (  # a level or a list of levels: one line, not one per branch
            "targets: {payment_adoption: 1.0e+300}\n",
            "targets.payment_adoption: 1e+300: out of range (allowed: <= 1000000000000000.0)",
        ),
        (
            "policies:\n  - {lever: integrity, strength: 1.0e+300}\n",
            "policies.0: strength 1e+300 of lever 'integrity' is above its maximum 1.0",
        ),
    ],
)
def test_the_huge_values_of_the_issue_are_refused_in_one_line(tmp_path, capsys, text, where):
    path = scenario_file(tmp_path, "huge", text)
    line = refused(["run", str(path), "--steps", "2", "--out", str(tmp_path / "out")], capsys)
    assert line.startswith(f"mtsim: error: {path}: {where}"), line
    assert not (tmp_path / "out").exists()


@pytest.mark.subprocess
def test_a_huge_value_is_refused_by_the_command(tmp_path):
    path = scenario_file(tmp_path, "huge", "accounts:\n  fixed_cost: 1.0e+300\n")
    mtsim = Path(sys.executable).with_name("mtsim")
    done = subprocess.run(
        [str(mtsim), "run", str(path), "--steps", "2", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"mtsim: error: {path}: accounts.fixed_cost: 1e+300: out of range (allowed: <= 10000000.0)"
    ]
