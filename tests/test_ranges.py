"""Every behavioural parameter has a plausible range (issue 29) and a provenance (issue 28).

The ranges file (model/ranges.yaml) is the one source of truth (docs/ranges.md); these tests
keep the schema, the reference scenarios' comments, ``mtsim schema`` and the docs table and
counts consistent with it, each range's kind included. A parameter added to a behavioural
section without a range fails here, naming it; so does a value the calibration fits that is
not marked fitted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docs.generators import REFERENCE_SCENARIO, SECTION_REFERENCES, scenario_comments
from model.ranges import KINDS, expand_key, load_ranges, unranged_parameters, values_outside
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
        "to model/ranges.yaml under ranges: as {low, high, kind: "
        "sourced|fitted|direction|assumption, "
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
        assert rng.kind in KINDS, key
        assert rng.source.strip(), f"{key}: give the range's source"
        assert rng.low < rng.high, f"{key}: an empty range"
        assert any(expand_key(key, d) for d in data), f"{key}: no such parameter"


def test_reference_comments_say_the_same_ranges():
    """A "plausible range a-b" in a reference scenario's comment is the file's range."""
    problems = []
    for ref, path, rng, comment in _commented_values():
        comment = comment or ""
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


def _commented_values():
    """Yield (reference file, path, its range, its comment or None) for every ranged value."""
    table = load_ranges()
    for ref in REFERENCES:
        comments = scenario_comments(ROOT / ref)
        data = load_scenario(ROOT / ref).resolved()
        for key, rng in table.ranges.items():
            for path in expand_key(key, data):
                yield ref, path, rng, comments.get(path)


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


def _comment_kind_problem(kind: str, comment: str) -> str | None:
    """Say how a value's comment contradicts its range's kind (None if it does not)."""
    says_assumption = "assumption" in comment.replace("the width an assumption", "").replace(
        "width an assumption", ""
    )
    if kind == "fitted" and "fitted" not in comment:
        return "kind fitted, but the comment does not say fitted"
    if kind in ("assumption", "direction") and "assumption" not in comment:
        return f"kind {kind}, but the comment does not say assumption"
    if kind == "sourced" and says_assumption:
        return "kind sourced, but the comment says assumption (write 'the width an assumption')"
    return None


def test_reference_comments_say_the_same_kind():
    """Each commented value's wording agrees with its kind in model/ranges.yaml."""
    problems = []
    for ref, path, rng, comment in _commented_values():
        problem = None if comment is None else _comment_kind_problem(rng.kind, comment)
        if problem:
            problems.append(f"{ref}: {path}: {problem}")
    assert not problems, "\n".join(problems)


def test_a_comment_that_contradicts_its_kind_is_named():
    assert _comment_kind_problem("sourced", "(assumption; plausible range 1-2)")
    assert _comment_kind_problem("sourced", "(a figure, 2020; the width an assumption)") is None
    assert _comment_kind_problem("assumption", "(Smith 2020: 0.3)")
    assert _comment_kind_problem("fitted", "(assumption; plausible range 1-2)")


def _docs_rows() -> dict[str, str]:
    text = (ROOT / "docs/ranges.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[4] in KINDS:
            rows[cells[0].strip("`")] = cells[4]
    return rows


def test_docs_table_says_each_kind_as_the_ranges_file():
    """Drift: docs/ranges.md's kind of every parameter is the one in model/ranges.yaml."""
    rows = _docs_rows()
    table = load_ranges()
    differ = [
        f"{key}: docs say {rows.get(key)}, model/ranges.yaml {rng.kind}"
        for key, rng in table.ranges.items()
        if rows.get(key) != rng.kind
    ]
    assert not differ, "\n".join(differ) + "\n(python -m docs.build --only ranges-table)"
    assert set(rows) == set(table.ranges)


def test_docs_counts_by_kind_are_the_ranges_files():
    """Drift: the provenance counts (in all and per section) are model/ranges.yaml's."""
    from docs.generators import range_kind_counts

    table = load_ranges()
    counts = range_kind_counts([(k, r.kind) for k, r in table.ranges.items()])
    total = counts["all"]
    n = sum(total.values())
    text = (ROOT / "docs/ranges.md").read_text(encoding="utf-8")
    head = f"{n} behavioural parameters: {total['sourced']} sourced, {total['fitted']} fitted, "
    assert head in text
    grounded = total["sourced"] + total["fitted"]
    assert f"Sourced or fitted: {grounded} of {n} (" in text
    for section, by_kind in counts.items():
        label = "**all**" if section == "all" else f"`{section}`"
        row = f"| {label} | {sum(by_kind.values())} | " + " | ".join(
            str(by_kind[kind]) for kind in KINDS
        )
        assert row in text, f"docs/ranges.md: provenance row of {section} is stale: {row}"


def test_every_value_the_calibration_fits_is_marked_fitted():
    """The calibration's parameters (experiments/calibrate_cnnic.yaml) other than the
    events' strengths (policies.N) are behavioural values of kind fitted."""
    from model.ranges import _matches
    from model.yamlio import read_yaml_mapping

    config = read_yaml_mapping(ROOT / "experiments/calibrate_cnnic.yaml", "calibration")
    table = load_ranges()
    missing = []
    for name, spec in config["parameters"].items():
        for path in spec["paths"]:
            if path.startswith("policies."):
                continue  # an event's strength: a policy, not behaviour
            keys = [k for k in table.ranges if _matches(k, path)]
            if not keys or any(table.ranges[k].kind != "fitted" for k in keys):
                missing.append(f"{name}: {path}")
    assert not missing, "fitted by the calibration but not kind fitted: " + ", ".join(missing)


def test_every_consumer_group_multiplier_has_a_range():
    """Each payment, frequency and spending multiplier of a consumer group other than a
    reference group (all three 1.0) has a range."""
    from model.ranges import _matches

    data = load_scenario(ROOT / REFERENCE_SCENARIO).resolved()
    keys = list(load_ranges().ranges)
    missing = []
    for attribute, groups in data["population"]["attributes"].items():
        if not isinstance(groups, dict):
            continue
        for group, values in groups.items():
            fields = ("payment", "frequency", "spending")
            if all(values[f] == 1.0 for f in fields):
                continue  # the reference group
            for f in fields:
                path = f"population.attributes.{attribute}.{group}.{f}"
                if not any(_matches(k, path) for k in keys):
                    missing.append(path)
    assert not missing, "consumer-group multipliers without a range: " + ", ".join(missing)


def test_sourced_and_direction_ranges_name_their_source():
    """A sourced range names a dated publication; a direction says so and that its size is
    an assumption."""
    for key, rng in load_ranges().ranges.items():
        if rng.kind == "sourced":
            assert re.search(r"(19|20)\d\d", rng.source), f"{key}: name the publication and year"
        if rng.kind == "direction":
            assert rng.source.startswith("direction:") and (
                "assumption" in rng.source or "half to twice" in rng.source
            ), key
