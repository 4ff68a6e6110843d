"""``mtsim schema``: print the JSON Schema of scenario files (with the plausible ranges).

Each behavioural parameter's property carries its plausible range from model/ranges.yaml
(``x-plausible-range``: [low, high], ``x-range-kind``, ``x-range-source``); ``--ranges``
prints the ranges as a plain table instead.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``schema`` subcommand."""
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema of scenario files (for editors and validators); "
        "each behavioural parameter carries its plausible range (x-plausible-range, "
        "x-range-kind, x-range-source; model/ranges.yaml, docs/ranges.md).",
    )
    parser.add_argument(
        "--ranges",
        action="store_true",
        help="print the behavioural parameters' plausible ranges as a table instead",
    )
    parser.set_defaults(func=handle)


def _node(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a property's ``$ref`` (also inside ``anyOf``/``allOf``) to its definition."""
    for _ in range(8):
        ref = node.get("$ref")
        if ref is None:
            for alt in node.get("anyOf", []) + node.get("allOf", []):
                if "$ref" in alt or "properties" in alt or "additionalProperties" in alt:
                    node = alt
                    break
            else:
                return node
            continue
        node = schema["$defs"][ref.rsplit("/", 1)[1]]
    return node


def annotate_ranges(schema: dict[str, Any]) -> dict[str, Any]:
    """Add each range to the property it belongs to (in place); returns the schema.

    A key through a named container (``regions.*``, ``platforms.platforms.*``) annotates
    the entry model's property; keys naming one entry (``marketing.channels.qr_o2o.x``)
    annotate the shared entry model only when every entry's range is the same, so a
    per-entry range is kept in the top-level ``x-plausible-ranges`` map.
    """
    from model.ranges import load_ranges

    table = load_ranges()
    everything: dict[str, Any] = {}
    for key, rng in table.ranges.items():
        info = {
            "x-plausible-range": [rng.low, rng.high],
            "x-range-kind": rng.kind,
            "x-range-source": rng.source,
        }
        everything[key] = info
        node: dict[str, Any] | None = schema
        parts = key.split(".")
        for number, part in enumerate(parts):
            node = _node(schema, node) if node is not None else None
            if node is None:
                break
            props = node.get("properties", {})
            if part in props:
                node = props[part]
            elif isinstance(node.get("additionalProperties"), dict):
                node = node["additionalProperties"] if part == "*" else None
            else:
                node = None
            if node is not None and number == len(parts) - 1:
                node.update(info)
    schema["x-plausible-ranges"] = everything
    return schema


def handle(args: argparse.Namespace) -> int:
    """Print the schema, or the ranges' table."""
    if args.ranges:
        from model.ranges import load_ranges

        table = load_ranges()
        width = max(len(k) for k in table.ranges)
        print(f"{'parameter':<{width}}  {'low':>10}  {'high':>10}  kind        source")
        for key, rng in table.ranges.items():
            print(f"{key:<{width}}  {rng.low:>10g}  {rng.high:>10g}  {rng.kind:<10}  {rng.source}")
        return 0
    from model.scenario import scenario_json_schema

    print(json.dumps(annotate_ranges(scenario_json_schema()), indent=2))
    return 0
