"""What each generated block of the documents says, written from the code or from recorded results.

Code generators read the model's own declarations: the phases (``model.phases.PHASES``),
the state arrays (model/state.py, with the dtypes of a model built from a small
scenario), the scenario schema (``model.scenario.scenario_json_schema``: types, bounds,
defaults; its classes' docstrings: meanings; the commented reference scenarios: values,
units and sources), the levers (model/levers.py caps, model/policy.py effects) and the
mechanism modules' docstrings. Results generators render a recorded results file and the
record of the run that wrote it (docs/build.py). Every function returns Markdown ending in
a newline; none draws a random number or writes a file.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import fnmatch
import inspect
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

REFERENCE_SCENARIO = "scenarios/baseline.yaml"
"""The commented scenario that gives each parameter's reference value, unit and source."""

SECTION_REFERENCES = {"platforms": "scenarios/platform_superapp.yaml"}
"""Top-level sections the baseline leaves out, and the commented scenario that has them."""

SPECIMEN_SCENARIO = "scenarios/platform_superapp.yaml"
SPECIMEN_OVERRIDES = {
    "population.consumers": 240,
    "population.merchants": 20,
    "population.kols": 11,
    "word_of_mouth.rule": "linear_threshold",
}
"""A small model with every state array filled (a platform; thresholds drawn), for dtypes."""

STATE_GROUPS = (
    ("consumers", "ConsumerState", "one row per consumer: n"),
    (
        "merchants",
        "MerchantState",
        "one row per merchant slot, m: the starting merchants plus "
        "free slots for entrants, up to the entry cap",
    ),
    ("kols", "KOLState", "one row per KOL: k"),
    ("platforms", "PlatformState", "the super-app layer; empty arrays without `platforms:`"),
    ("market", "MarketState", "model-level state"),
)


# --------------------------------------------------------------------------- text helpers


def cell(text: object) -> str:
    """Make text safe for one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def codes(items: tuple[str, ...] | list[str]) -> str:
    """Write names as inline code, comma-separated; an em dash for none."""
    return ", ".join(f"`{item}`" for item in items) or "—"


def first_paragraph(doc: str | None) -> str:
    """Return the first paragraph of a docstring, on one line."""
    return " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())


def attribute_docs(doc: str | None) -> dict[str, str]:
    """Read the ``Attributes:`` section of a Google-style docstring: name -> description."""
    described: dict[str, str] = {}
    inside, indent, current = False, None, None
    for line in inspect.cleandoc(doc or "").splitlines():
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside or not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:
            break
        entry = re.match(r"(\w+)(?: \([^)]*\))?: (.*)", line.strip())
        if entry and (indent is None or depth == indent):
            indent, current = depth, entry.group(1)
            described[current] = entry.group(2).strip()
        elif current is not None:
            described[current] += " " + line.strip()
    return described


def rst_table(doc: str) -> list[list[str]]:
    """Read the rows of the first reStructuredText simple table in a docstring (no header).

    A row whose first column is empty continues the row above it.
    """
    lines = inspect.cleandoc(doc).splitlines()
    borders = [i for i, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line)]
    if len(borders) < 3:
        return []
    spans = [m.span() for m in re.finditer(r"=+", lines[borders[0]])]
    rows: list[list[str]] = []
    for line in lines[borders[1] + 1 : borders[2]]:
        cells = [
            line[start:] if k == len(spans) - 1 else line[start : spans[k + 1][0]]
            for k, (start, _) in enumerate(spans)
        ]
        cells = [c.strip() for c in cells]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [
                " ".join(filter(None, (old, new))) for old, new in zip(rows[-1], cells, strict=True)
            ]
    return rows


def significant(value: float, digits: int) -> str:
    """Write a number to ``digits`` significant digits, fixed notation, thousands separated."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{round(value, decimals):,.{decimals}f}"


# --------------------------------------------------------------------------- phases


def phase_schedule() -> str:
    """List the week's phases: what each does, the signals it produces, the state it changes."""
    from model.phases import PHASES

    rows = [
        "| # | phase | what it does | produces (signals, this week) "
        "| changes (state, at the end of the week) |",
        "|---:|---|---|---|---|",
    ]
    for number, phase in enumerate(PHASES, start=1):
        rows.append(
            f"| {number} | `{phase.name}` | {cell(first_paragraph(phase.run.__doc__))} | "
            f"{codes(phase.produces)} | {codes(phase.writes)} |"
        )
    return "\n".join(rows) + "\n"


def phase_table() -> str:
    """Return the full phase table (reads, uses, produces, writes) of docs/architecture.md."""
    from model.phases import phase_table as table

    return table()


# --------------------------------------------------------------------------- state


def _specimen():
    from model.market import MarketModel
    from model.scenario import load_scenario

    return MarketModel(load_scenario(ROOT / SPECIMEN_SCENARIO, SPECIMEN_OVERRIDES), seed=1)


def _shape(value: Any, symbols: dict[int, str]) -> str:
    return " x ".join(symbols.get(int(size), str(size)) for size in value.shape)


def state_tables() -> str:
    """Tabulate every state variable of each agent group: dtype, shape, meaning (model/state.py)."""
    import model.state as state
    from model.mechanisms.attribution import CHANNELS

    model = _specimen()
    symbols = {
        model.consumers.n: "n",
        model.merchants.n: "m",
        model.kols.n: "k",
        model.scenario.platforms.follows.slots: "slots",
        len(CHANNELS): "channels",
    }
    if len(symbols) != 5:
        raise ValueError("docs.generators: the specimen's sizes collide; change SPECIMEN_OVERRIDES")
    parts = []
    for group, class_name, rows_are in STATE_GROUPS:
        container = getattr(model, group)
        described = attribute_docs(getattr(state, class_name).__doc__)
        parts += [
            f"**{group}** (`model.state.{class_name}`; {rows_are})",
            "",
            "| variable | type | shape | meaning |",
            "|---|---|---|---|",
        ]
        for item in dataclasses.fields(container):
            value = getattr(container, item.name)
            if hasattr(value, "dtype"):
                kind = f"{'CSR sparse ' if hasattr(value, 'indptr') else ''}{value.dtype}"
                shape = _shape(value, symbols)
            else:
                kind, shape = type(value).__name__, "—"
            meaning = described.get(item.name, "*not described in model/state.py*")
            parts.append(f"| `{item.name}` | {kind} | {shape} | {cell(meaning)} |")
        parts.append("")
    return "\n".join(parts[:-1]) + "\n"


# --------------------------------------------------------------------------- parameters


def _split_comment(comment: str) -> tuple[str, str]:
    """Split a reference scenario's comment ``meaning [unit] (source)`` -> (unit, source)."""
    unit = re.search(r"\[([^\]\"']+)\]", comment)
    rest = comment[unit.end() :] if unit else comment
    rest = rest.strip(" :;,")
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    elif not unit:
        final = re.search(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)$", rest)
        rest = final.group(1) if final else comment
    return (unit.group(1).strip() if unit else ""), rest.strip()


def scenario_comments(path: Path) -> dict[str, str]:
    """Read the trailing comment of every ``key: value`` line of a scenario file, by key path."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^( *)([A-Za-z0-9_]+):(.*)$", line)
        if not match:
            continue
        depth, key, rest = len(match.group(1)), match.group(2), match.group(3)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, key))
        if " #" in rest or rest.lstrip().startswith("#"):
            comments[".".join(k for _, k in stack)] = rest.split("#", 1)[1].strip()
    return comments


def _lookup(data: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    """Yield (label, value) at a path whose ``<name>`` parts match any key, ``[]`` any item."""
    if not path:
        yield "", data
        return
    head, rest = path[0], path[1:]
    if head == "<name>" and isinstance(data, dict):
        for key, inner in data.items():
            for label, value in _lookup(inner, rest):
                yield f"{key} {label}".strip(), value
    elif head == "[]" and isinstance(data, list):
        for index, inner in enumerate(data):
            for label, value in _lookup(inner, rest):
                yield f"[{index}] {label}".strip(), value
    elif isinstance(data, dict) and head in data:
        yield from _lookup(data[head], rest)


def _value(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": ")) if not isinstance(value, str) else value


def _allowed(prop: dict[str, Any]) -> str:
    """Say a schema property's allowed values in words."""
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        text = " or ".join(_allowed(p) for p in options)
        return text + (" or null" if len(options) < len(prop["anyOf"]) else "")
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "")
    if kind == "array":
        return "list of " + _allowed(prop.get("items", {}))
    if kind == "object":
        return "mapping of names to " + _allowed(prop.get("additionalProperties", {}))
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    bounds = []
    for key, sign in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if key in prop:
            bounds.append(f"{sign} {_number(prop[key])}")
    if "pattern" in prop:
        bounds.append(f"matching `{prop['pattern']}`")
    words = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false"}
    return " ".join(filter(None, (words.get(kind, kind), ", ".join(bounds))))


def _model_ref(prop: dict[str, Any]) -> tuple[str, str] | None:
    """Return (definition, path suffix) when a property holds models: one, by name, or a list."""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1], ""
    for option in prop.get("anyOf", ()):
        found = _model_ref(option)
        if found:
            return found
    if "$ref" in prop.get("additionalProperties", {}):
        return prop["additionalProperties"]["$ref"].rsplit("/", 1)[-1], ".<name>"
    if "$ref" in prop.get("items", {}):
        return prop["items"]["$ref"].rsplit("/", 1)[-1], ".[]"
    return None


def _sections(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Map every model of the schema, in order of first use, to the paths where it is used."""
    defs = schema["$defs"]
    found: dict[str, list[str]] = {"Scenario": [""]}

    def walk(node: dict[str, Any], path: str) -> None:
        for name, prop in node["properties"].items():
            ref = _model_ref(prop)
            if ref:
                target, suffix = ref
                here = f"{path}.{name}{suffix}".lstrip(".")
                found.setdefault(target, []).append(here)
                walk(defs[target], here)

    walk(schema, "")
    return found


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _reference(values: Any, comments: dict[str, str], paths: list[str], field: str):
    """Find a field's values in a reference scenario and the first comment on one of them.

    Where a model is used at several paths (or under names), each value is labelled.
    """
    found, comment = [], ""
    for path in paths:
        last = path.rsplit(".", 1)[-1]
        prefix = last if len(paths) > 1 and last not in ("<name>", "[]") else ""
        dotted = f"{path}.{field}".lstrip(".")
        for label, value in _lookup(values, dotted.split(".")):
            found.append((f"{prefix} {label}".strip(), value))
        pattern = dotted.replace("<name>", "*").replace(".[]", ".*")
        if not comment:
            key = next((k for k in comments if fnmatch.fnmatch(k, pattern)), None)
            if key:
                label = key[len(path.split(".<name>")[0]) + 1 :].split(".")[0]
                several = len(found) > 1
                comment = f"{label}: {comments[key]}" if several else comments[key]
    return found, comment


def parameter_tables() -> str:
    """Tabulate the scenario schema by section: meaning, unit, bounds, default, reference."""
    from model.scenario import load_scenario, scenario_json_schema

    schema = scenario_json_schema()
    files = sorted({REFERENCE_SCENARIO, *SECTION_REFERENCES.values()})
    values = {f: load_scenario(ROOT / f).model_dump(mode="json") for f in files}
    comments = {f: scenario_comments(ROOT / f) for f in files}
    parts: list[str] = []
    for name, paths in _sections(schema).items():
        node = schema if name == "Scenario" else schema["$defs"][name]
        reference = SECTION_REFERENCES.get(paths[0].split(".")[0], REFERENCE_SCENARIO)
        shown_paths = (f"`{p.replace('.[]', '[]')}`" for p in paths)
        where = ", ".join(shown_paths) if paths[0] else "the top level of a file"
        described = attribute_docs(node.get("description"))
        rows = []
        for field, prop in node["properties"].items():
            if _model_ref(prop):
                continue
            found, comment = _reference(values[reference], comments[reference], paths, field)
            shown = "; ".join(f"{label} {_value(v)}".strip() for label, v in found) or "—"
            unit, source = _split_comment(comment)
            meaning = described.get(field) or prop.get("description", "—")
            if "default" in prop:
                default = json.dumps(prop["default"])
            else:
                default = "required" if field in node.get("required", ()) else "—"
            rows.append(
                f"| `{field}` | {cell(meaning)} | {cell(unit) or '—'} | "
                f"{cell(_allowed(prop))} | {cell(default)} | {cell(shown)} | "
                f"{cell(source) or '—'} |"
            )
        if not rows:
            continue
        title = (
            first_paragraph(node.get("description"))
            if name != "Scenario"
            else "The scenario file's own keys."
        )
        parts += [
            f"**{name}** ({where}; reference values from `{reference}`): {cell(title)}",
            "",
            "| parameter | meaning | unit | allowed | default | reference value "
            "| where the reference value comes from |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    return "\n".join(parts[:-1]) + "\n"


# --------------------------------------------------------------------------- levers


def lever_table() -> str:
    """Tabulate every policy lever: its cap (model/levers.py), its effect at L (model/policy.py)."""
    import model.policy as policy
    from model.levers import LEVER_MAX

    effects = {  # a row may stand for several levers: channel_<name>
        row[0].replace("<name>", "*"): row[2]
        for row in rst_table(policy.__doc__ or "")
        if len(row) >= 3
    }
    if not effects:
        raise ValueError("model/policy.py's docstring has no lever table (lever, max, effect)")
    rows = ["| lever | max | effect at level L (model/policy.py) |", "|---|---:|---|"]
    for lever, top in LEVER_MAX.items():
        patterns = (text for name, text in effects.items() if fnmatch.fnmatch(lever, name))
        effect = effects.get(lever) or next(patterns, "*not described in model/policy.py*")
        rows.append(f"| `{lever}` | {top:g} | {cell(effect)} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- submodels


def submodel_list() -> str:
    """List every mechanism module with the first line of its docstring (its rule in brief)."""
    rows = ["| module | what it models |", "|---|---|"]
    for path in sorted((ROOT / "model" / "mechanisms").glob("*.py")):
        if path.name == "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        line = doc.strip().splitlines()[0] if doc.strip() else "*no docstring*"
        rows.append(f"| `model/mechanisms/{path.name}` | {cell(line)} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- results


SCALE_SUMMARY = "benchmarks/results/bench_scale_summary.csv"
"""bench_scale's summary (medians per engine and size), published by ``--publish``."""


def _provenance(table: str, record: dict[str, Any]) -> str:
    """Write the line under a results table: where its numbers come from, the run behind them."""
    machine = record["machine"]
    machine_text = machine if isinstance(machine, str) else machine.get("description", "")
    seeds = ", ".join(str(s) for s in record.get("seeds", ())) or "none"
    duration = record.get("duration_s")
    took = f", {significant(duration / 60, 2)} min" if duration else ""
    return (
        f"*From `{table}`: run of {record['date'][:10]} at commit {record['commit'][:7]} on "
        f"{machine_text}, seed {seeds}{took} (record: "
        f"`docs/build_records/{record['experiment']}.json`; written by `python -m docs.build`).*"
    )


def _scale_rows() -> tuple[list[dict[str, str]], dict[int, dict[str, str]]]:
    with (ROOT / SCALE_SUMMARY).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ours = sorted((r for r in rows if r["engine"] == "mtsim"), key=lambda r: int(r["consumers"]))
    mesa = {int(r["consumers"]): r for r in rows if r["engine"] != "mtsim"}
    return ours, mesa


SCALE_COLUMNS = (
    "| consumers | build [s] | step [s] | agent-steps/s | peak [MiB] | build + 100 steps [s] "
)


def _rate(row: dict[str, str]) -> str:
    return f"{significant(float(row['agent_steps_per_s_median']) / 1e6, 2)} M"


def _scale_cells(row: dict[str, str]) -> str:
    """Write the columns both scale tables share, for one size of mtsim's summary."""
    return (
        f"| {int(row['consumers']):,} | {significant(float(row['build_s_median']), 3)} | "
        f"{significant(float(row['step_s_median']), 3)} | {_rate(row)} | "
        f"{float(row['peak_rss_mib_median']):,.0f} | "
        f"{significant(float(row['build_plus_100_steps_s']), 3)} | "
    )


def scale_table(record: dict[str, Any]) -> str:
    """Tabulate the README's scale results: mtsim's medians per size, ratio to Mesa's example."""
    ours, _ = _scale_rows()
    rows = [
        SCALE_COLUMNS + "| vs Mesa example | runs x timed steps |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ours:
        rows.append(
            f"{_scale_cells(r)}{significant(float(r['ratio_vs_mesa']), 2)}x | "
            f"{r['reps']} x {r['steps']} |"
        )
    return "\n".join(rows) + "\n\n" + _provenance(SCALE_SUMMARY, record) + "\n"


def scale_table_detail(record: dict[str, Any]) -> str:
    """Tabulate docs/scale.md's results: mtsim and Mesa per size, and what each median is of."""
    ours, mesa = _scale_rows()
    rows = [
        SCALE_COLUMNS + "| Mesa agent-steps/s | ratio | runs x timed steps (mtsim; Mesa) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ours:
        ref = mesa.get(int(r["consumers"]))
        rows.append(
            f"{_scale_cells(r)}{_rate(ref) if ref else '—'} | "
            f"{significant(float(r['ratio_vs_mesa']), 2)}x | {r['reps']} x {r['steps']}; "
            f"{ref['reps'] + ' x ' + ref['steps'] if ref else '—'} |"
        )
    return "\n".join(rows) + "\n\n" + _provenance(SCALE_SUMMARY, record) + "\n"


# --------------------------------------------------------------------------- lever multiples


LEVER_MULTIPLES = "experiments/lever_multiples.csv"
"""What the library's lever files do, measured by experiments/lever_multiples.py."""

_MULTIPLE_TEXT = {
    "spend_multiple": "spend on the channel (merchants' own plus the state's subsidy), "
    "against merchants' own spend on it in the same runs",
    "spend_vs_reference": "spend on the channel (own plus subsidy), against the reference's "
    "spend on it",
    "adoption_rate": "weekly share of active non-adopting merchants that adopt mobile "
    "channels, against the reference's",
    "payment_adoption_rate": "weekly share of connected non-payers who start paying by "
    "mobile, against the reference's",
    "rigid_demand_chance": "weekly payment adoption chance from rigid demand "
    "(`payment.rigid_demand_rate` plus the lever), against the rate alone (from the files)",
    "trusting_share": "consumers whose trust in home sellers is at or above "
    "`trust.purchase_threshold`",
    "mean_trust": "mean trust in home sellers",
    "gate_pass": "mean chance that trust lets a wanted purchase from home sellers through "
    "(the graded gate of mechanisms/trust.py)",
    "shopper_share": "consumers who have bought by mobile",
}
_KOL_TEXT = {
    "spend_multiple": "KOL fees paid (merchants' and the campaign's), against the fees "
    "merchants paid themselves in the same runs",
    "spend_vs_reference": "KOL fees paid, against the reference's",
}
_SHARES = ("trusting_share", "shopper_share", "gate_pass")


def _multiple_value(quantity: str, text: str) -> str:
    if not text:
        return "—"
    value = float(text)
    if quantity in _SHARES:
        return f"{value * 100:.1f}%"
    if quantity in ("spend_multiple", "spend_vs_reference"):
        return f"{value:,.0f}"
    return significant(value, 3)


def lever_multiples_table(record: dict[str, Any]) -> str:
    """Tabulate what each library lever file does, as measured by experiments/lever_multiples.py."""
    with (ROOT / LEVER_MULTIPLES).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = [
        "| file (reference) | lever (strength), weeks | what is measured, against what "
        "| measured | against | multiple (range over runs) |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in rows:
        quantity = r["quantity"]
        texts = _KOL_TEXT if r["lever"] == "channel_kol_campaign" else {}
        what = texts.get(quantity) or _MULTIPLE_TEXT.get(quantity, quantity)
        weeks = r["weeks"]
        when = f"week {weeks}" if "-" not in weeks else f"weeks {weeks}"
        if r["multiple"]:
            low = significant(float(r["multiple_low"]), 2)
            high = significant(float(r["multiple_high"]), 2)
            spread = f" ({low} to {high})" if low != high else ""
            multiple = f"{significant(float(r['multiple']), 2)}x{spread}"
        else:
            multiple = "—"
        out.append(
            f"| `{r['file']}` (`{r['reference']}`) | `{r['lever']}` ({float(r['strength']):g}), "
            f"{when} | {cell(what)} | {_multiple_value(quantity, r['value'])} | "
            f"{_multiple_value(quantity, r['reference_value'])} | {multiple} |"
        )
    reps = rows[0]["reps"] if rows else "0"
    return (
        "\n".join(out)
        + f"\n\nMeans of {reps} paired runs per file (seeds `simulation.seed` + 0, 1, ...; "
        "the baseline's size); money is summed over the weeks shown.\n\n"
        + _provenance(LEVER_MULTIPLES, record)
        + "\n"
    )


# --------------------------------------------------------------------------- stylised facts


PATTERNS = "docs/validation_results/patterns/patterns.csv"
"""The pattern suite's table, written by ``mtsim validate --patterns`` (held-back seeds)."""


def patterns_table(record: dict[str, Any]) -> str:
    """Tabulate the stylised facts: source, criterion, measured value, seeds passing, verdict."""
    from model.validation.patterns import markdown_table

    with (ROOT / PATTERNS).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    passed = sum(1 for r in rows if r["verdict"] == "pass")
    seeds = rows[0]["seeds"] if rows else "none"
    return (
        f"{passed} of {len(rows)} facts pass on seeds {seeds}.\n\n"
        + markdown_table(rows)
        + "\n"
        + _provenance(PATTERNS, record)
        + "\n"
    )


PATTERNS_SECOND = "docs/validation_results/patterns_second/patterns.csv"
"""The pattern suite's table on the second set of fresh seeds (3001-3020)."""


def patterns_second_table(record: dict[str, Any]) -> str:
    """Each fact's verdict on the held-back seeds beside a second set of fresh seeds."""
    first = _pattern_rows(PATTERNS)
    second = _pattern_rows(PATTERNS_SECOND)
    if not first or not second:
        return "(the pattern suite has not been run on both seed sets)\n"
    seeds = (first[0]["seeds"], second[0]["seeds"])
    by_fact = {r["fact"]: r for r in first}
    lines = [
        f"| fact | seeds {seeds[0]}: measured | verdict | seeds {seeds[1]}: measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in second:
        held = by_fact.get(r["fact"], {})
        lines.append(
            f"| `{r['fact']}` | {held.get('measured', '')} | {held.get('verdict', '')} | "
            f"{r['measured']} | {r['verdict']} |"
        )
    passed = [sum(1 for r in rows if r["verdict"] == "pass") for rows in (first, second)]
    differ = [
        r["fact"] for r in second if by_fact.get(r["fact"], {}).get("verdict") != r["verdict"]
    ]
    lines += [
        "",
        f"{passed[0]} of {len(first)} facts pass on seeds {seeds[0]}, {passed[1]} of "
        f"{len(second)} on seeds {seeds[1]}; "
        + (
            "the verdicts differ for " + ", ".join(f"`{f}`" for f in differ) + "."
            if differ
            else "every verdict is the same."
        )
        + f" Seeds {seeds[1]}: "
        + _provenance(PATTERNS_SECOND, record)
        + f" Seeds {seeds[0]}: "
        + _held_back_provenance(PATTERNS),
    ]
    return "\n".join(lines) + "\n"


def _held_back_provenance(table: str) -> str:
    """Return the held-back pattern run's provenance line (a second source of a block)."""
    from docs.build import PATTERNS as HELD_BACK
    from docs.build import BuildError, load_record

    try:
        return _provenance(table, load_record(HELD_BACK))
    except BuildError:
        return "(the held-back run has no record yet)"


def _pattern_rows(path: str) -> list[dict[str, str]]:
    file = ROOT / path
    if not file.is_file():
        return []
    with file.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


PATTERNS_JSON = "docs/validation_results/patterns/patterns.json"
"""The pattern suite's per-seed statistics (same run as :data:`PATTERNS`)."""


def ad_concave_steps(record: dict[str, Any]) -> str:
    """Paired step-to-step changes of ``ad_concave``'s marginal orders per unit, per seed.

    The fact's criterion reads the pooled marginals; this table says which of their rises
    or falls the seeds can tell from zero (mean of the per-seed differences, 95% t
    interval over the seeds).
    """
    import numpy as np

    data = json.loads((ROOT / PATTERNS_JSON).read_text(encoding="utf-8"))
    fact = next(f for f in data["facts"] if f["fact"] == "ad_concave")
    names = sorted(
        (k for k in fact["overall"] if k.startswith("marginal_")), key=lambda k: int(k[9:])
    )
    per_seed = np.array([[float(s[k]) for k in names] for s in fact["per_seed"]])
    n = per_seed.shape[0]
    rows = [
        "| step | pooled marginals | per-seed change: mean [95% interval] | the seeds say |",
        "|---|---|---|---|",
    ]
    for i, change in enumerate(_step_changes(per_seed)):
        rows.append(
            f"| {i + 1} -> {i + 2} | {significant(fact['overall'][names[i]], 2)} -> "
            f"{significant(fact['overall'][names[i + 1]], 2)} | {change} |"
        )
    return (
        f"Step by step over the {n} seeds (`ad_concave`, marginal orders per unit of spend):\n\n"
        + "\n".join(rows)
        + "\n\n"
        + _provenance(PATTERNS_JSON, record)
        + "\n"
    )


def _step_changes(per_seed: Any) -> list[str]:
    """Return, per step of the marginals (seeds x marginals), the seeds' change as cells.

    Each is "mean [low, high] | verdict" (95% t interval; falls, rises or cannot tell
    from 0).
    """
    from scipy import stats

    n = per_seed.shape[0]
    t = float(stats.t.ppf(0.975, n - 1))
    cells = []
    for i in range(per_seed.shape[1] - 1):
        diff = per_seed[:, i + 1] - per_seed[:, i]
        mean = float(diff.mean())
        half = t * float(diff.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
        verdict = "falls" if high < 0 else ("rises" if low > 0 else "cannot tell from 0")
        cells.append(
            f"{significant(mean, 2)} [{significant(low, 2)}, {significant(high, 2)}] | {verdict}"
        )
    return cells


PATTERNS_SECOND_JSON = "docs/validation_results/patterns_second/patterns.json"
"""The pattern suite's per-seed statistics on the second set of fresh seeds."""


def ad_concave_steps_both(record: dict[str, Any]) -> str:
    """``ad_concave``'s step-to-step changes over both sets of fresh seeds together.

    The per-seed changes of the held-back run and of the second set's run, pooled (40
    seeds): mean and 95% t interval. The criterion is not read this way (it reads each
    run's pooled marginals); the table says how large each step's fall is against the
    seeds' noise with twice the seeds.
    """
    import numpy as np

    per_seed = []
    for path in (PATTERNS_JSON, PATTERNS_SECOND_JSON):
        file = ROOT / path
        if not file.is_file():
            return "(the pattern suite has not been run on both seed sets)\n"
        data = json.loads(file.read_text(encoding="utf-8"))
        fact = next(f for f in data["facts"] if f["fact"] == "ad_concave")
        names = sorted(
            (k for k in fact["overall"] if k.startswith("marginal_")), key=lambda k: int(k[9:])
        )
        per_seed += [[float(one[k]) for k in names] for one in fact["per_seed"]]
    values = np.array(per_seed)
    rows = [
        f"| step | per-seed change over the {values.shape[0]} seeds: mean [95% interval] "
        "| the seeds say |",
        "|---|---|---|",
    ]
    for i, change in enumerate(_step_changes(values)):
        rows.append(f"| {i + 1} -> {i + 2} | {change} |")
    return (
        "\n".join(rows)
        + "\n\nBoth sets of fresh seeds together (the held-back run's step table above and "
        "the second set's run). "
        + _provenance(PATTERNS_SECOND_JSON, record)
        + " "
        + _held_back_provenance(PATTERNS_JSON)
        + "\n"
    )


def pattern_facts() -> str:
    """List the stylised facts: the claim and what is measured (model/validation/patterns.py)."""
    from model.validation.patterns import FACTS

    rows = ["| fact | claim | what is measured in the model |", "|---|---|---|"]
    for fact in FACTS:
        rows.append(f"| `{fact.name}` | {cell(fact.claim)} | {cell(fact.measurement)} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- measured tables


MEASURED = "experiments/measured"
"""The measured tables' results, one CSV per table (experiments/policy_measures.py)."""

_MEASURE_WORDS = {
    "final": "at the end",
    "last_quarter": "a week, last 13 weeks",
    "run_mean": "a week, mean over the run",
    "cumulative": "over the run",
    "total": "over the run",
}


def _measured(name: str) -> list[dict[str, str]]:
    with (ROOT / MEASURED / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _kind(metric: str) -> str:
    from model.metrics import find_metric

    found = find_metric(metric)
    return found.kind if found is not None else "number"


def _scale(metric: str) -> float:
    """Shares and indices are shown as per cent and 0-100 (their differences in points)."""
    return 100.0 if _kind(metric) in ("share", "flow_share", "index") else 1.0


def _outcome(metric: str, measure: str) -> str:
    """Name a row: the metric's label and what its number is (unit and when)."""
    from model.metrics import metric_label

    kind = _kind(metric)
    label = metric_label(metric)
    window = re.fullmatch(r"weeks_(\d+)_(\d+)", measure)
    when = f"mean of weeks {window[1]}-{window[2]}" if window else _MEASURE_WORDS[measure]
    if kind in ("share", "flow_share"):
        when = "%, " + when.replace("a week, ", "")
    elif kind == "index":
        when = "0-100, " + when.replace("a week, ", "")
    elif kind in ("flow", "money_flow") and window:
        when = "a week, " + when
    elif kind in ("count", "mean") and window:
        when = when.replace("a week, ", "")
    return f"{label} ({when})"


def _decimals(*values: float) -> int:
    """Decimals that give the largest of the values three significant digits (at most 2)."""
    largest = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if largest == 0:
        return 0
    return min(2, max(0, 2 - math.floor(math.log10(largest))))


def _plain(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" else text


def _mean(row: dict[str, str], key: str = "mean") -> str:
    value = float(row[key]) * _scale(row["metric"])
    return _plain(value, _decimals(value))


def _interval_decimals(low: float, high: float, *values: float) -> int:
    """Decimals that give an interval's half-width two significant digits (0 to 3)."""
    half = (high - low) / 2
    if not half > 0:
        return _decimals(low, high, *values)
    return min(3, max(0, 1 - math.floor(math.log10(half))))


def _effect(row: dict[str, str], bold: bool = True) -> str:
    """Write the mean paired difference and its 95% interval; bold when it excludes 0.

    Policy spending is shown as the scenario's own total; a difference that is 0 in every
    pair as "no difference".
    """
    if row["metric"] == "policy_cost":
        return _mean(row)
    scale = _scale(row["metric"])
    diff, low, high = (float(row[k]) * scale for k in ("diff", "diff_ci_low", "diff_ci_high"))
    if not all(math.isfinite(v) for v in (diff, low, high)):
        return "—" if not math.isfinite(diff) else f"{diff:+,.2f} (no interval)"
    if diff == low == high == 0:
        return "no difference"
    decimals = _interval_decimals(low, high, diff)
    diff_text = _plain(diff, decimals)
    text = (
        f"{'+' if not diff_text.startswith('-') and diff_text != '0' else ''}{diff_text} "
        f"({_plain(low, decimals)} to {_plain(high, decimals)})"
    )
    return f"**{text}**" if bold and (low > 0 or high < 0) else text


def _index(rows: list[dict[str, str]]) -> dict[tuple[str, str, str, str], dict[str, str]]:
    """(scenario, reference, metric, measure) -> row."""
    return {(r["scenario"], r["reference"], r["metric"], r["measure"]): r for r in rows}


def _pairs(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r["metric"], r["measure"]) for r in rows))


def _scenarios(rows: list[dict[str, str]]) -> list[str]:
    return list(dict.fromkeys(r["scenario"] for r in rows))


def _seeds_text(record: dict[str, Any]) -> str:
    seeds = list(record.get("seeds", ()))
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seeds " + ", ".join(str(s) for s in seeds)


_PAIRED_NOTE = (
    "Policy cells: the mean paired difference from {reference} (replication i of every "
    "scenario on the same seed) with its 95% t interval; **bold**: the interval excludes "
    "zero, otherwise the difference is within the run-to-run noise. Shares in per cent and "
    "trust as an index 0-100, their differences in points; flows a week, money in "
    "yuan (2015 prices)."
)


def _comparison_table(name: str, record: dict[str, Any], reference_label: str) -> str:
    """Outcomes down, scenarios across: the reference's mean, each policy's paired effect."""
    rows = _measured(name)
    index = _index(rows)
    scenarios = _scenarios(rows)
    reference = rows[0]["reference"]
    policies = [s for s in scenarios if s != reference]
    out = [
        f"| outcome | {reference_label} | " + " | ".join(f"`{s}`" for s in policies) + " |",
        "|---|---:|" + "---:|" * len(policies),
    ]
    for metric, measure in _pairs(rows):
        ref = index[(reference, reference, metric, measure)]
        cells = [_effect(index[(s, reference, metric, measure)]) for s in policies]
        out.append(
            f"| {cell(_outcome(metric, measure))} | {_mean(ref)} | " + " | ".join(cells) + " |"
        )
    reps = rows[0]["n"]
    return (
        "\n".join(out)
        + f"\n\n{reps} replications per scenario ({_seeds_text(record)}). "
        + _PAIRED_NOTE.format(reference=f"`{reference}`")
        + "\n\n"
        + _provenance(f"{MEASURED}/{name}.csv", record)
        + "\n"
    )


def policy_comparison_table(record: dict[str, Any]) -> str:
    """docs/policies.md's main comparison: four policies against the baseline."""
    return _comparison_table("policy_comparison", record, "`baseline` (mean)")


def platform_routes_table(record: dict[str, Any]) -> str:
    """docs/policies.md: platform verification and the state's integrity lever, one world."""
    return _comparison_table("platform_routes", record, "`platform_superapp`, no lever (mean)")


def counterfeit_heavy_table(record: dict[str, Any]) -> str:
    """docs/policies.md: the counterfeit-heavy world against the baseline."""
    return _comparison_table("counterfeit_heavy", record, "`baseline` (mean)")


def lever_targets_table(record: dict[str, Any]) -> str:
    """docs/policies.md: every library lever at full strength moves its own target."""
    rows = _measured("lever_targets")
    out = [
        "| lever | scenario | target | world (consumers, merchants, KOLs) | without "
        "| with (full strength) | change | 95% interval |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        without, diff = float(r["without"]), float(r["diff"])
        relative = f" ({100 * diff / without:+.1f}%)" if without else ""
        sign = "+" if diff >= 0 else ""
        low, high = float(r["low"]), float(r["high"])
        out.append(
            f"| `{r['lever']}` | {r['scenario']} | {r['target']} | "
            f"{int(r['consumers']):,}, {r['merchants']}, {r['kols']} | {significant(without, 4)} "
            f"| {significant(float(r['with']), 4)} | {sign}{significant(diff, 4)}{relative} | "
            f"{'+' if low >= 0 else ''}{significant(low, 4)} to "
            f"{'+' if high >= 0 else ''}{significant(high, 4)} |"
        )
    clear = sum(
        1
        for r in rows
        if int(r["sign"]) * float(r["low"]) > 0 and int(r["sign"]) * float(r["high"]) > 0
    )
    reps = rows[0]["reps"] if rows else "0"
    return (
        "\n".join(out)
        + f"\n\n{clear} of {len(rows)} levers move their target beyond the 95% interval of "
        f"the paired difference, on the good side ({reps} paired runs, {_seeds_text(record)}; "
        "mean of the target over the first 26 weeks the lever acts).\n\n"
        + _provenance(f"{MEASURED}/lever_targets.csv", record)
        + "\n"
    )


def _policy_of(file: str) -> tuple[str, float, int, int | None]:
    """Return the lever, strength, start and end of a library file's only intervention."""
    from model.scenario import load_scenario

    (iv,) = load_scenario(ROOT / "scenarios" / f"{file}.yaml").policies
    return iv.lever, iv.strength, iv.start, iv.end


def marketing_levers_table(record: dict[str, Any]) -> str:
    """docs/policies.md: the marketing levers at their library strength, against the baseline."""
    rows = _measured("marketing_levers")
    index = _index(rows)
    reference = rows[0]["reference"]
    base = index[(reference, reference, "orders", "run_mean")]
    base_orders = float(base["mean"])
    out = [
        "| file: lever (library strength) | change in mobile orders a week "
        "| merchants in business at the end | merchants' profit over the run "
        "| net fiscal cost over the run | consumer surplus over the run | policy spending |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in _scenarios(rows):
        if scenario == reference:
            continue
        lever, strength, _, _ = _policy_of(scenario)
        orders = index[(scenario, reference, "orders", "run_mean")]
        relative = 100 * float(orders["diff"]) / base_orders
        cells = [
            f"{_effect(orders)}, {relative:+.0f}%",
            *(
                _effect(index[(scenario, reference, metric, measure)])
                for metric, measure in (
                    ("active_merchants", "final"),
                    ("merchant_profit", "cumulative"),
                    ("net_fiscal_cost", "cumulative"),
                    ("consumer_surplus", "cumulative"),
                )
            ),
            _mean(index[(scenario, reference, "policy_cost", "total")]),
        ]
        out.append(f"| `{scenario}`: `{lever}` ({strength:g}) | " + " | ".join(cells) + " |")
    means = {
        key: _mean(index[(reference, reference, *key)])
        for key in (
            ("active_merchants", "final"),
            ("merchant_profit", "cumulative"),
            ("net_fiscal_cost", "cumulative"),
            ("consumer_surplus", "cumulative"),
        )
    }
    return (
        "\n".join(out)
        + f"\n\nThe baseline, over the same weeks: {_mean(base)} mobile orders a week (mean "
        f"over the run), {means[('active_merchants', 'final')]} merchants in business at "
        f"the end, merchants' profit {means[('merchant_profit', 'cumulative')]}, net fiscal "
        f"cost {means[('net_fiscal_cost', 'cumulative')]} and consumer surplus "
        f"{means[('consumer_surplus', 'cumulative')]} over the run. {base['n']} replications "
        f"per scenario ({_seeds_text(record)}). "
        + _PAIRED_NOTE.format(reference="the baseline")
        + "\n\n"
        + _provenance(f"{MEASURED}/marketing_levers.csv", record)
        + "\n"
    )


def kol_campaign_budget_table(record: dict[str, Any]) -> str:
    """docs/policies.md: extra mobile orders against the KOL campaign budget (the sweep)."""
    rows = _measured("kol_campaign_budget")
    out = [
        "| budget level (x base per adopter) | extra orders / week | 95% interval "
        "| KOL fees the state paid / week | extra orders per 100 of fees "
        "| KOL credibility at the end (0-100) |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    zero = None
    for r in rows:
        level = float(r["level"])
        if level == 0:
            zero = r
            continue
        diff, low, high = (float(r[k]) for k in ("d_orders", "low", "high"))
        decimals = 1
        text = f"{_plain(low, decimals)} to {_plain(high, decimals)}"
        clear = low > 0 or high < 0
        out.append(
            f"| {level:g} | {'**' if clear else ''}{diff:+,.{decimals}f}{'**' if clear else ''} "
            f"| {text} | {significant(float(r['policy_cost']), 3)} "
            f"| {significant(float(r['orders_per_100_cost']), 3)} "
            f"| {100 * float(r['credibility_final']):.0f} |"
        )
    lead = ""
    if zero is not None:
        lead = (
            f"Without a campaign: {significant(float(zero['orders']), 3)} mobile orders a week "
            f"(mean of weeks 1-104), KOL credibility {100 * float(zero['credibility_final']):.0f} "
            "at the end. "
        )
    return (
        "\n".join(out)
        + f"\n\n{lead}Extra orders: the mean paired difference from no campaign (the sweep "
        "runs every level on the same seeds) over weeks 1-104, with its 95% t interval "
        "(**bold**: it excludes zero); 6 replications per level; master seed "
        f"{', '.join(str(s) for s in record.get('seeds', ()))}.\n\n"
        + _provenance(f"{MEASURED}/kol_campaign_budget.csv", record)
        + "\n"
    )


def low_trust_coupons_table(record: dict[str, Any]) -> str:
    """docs/policies.md: the same coupon programme before and after trust (low-trust world)."""
    rows = _measured("low_trust_coupons")
    index = _index(rows)
    reference = rows[0]["reference"]
    out = [
        "| scenario | its weeks | mobile orders a week in its weeks: without | change "
        "| change in orders over the run | change in orders a week, last 13 weeks "
        "| merchants in business at the end | consumer surplus over the run "
        "| coupons redeemed (policy spending) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in _scenarios(rows):
        if scenario == reference:
            continue
        _, _, start, end = _policy_of(scenario)
        last = (end - 1) if end is not None else 156
        window = f"weeks_{start}_{last}"
        within = index[(scenario, reference, "orders", window)]
        cells = [
            f"{start}-{last}",
            _mean(index[(reference, reference, "orders", window)]),
            _effect(within),
            _effect(index[(scenario, reference, "orders", "cumulative")]),
            _effect(index[(scenario, reference, "orders", "last_quarter")]),
            _effect(index[(scenario, reference, "active_merchants", "final")]),
            _effect(index[(scenario, reference, "consumer_surplus", "cumulative")]),
            _mean(index[(scenario, reference, "policy_cost", "total")]),
        ]
        out.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    reps = rows[0]["n"]
    return (
        "\n".join(out)
        + f"\n\n{reps} replications per scenario ({_seeds_text(record)}), 156 weeks. "
        + _PAIRED_NOTE.format(reference=f"`{reference}`")
        + "\n\n"
        + _provenance(f"{MEASURED}/low_trust_coupons.csv", record)
        + "\n"
    )


_PLATFORM_COLUMNS = {
    "platform_superapp": "superapp",
    "platform_fee": "fee cap 0.5",
    "platform_verification": "verification 0.2",
    "platform_state_integrity": "state integrity 0.2",
    "platform_spam_control": "spam control 0.5",
    "platform_two_apps": "two apps",
    "platform_interoperability": "two apps + interop.",
}


def platform_levers_table(record: dict[str, Any]) -> str:
    """docs/platform.md: the platform library scenarios side by side, with paired effects."""
    rows = _measured("platform_levers")
    index = _index(rows)
    reference = rows[0]["reference"]
    scenarios = _scenarios(rows)
    against = {s: reference for s in scenarios}
    for r in rows:
        if r["reference"] not in (reference, r["scenario"]):
            against[r["scenario"]] = r["reference"]
    out = [
        "| | " + " | ".join(_PLATFORM_COLUMNS.get(s, s) for s in scenarios) + " |",
        "|---|" + "---:|" * len(scenarios),
    ]
    for metric, measure in _pairs(rows):
        cells = []
        for s in scenarios:
            own = index[(s, against[s] if s != reference else reference, metric, measure)]
            text = _mean(own)
            if s != reference and metric != "policy_cost":
                text += f"<br>{_effect(own)}"
            cells.append(text)
        out.append(f"| {cell(_outcome(metric, measure))} | " + " | ".join(cells) + " |")
    paired = "; ".join(
        f"{_PLATFORM_COLUMNS.get(s, s)} against {_PLATFORM_COLUMNS.get(r, r)}"
        for s, r in against.items()
        if s != reference and r != reference
    )
    reps = rows[0]["n"]
    return (
        "\n".join(out)
        + f"\n\nEach cell: the mean over {reps} runs ({_seeds_text(record)}, the same seeds "
        f"in every scenario); under it the mean paired difference from "
        f"{_PLATFORM_COLUMNS.get(reference, reference)} ({paired}) with its 95% t interval, "
        "**bold** when the interval excludes zero. Flows are weekly means over weeks 13-156 "
        "(while the levers act), stocks at week 156.\n\n"
        + _provenance(f"{MEASURED}/platform_levers.csv", record)
        + "\n"
    )


_TARGET_LABELS = {
    "typical_seller_platform_share": ("a typical seller's orders from the platform", "about 10%"),
    "intention_conversion": ("conversion from purchase intention", "above 8%"),
    "search_action_rate": ("mobile searches leading to an action", "3 in 4"),
    "search_purchase_rate": ("... of those, leading to a purchase", "24%"),
}


def platform_targets_table(record: dict[str, Any]) -> str:
    """docs/platform.md: the four material figures, the model's mean, spread and tolerance."""
    rows = _measured("platform_targets")
    out = [
        "| figure | material | model: mean (sd; seeds) | tolerance (stated) | seeds inside |",
        "|---|---|---|---|---:|",
    ]
    for name, (label, material) in _TARGET_LABELS.items():
        mine = [r for r in rows if r["figure"] == name]
        values = [float(r["value"]) for r in mine]
        low, high = float(mine[0]["low"]), float(mine[0]["high"])
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        inside = sum(low <= v <= high for v in values)
        tolerance = f"{low:.0%} to {high:.0%}" if high < 1 else f"above {low:.0%}"
        out.append(
            f"| {label} | {material} | {mean:.1%} (sd {100 * sd:.1f} points; "
            f"{min(values):.1%} to {max(values):.1%}) | {tolerance} | {inside} of {len(values)} |"
        )
    return "\n".join(out) + "\n\n" + _provenance(f"{MEASURED}/platform_targets.csv", record) + "\n"


def population_size_table(record: dict[str, Any]) -> str:
    """README: the baseline's shares at week 156 by size (mean of the seeds)."""
    rows = _measured("population_size")
    worlds = list(dict.fromkeys(r["world"] for r in rows))
    out = [
        "| consumers (merchants, KOLs) | paying by mobile | have shopped "
        "| merchants using mobile |",
        "|---|---:|---:|---:|",
    ]
    for world in worlds:
        mine = [r for r in rows if r["world"] == world]
        cells = [
            f"{sum(float(r[m]) for r in mine) / len(mine):.1%}"
            for m in ("payment_adoption", "shopper_share", "merchant_adoption")
        ]
        out.append(f"| {world} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n\n" + _provenance(f"{MEASURED}/population_size.csv", record) + "\n"


def cnnic_replay_sentence(record: dict[str, Any]) -> str:
    """README: the replay's largest gap and RMSE against CNNIC's payment share, in points."""
    gaps = [float(r["gap_points"]) for r in _measured("cnnic_replay")]
    largest = max(gaps, key=abs)
    rmse = math.sqrt(sum(g * g for g in gaps) / len(gaps))
    within = sum(1 for g in gaps if abs(g) <= 3.0)
    verdict = (
        "every gap within 3 points"
        if within == len(gaps)
        else f"{within} of {len(gaps)} gaps within 3 points: the 3-point target is not met; "
        "tests/test_china_2013.py holds it as a known failure"
    )
    return (
        f"Mean of 24 runs against CNNIC's {len(gaps)} payment observations: largest gap "
        f"{largest:+.1f} points, RMSE {rmse:.1f} points ({verdict}).\n\n"
        + _provenance(f"{MEASURED}/cnnic_replay.csv", record)
        + "\n"
    )


RANGE_KIND_WORDS = {
    "sourced": "sourced",
    "fitted": "fitted",
    "direction": "direction (sourced direction, assumed size)",
    "assumption": "assumption",
}
"""How docs/ranges.md's counts name each kind of model/ranges.yaml (model.ranges.KINDS)."""


def range_kind_counts(keys_kinds: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Count range kinds per section (the key's first part) and in all (``"all"``)."""
    from model.ranges import KINDS

    counts: dict[str, dict[str, int]] = {"all": dict.fromkeys(KINDS, 0)}
    for key, kind in keys_kinds:
        section = key.split(".")[0]
        counts.setdefault(section, dict.fromkeys(KINDS, 0))[kind] += 1
        counts["all"][kind] += 1
    return counts


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def ranges_table() -> str:
    """docs/ranges.md's block: provenance counts by kind and section, then every range.

    Every behavioural parameter's plausible range (model/ranges.yaml) with its kind, source
    and reference value; then the numbers of the behavioural sections that are not ranged.
    """
    from model.ranges import KINDS, expand_key, load_ranges
    from model.scenario import load_scenario

    table = load_ranges()
    data = {
        ref: load_scenario(ROOT / ref).resolved()
        for ref in {REFERENCE_SCENARIO, *SECTION_REFERENCES.values()}
    }
    rows = [
        "| parameter | reference value | low | high | kind | source |",
        "|---|---:|---:|---:|---|---|",
    ]
    for key, rng in table.ranges.items():
        ref = SECTION_REFERENCES.get(key.split(".")[0], REFERENCE_SCENARIO)
        values = []
        for path in expand_key(key, data[ref]):
            node: Any = data[ref]
            for part in path.split("."):
                node = node[part]
            values.append(f"{node:g}")
        shown = ", ".join(dict.fromkeys(values)) or "—"
        rows.append(
            f"| `{key}` | {shown} | {rng.low:g} | {rng.high:g} | {rng.kind} | {cell(rng.source)} |"
        )
    counts = range_kind_counts([(k, r.kind) for k, r in table.ranges.items()])
    total = counts["all"]
    n = sum(total.values())
    grounded = total["sourced"] + total["fitted"]
    summary = (
        f"{n} behavioural parameters: "
        + ", ".join(f"{total[kind]} {RANGE_KIND_WORDS[kind]}" for kind in KINDS)
        + f". Sourced or fitted: {grounded} of {n} ({_share(grounded, n)}; issue 28 asks for "
        f"at least half). {len(table.not_behavioural)} numbers of the behavioural sections are "
        "not ranged (the last table).\n\n"
    )
    provenance = [
        "| section | parameters | " + " | ".join(KINDS) + " | sourced or fitted |",
        "|---|---:|" + "---:|" * len(KINDS) + "---:|",
    ]
    for section, by_kind in [*[(s, c) for s, c in counts.items() if s != "all"], ("all", total)]:
        m = sum(by_kind.values())
        label = "**all**" if section == "all" else f"`{section}`"
        provenance.append(
            f"| {label} | {m} | "
            + " | ".join(str(by_kind[kind]) for kind in KINDS)
            + f" | {_share(by_kind['sourced'] + by_kind['fitted'], m)} |"
        )
    exempt = ["| not ranged | why |", "|---|---|"] + [
        f"| `{key}` | {cell(why)} |" for key, why in table.not_behavioural.items()
    ]
    return (
        summary
        + "\n".join(provenance)
        + "\n\n"
        + "\n".join(rows)
        + "\n\n"
        + "\n".join(exempt)
        + "\n"
    )
