"""Scenario files: validation errors, extends:, --set, schema, through ``mtsim`` as a user would.

The command line runs in this process (``model.cli.main``, its exit code and stderr);
tests/test_hostile_input.py and tests/test_cli.py start it as a real process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from model.cli import main
from model.scenario import ScenarioError, load_scenario
from tests.conftest import BASELINE


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def mtsim(capsys):
    """Run ``mtsim ARGS`` in this process: exit code, stdout and stderr."""

    def run(*args: str) -> Done:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        out, err = capsys.readouterr()
        return Done(int(code or 0), out, err)

    return run


def write(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_FILES = {
    "unknown_key": ("extends: {base}\nsurprise: 1\n", "surprise: unknown key"),
    "misspelled_key": (
        "extends: {base}\npopulation:\n  consumer: 10\n",
        "did you mean 'consumers'",
    ),
    "wrong_type": (
        "extends: {base}\npopulation:\n  consumers: many\n",
        'population.consumers: "many"',
    ),
    "negative_population": (
        "extends: {base}\npopulation:\n  consumers: -5\n",
        "population.consumers: -5: out of range (allowed: >= 1)",
    ),
    "probability_above_one": (
        "extends: {base}\npayment:\n  fraud_rate: 1.5\n",
        "payment.fraud_rate: 1.5: out of range (allowed: <= 1.0)",
    ),
    "invalid_yaml": ("population: [1, 2\n", "invalid YAML at line"),
    "unknown_lever": ("extends: {base}\npolicies:\n  - lever: free_money\n", "policies.0.lever"),
    "end_before_start": (
        "extends: {base}\npolicies:\n  - {{lever: integrity, start: 9, end: 3}}\n",
        "must come after start",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_files_give_one_clear_line_and_exit_2(tmp_path, case, mtsim):
    text, expected = BAD_FILES[case]
    path = write(tmp_path, text.format(base=BASELINE))
    done = mtsim("run", str(path), "--steps", "2", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0]
    assert expected in lines[0]
    assert not (tmp_path / "out" / "timeseries.csv").exists()


def test_missing_file(tmp_path, mtsim):
    done = mtsim("run", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nope.yaml: file not found" in done.stderr


def test_bad_set_override_is_validated_like_the_file(tmp_path, mtsim):
    done = mtsim("run", str(BASELINE), "--set", "payment.fraud_rat=0.1", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "did you mean 'fraud_rate'" in done.stderr
    done = mtsim("run", str(BASELINE), "--set", "population.consumers", "--out", str(tmp_path))
    assert done.returncode == 2 and "PATH=VALUE" in done.stderr


def test_extends_and_set(tmp_path):
    write(tmp_path, f"extends: {BASELINE}\npopulation:\n  kols: 3\n", "child.yaml")
    grandchild = write(tmp_path, "extends: child.yaml\nname: deep\n", "grandchild.yaml")
    scenario = load_scenario(
        grandchild, ["population.consumers=123", "regions.foreign.price_level=2"]
    )
    assert scenario.name == "deep"
    assert scenario.population.kols == 3
    assert scenario.population.consumers == 123
    # the baseline's 80 merchants, scaled to 123 consumers (at least 5 per region)
    assert scenario.population.merchants == 10
    assert scenario.regions["foreign"].price_level == 2.0
    assert scenario.regions["domestic"].price_level == 1.0


def test_extends_cycle_is_reported(tmp_path):
    write(tmp_path, "extends: b.yaml\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_schema_command_prints_json_schema(mtsim):
    done = mtsim("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert "population" in schema["properties"] and "extends" in schema["properties"]


def test_baseline_documents_every_parameter():
    """Every key with a value carries a comment, except the second region, which repeats
    the first."""
    in_second_region = False
    for line in BASELINE.read_text().splitlines():
        stripped = line.strip()
        if line.startswith("  foreign:"):
            in_second_region = True
        elif line and not line.startswith(" "):
            in_second_region = False
        if not stripped or stripped.startswith("#") or stripped.endswith(":") or in_second_region:
            continue
        if stripped.startswith(("name:", "description:")):
            continue
        assert "#" in line, f"undocumented baseline line: {line}"


def test_steps_and_reps_have_upper_bounds_on_the_command_line(tmp_path, mtsim):
    for args, expected in (
        (["--steps", "100001"], "--steps: 100001: must be from 1 to 100,000"),
        (["--reps", "0"], "--reps: 0: must be from 1 to 100,000"),
    ):
        done = mtsim("run", str(BASELINE), *args, "--out", str(tmp_path / "out"))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.strip() == f"mtsim: error: {expected}"
    assert not (tmp_path / "out").exists()


def test_run_summary_numbers_follow_the_metric_unit():
    from model.metrics import format_metric

    assert format_metric("orders", 6.0) == "6"
    assert format_metric("orders", 236.0) == "236"
    assert format_metric("gmv", 12345.25, averaged=True) == "12,345.2"
    assert format_metric("aware_share", 0.5) == "50.0%"
    assert format_metric("mean_trust_domestic", 0.25, averaged=True) == "25.0"


def test_edge_list_errors_do_not_echo_the_file(tmp_path, mtsim):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    path = write(tmp_path, f"extends: {BASELINE}\nnetwork:\n  kind: file\n  path: {secret}\n")
    out = tmp_path / "out"
    done = mtsim("run", str(path), "--steps", "2", "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "two integer node ids per line (line 1 is not)" in done.stderr
    assert "root:" not in done.stderr
    assert not out.exists()  # checked before any folder is made


def test_scenario_name_cannot_steer_the_default_folder():
    from model.workflows.run import folder_name

    assert folder_name("a/../../../../tmp/evil") == "a_.._.._.._.._tmp_evil"
    assert folder_name("..") == "scenario"
    assert folder_name("payment security") == "payment_security"
    assert len(folder_name("n" * 300_000)) == 80


def test_a_very_long_extends_chain_is_one_line(tmp_path):
    write(tmp_path, "name: root\n", "f0.yaml")
    for i in range(1, 300):
        write(tmp_path, f"extends: f{i - 1}.yaml\n", f"f{i}.yaml")
    assert load_scenario(tmp_path / "f40.yaml").name == "root"
    with pytest.raises(ScenarioError, match="extends: more than 50 files deep") as caught:
        load_scenario(tmp_path / "f299.yaml")
    assert len(str(caught.value).splitlines()) == 1
