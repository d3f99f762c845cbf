"""Argument checks shared by the SDK's modules (each raises a typed error naming the value)."""

from __future__ import annotations

import math
from typing import Any

from synapse_async.errors import InvalidInputError

__all__ = ["check_int", "check_seconds", "has_control_chars", "is_int"]


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


def check_seconds(value: Any, name: str, *, optional: bool = False) -> float | None:
    """A positive, finite number of seconds (None too when ``optional``), as a float.

    Raises:
        InvalidInputError: naming ``name`` and the value given.
    """
    if value is None and optional:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value <= 0):
        extra = " or None" if optional else ""
        raise InvalidInputError(
            f"{name} must be a positive number of seconds{extra}, got {value!r}")
    return float(value)
