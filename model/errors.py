"""User-facing errors.

Anything that should end a command with a one-line message, not a traceback.
"""


class UserError(Exception):
    """A problem with the user's input (a file, a key, a value, an option), stated in one line."""
