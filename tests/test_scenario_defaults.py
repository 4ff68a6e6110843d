"""Every default of the scenario schema is written out in the reference scenario, with its unit
and its source (issue 27: "one undocumented number decides the policy ranking").

The reference is ``scenarios/baseline.yaml``; the ``platforms:`` section's reference is
``scenarios/platform_superapp.yaml`` (``docs.generators.SECTION_REFERENCES``, the files the
ODD's parameter tables read). The schema is walked from ``model.scenario.Scenario`` through
its nested sections, so a field added to the schema fails here until the reference writes
it out with its comment.

What is checked, field by field (the comment is the line's trailing ``# ...``, read with
``docs.generators.scenario_comments``, the reader of docs/odd.md's tables):

- a **number** (or a list or map of numbers): written out in the reference, its comment
  holding a unit in ``[brackets]`` and where the value comes from in ``(parentheses)``
  (more than the bare value); a value marked "assumption" names a plausible range
  ("plausible range 0.01-0.05", or "... to ..." when an end is negative);
- a **choice** (a keyword, a name, text): written out, with a comment saying what it
  chooses (a choice has no unit and no source);
- a **section** (a nested block): walked;
- a **container of named entries** (regions, income and age bands, marketing channels,
  platforms): every entry writes out every field of its model (so no entry silently
  falls back on a schema default), and every field of the model has the comment of a
  number or a choice on at least one of its occurrences in the reference (the one the
  ODD's table shows; entries written on one line in flow style carry one comment for
  the entry, so the unit and source are given where the model is written in block style,
  e.g. the area levels for the income and age bands, ``qr_o2o`` for the channels).

Exempt, and why:

- ``name``, ``description``: the file's identity, not a parameter;
- ``policies``: the policy package, empty in the reference by design; an intervention's
  fields (lever, start, end, ramp, strength, cost_per_step, label) are documented in
  docs/policies.md and checked in every file by tests/test_scenario_library.py;
- ``targets``: thresholds for ``mtsim compare``, not a property of the world;
- the fields of an entry of ``trade.links``: per-pair overrides whose default (null) means
  "the section's value", so they have no value of their own to source; the reference
  writes ``links: []`` with its comment, and their units are the section's.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from docs.generators import REFERENCE_SCENARIO, SECTION_REFERENCES, scenario_comments
from model.scenario import Scenario, load_scenario

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parents[1]
EXEMPT = {
    "name": "the file's name, not a parameter",
    "description": "the file's description, not a parameter",
    "policies": "the policy package (docs/policies.md documents an intervention's fields)",
    "targets": "thresholds for mtsim compare, not a property of the world",
}
"""Top-level keys of a scenario that are not world parameters, with the reason."""
OVERRIDE_LISTS = {"trade.links"}
"""Lists of overrides whose entries default to 'the section's value' (exempt: see above)."""

UNIT = re.compile(r"\[[^\]]+\]")
SOURCE = re.compile(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
RANGE = re.compile(
    r"plausible range:?\s*-?\d[\d.,]*\s*%?\s*(?:-|to|–)\s*-?\d[\d.,]*", re.IGNORECASE
)


def _types(annotation: typing.Any) -> list[typing.Any]:
    """The alternatives of an annotation, without Annotated, Optional and None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _types(arg)]
    if annotation is type(None):
        return []
    return [annotation]


def _is_model(tp: typing.Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_number(tp: typing.Any) -> bool:
    if tp in (int, float):
        return True
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        items = [t for t in typing.get_args(tp) if t is not Ellipsis]
        return all(_is_number(a) for t in items for a in _types(t))
    if origin is dict:
        return all(_is_number(a) for a in _types(typing.get_args(tp)[1]))
    return False


def _kind(annotation: typing.Any) -> tuple[str, typing.Any]:
    """('section' | 'named' | 'list' | 'number' | 'choice', the entry model if any)."""
    for tp in _types(annotation):
        if _is_model(tp):
            return "section", tp
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is dict:
            inner = [t for t in _types(args[1]) if _is_model(t)]
            if inner:
                return "named", inner[0]
        if origin in (tuple, list):
            inner = [t for a in args if a is not Ellipsis for t in _types(a) if _is_model(t)]
            if inner:
                return "list", inner[0]
    if any(_is_number(tp) for tp in _types(annotation)):
        return "number", None
    return "choice", None


def number_comment_problem(comment: str | None) -> str | None:
    """Why a number's comment does not give its unit and source (None: it does)."""
    if not comment:
        return "no comment (want: meaning [unit] (source, or assumption; plausible range a-b))"
    if not UNIT.search(comment):
        return f"no unit in [brackets]: '# {comment}'"
    sources = [s for s in SOURCE.findall(comment) if re.search(r"[A-Za-z]", s)]
    if not sources:
        return f"no source in (parentheses): '# {comment}'"
    if re.search(r"\bassum", comment, re.IGNORECASE) and not RANGE.search(comment):
        return f"an assumption without a plausible range: '# {comment}'"
    return None


class Reference:
    """One reference file: its own (unresolved) keys and its trailing comments."""

    def __init__(self, relative: str):
        self.name = relative
        path = ROOT / relative
        self.data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.comments = scenario_comments(path)


def defaults_problems() -> list[str]:
    """Every field of the schema not written out with its comment in its reference file."""
    references = {
        name: Reference(name) for name in {REFERENCE_SCENARIO, *SECTION_REFERENCES.values()}
    }
    problems: list[str] = []
    documented: dict[type, dict[str, bool]] = {}
    uses: dict[type, list[str]] = {}

    def check_leaf(kind, field, model, comment):
        if kind == "number":
            why = number_comment_problem(comment)
        else:
            why = None if comment else "no comment saying what it chooses"
        documented.setdefault(model, {}).setdefault(field, False)
        if why is None:
            documented[model][field] = True
        return why

    def walk(model: type[BaseModel], data: typing.Any, path: str, ref: Reference, strict=True):
        uses.setdefault(model, []).append(path)
        for field, info in model.model_fields.items():
            if not path and field in EXEMPT:
                continue
            here = ref
            if not path and field in SECTION_REFERENCES:
                here = references[SECTION_REFERENCES[field]]
                data_here = here.data
            else:
                data_here = data
            dotted = f"{path}.{field}".lstrip(".")
            kind, entry = _kind(info.annotation)
            present = isinstance(data_here, Mapping) and field in data_here
            if not present and strict:
                problems.append(
                    f"{here.name}: {dotted}: not written out (schema default "
                    f"{info.get_default(call_default_factory=True)!r})"
                )
            value = data_here.get(field) if isinstance(data_here, Mapping) else None
            comment = here.comments.get(dotted)
            if kind == "section":
                walk(entry, value, dotted, here, strict and present)
            elif kind == "named":
                entries = value if isinstance(value, Mapping) else {}
                if present and not entries:
                    problems.append(f"{here.name}: {dotted}: no entry to document its fields")
                uses.setdefault(entry, []).append(f"{dotted}.<name>")
                for name, fields in entries.items():
                    fields = fields if isinstance(fields, Mapping) else {}
                    missing = [f for f in entry.model_fields if f not in fields]
                    if missing:
                        problems.append(
                            f"{here.name}: {dotted}.{name}: does not write out "
                            f"{', '.join(missing)} (falls back on the schema default)"
                        )
                    for sub, subinfo in entry.model_fields.items():
                        subkind, _ = _kind(subinfo.annotation)
                        key = f"{dotted}.{name}.{sub}"
                        why = check_leaf(subkind, sub, entry, here.comments.get(key))
                        if why and key in here.comments:  # a comment given must be complete
                            problems.append(f"{here.name}: {key}: {why}")
            elif kind == "list":
                if dotted not in OVERRIDE_LISTS and value:
                    problems.append(f"{here.name}: {dotted}: list entries are not checked here")
                if present and not comment:
                    problems.append(f"{here.name}: {dotted}: no comment saying what it holds")
            elif present:
                why = check_leaf(kind, field, model, comment)
                if why:
                    problems.append(f"{here.name}: {dotted}: {why}")

    reference = references[REFERENCE_SCENARIO]
    walk(Scenario, reference.data, "", reference)
    for model, fields in documented.items():
        if not any(p.endswith(".<name>") for p in uses.get(model, ())):
            continue  # a section's fields are reported one by one above
        for field, ok in fields.items():
            if not ok:
                where = " or ".join(f"{p}.{field}" for p in uses.get(model, ()))
                problems.append(
                    f"{model.__name__}.{field}: no occurrence with its unit and source "
                    f"(or a choice's comment) in the reference ({where})"
                )
    return sorted(set(problems))


def test_every_default_is_written_out_with_unit_and_source():
    problems = defaults_problems()
    assert not problems, "\n".join(
        [f"{len(problems)} schema fields are not documented in their reference:", *problems]
    )


def test_the_check_fails_on_a_missing_field_and_on_a_bare_assumption(tmp_path, monkeypatch):
    """The check can fail: a field removed from the reference, an assumption without range."""
    text = (ROOT / REFERENCE_SCENARIO).read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.strip().startswith("integrity_erosion:"))
    copy = tmp_path / "scenarios"
    copy.mkdir()
    for path in (ROOT / "scenarios").glob("*.yaml"):
        (copy / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "baseline.yaml").write_text(text.replace(line + "\n", ""), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = defaults_problems()
    assert any("merchants.integrity_erosion: not written out" in p for p in problems)
    assert number_comment_problem("share lost [share / week] (assumption)") is not None
    assert number_comment_problem("share lost (assumption; plausible range 0-0.05)") is not None
    assert number_comment_problem("share lost [share / week] (0.02)") is not None
    assert (
        number_comment_problem("share lost [share / week] (assumption; plausible range 0-0.05)")
        is None
    )
    assert number_comment_problem("a shift [utility] (assumption; plausible range -2 to 0)") is None


def test_the_check_sees_schema_fields_in_containers_and_sections():
    """The walk reaches nested sections and the fields of named entries (not only the top)."""
    kinds = {name: _kind(info.annotation)[0] for name, info in Scenario.model_fields.items()}
    assert kinds["regions"] == "named" and kinds["merchants"] == "section"
    assert kinds["platforms"] == "section" and kinds["policies"] == "list"
    assert _kind(Scenario.model_fields["population"].annotation)[0] == "section"


def test_the_reference_values_are_what_the_schema_resolves():
    """What baseline.yaml writes is what a run uses: every written number equals the resolved
    value (so writing a default out cannot change the model's output)."""
    resolved = load_scenario(ROOT / REFERENCE_SCENARIO).model_dump(mode="json")
    written = Reference(REFERENCE_SCENARIO).data

    def same(mine, theirs, path):
        if isinstance(mine, Mapping):
            for key, value in mine.items():
                if key in ("extends",):
                    continue
                same(value, theirs[key], f"{path}.{key}")
        elif isinstance(mine, list):
            assert len(mine) == len(theirs), path
            for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
                same(a, b, f"{path}[{index}]")
        elif isinstance(mine, (int, float)) and not isinstance(mine, bool):
            assert float(mine) == pytest.approx(float(theirs), rel=0, abs=0), path
        else:
            assert mine == theirs, path

    same(written, resolved, "")


# --------------------------------------------------------------------------- what files say

MULTIPLES = ROOT / "experiments" / "lever_multiples.csv"
"""experiments/lever_multiples.py's results, recorded by ``python -m docs.build``."""

GATE = r"lets? (\d+)% of wanted purchases"
QUOTED = {
    "marketing_qr_o2o": ("spend_multiple", r"about (\d+) times", 1),
    "marketing_app_market": ("spend_multiple", r"about (\d+) times", 1),
    "marketing_mobile_search": ("spend_multiple", r"about (\d+) times", 1),
    "marketing_short_video": ("spend_multiple", r"about (\d+) times", 1),
    "kol_campaign": ("spend_multiple", r"about (\d+) times", 1),
    "coupons_before_trust": ("trusting_share", r"for (\d+)% of consumers", 100),
    "coupons_before_trust/gate": ("gate_pass", GATE, 100),
    "coupons_after_trust": ("shopper_share", r"after (\d+)% of consumers", 100),
    "coupons_after_trust/gate": ("gate_pass", GATE, 100),
    "low_trust_coupons_before_trust": ("trusting_share", r"\((\d+)% of consumers are above", 100),
    "low_trust_coupons_before_trust/gate": ("gate_pass", GATE, 100),
    "low_trust_coupons_after_trust": ("trusting_share", r"\((\d+)% of consumers are above", 100),
    "low_trust_coupons_after_trust/gate": ("gate_pass", GATE, 100),
}
"""File[/label] -> (quantity of the results file, the number in its description, scale)."""


def _measured() -> dict[tuple[str, str], float]:
    import csv

    with MULTIPLES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (r["file"].removesuffix(".yaml"), r["quantity"]): float(r["multiple"] or r["value"])
        for r in rows
    }


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_descriptions_quote_the_computed_numbers(name):
    """A number a description quotes (a spend multiple, a share of consumers) is the
    rounded value experiments/lever_multiples.py measured (its recorded results file)."""
    quantity, pattern, scale = QUOTED[name]
    name = name.split("/")[0]
    description = load_scenario(ROOT / "scenarios" / f"{name}.yaml").description
    found = re.search(pattern, description)
    assert found, f"{name}.yaml: its description does not quote {quantity}: {description}"
    measured = _measured()[(name, quantity)] * scale
    assert abs(int(found.group(1)) - measured) <= 0.5, (
        f"{name}.yaml quotes {found.group(1)} for {quantity}; experiments/lever_multiples.csv "
        f"has {measured:.3g} (rerun python -m docs.build --only lever-multiples, then update "
        f"the description)"
    )


def test_descriptions_and_comments_say_what_the_file_does():
    """No scenario says "doubles" for a lever; descriptions quote the file's own numbers."""
    scenarios = ROOT / "scenarios"
    baseline = load_scenario(scenarios / "baseline.yaml")
    for path in sorted(scenarios.glob("*.yaml")):
        scenario = load_scenario(path)
        assert "doubl" not in scenario.description.lower(), path.name
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("strength:"):
                assert "doubl" not in line.lower(), f"{path.name}: {line.strip()}"
    promotion = load_scenario(scenarios / "merchant_promotion.yaml")
    assert f"{promotion.policies[0].strength * 100:g}%" in promotion.description
    rigid = load_scenario(scenarios / "rigid_demand.yaml")
    rate, extra = baseline.payment.rigid_demand_rate, rigid.policies[0].strength
    text = (scenarios / "rigid_demand.yaml").read_text(encoding="utf-8")
    assert f"{rate:g}" in rigid.description and f"{rate:g}" in text
    assert f"{extra:g}" in rigid.description
    assert f"{(rate + extra) / rate:.1f} times" in rigid.description
    coupons = load_scenario(scenarios / "coupons_before_trust.yaml")
    assert f"{coupons.policies[0].strength * 100:g}%" in coupons.description
    facilitation = load_scenario(scenarios / "cross_border_facilitation.yaml")
    home, away = baseline.trade.domestic_delivery_days, baseline.trade.cross_border_delivery_days
    days = home + (away - home) * (1 - facilitation.policies[0].strength)
    assert f"from {away:g} days to {days:.0f}" in facilitation.description
    fee = load_scenario(scenarios / "platform_fee.yaml")
    before = fee.platforms.platforms["superapp"].fee
    after = before * (1 - fee.policies[0].strength)
    assert f"({before * 100:g}% to {after * 100:g}%)" in fee.description


def test_the_lever_table_of_docs_policies_gives_the_files_strengths():
    """docs/policies.md's lever table names each library file with the strength it uses."""
    text = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    table = text.split("### Levers", 1)[1].split("\n\n", 2)[1]
    checked = 0
    for line in table.splitlines():
        for stem, strength in re.findall(r"`([a-z_*]+)\.yaml` \(([\d.]+)", line):
            for path in sorted((ROOT / "scenarios").glob(f"{stem}.yaml")):
                (intervention,) = load_scenario(path).policies
                assert intervention.strength == pytest.approx(float(strength)), (
                    f"docs/policies.md gives {path.name} strength {strength}; the file has "
                    f"{intervention.strength:g}"
                )
                checked += 1
    assert checked >= 15


def test_comments_citing_the_baseline_quote_its_value():
    """A scenario's comment "(baseline X)" on a world key gives the baseline's value of that
    key (e.g. counterfeit_heavy.yaml's); the rigid-demand lever's comment, which once cited
    0.005 where the baseline has 0.00733, is checked by the test above."""
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml").model_dump(mode="json")
    cited = 0
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if path.name == "baseline.yaml":
            continue
        for key, comment in scenario_comments(path).items():
            if key.startswith("policies"):
                continue
            for number in re.findall(r"\bbaseline:? (-?\d[\d.]*)", comment):
                value: typing.Any = baseline
                for part in key.split("."):
                    value = value.get(part) if isinstance(value, Mapping) else None
                if value is None:  # not a key of the baseline's world (e.g. platforms)
                    continue
                assert float(number) == pytest.approx(float(value)), (
                    f"{path.name}: {key}: the comment cites baseline {number}; "
                    f"scenarios/baseline.yaml has {value}"
                )
                cited += 1
    assert cited >= 5
