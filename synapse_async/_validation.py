"""Argument checks shared by the SDK's modules (each raises a typed error naming the value)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from synapse_async.errors import InvalidInputError

__all__ = ["check_seconds", "has_control_chars", "is_int"]


def is_int(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


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
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        extra = " or None" if optional else ""
        raise InvalidInputError(
            f"{name} must be a positive number of seconds{extra}, got {value!r}"
        )
    return float(value)
