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
traceback. So do mistakes on the command line (:class:`Parser`): an unknown option
gets the closest one (``mtsim run: error: unknown option --stpes; did you mean
--steps?``), a mistyped command the closest command. A warning of mtsim's own
(a category defined in ``model``, e.g. ``model.scenario.PopulationScaled``) is one
line ``mtsim: note: ...`` on stderr, once per command. When the reader of stdout goes
away (``mtsim schema | head -c 100``), ``mtsim`` stops quietly with exit code 141
(128 + SIGPIPE), as a Unix tool killed by SIGPIPE does, following the Python
documentation's "Note on SIGPIPE". When stdout cannot be written (``> /dev/full``, a
full disk), the command ends with one line ``mtsim: error: cannot write to standard
output (...)`` and exit code 1, as ``echo`` does. An empty file or folder name
(``--out ''``) is refused in one line instead of meaning the default.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from model.errors import UserError, close_match

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


class Parser(argparse.ArgumentParser):
    """``argparse`` with one-line errors that suggest what was meant.

    Every subcommand's parser is one too (``add_subparsers`` makes its parsers of the
    class of their parent). An error is one line on stderr, ``PROG: error: MESSAGE``,
    and exit code 2: an unknown option names the closest option of its command, an
    invalid choice (a mistyped command) the closest choice.
    """

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse's own
        args = list(sys.argv[1:] if args is None else args)
        self._check_long_options(args)
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._command_parser(getattr(parsed, "command", None))
            command.error(command.unknown_arguments(extras))
        return parsed

    def _command_parser(self, command: str | None) -> Parser:
        """Return the parser of subcommand ``command`` (this parser when there is none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                return action.choices[command]
        return self

    def _check_long_options(self, args: Sequence[str]) -> None:
        """Refuse an unknown ``--option`` first, before argparse asks for a missing argument.

        The first word that is not an option names the command whose options count
        (an unknown command is left to argparse, which names the closest one). A prefix
        of a known option passes (argparse takes unambiguous abbreviations).
        """
        parser = self
        for word in args:
            if word == "--":
                return
            if not word.startswith("-"):
                if parser is self:
                    parser = self._command_parser(word)
                    if parser is self:
                        return
                continue
            name = word.split("=", 1)[0]
            known = [flag for action in parser._actions for flag in action.option_strings]
            if name.startswith("--") and not any(flag.startswith(name) for flag in known):
                parser.error(parser.unknown_arguments([word]))

    def unknown_arguments(self, extras: Sequence[str]) -> str:
        """Describe arguments this parser does not know, with the closest known option."""
        options = [flag for action in self._actions for flag in action.option_strings]
        for word in extras:
            if word.startswith("-") and not re.fullmatch(r"-\d[\d.e+-]*", word):
                name = word.split("=", 1)[0]
                hint = close_match(name, options).replace("'", "")
                return f"unknown option {name[:100]}{hint or f' (see {self.prog} --help)'}"
        return f"unexpected argument {extras[0][:100]!r} (see {self.prog} --help)"

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE`` in one line (with the closest choice) and exit 2."""
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            known = re.findall(r"'([^']*)'", choice.group(2))
            message += close_match(choice.group(1), known)
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the ``mtsim`` argument parser; only ``command``'s module is imported (fast start)."""
    parser = Parser(
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


#: options naming a file or folder, by their ``dest``: an empty name is refused (an empty
#: ``--out`` would otherwise mean "the default folder", silently)
PATH_OPTIONS = ("out", "uncertain")


def check_empty_names(args: argparse.Namespace) -> None:
    """Refuse ``--out ''`` (and any other empty file or folder name) in one line.

    Raises:
        UserError: naming the option.
    """
    for dest in PATH_OPTIONS:
        if getattr(args, dest, None) == "":
            option = "--" + dest.replace("_", "-")
            raise UserError(f"{option}: an empty name; give a name, or omit {option}")


class StdoutError(Exception):
    """Standard output cannot be written (a full disk, ``> /dev/full``, an I/O error)."""


class _CheckedStdout:
    """``sys.stdout`` while a command runs: a failed write raises :class:`StdoutError`.

    So that the one line and exit code 1 are given for stdout alone (a file a command
    writes is its own business), as ``echo hi > /dev/full`` does. A closed pipe stays a
    ``BrokenPipeError`` (exit 141). Everything else is the real stream's.
    """

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)  # type: ignore[attr-defined]
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()  # type: ignore[attr-defined]
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextmanager
def checked_stdout() -> Iterator[None]:
    """Run the block with :class:`_CheckedStdout` as ``sys.stdout``; restore it after."""
    real = sys.stdout
    sys.stdout = _CheckedStdout(real)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = real


def _stdout_gone() -> int:
    """Point stdout at devnull (so the final flush cannot fail again) and return 141."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    return EXIT_BROKEN_PIPE


@contextmanager
def notes_as_lines() -> Iterator[None]:
    """Show warnings of mtsim's own categories as one line ``mtsim: note: ...``, once each.

    A category is mtsim's own when a module of ``model`` defines it; other warnings
    are shown as Python shows them.
    """
    shown: set[str] = set()
    with warnings.catch_warnings():
        previous = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if not category.__module__.startswith("model."):
                previous(message, category, filename, lineno, file, line)
            elif str(message) not in shown:
                shown.add(str(message))
                print(f"mtsim: note: {message}", file=sys.stderr, flush=True)

        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mtsim`` console script."""
    with notes_as_lines(), checked_stdout():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser = build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        check_empty_names(args)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_gone()
    except StdoutError as exc:
        print(f"mtsim: error: cannot write to standard output ({exc})", file=sys.stderr)
        _stdout_gone()
        return 1
    except UserError as exc:
        for line in str(exc).splitlines() or ["error"]:
            print(f"mtsim: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mtsim: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
