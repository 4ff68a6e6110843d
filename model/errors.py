"""User-facing errors.

Anything that should end a command with a one-line message, not a traceback, and
the one wording of a hint for a misspelled name (:func:`close_match`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

MAX_HINT_WORD = 100
"""Longest word a close match is looked for (difflib is quadratic in the word's length)."""


class UserError(Exception):
    """A problem with the user's input (a file, a key, a value, an option), stated in one line."""


def close_match(word: Any, allowed: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the allowed name closest to ``word``, else ``""``.

    No hint for a word that is not a string or is longer than :data:`MAX_HINT_WORD`
    (hostile input stays fast).
    """
    if not isinstance(word, str) or len(word) > MAX_HINT_WORD:
        return ""
    match = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
