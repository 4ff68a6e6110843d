"""``mtsim``: the command line. Each subcommand lives next to the code it drives.

Every subcommand module exposes ``register(subparsers)``, which adds its parser
and sets ``func`` to a handler ``handler(args) -> int``. Errors in the user's
input (``model.errors.UserError``, including ``ScenarioError``) end the command
with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from model.errors import UserError

#: subcommand name -> module that registers it
COMMANDS: dict[str, str] = {
    "run": "model.commands.run",
    "schema": "model.commands.schema",
    "compare": "model.analysis.compare",
    "sweep": "model.experiment.sweep",
    "analyze": "model.analysis.sensitivity",
    "validate": "model.validation.command",
    "calibrate": "model.validation.calibration",
    "viz": "model.viz.command",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``mtsim`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mtsim",
        description="Agent-based simulation of mobile marketing, payment and cross-border trade.",
    )
    from model import __version__

    parser.add_argument("--version", action="version", version=f"mtsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mtsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        for line in str(exc).splitlines() or ["error"]:
            print(f"mtsim: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mtsim: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
