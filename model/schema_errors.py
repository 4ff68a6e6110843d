"""One wording for the errors of mtsim's strict YAML schemas (scenario and experiment files).

A file is validated by a pydantic model derived from :class:`StrictModel` (unknown
keys and non-finite numbers refused); :func:`validation_message` turns pydantic's
``ValidationError`` into one line per problem, each naming the file, the key path,
the offending value and what is allowed, with a close match for a misspelled key or
choice::

    x.yaml: payment.fraud_rat: unknown key; did you mean 'fraud_rate'? (allowed here: ...)
    x.yaml: payment.fraud_rate: 2: out of range (allowed: <= 1.0)

:func:`problem_lines` gives checks that pydantic cannot express the same shape.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from model.errors import close_match
from model.yamlio import describe_value, short_key

MAX_LINES = 20
"""Most problems listed for one file (the rest are counted)."""

_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_TYPE_TAGS = ("int", "float", "str", "none")


class StrictModel(BaseModel):
    """Base of every schema model: unknown keys refused, immutable, every number finite.

    ``.inf`` and ``.nan`` are refused like any out-of-range value, and so is ``true`` or
    ``false`` for a number (pydantic would read them as 1 and 0: ``consumers: true``
    would be one consumer).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and is_number_type(field.annotation):
                raise ValueError(f"{str(value).lower()}: not a number (write a number here)")
        return value


_NUMBER_TYPES: dict[Any, bool] = {}


def is_number_type(annotation: Any) -> bool:
    """Say whether a field's type takes only numbers (``int``, ``float``, optionally None)."""
    try:
        return _NUMBER_TYPES[annotation]
    except (KeyError, TypeError):
        pass
    if annotation in (int, float):
        found = True
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        found = bool(args) and all(a in (int, float) for a in args)
    else:
        found = False
    try:
        _NUMBER_TYPES[annotation] = found
    except TypeError:  # pragma: no cover - an unhashable annotation
        pass
    return found


def model_at(schema: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Return the model class under ``schema`` that holds the last key of ``loc``.

    List indices and the names of mapping entries (``regions.<name>``) are stepped
    over; None when the path leaves the schema's models.
    """
    model: Any = schema
    skip_name = False
    for part in loc[:-1]:
        if skip_name or isinstance(part, int):
            skip_name = False
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return None
        skip_name = typing.get_origin(field.annotation) is dict
        model = _unwrap_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _key_path(err: Mapping[str, Any]) -> tuple[Any, ...]:
    """Return the user's key path of an error, without pydantic's validator and union tags."""
    return tuple(
        p
        for p in err.get("loc", ())
        if not (isinstance(p, str) and (p.startswith("function-") or "[" in p or p in _TYPE_TAGS))
    )


def describe_error(
    err: Mapping[str, Any],
    schema: type[BaseModel],
    retired: Mapping[tuple[str, ...], str] | None = None,
    wording: Mapping[str, str] | None = None,
) -> str:
    """Describe one pydantic error as ``key.path: value: what is wrong (what is allowed)``.

    Args:
        err: one item of ``ValidationError.errors()``.
        schema: the model the file was validated against (for the keys allowed at a path).
        retired: key paths that an earlier version of the file had, with what replaced them.
        wording: the message for an error type, instead of pydantic's (e.g. a pattern).
    """
    loc = _key_path(err)
    path = ".".join(short_key(p) for p in loc) or "(top level)"
    kind = err.get("type", "")
    value = err.get("input")
    shown = describe_value(value, 60) if not isinstance(value, dict) else "{...}"
    if kind == "extra_forbidden":
        replaced = (retired or {}).get(tuple(str(p) for p in loc))
        if replaced:
            return f"{path}: no longer a key: {replaced}"
        model = model_at(schema, loc)
        allowed = sorted(model.model_fields) if model else []
        listing = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"{path}: unknown key{close_match(str(loc[-1]), allowed)}{listing}"
    if kind == "missing":
        return f"{path}: required key is missing"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = [f"{word} {ctx[k]}" for k, word in _BOUNDS if k in ctx]
        msg = f"out of range (allowed: {' and '.join(bounds)})"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        msg = f"not allowed{close_match(value, options)} (allowed: {expected})"
    elif kind == "finite_number":
        msg = "must be a finite number (not .inf or .nan)"
    elif wording and kind in wording:
        msg = wording[kind]
    if loc and kind not in ("value_error", "assertion_error"):
        return f"{path}: {shown}: {msg}"
    if not loc:  # a check across sections: its message names the keys itself
        return msg
    return f"{path}: {msg}"


def problem_lines(source: str, problems: Sequence[str], total: int | None = None) -> str:
    """Join problems into lines ``source: problem``, repeats dropped, at most :data:`MAX_LINES`.

    Args:
        source: the file (or ``file: --set``) the problems are in.
        problems: one description per problem.
        total: how many problems there are, when ``problems`` holds only the first ones.
    """
    total = len(problems) if total is None else total
    lines = list(dict.fromkeys(f"{source}: {p}" for p in problems[:MAX_LINES]))
    if total > MAX_LINES:
        lines.append(f"{source}: ... and {total - MAX_LINES} more problems")
    return "\n".join(lines)


def validation_message(
    exc: ValidationError,
    source: str,
    schema: type[BaseModel],
    retired: Mapping[tuple[str, ...], str] | None = None,
    wording: Mapping[str, str] | None = None,
) -> str:
    """One line per problem, each naming the source, the key path, the value and what is allowed.

    Args:
        exc: the error of ``schema.model_validate``.
        source: the file (or ``file: --set``), first on every line.
        schema: the model validated against.
        retired: see :func:`describe_error`.
        wording: see :func:`describe_error`.
    """
    errors = deepest_errors(exc.errors())
    problems = [describe_error(err, schema, retired, wording) for err in errors[:MAX_LINES]]
    return problem_lines(source, problems, total=len(errors))


def deepest_errors(errors: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Drop an error whose key path leads to another error's (one line per problem).

    A value that fits no branch of a union (``strength: [.nan, 1]`` for ``float | [low,
    high]``) gets an error from each branch: "not a number" at ``strength`` and the
    real problem at ``strength.0``; only the deeper one is kept.
    """
    paths = [_key_path(err) for err in errors]
    return [
        err
        for err, path in zip(errors, paths, strict=True)
        if not any(len(other) > len(path) and other[: len(path)] == path for other in paths)
    ]
