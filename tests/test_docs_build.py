"""The documents' generated blocks (``python -m docs.build``) and the citation metadata.

The build is exercised as CI runs it, through its command line: ``--check`` passes on the
repository's documents and fails, naming the file, the block and the first differing
line, on a copy with one digit changed, and on a results table whose results file
changed after it was recorded.

CITATION.cff is validated against the Citation File Format 1.2.0 JSON Schema in
tests/data/cff_schema_1.2.0.json: ``schema.json`` of
github.com/citation-file-format/citation-file-format at commit
009214933e6050b37da574eba4c83d5a8031ce81, byte for byte (SHA-256 c0e7a6aeacff07ef
2f92131c20d44ec71ea92b0ad5f8e71ea1acd4dede4953b6), shipped so that the check needs no
network. It is checked with the ``jsonschema`` package the project already has:
cffconvert, the CFF project's validator, has had no release since 2.0.0 (2021), which pins
an old jsonschema.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CFF_SCHEMA = ROOT / "tests" / "data" / "cff_schema_1.2.0.json"
ODD = ROOT / "docs" / "odd.md"


def build(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m docs.build`` with these arguments."""
    return subprocess.run(
        [sys.executable, "-m", "docs.build", *args], cwd=cwd, capture_output=True, text=True
    )


def citation() -> dict:
    """CITATION.cff as the schema sees it (YAML dates as strings, as the schema asks)."""
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=str))


def cff_errors(data: dict) -> list[str]:
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    return sorted(
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(data)
    )


# --------------------------------------------------------------------------- citation


def test_citation_cff_is_valid_cff_1_2_0():
    assert cff_errors(citation()) == []


@pytest.mark.parametrize(
    "change",
    [
        {"cff-version": "1.1.0"},
        {"authors": []},
        {"license": "MIT License"},
        {"licence": "MIT"},
        {"version": ""},
    ],
    ids=["old version", "no authors", "not SPDX", "unknown key", "empty version"],
)
def test_the_schema_check_rejects_a_broken_citation(change):
    assert cff_errors({**citation(), **change})


def test_citation_codemeta_license_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    cff = citation()
    meta = json.loads((ROOT / "codemeta.json").read_text(encoding="utf-8"))
    assert (cff["title"], str(cff["version"]), cff["license"]) == (
        project["name"],
        project["version"],
        project["license"],
    )
    assert (meta["name"], meta["version"]) == (project["name"], project["version"])
    assert meta["license"] == f"https://spdx.org/licenses/{project['license']}"
    assert meta["description"] == cff["abstract"]
    assert meta["keywords"] == cff["keywords"]
    assert meta["softwareRequirements"] == project["dependencies"]
    assert meta["runtimePlatform"] == f"Python {project['requires-python']}"
    assert [a["name"] for a in meta["author"]] == [a["name"] for a in cff["authors"]]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith(f"{project['license']} License\n")
    assert f"Copyright (c) 2026 {cff['authors'][0]['name']}" in licence


# --------------------------------------------------------------------------- docs.build


def test_check_passes_on_the_repository():
    done = build("--check")
    assert done.returncode == 0, done.stderr
    assert "match their generators and records" in done.stdout


def test_check_fails_on_a_hand_edited_number(tmp_path):
    text = ODD.read_text(encoding="utf-8")
    original = "| `consumer_incentives` | 0.9 |"
    assert text.count(original) == 1, "the lever table of docs/odd.md changed; update the test"
    copy, edited = tmp_path / "copy.md", tmp_path / "edited.md"
    copy.write_text(text, encoding="utf-8")
    edited.write_text(text.replace(original, "| `consumer_incentives` | 0.8 |"), encoding="utf-8")

    done = build("--check", str(copy), str(edited))
    line = text[: text.index(original)].count("\n") + 1
    assert done.returncode == 1
    assert str(copy) not in done.stderr  # the unedited copy passes
    assert f"{edited}:{line}: block 'odd-levers' is not what its generator writes" in done.stderr
    assert f"expected: {original}" in done.stderr
    assert "found:    | `consumer_incentives` | 0.8 |" in done.stderr
    assert "1 problem(s) in 10 block(s)" in done.stderr


def test_a_results_table_follows_its_recorded_results_file(tmp_path):
    # a copy of the build and of the scale benchmark's recorded results
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(ROOT / "benchmarks" / "results", tmp_path / "benchmarks" / "results")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Scale\n\n<!-- gen:bench-scale:start -->\n<!-- gen:bench-scale:end -->\n",
        encoding="utf-8",
    )
    assert build("--from-records", "README.md", cwd=tmp_path).returncode == 0
    table = readme.read_text(encoding="utf-8")
    row = next(line for line in table.splitlines() if line.startswith("| 1,000,000 |"))
    assert build("--check", "README.md", cwd=tmp_path).returncode == 0

    build_cell = row.split("|")[2]  # the build time at a million
    digit = next(c for c in build_cell if c.isdigit())
    edited = row.replace(
        f"|{build_cell}|", f"|{build_cell.replace(digit, str((int(digit) + 1) % 10), 1)}|"
    )
    readme.write_text(table.replace(row, edited), encoding="utf-8")
    done = build("--check", "README.md", cwd=tmp_path)
    assert done.returncode == 1
    assert "block 'bench-scale' is not what its generator writes" in done.stderr

    # the results file changes but nobody records the run: the block and the record fail
    readme.write_text(table, encoding="utf-8")
    summary = tmp_path / "benchmarks" / "results" / "bench_scale_summary.csv"
    lines = summary.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("mtsim,1000000,"))
    column = lines[0].split(",").index("build_s_median")
    fields = lines[index].split(",")
    fields[column] = str(float(fields[column]) + 1.0)  # one second more at a million
    lines[index] = ",".join(fields)
    summary.write_text("".join(lines), encoding="utf-8")
    done = build("--check", "README.md", cwd=tmp_path)
    assert done.returncode == 1
    assert "block 'bench-scale' is not what its generator writes" in done.stderr
    assert "bench_scale_summary.csv: changed since docs/build_records/bench_scale.json" in (
        done.stderr
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("<!-- gen:nope:start -->\n<!-- gen:nope:end -->\n", "no generator named 'nope'"),
        ("<!-- gen:odd-levers:start -->\ntext\n", "block 'odd-levers' has no end marker"),
        ("<!-- gen:odd-levers:end -->\n", "end of block 'odd-levers' without its start"),
    ],
    ids=["unknown generator", "no end", "no start"],
)
def test_bad_markers_are_named(tmp_path, document, message):
    path = tmp_path / "doc.md"
    path.write_text(document, encoding="utf-8")
    done = build("--check", str(path))
    assert done.returncode == 1
    assert message in done.stderr


def test_markers_inside_fenced_code_are_not_blocks(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("```\n<!-- gen:nope:start -->\n```\n", encoding="utf-8")
    done = build("--check", str(path))
    assert done.returncode == 0, done.stderr
    assert "0 generated block(s)" in done.stdout


def test_a_rerun_records_its_command_machine_seeds_duration_and_outputs(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("*.md"))
    script = (
        "import json\n"
        "from docs import build\n"
        'write = \'open("out.csv", "w").write("a,b\\\\n1,2\\\\n")\'\n'
        "experiment = build.Experiment('fake', ('python', '-c', write), ('out.csv',), (7,), '')\n"
        "print(json.dumps(build.run_experiment(experiment)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "docs" / "build_records" / "fake.json").read_text())
    assert record == json.loads(done.stdout.splitlines()[-1])
    assert record["seeds"] == [7] and record["duration_s"] >= 0
    assert record["commit"] and record["date"] and record["machine"]["cores"]
    expected = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert record["outputs"] == {"out.csv": expected}


NEW_TABLE_BLOCKS = [
    ("docs/calibration.md", "calibration-posterior"),
    ("docs/calibration.md", "calibration-fits"),
    ("docs/calibration.md", "calibration-in-sample"),
    ("docs/calibration.md", "calibration-payment-gaps"),
    ("docs/calibration.md", "calibration-holdout"),
    ("README.md", "holdout-latest"),
    ("docs/calibration.md", "holdout-latest-fit"),
    ("docs/platform.md", "platform-step-time"),
    ("docs/decisions.md", "decisions-threshold"),
    ("docs/robustness.md", "error-timings"),
    ("docs/decisions.md", "decisions-optimize"),
    ("docs/decisions.md", "decisions-discover"),
    ("README.md", "readme-policy-effects"),
]
"""Blocks of docs/generators_tables.py: a hand-edited number in each fails the check."""


@pytest.fixture(scope="module")
def renderer():
    """One renderer for the module: each generator renders once (the per-block checks run
    in process; test_check_fails_on_a_hand_edited_number runs the command)."""
    from docs.build import Renderer

    return Renderer()


@pytest.mark.parametrize(
    ("document", "name"), NEW_TABLE_BLOCKS, ids=[n for _, n in NEW_TABLE_BLOCKS]
)
def test_check_fails_on_a_hand_edited_number_in_a_results_block(tmp_path, document, name, renderer):
    from docs.build import check, find_blocks

    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    block = next(b for b in find_blocks(lines) if b.name == name)

    # the last digit outside code spans of the block's first line with one: a number cell
    def outside_code(line: str) -> list[int]:
        spans = [k for k, part in enumerate(line.split("`")) if k % 2 == 0]
        places, at = [], 0
        for k, part in enumerate(line.split("`")):
            if k in spans:
                places += [at + j for j, c in enumerate(part) if c.isdigit()]
            at += len(part) + 1
        return places

    index = next(i for i in range(block.start + 1, block.end) if outside_code(lines[i]))
    where = outside_code(lines[index])[-1]
    line = lines[index]
    edited = list(lines)
    edited[index] = line[:where] + str((int(line[where]) + 1) % 10) + line[where + 1 :]
    path = tmp_path / Path(document).name
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")

    problems, _ = check([path], renderer)
    assert len(problems) == 1
    assert f"{path}:{index + 1}: block '{name}' is not what its generator writes" in problems[0]
    assert f"expected: {lines[index]}" in problems[0]


def test_calibration_tables_refuse_a_changed_fit(tmp_path):
    # a copy of the build, the shipped fits and their derived tables
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(ROOT / "experiments" / "measured", tmp_path / "experiments" / "measured")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Hold-out\n\n<!-- gen:holdout-table:start -->\n<!-- gen:holdout-table:end -->\n",
        encoding="utf-8",
    )
    assert build("--from-records", "README.md", cwd=tmp_path).returncode == 0
    assert "| mobile payment |" in readme.read_text(encoding="utf-8")
    assert build("--check", "README.md", cwd=tmp_path).returncode == 0

    # a new fit lands but experiments/calibration_tables.py was not rerun: the block fails
    scores = tmp_path / "docs" / "calibration_results" / "holdout_out_of_sample.csv"
    scores.write_text(scores.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = build("--check", "README.md", cwd=tmp_path)
    assert done.returncode == 1
    assert "holdout_out_of_sample.csv changed after experiments/calibration_tables.py" in (
        done.stderr
    )
