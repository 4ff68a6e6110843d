"""The command line as a whole: one layout, quick input errors, well-behaved pipes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.cli import COMMANDS, EXIT_BROKEN_PIPE, build_parser

ROOT = Path(__file__).resolve().parents[1]

#: modules that must not be imported before a command has checked its input
HEAVY = ("numpy", "pandas", "scipy", "mesa", "matplotlib", "model.market")

#: per command, arguments with an input error (a missing file or folder, an unknown name);
#: a command added later without an entry here is tried with a missing YAML file
BAD_INPUT: dict[str, list[str]] = {
    "run": ["run", "scenarios/no_such_scenario.yaml"],
    "compare": ["compare", "scenarios/no_such_scenario.yaml", "scenarios/baseline.yaml"],
    "sweep": ["sweep", "experiments/no_such_study.yaml"],
    "analyze": ["analyze", "results/no_such_sweep"],
    "validate": ["validate", "--only", "no_such_check"],
    "calibrate": ["calibrate", "experiments/no_such_calibration.yaml"],
    "viz": ["viz", "scenarios/no_such_scenario.yaml"],
    "schema": ["schema", "--no-such-option"],
}

#: commands whose owners are still making them check input before heavy imports
#: (name -> owner); such a case is marked xfail(strict=False) until it passes
PENDING_LAZY: dict[str, str] = {}


def test_every_command_lives_in_model_commands_with_register_and_handle():
    for name, (module_name, help_text) in COMMANDS.items():
        assert module_name == f"model.commands.{name}", name
        assert help_text
        module = importlib.import_module(module_name)
        assert callable(module.register) and callable(module.handle), name
        parser = build_parser(name)
        sub = next(a for a in parser._actions if a.dest == "command").choices[name]
        assert sub.get_default("func") is module.handle, name


def _run_in_fresh_python(argv: list[str], cwd: Path) -> dict:
    code = (
        "import json, sys\n"
        "from model.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.__stdout__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr
    return result


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=False, reason=f"lazy imports pending: {PENDING_LAZY[name]}"
            ),
        )
        if name in PENDING_LAZY
        else name
        for name in COMMANDS
    ],
)
def test_input_errors_come_before_heavy_imports(name):
    argv = BAD_INPUT.get(name, [name, "no_such_file.yaml"])
    result = _run_in_fresh_python(argv, ROOT)
    assert result["code"] == 2, result
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    assert lines and "error:" in lines[-1], result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert result["heavy"] == [], f"{name} imported {result['heavy']} before checking its input"


def test_import_model_is_light():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, model; "
            f"print([m for m in ('pydantic', 'yaml', *{HEAVY!r}) if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    import model

    assert callable(model.load_scenario) and "load_scenario" in dir(model)
    with pytest.raises(AttributeError):
        model.no_such_name  # noqa: B018


def _mtsim() -> list[str]:
    return [sys.executable, "-m", "model.cli"]


def test_closed_pipe_ends_quietly_without_traceback():
    # the reader goes away before mtsim writes: every write fails with EPIPE
    proc = subprocess.Popen(
        [*_mtsim(), "schema"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert err == ""


def test_schema_into_head_through_a_real_pipe():
    # `mtsim schema | head -c 100`: head reads 100 bytes and exits
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {' '.join(_mtsim())} schema | head -c 100"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(done.stdout) == 100 and done.stdout.startswith("{")
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    # schema may fit into the pipe buffer before head exits (0) or not (141)
    assert done.returncode in (0, EXIT_BROKEN_PIPE), done.stderr


def test_run_into_head_one_line(tmp_path):
    # `mtsim run ... | head -1`: the summary lines after the first go nowhere
    command = (
        f"set -o pipefail; {' '.join(_mtsim())} run {ROOT / 'scenarios' / 'baseline.yaml'} "
        f"--steps 2 --set population.consumers=300 --quiet --out {tmp_path / 'out'} | head -1"
    )
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    assert done.returncode in (0, EXIT_BROKEN_PIPE), done.stderr
    assert (tmp_path / "out" / "timeseries.csv").is_file()  # the run itself completed
