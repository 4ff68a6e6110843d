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

#: subcommand name -> (module that registers it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("model.commands.run", "run a scenario: time series, manifest and a summary figure"),
    "compare": ("model.analysis.compare", "compare scenarios (policy packages) side by side"),
    "sweep": ("model.commands.sweep", "run an experiment file: a sweep or sensitivity design"),
    "analyze": ("model.analysis.sensitivity", "analyse a sweep: response curves, heatmaps, indices"),
    "validate": ("model.validation.command", "dock the model against classic diffusion results"),
    "calibrate": ("model.validation.calibration", "fit scenario parameters to observed data"),
    "viz": ("model.commands.viz", "open the browser visualization"),
    "schema": ("model.commands.schema", "print the JSON Schema of scenario files"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``mtsim`` argument parser; only ``command``'s module is imported (fast start)."""
    parser = argparse.ArgumentParser(
        prog="mtsim",
        description="Agent-based simulation of mobile marketing, payment and cross-border trade.",
    )
    from model import __version__

    parser.add_argument("--version", action="version", version=f"mtsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mtsim`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
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
