"""Every behavioural parameter has a plausible range (issue 29): model/ranges.yaml.

The ranges file is the one source of truth (docs/ranges.md); these tests keep the schema,
the reference scenarios' comments, ``mtsim schema`` and the docs table consistent with it.
A parameter added to a behavioural section without a range fails here, naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docs.generators import REFERENCE_SCENARIO, SECTION_REFERENCES, scenario_comments
from model.ranges import expand_key, load_ranges, unranged_parameters, values_outside
from model.scenario import load_scenario

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = [REFERENCE_SCENARIO, *dict.fromkeys(SECTION_REFERENCES.values())]
RANGE = re.compile(r"plausible range:?\s*(-?\d[\d.]*?)\s*(?:-|to)\s*(-?\d[\d.]*\d|\d)", re.I)


@pytest.mark.parametrize("reference", REFERENCES)
def test_every_behavioural_parameter_has_a_range(reference):
    data = load_scenario(ROOT / reference).resolved()
    missing = unranged_parameters(data)
    assert not missing, (
        f"behavioural parameters without a plausible range: {', '.join(missing)}; add each "
        "to model/ranges.yaml under ranges: as {low, high, kind: sourced|fitted|assumption, "
        "source}, or under not_behavioural: with the reason (docs/ranges.md)"
    )


@pytest.mark.parametrize("reference", REFERENCES)
def test_every_range_contains_the_reference_value(reference):
    data = load_scenario(ROOT / reference).resolved()
    assert values_outside(data) == []


def test_every_range_names_a_kind_and_a_source_and_exists_in_a_reference():
    table = load_ranges()
    data = [load_scenario(ROOT / ref).resolved() for ref in REFERENCES]
    for key, rng in table.ranges.items():
        assert rng.kind in ("sourced", "fitted", "assumption"), key
        assert rng.source.strip(), f"{key}: give the range's source"
        assert rng.low < rng.high, f"{key}: an empty range"
        assert any(expand_key(key, d) for d in data), f"{key}: no such parameter"


def test_reference_comments_say_the_same_ranges():
    """A "plausible range a-b" in a reference scenario's comment is the file's range."""
    table = load_ranges()
    problems = []
    for ref in REFERENCES:
        comments = scenario_comments(ROOT / ref)
        data = load_scenario(ROOT / ref).resolved()
        for key, rng in table.ranges.items():
            for path in expand_key(key, data):
                comment = comments.get(path, "")
                found = RANGE.search(comment)
                if rng.kind == "fitted" and comment and "fitted" not in comment:
                    problems.append(f"{ref}: {path}: the comment should say fitted")
                if found is None:
                    continue
                low, high = float(found.group(1)), float(found.group(2))
                if (low, high) != (rng.low, rng.high):
                    problems.append(
                        f"{ref}: {path}: comment says {low}-{high}, model/ranges.yaml "
                        f"{rng.low}-{rng.high}"
                    )
    assert not problems, "\n".join(problems)


def test_fitted_ranges_hold_the_posterior_interval():
    import pandas as pd

    posterior = pd.read_csv(ROOT / "docs/calibration_results/full_posterior_summary.csv")
    table = load_ranges()
    by_path = {}
    for row in posterior.itertuples():
        for path in str(row.paths).split():
            by_path[path] = (row.q05, row.q95)
    for key, rng in table.ranges.items():
        if rng.kind != "fitted" or "posterior 5-95%" not in rng.source:
            continue  # fitted in-sample within the calibration's prior (no posterior yet)
        paths = [
            p for p in by_path if re.fullmatch(key.replace(".", r"\.").replace("*", "[^.]+"), p)
        ]
        assert paths, f"{key}: fitted, but not in the posterior summary"
        q05, q95 = by_path[paths[0]]
        # rounded to two significant figures, outward
        assert rng.low <= q05 + 0.05 * abs(q05) and rng.high >= q95 - 0.05 * abs(q95), key


def test_a_new_parameter_without_a_range_is_named():
    data = load_scenario(ROOT / REFERENCE_SCENARIO).resolved()
    data["merchants"]["brand_new_rate"] = 0.1
    assert unranged_parameters(data) == ["merchants.brand_new_rate"]


def test_schema_shows_each_range_and_its_kind(capsys):
    from model.cli import main

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    erosion = schema["$defs"]["Merchants"]["properties"]["integrity_erosion"]
    assert erosion["x-plausible-range"] == [0.0, 0.05]
    assert erosion["x-range-kind"] == "assumption"
    assert set(schema["x-plausible-ranges"]) == set(load_ranges().ranges)
    assert main(["schema", "--ranges"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("payment.peer_influence") and "fitted" in line for line in lines)


def test_docs_table_lists_every_range():
    text = (ROOT / "docs/ranges.md").read_text(encoding="utf-8")
    for key in load_ranges().ranges:
        assert f"`{key}`" in text, f"docs/ranges.md: {key} missing (python -m docs.build)"
