"""``mtsim``: the command line.

One layout for every subcommand, including those added later:

* Each subcommand ``NAME`` lives in ``model/commands/NAME.py`` and exposes two functions:

  - ``register(subparsers) -> None`` adds its parser (``subparsers.add_parser(NAME, ...)``)
    and sets ``func=handle`` on it;
  - ``handle(args) -> int`` runs it and returns the exit code.

* ``COMMANDS`` below maps ``NAME`` to ``("model.commands.NAME", one-line help)``. Adding a
  subcommand is one module and one line here.
* A command module imports only light modules at its top (argparse, pathlib, json,
  ``model.errors``). ``handle`` first checks the user's input (files exist, options are in
  range, names are known) and only then imports the heavy parts (NumPy, pandas, Mesa,
  matplotlib, the model core, the harness), so a typo is reported in a fraction of a second.
  ``main`` imports only the module of the command being run.
* The code a command drives is library code in its layer (``model.workflows`` for
  everything that runs models and writes a folder, ``model.analysis``, ``model.viz``;
  docs/architecture.md, "Layers"); the command module is the thin layer that parses,
  checks, calls it and prints. Options several commands share (``--workers``,
  ``--scheduler``, ``--dask-local``) are declared once, in ``model/commands/common.py``.

Errors in the user's input (``model.errors.UserError``, including ``ScenarioError``) end
the command with one line ``mtsim: error: ...`` on stderr and exit code 2, never a
traceback. When the reader of stdout goes away (``mtsim schema | head -c 100``),
``mtsim`` stops quietly with exit code 141 (128 + SIGPIPE), as a Unix tool killed by
SIGPIPE does, following the Python documentation's "Note on SIGPIPE".
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from model.errors import UserError

#: subcommand name -> (module in model/commands/ that registers it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("model.commands.run", "run a scenario: time series, manifest and a summary figure"),
    "compare": ("model.commands.compare", "compare scenarios (policy packages) side by side"),
    "sweep": ("model.commands.sweep", "run an experiment file: a sweep or sensitivity design"),
    "analyze": ("model.commands.analyze", "analyse a sweep: response curves, heatmaps, indices"),
    "validate": ("model.commands.validate", "dock the model against classic diffusion results"),
    "calibrate": ("model.commands.calibrate", "fit parameters to observed series (ABC-SMC)"),
    "viz": ("model.commands.viz", "open the browser visualization"),
    "optimize": ("model.commands.optimize", "search policy mixes within a budget (Pareto front)"),
    "discover": ("model.commands.discover", "find parameter ranges where an outcome holds (PRIM)"),
    "schema": ("model.commands.schema", "print the JSON Schema of scenario files"),
}

#: exit code after a closed output pipe: 128 + SIGPIPE, what a shell reports for a
#: process killed by SIGPIPE (e.g. ``yes | head -1`` under ``set -o pipefail``)
EXIT_BROKEN_PIPE = 141


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the ``mtsim`` argument parser; only ``command``'s module is imported (fast start)."""
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


def _stdout_gone() -> int:
    """Point stdout at devnull (so the final flush cannot fail again) and return 141."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    return EXIT_BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mtsim`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser = build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_gone()
    except UserError as exc:
        for line in str(exc).splitlines() or ["error"]:
            print(f"mtsim: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mtsim: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
