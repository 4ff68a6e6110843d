"""The README against the code: its commands parse, its paths exist, its cheap commands run.

Everything is derived from README.md at test time (the README changes often): every
``mtsim ...`` line of a code block (fenced or indented) must name an existing
subcommand with options its parser accepts; every path under scenarios/,
experiments/, docs/ or notebooks/ that the README mentions must exist; and the cheap
commands (``mtsim run`` with ``--steps 2`` on a small population, ``mtsim schema``)
are run into a temporary folder.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from model.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: folders whose paths the README may mention; each mentioned path must exist
CHECKED_FOLDERS = ("scenarios", "experiments", "docs", "notebooks")


def readme_code_lines(text: str) -> list[str]:
    """Every line of a fenced (```) or indented (4 spaces) code block."""
    lines, fenced = [], False
    previous_blank = True
    in_indented = False
    for raw in text.splitlines():
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(raw.strip())
            continue
        if raw.startswith("    ") and (previous_blank or in_indented) and raw.strip():
            in_indented = True
            lines.append(raw.strip())
        elif raw.strip():
            in_indented = False
        previous_blank = not raw.strip()
    return lines


def readme_commands(text: str) -> list[list[str]]:
    """The ``mtsim`` command lines of the README's code blocks, as argument lists.

    Comments, shell redirections and pipes are dropped; ``a && mtsim ...`` keeps the
    mtsim part; ``.venv/bin/mtsim`` counts as ``mtsim``.
    """
    commands = []
    for line in readme_code_lines(text):
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith(".venv/bin/mtsim"):
                part = part[len(".venv/bin/") :]
            if not re.match(r"mtsim\s", part) or part.startswith("mtsim:"):
                continue
            tokens = shlex.split(part, comments=True)
            for stop in (">", "|", "2>", ">>"):
                if stop in tokens:
                    tokens = tokens[: tokens.index(stop)]
            commands.append(tokens[1:])
    return commands


def readme_paths(text: str) -> set[str]:
    """Paths under the checked folders that the README mentions (not in error examples)."""
    pattern = re.compile(r"(?<![\w/.-])((?:" + "|".join(CHECKED_FOLDERS) + r")/[\w./-]*[\w/])")
    found = set()
    for line in text.splitlines():
        if line.strip().startswith("mtsim: error:"):
            continue  # example messages name a user's (missing) file
        for match in pattern.finditer(line):
            path = match.group(1)
            if any(mark in path for mark in ("<", "*", "...")):
                continue
            found.add(path)
    return found


TEXT = README.read_text(encoding="utf-8")
COMMAND_LINES = readme_commands(TEXT)


def test_the_readme_has_commands_and_paths_to_check():
    # guards the parsers above: a README rewrite must not silently check nothing
    assert len(COMMAND_LINES) >= 5
    assert {argv[0] for argv in COMMAND_LINES} >= {"run", "schema"}
    assert readme_paths(TEXT)


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_readme_command_parses(argv):
    assert argv and argv[0] in COMMANDS, f"README names an unknown subcommand: {argv}"
    parser = build_parser(argv[0])
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # argparse reports unknown or malformed options this way
        pytest.fail(f"`mtsim {' '.join(argv)}` from the README does not parse (exit {exc.code})")


@pytest.mark.parametrize("path", sorted(readme_paths(TEXT)))
def test_readme_path_exists(path):
    assert (ROOT / path).exists(), f"README mentions {path}, which does not exist"


def _cheap_run(argv: list[str], out: Path) -> list[str]:
    """The README's ``mtsim run`` made cheap: 2 steps, 500 consumers, at most 2 reps, own --out."""
    cheap, skip = [], False
    for i, token in enumerate(argv):
        if skip:
            skip = False
            continue
        if token in ("--steps", "--out", "--reps", "--workers"):
            skip = True
            continue
        if token.startswith(("--steps=", "--out=", "--reps=", "--workers=")):
            continue
        if i > 0 and not token.startswith("-") and argv[i - 1] not in ("--set", "--seed"):
            token = str(ROOT / token)  # the scenario file, relative to the repository
        cheap.append(token)
    reps = ["--reps", "2"] if "--reps" in argv else []
    return [
        *cheap,
        *reps,
        "--steps",
        "2",
        "--set",
        "population.consumers=500",
        "--out",
        str(out),
        "--quiet",
    ]


RUN_LINES = list({tuple(a): a for a in COMMAND_LINES if a[0] == "run"}.values())
"""The README's ``mtsim run`` lines, each once (the README repeats the plain run)."""


@pytest.mark.parametrize("argv", RUN_LINES, ids=[" ".join(a) for a in RUN_LINES])
def test_readme_run_commands_work(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(_cheap_run(argv, out)) == 0, capsys.readouterr().err
    assert (out / "timeseries.csv").is_file() and (out / "manifest.json").is_file()


def readme_yaml_blocks(text: str) -> list[str]:
    """The README's fenced ``yaml`` blocks."""
    return re.findall(r"^```ya?ml\n(.*?)^```", text, flags=re.S | re.M)


def _contained(shown, actual, where: str) -> list[str]:
    """Where a value the README shows differs from the shipped file's."""
    if isinstance(shown, dict) and isinstance(actual, dict):
        problems = []
        for key, value in shown.items():
            if key not in actual:
                if value is None:  # shown as null: the default, may be left out
                    continue
                problems.append(f"{where}.{key}: not in the shipped file")
            else:
                problems += _contained(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(shown, list) and isinstance(actual, list):
        if len(shown) != len(actual):
            return [f"{where}: {len(shown)} items shown, {len(actual)} shipped"]
        return [
            p
            for i, (s, a) in enumerate(zip(shown, actual, strict=True))
            for p in _contained(s, a, f"{where}.{i}")
        ]
    return [] if shown == actual else [f"{where}: README shows {shown!r}, file has {actual!r}"]


def test_readme_scenario_examples_match_the_shipped_files():
    import yaml

    checked = 0
    for block in readme_yaml_blocks(TEXT):
        shown = yaml.safe_load(block)
        if not isinstance(shown, dict) or "name" not in shown:
            continue
        path = ROOT / "scenarios" / f"{shown['name']}.yaml"
        if not path.is_file():
            continue  # an example of the user's own scenario
        actual = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems = _contained(shown, actual, shown["name"])
        assert not problems, f"README's example of {path.name} is out of date: {problems}"
        checked += 1
    if not checked:
        pytest.skip("the README shows no shipped scenario")


def test_readme_schema_command_works(tmp_path, monkeypatch, capsys):
    import json

    schema_lines = [a for a in COMMAND_LINES if a[0] == "schema"]
    if not schema_lines:
        pytest.skip("the README shows no mtsim schema command")
    monkeypatch.chdir(tmp_path)
    assert main(schema_lines[0]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "object"


DOMAIN = ROOT / "docs" / "domain.md"
CITATION = re.compile(r"docs/domain\.md,\s+'?([A-Z][^:;()\"'.|]*)")  # a table cell ends at |


def domain_headings() -> tuple[set[str], set[str]]:
    """The ``##`` and ``###`` headings of docs/domain.md."""
    text = DOMAIN.read_text(encoding="utf-8")
    top = set(re.findall(r"^## (.+?)\s*$", text, flags=re.M))
    sub = set(re.findall(r"^### (.+?)\s*$", text, flags=re.M))
    return top, sub


def domain_citations() -> list[tuple[str, int, str]]:
    """Every ``docs/domain.md, <section>`` citation in the product: (file, line, section)."""
    found = []
    folders = ("model", "scenarios", "experiments", "docs", "notebooks")
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".yaml", ".yml", ".md", ".ipynb") or path == DOMAIN:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in CITATION.finditer(line):
                    found.append((str(path.relative_to(ROOT)), number, match.group(1).strip()))
    return found


def test_domain_citations_name_existing_sections():
    """A citation reads "docs/domain.md, Top > Sub" (or just "Top"); both must be headings."""
    top, sub = domain_headings()
    problems = []
    for path, number, section in domain_citations():
        for piece in re.split(r"\s+and\s+", section):
            piece = piece.strip().rstrip(",")
            if not piece:
                continue
            parts = [s.strip() for s in piece.split(">")]
            if len(parts) == 2:
                known = parts[0] in top and parts[1] in sub
            else:
                known = parts[0] in top or parts[0] in sub
            if not known:
                problems.append(f"{path}:{number}: {piece!r}")
    assert not problems, "citations of docs/domain.md sections that do not exist: " + "; ".join(
        problems
    )


def test_no_citation_of_the_missing_domain_brief():
    stale = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("model", "scenarios", "experiments", "docs")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".yaml", ".md")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![/\w])DOMAIN\.md", line)
    ]
    assert not stale, f"DOMAIN.md is not in the repository; cite docs/domain.md: {stale}"


def readme_file_table(text: str, section: str) -> set[str]:
    """File names in the first ``| file | content |`` table after a heading containing
    ``section``; ``a.png/.svg`` counts as a.png and a.svg, a folder keeps its slash."""
    start = text.find(section)
    assert start >= 0, f"README has no section {section!r}"
    names: set[str] = set()
    in_table = False
    for line in text[start:].splitlines():
        if line.startswith("| file |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cell = line.split("|")[1]
            for name in re.findall(r"`([^`]+)`", cell):
                stem, _, rest = name.partition("/")
                if rest.startswith(".") and "." in stem:  # comparison.png/.svg
                    names.add(stem)
                    names.add(stem.rsplit(".", 1)[0] + rest)
                else:
                    names.add(name)
    return names


def test_readme_compare_outputs_table_lists_what_compare_writes(tmp_path, monkeypatch):
    listed = readme_file_table(TEXT, "## Comparing policies")
    assert listed, "README's compare section has no file table"
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "compare"
    argv = [
        "compare",
        str(ROOT / "scenarios" / "baseline.yaml"),
        str(ROOT / "scenarios" / "payment_security.yaml"),
        "--reps",
        "2",
        "--steps",
        "3",
        "--workers",
        "1",
        "--set",
        "population.consumers=300",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    written = {p.name + ("/" if p.is_dir() else "") for p in out.iterdir()}
    written = {w for w in written if not w.startswith(".")}
    # `name-K.png` stands for one file per scenario; rows that say "with `--option`"
    # are files of that option only (not written by this plain comparison)
    section = TEXT[TEXT.find("## Comparing policies") :]
    optional = {
        name
        for line in section.splitlines()
        if line.startswith("|") and "with `--" in line
        for name in re.findall(r"`([^`]+)`", line.split("|")[1])
    }
    patterns = {name: re.compile(re.escape(name).replace("K", r"\d+")) for name in listed}

    def covered(name: str) -> bool:
        return any(p.fullmatch(w) for w in written for p in [patterns[name]])

    missing = {n for n in listed - optional if not covered(n)}
    assert missing == set(), f"README lists files compare does not write: {missing}"
    extra = {w for w in written if not any(p.fullmatch(w) for p in patterns.values())}
    assert extra == set(), f"compare writes files the README omits: {extra}"


def test_readme_python_examples_run(monkeypatch):
    """The README's Python blocks run as shown (those that need a sweep's results are skipped)."""
    blocks = re.findall(r"^```python\n(.*?)^```", TEXT, flags=re.S | re.M)
    runnable = [b for b in blocks if "results/" not in b]
    if not runnable:
        pytest.skip("the README shows no self-contained Python example")
    monkeypatch.chdir(ROOT)
    for block in runnable:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme_example"})


def pytest_commands(lines: list[str]) -> list[str]:
    """The ``python -m pytest ...`` commands of some shell lines, from ``.venv/bin/python`` on."""
    found = []
    for line in lines:
        for part in line.split("&&"):
            part = part.strip()
            if not part.startswith("#") and re.match(r"\S*python -m pytest\b", part):
                found.append(part)
    return found


def test_readme_names_the_ci_test_command_and_the_quick_tier():
    """README's full test command is what .ci/run runs; the quick tier is named; markers exist."""
    import tomllib

    readme = pytest_commands(readme_code_lines(TEXT))
    ci = pytest_commands((ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines())
    assert ci == ['.venv/bin/python -m pytest -m "not slow" -n auto'], ci
    assert ci[0] in readme, "README's test command differs from .ci/run's"
    assert ".venv/bin/python -m pytest -m quick -n auto" in readme, "README names no quick tier"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    for command in readme:
        tokens = shlex.split(command)
        expression = tokens[tokens.index("-m", 2) + 1]  # the first -m is python's
        used = set(re.findall(r"\w+", expression)) - {"not", "and", "or"}
        assert used <= declared, f"{command}: undeclared markers {used - declared}"


def test_the_tier_table_names_existing_tests():
    """tests/conftest.py marks tests by file and function name: every entry must exist."""
    import ast

    from tests.conftest import HEAVY_MARKERS, TIERS

    for marker, files in TIERS.items():
        assert marker in HEAVY_MARKERS
        for name, functions in files.items():
            path = ROOT / "tests" / name
            assert path.is_file(), f"TIERS[{marker!r}] names {name}, which does not exist"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            missing = set(functions) - defined
            assert not missing, f"TIERS[{marker!r}][{name!r}]: no such tests {sorted(missing)}"
