"""``mtsim schema``: print the JSON Schema of scenario files."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``schema`` subcommand."""
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema of scenario files (for editors and validators).",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the schema."""
    from model.scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0
