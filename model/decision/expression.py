"""Outcome expressions such as ``payment_adoption_final < 0.5 and orders_mean > 20``, parsed safely.

The text is parsed with Python's ``ast`` module and only a whitelist of node
types is accepted: comparisons (``< <= > >= == !=``, chained as ``0.2 < x < 0.5``),
``and``, ``or``, ``not``, arithmetic (``+ - * /``, unary minus), parentheses,
numbers, and names. Every name must be an outcome: ``<metric>_final`` (value at the
last week), ``<metric>_mean`` (mean over the run), or a bare metric (its final
value). Nothing is ever passed to ``eval``: the tree is walked and computed with
NumPy over the columns of a table.

An expression is at most :data:`MAX_CHARS` characters long, holds at most
:data:`MAX_TERMS` names and numbers, nests at most :data:`MAX_DEPTH` levels, and
its numbers are finite as floats (no ``1e999``, no 400-digit integers), so a
hostile expression is refused in one line, never with a ``RecursionError`` or an
``OverflowError``.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from model.errors import UserError

_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_ARITH = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}

MAX_CHARS = 1_000
"""Longest outcome expression, in characters."""

MAX_TERMS = 100
"""Most names and numbers in one outcome expression."""

MAX_DEPTH = 100
"""Deepest nesting of an expression's syntax tree (``not not ...``, ``a + b + ...``)."""


@dataclass(frozen=True)
class OutcomeExpression:
    """A parsed, checked outcome expression.

    Attributes:
        text: the expression as given.
        tree: its syntax tree (only whitelisted nodes).
        names: the outcome columns it reads, after resolving bare metrics.
    """

    text: str
    tree: ast.Expression
    names: dict[str, str]

    def evaluate(self, table: Mapping[str, Iterable[float]]) -> np.ndarray:
        """Compute the expression over a table's columns: a boolean array, one value per row."""
        columns = {
            name: np.asarray(table[column], dtype=float) for name, column in self.names.items()
        }
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            value = _eval(self.tree.body, columns)
        return np.asarray(value, dtype=bool)


def _fail(text: str, problem: str) -> UserError:
    shown = text if len(text) <= 60 else f"{text[:57]}..."
    return UserError(f"--outcome: {shown!r}: {problem}")


def _depth(tree: ast.AST) -> int:
    """Return how many levels the syntax tree nests (walked without recursion)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse_outcome(text: str, available: Iterable[str]) -> OutcomeExpression:
    """Parse and check an outcome expression against the available outcome columns.

    Args:
        text: the expression.
        available: outcome columns of the results (``<metric>_final``, ``<metric>_mean``).

    Raises:
        UserError: one line: a syntax error, a construct that is not allowed, an unknown
            metric (with a close match), a number that is not finite, an expression that
            is not a true/false test, or one beyond the limits (:data:`MAX_CHARS`,
            :data:`MAX_TERMS`, :data:`MAX_DEPTH`).
    """
    available = list(available)
    if len(text) > MAX_CHARS:
        raise _fail(text, f"longer than {MAX_CHARS:,} characters ({len(text):,})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _fail(text, f"not a valid expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):  # null bytes; nested too deeply to parse
        raise _fail(text, "not a valid expression (nested too deeply, or a null byte)") from None
    if _depth(tree) > MAX_DEPTH:
        raise _fail(text, f"nested more than {MAX_DEPTH} levels deep; write it shorter")
    terms = sum(isinstance(node, (ast.Name, ast.Constant)) for node in ast.walk(tree))
    if terms > MAX_TERMS:
        raise _fail(text, f"{terms} names and numbers, more than the limit of {MAX_TERMS}")
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in available:
                names[node.id] = node.id
            elif f"{node.id}_final" in available:
                names[node.id] = f"{node.id}_final"
            else:
                match = difflib.get_close_matches(node.id, available, n=1, cutoff=0.6)
                hint = f"; did you mean '{match[0]}'?" if match else ""
                raise UserError(
                    f"--outcome: {node.id}: unknown metric{hint} (use <metric>_final, "
                    "<metric>_mean or a metric name)"
                )
        elif not isinstance(
            node,
            (
                ast.Expression,
                ast.BoolOp,
                ast.And,
                ast.Or,
                ast.UnaryOp,
                ast.Not,
                ast.USub,
                ast.UAdd,
                ast.Compare,
                ast.BinOp,
                ast.Constant,
                ast.Load,
                *_COMPARE,
                *_ARITH,
            ),
        ):
            raise _fail(
                text,
                f"{type(node).__name__.lower()} is not allowed (only comparisons, "
                "and/or/not, + - * / and numbers)",
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise _fail(text, f"{node.value!r}: only numbers are allowed as constants")
        if isinstance(node, ast.Constant) and not _finite(node.value):
            shown = str(node.value) if len(str(node.value)) <= 20 else f"{str(node.value)[:17]}..."
            raise _fail(text, f"{shown}: not a finite number")
    if not _is_test(tree.body):
        raise _fail(
            text,
            "not a true/false test; compare an outcome with a number, e.g. "
            "payment_adoption_final < 0.5",
        )
    return OutcomeExpression(text, tree, names)


def _finite(value: float) -> bool:
    """Tell whether a number is finite as a float (a 400-digit integer is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _is_test(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BoolOp):
        return all(_is_test(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _is_test(node.operand)
    return False


def _eval(node: ast.AST, columns: Mapping[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return columns[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, columns)
        if isinstance(node.op, ast.Not):
            return np.logical_not(value)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        return _ARITH[type(node.op)](_eval(node.left, columns), _eval(node.right, columns))
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, columns) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, columns)
        out = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, columns)
            test = _COMPARE[type(op)](left, right)
            out = test if out is None else np.logical_and(out, test)
            left = right
        return out
    raise TypeError(f"unexpected node {type(node).__name__}")  # parse_outcome rules it out
