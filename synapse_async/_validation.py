"""Argument checks shared by the SDK's modules (each raises a typed error naming the value)."""

from __future__ import annotations

from typing import Any

from synapse_async.errors import InvalidInputError

__all__ = ["check_int", "has_control_chars", "is_int"]


def is_int(value: Any) -> bool:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value: Any, name: str, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` when it is an int (not a bool) within ``[minimum, maximum]``.

    Raises:
        InvalidInputError: naming ``name``, the bounds and the value given.
    """
    if not is_int(value) or (minimum is not None and value < minimum) or (
            maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            wanted = f"an integer between {minimum} and {maximum}"
        elif minimum is not None:
            wanted = f"an integer >= {minimum}"
        elif maximum is not None:
            wanted = f"an integer <= {maximum}"
        else:
            wanted = "an integer"
        raise InvalidInputError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds an ASCII control character (newline, tab, NUL, DEL, ...)."""
    return any(ord(c) < 32 or ord(c) == 127 for c in text)
