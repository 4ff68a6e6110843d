"""The one YAML reader of mtsim: every file and ``--set`` value goes through here.

Scenario files, experiment files, calibration files and ``--set`` values are all
read by :func:`read_yaml_mapping` (files) or :func:`parse_yaml_text` (text), so
the same bad input gets the same one-line answer from every command. The reader
is built for hostile input:

- **size**: a file larger than :func:`max_yaml_bytes` (0.5 MB by default; raise it
  with the environment variable ``MTSIM_MAX_YAML_MB``) is refused before it is
  read;
- **encoding**: the file must be UTF-8 (a byte-order mark is allowed); other bytes
  are reported with their line;
- **speed**: PyYAML's C safe loader (libyaml) is used when present, the pure
  Python safe loader otherwise; both only build plain data (no Python objects). A
  text longer than :data:`SYNTAX_FIRST_CHARS` is first parsed for syntax alone (an
  error at the end of a large file is found in a fifth of the time), and the same
  text read again (a command checks its file before the heavy imports, then loads
  it) is a copy of the first reading, not a second parse;
- **aliases**: the composed node graph is measured before anything is built; a
  document whose aliases (``*name``) would add more than :data:`MAX_ALIAS_NODES`
  nodes when expanded (the "billion laughs" pattern), or that refers to itself, is
  refused;
- **nesting**: more than :data:`MAX_DEPTH` levels of nested mappings and lists are
  refused (no ``RecursionError`` later);
- **duplicate keys**: a mapping that names a key twice is refused, with the line
  numbers of both;
- **bytes**: a ``!!binary`` value is refused (no key takes bytes; pydantic would read
  them as text);
- **empty files**: a file without any content is refused;
- **the wrong kind of file**: a file that is plainly another kind of mtsim file (an
  experiment file given to ``mtsim run``, a scenario file given to ``mtsim sweep``)
  is named as such in one line, with the command that takes it
  (:data:`FILE_KINDS`, :func:`file_kind`), instead of one line per unknown key;
- **a missing file**: the message suggests the file meant, ``scenarios/baseline``
  -> ``scenarios/baseline.yaml`` (:func:`missing_file_hint`).

Values are described in messages with :func:`describe_value`, which looks at a
bounded part of a value only (never serialises a whole value).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import pickle
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from model.errors import UserError

DEFAULT_MAX_YAML_MB = 0.5
"""Default size limit of a YAML file, in megabytes (MTSIM_MAX_YAML_MB overrides it)."""

MAX_YAML_ENV = "MTSIM_MAX_YAML_MB"
"""Environment variable that raises (or lowers) the size limit, in megabytes."""

MAX_ALIAS_NODES = 100_000
"""How many nodes aliases may add to a document when expanded."""

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists in a YAML document."""

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The loader used: libyaml's C safe loader when PyYAML was built with it."""


class YamlError(UserError, ValueError):
    """A YAML file or value that cannot be read, with a one-line reason."""


@dataclass(frozen=True)
class FileKind:
    """One kind of mtsim YAML file, known by its top-level keys.

    Attributes:
        name: what the file is called in messages ("scenario", "experiment").
        commands: the ``mtsim`` commands that take it, e.g. ``("sweep", "compare --uncertain")``.
        example: a shipped file of this kind.
        required: the top-level keys every file of this kind has (its schema's required
            fields).
        keys: every top-level key of the kind (only for a kind without required keys:
            such a file is known by having only these keys).
    """

    name: str
    commands: tuple[str, ...]
    example: str
    required: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()

    def matches(self, keys: Collection[str]) -> bool:
        """Say whether a file with these top-level keys is plainly of this kind."""
        if self.required:
            return self.required <= set(keys)
        return set(keys) <= self.keys and bool(set(keys) - SHARED_KEYS)

    @property
    def article(self) -> str:
        """``a`` or ``an``, for the kind's name."""
        return "an" if self.name[:1] in "aeiou" else "a"

    def listed(self, last: str) -> str:
        """Return the commands as text, ``mtsim run, compare or viz`` (``last``: "or", "and")."""
        names = list(self.commands)
        head = ", ".join(names[:-1])
        return "mtsim " + (f"{head} {last} {names[-1]}" if head else names[-1])


SHARED_KEYS = frozenset({"name", "description"})
"""Top-level keys every kind of file has: they say nothing about the kind."""

FILE_KINDS: dict[str, FileKind] = {
    kind.name: kind
    for kind in (
        FileKind(
            "scenario",
            ("run", "compare", "viz"),
            "scenarios/baseline.yaml",
            keys=frozenset(
                {
                    *SHARED_KEYS,
                    "extends",
                    "simulation",
                    "population",
                    "regions",
                    "network",
                    "word_of_mouth",
                    "marketing",
                    "kols",
                    "merchants",
                    "payment",
                    "trust",
                    "ordering",
                    "accounts",
                    "merchant_dynamics",
                    "trade",
                    "platforms",
                    "policies",
                    "policy_costs",
                    "targets",
                }
            ),
        ),
        FileKind(
            "experiment",
            ("sweep", "compare --uncertain"),
            "experiments/kol_payment_grid.yaml",
            required=frozenset({"parameters", "design"}),  # and base: or start:
        ),
        FileKind(
            "calibration",
            ("calibrate",),
            "experiments/calibrate_cnnic.yaml",
            required=frozenset({"scenario", "time", "series", "parameters"}),
        ),
        FileKind(
            "optimization",
            ("optimize",),
            "experiments/optimize_payment_trust.yaml",
            required=frozenset({"budget", "levers", "objectives"}),  # and base: or start:
        ),
    )
}
"""The kinds of mtsim YAML file, by name. The keys are those of each kind's schema
(``model.scenario.Scenario``, ``model.experiment.spec.ExperimentSpec``,
``model.validation.calibration.CalibrationConfig``, ``model.decision.optimize.OptimizationSpec``;
tests/test_new_user.py keeps them equal), written here so that a command can tell the
kind of a file before it imports any of them."""


def file_kind(keys: Collection[str]) -> str | None:
    """Return the kind of mtsim file whose top-level keys these are, or None when unclear.

    A scenario file has only scenario keys (at least one besides ``name`` and
    ``description``); an experiment, calibration or optimization file has every key
    its schema requires.
    """
    return next((name for name, kind in FILE_KINDS.items() if kind.matches(keys)), None)


def wrong_kind(path: str | Path, keys: Collection[str], expected: str) -> str | None:
    """Return the one-line message for a file of another kind than ``expected``, else None.

    None too when the file could be of the expected kind (its own validation then
    names what is wrong) or its kind is unclear.
    """
    want = FILE_KINDS.get(expected)
    found = file_kind(keys)
    if want is None or found is None or found == expected or want.matches(keys):
        return None
    kind = FILE_KINDS[found]
    takes = "take" if len(want.commands) > 1 else "takes"
    return (
        f"{path} is {kind.article} {kind.name} file ({kind.listed('or')}); "
        f"{want.listed('and')} {takes} {want.article} {want.name} file, e.g. {want.example}"
    )


MAX_LISTED = 10_000
"""Most entries of a folder looked at for a close file name (a huge folder stays fast)."""


def missing_file_hint(path: str | Path, suffixes: Iterable[str] = (".yaml", ".yml")) -> str:
    """Return ``"; did you mean scenarios/baseline.yaml?"`` for a file that does not exist.

    The file meant is the name with one of ``suffixes`` added when that file exists,
    else the closest name with one of them in the same folder; ``""`` when there is none.
    """
    path, suffixes = Path(path), tuple(suffixes)
    try:
        for suffix in suffixes:
            candidate = path.with_name(path.name + suffix)
            if candidate.is_file():
                return f"; did you mean {candidate}?"
        with os.scandir(path.parent) as entries:
            names = [
                entry.name
                for _, entry in zip(range(MAX_LISTED), entries, strict=False)
                if entry.name.endswith(suffixes) and entry.is_file()
            ]
    except (OSError, ValueError):  # no such folder, a name too long, an empty name
        return ""
    match = difflib.get_close_matches(path.name[:100], names, n=1, cutoff=0.6)
    return f"; did you mean {path.parent / match[0]}?" if match else ""


def max_yaml_bytes() -> int:
    """Return the size limit of a YAML file in bytes (``MTSIM_MAX_YAML_MB``, default 0.5 MB)."""
    raw = os.environ.get(MAX_YAML_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MAX_YAML_MB * 1_000_000)
    try:
        megabytes = float(raw)
    except ValueError:
        raise UserError(f"{MAX_YAML_ENV}: {raw[:40]!r}: must be a number of megabytes") from None
    if not math.isfinite(megabytes) or megabytes <= 0:
        raise UserError(f"{MAX_YAML_ENV}: {raw[:40]!r}: must be a positive number of megabytes")
    return int(megabytes * 1_000_000)


# --------------------------------------------------------------------------- describing values


def describe_value(value: Any, limit: int = 60) -> str:
    """Describe ``value`` for an error message in JSON-like text, at most ``limit`` characters.

    Only a bounded part of the value is visited (the first few items of each list
    and mapping, a few levels deep), so describing an enormous or alias-shared
    value costs next to nothing.
    """
    text = _bounded(value, depth=0, budget=limit + 4)
    if len(text) > limit:
        text = text[: max(0, limit - 3)] + "..."
    return text


def _bounded(value: Any, depth: int, budget: int) -> str:
    if isinstance(value, str):
        return json.dumps(value[: budget + 2], ensure_ascii=False)
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value) if not isinstance(value, int) or abs(value) < 10**40 else "<huge>"
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        if depth >= 2:
            return "{...}"
        out, used = [], 2
        for i, (key, item) in enumerate(value.items()):
            if used > budget or i >= 8:
                out.append("...")
                break
            piece = f"{_bounded(key, depth + 1, 20)}: {_bounded(item, depth + 1, budget - used)}"
            out.append(piece)
            used += len(piece) + 2
        return "{" + ", ".join(out) + "}"
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            return "[...]"
        out, used = [], 2
        for i, item in enumerate(value):
            if used > budget or i >= 8:
                out.append("...")
                break
            piece = _bounded(item, depth + 1, budget - used)
            out.append(piece)
            used += len(piece) + 2
        return "[" + ", ".join(out) + "]"
    text = repr(value) if not hasattr(value, "isoformat") else str(value)
    return text[: budget + 2]


def short_key(key: Any, limit: int = 40) -> str:
    """Return a mapping key for a message, cut to ``limit`` characters."""
    text = str(key) if isinstance(key, (str, int)) else describe_value(key, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- reading


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def check_node_graph(root: Node, where: str) -> None:
    """Refuse alias bombs, self-reference, deep nesting and duplicate keys in a composed document.

    Walks the graph of mappings and lists once (iteratively, each collection once),
    computing every collection's expanded size and height from its children; an
    alias is a collection reached a second time.

    Args:
        root: the composed document.
        where: prefix of error messages (the file, or ``--set``).

    Raises:
        YamlError: with one line naming the problem.
    """
    if isinstance(root, ScalarNode):
        _check_scalar(root, where)
        return
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    literal = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        ident = id(node)
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = node.value
        if expanded:
            on_path.discard(ident)
            total, tallest = 1, 0
            for child in children:
                if isinstance(child, ScalarNode):
                    total += 1
                else:
                    total += size[id(child)]
                    tallest = max(tallest, height[id(child)])
            size[ident], height[ident] = total, tallest + 1
            if tallest + 1 > MAX_DEPTH:
                raise YamlError(
                    f"{where}: nested more than {MAX_DEPTH} levels deep (at line {_line(node)})"
                )
            continue
        if ident in size:
            continue  # an alias of a collection already measured
        if isinstance(node, MappingNode):
            _check_duplicate_keys(node, where)
        on_path.add(ident)
        stack.append((node, True))
        if len(on_path) > MAX_DEPTH:
            raise YamlError(
                f"{where}: nested more than {MAX_DEPTH} levels deep (at line {_line(node)})"
            )
        for child in children:
            if isinstance(child, ScalarNode):
                _check_scalar(child, where)
                literal += 1
                continue
            child_id = id(child)
            if child_id in on_path:
                raise YamlError(f"{where}: an alias at line {_line(node)} refers to itself")
            if child_id not in size:
                stack.append((child, False))
        literal += 1
    added = size[id(root)] - literal
    if added > MAX_ALIAS_NODES:
        raise YamlError(
            f"{where}: aliases (*name) would expand the document by {added:,} values, more than "
            f"the limit of {MAX_ALIAS_NODES:,}; write the values out instead"
        )


BINARY_TAG = "tag:yaml.org,2002:binary"
"""YAML's tag of raw bytes (``!!binary``): no mtsim file holds bytes."""


def _check_scalar(node: ScalarNode, where: str) -> None:
    """Refuse a ``!!binary`` value: bytes, which no key of an mtsim file takes."""
    if node.tag == BINARY_TAG:
        raise YamlError(
            f"{where}: a !!binary value at line {_line(node)}; mtsim files hold text and "
            "numbers, not bytes (remove the !!binary tag)"
        )


def _check_duplicate_keys(node: MappingNode, where: str) -> None:
    seen: dict[tuple[str, str], Node] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        ident = (key.tag, key.value)
        first = seen.get(ident)
        if first is not None:
            raise YamlError(
                f"{where}: duplicate key {short_key(key.value)!r} at lines {_line(first)} and "
                f"{_line(key)}; keep one of them"
            )
        seen[ident] = key


def _yaml_problem(exc: yaml.YAMLError, where: str) -> YamlError:
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["syntax error"])[0]
    return YamlError(f"{where}: invalid YAML{at}: {short_key(problem, 120)}")


SYNTAX_FIRST_CHARS = 64_000
"""Texts longer than this are parsed for syntax alone first (:func:`_check_syntax`)."""


def _check_syntax(text: str, where: str) -> None:
    """Parse ``text`` to events only (libyaml's C parser, no nodes, no tag resolution).

    A syntax error at the end of a large file is then found in a fifth of the time
    the full reading takes (0.1 s instead of 0.5 s for 0.5 MB).
    """
    loader = SafeLoader(text)
    try:
        while loader.check_event():
            loader.get_event()
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, where) from None
    finally:
        loader.dispose()


def parse_yaml_text(text: str, where: str) -> Any:
    """Parse one YAML document with mtsim's safe reader (same checks as files).

    Args:
        text: the YAML text.
        where: prefix of error messages (a file name, or ``--set``).

    Returns:
        The plain data (None for an empty document).

    Raises:
        YamlError: invalid YAML, alias bombs, self-reference, deep nesting, duplicate keys.
    """
    if len(text) > SYNTAX_FIRST_CHARS:
        _check_syntax(text, where)
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_node_graph(node, where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, where) from None
    except RecursionError:
        raise YamlError(f"{where}: nested too deeply to read") from None
    finally:
        loader.dispose()


def read_yaml_text(path: Path, kind: str = "YAML", error: type[Exception] = YamlError) -> str:
    """Read a YAML file's text after checking that it exists, its size and its encoding."""
    path = Path(path)
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    try:
        if not path.exists():
            raise error(f"{path}: file not found{missing_file_hint(path)}")
        if path.is_dir():
            raise error(f"{path}: is a folder, not {article} {kind} file")
        if not path.is_file():  # a FIFO would wait for a writer forever
            raise error(f"{path}: not a regular file (a pipe, socket or device); give a file")
        limit = max_yaml_bytes()
        size = path.stat().st_size
        if size > limit:
            raise error(
                f"{path}: {size / 1e6:.3g} MB is larger than the {limit / 1e6:g} MB limit for "
                f"{kind} files (raise it with {MAX_YAML_ENV}=<megabytes>)"
            )
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > limit:  # grew while reading, or a pipe or special file
        raise error(
            f"{path}: larger than the {limit / 1e6:g} MB limit for {kind} files "
            f"(raise it with {MAX_YAML_ENV}=<megabytes>)"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}); "
            f"save the {kind} file as UTF-8"
        ) from None


_LAST_READ: dict[str, Any] = {}
"""The last text :func:`read_yaml_mapping` parsed (``text``) and its data, pickled (``data``).

A command reads its file twice (once to refuse a bad file before the heavy imports,
once to load it); the second reading of the same text is a copy of the first, not a
second parse (0.5 s for a 0.5 MB file).
"""


MAX_CACHED_CHARS = 1_000_000
"""Longest text kept by :func:`_parse_mapping_text` (a larger file, allowed by
``MTSIM_MAX_YAML_MB``, is parsed each time rather than held in memory)."""


def _parse_mapping_text(text: str, where: str) -> Any:
    """Parse a file's text, or copy the data of the same text parsed last."""
    if _LAST_READ.get("text") == text:
        return pickle.loads(_LAST_READ["data"])  # a fresh copy: callers change what they get
    data = parse_yaml_text(text, where)
    _LAST_READ.clear()
    if isinstance(data, dict) and len(text) <= MAX_CACHED_CHARS:
        _LAST_READ.update(text=text, data=pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return data


def read_yaml_mapping(
    path: str | Path, kind: str | None = None, error: type[Exception] = YamlError
) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping: the reader every mtsim command uses.

    Args:
        path: the file.
        kind: what the file must be, one of :data:`FILE_KINDS` ("scenario",
            "experiment", "calibration", "optimization"): a file plainly of another kind
            is refused in one line that says what it is and which command takes it.
            None: any YAML mapping (messages say "YAML file").
        error: the exception class raised (a ``UserError`` subclass), with a one-line
            message naming the file.

    Returns:
        The file's mapping, as plain data.

    Raises:
        error: missing file (with the file probably meant), folder, too large, not
            UTF-8, invalid YAML, alias bomb, nesting too deep, duplicate key, empty
            file, top level not a mapping, a file of another kind.
    """
    path = Path(path)
    text = read_yaml_text(path, kind or "YAML", error)
    try:
        data = _parse_mapping_text(text, str(path))
    except YamlError as exc:
        raise error(str(exc)) from None
    if data is None:
        raise error(f"{path}: the {kind or 'YAML'} file is empty (no keys); write at least one key")
    if not isinstance(data, dict):
        raise error(f"{path}: the top level must be a mapping of keys, got {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise error(f"{path}: {describe_value(key, 40)}: keys must be text")
    problem = wrong_kind(path, data.keys(), kind) if kind is not None else None
    if problem is not None:
        raise error(problem)
    return data


def parse_yaml_value(raw: str, where: str = "--set") -> Any:
    """Read a ``--set`` value as YAML (``0.5``, ``true``, ``[1, 2]``); plain text if it is not YAML.

    Values that YAML refuses for safety (alias bombs, nesting, duplicate keys) are
    errors, not text.
    """
    if not raw.strip():
        return ""
    if len(raw) > 1_000_000:
        raise YamlError(f"{where}: value longer than 1,000,000 characters")
    try:
        return parse_yaml_text(raw, where)
    except YamlError as exc:
        if "invalid YAML" in str(exc):
            return raw
        raise
