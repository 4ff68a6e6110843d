"""Plausible ranges of the behavioural parameters (issue 29), read from ``model/ranges.yaml``.

``model/ranges.yaml`` is the one source of truth: for every behavioural parameter (a
rate, weight, gain, probability or money amount of how consumers, merchants, KOLs and
platforms act), its plausible interval, the interval's kind (``sourced``, ``fitted``,
``direction``, ``assumption``) and its source; and, for every other number of a behavioural section,
why it is not ranged. The file's header says which parameters are behavioural.

::

    from model.ranges import load_ranges, unranged_parameters, world_overrides
    table = load_ranges()
    table.ranges["merchants.integrity_erosion"].low          # 0.0
    unranged_parameters(scenario.resolved())                 # [] when every number is covered
    world_overrides(table, {"merchants.integrity_erosion": 0.04}, scenario.resolved())

``mtsim schema`` shows the ranges (``--ranges`` as a table); ``mtsim compare ...
--worlds N`` draws worlds from them (model/workflows/worlds.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

RANGES_FILE = Path(__file__).with_name("ranges.yaml")
"""The ranges file next to the scenario schema."""

KINDS = ("sourced", "fitted", "direction", "assumption")
"""What a range rests on: a published figure, the calibration, a published direction (sign or
order) with an assumed size, or an assumption (model/ranges.yaml's header says each)."""


@dataclass(frozen=True)
class Range:
    """The plausible interval of one behavioural parameter.

    Attributes:
        key: dotted path in a scenario; ``*`` stands for every entry of a named container.
        low, high: the interval (low <= high).
        kind: ``sourced`` | ``fitted`` | ``direction`` | ``assumption``.
        source: where the interval comes from.
        integer: a count (a drawn world rounds it).
    """

    key: str
    low: float
    high: float
    kind: str
    source: str = ""
    integer: bool = False

    def contains(self, value: float) -> bool:
        """Say whether ``value`` lies in the interval (a tolerance for decimal rounding)."""
        tol = 1e-12 * max(1.0, abs(self.low), abs(self.high))
        return self.low - tol <= float(value) <= self.high + tol

    def text(self) -> str:
        """Say the interval in words, e.g. ``0-0.05 (assumption)``."""
        return f"{_number(self.low)} to {_number(self.high)} ({self.kind})"


@dataclass(frozen=True)
class RangeTable:
    """The ranges file: the behavioural sections, the ranges and the reasons for exemptions."""

    sections: tuple[str, ...]
    ranges: dict[str, Range]
    not_behavioural: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Range keys in file order."""
        return list(self.ranges)


class RangesError(ValueError):
    """A ranges file that cannot be used, with a one-line reason."""


def _number(value: float) -> str:
    return f"{value:g}"


@lru_cache(maxsize=4)
def load_ranges(path: str | Path = RANGES_FILE) -> RangeTable:
    """Read and check the ranges file.

    Raises:
        RangesError: a malformed entry (one line naming the key).
    """
    from model.yamlio import read_yaml_mapping

    data = read_yaml_mapping(Path(path), "ranges")
    sections = tuple(str(s) for s in data.get("behavioural_sections") or ())
    ranges: dict[str, Range] = {}
    for key, entry in (data.get("ranges") or {}).items():
        if not isinstance(entry, Mapping):
            raise RangesError(f"{path}: ranges.{key}: give {{low, high, kind, source}}")
        try:
            low, high = float(entry["low"]), float(entry["high"])
        except (KeyError, TypeError, ValueError):
            raise RangesError(f"{path}: ranges.{key}: low and high must be numbers") from None
        kind = str(entry.get("kind", ""))
        if kind not in KINDS:
            raise RangesError(f"{path}: ranges.{key}: kind {kind!r} is not one of {KINDS}")
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise RangesError(f"{path}: ranges.{key}: low {low} must be finite and <= high {high}")
        ranges[str(key)] = Range(
            str(key), low, high, kind, str(entry.get("source", "")), bool(entry.get("integer"))
        )
    exempt = {str(k): str(v) for k, v in (data.get("not_behavioural") or {}).items()}
    return RangeTable(sections, ranges, exempt)


def _leaves(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _matches(pattern: str, path: str) -> bool:
    a, b = pattern.split("."), path.split(".")
    return len(a) == len(b) and all(x == "*" or x == y for x, y in zip(a, b, strict=True))


def expand_key(key: str, data: Mapping[str, Any]) -> list[str]:
    """Return the concrete dotted paths of a range key in a (resolved) scenario, ``*`` expanded.

    A key whose container is absent or empty (no platforms) gives no path.
    """
    paths = [""]
    for part in key.split("."):
        nxt = []
        for path in paths:
            node = _get(data, path)
            if not isinstance(node, Mapping):
                continue
            names = list(node) if part == "*" else ([part] if part in node else [])
            nxt.extend(f"{path}.{n}" if path else str(n) for n in names)
        paths = nxt
    return [p for p in paths if _is_number(_get(data, p))]


def _get(data: Any, path: str) -> Any:
    node = data
    for part in path.split(".") if path else []:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def unranged_parameters(data: Mapping[str, Any], table: RangeTable | None = None) -> list[str]:
    """Return the numbers of the behavioural sections with neither a range nor an exemption.

    Args:
        data: a resolved scenario (``Scenario.resolved()``).
        table: the ranges (default: model/ranges.yaml).
    """
    table = table or load_ranges()
    known = list(table.ranges) + list(table.not_behavioural)
    missing = []
    for section in table.sections:
        for path, value in _leaves(data.get(section), section):
            if _is_number(value) and not any(_matches(k, path) for k in known):
                missing.append(path)
    return missing


def values_outside(data: Mapping[str, Any], table: RangeTable | None = None) -> list[str]:
    """Return one line ``path: value is outside ...`` per ranged value outside its range."""
    table = table or load_ranges()
    out = []
    for key, rng in table.ranges.items():
        for path in expand_key(key, data):
            value = _get(data, path)
            if not rng.contains(value):
                out.append(f"{path}: {value} is outside its plausible range {rng.text()}")
    return out


def world_overrides(
    table: RangeTable, values: Mapping[str, float], data: Mapping[str, Any]
) -> dict[str, Any]:
    """Dotted path -> value for one world: each range key's value on all its concrete paths.

    Counts are rounded; keys absent from ``data`` (no platforms) are left out.
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        rng = table.ranges[key]
        v: Any = int(round(value)) if rng.integer else float(value)
        for path in expand_key(key, data):
            out[path] = v
    return out
