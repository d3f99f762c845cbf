"""Argument checks shared by the SDK's modules (each raises a typed error naming the value)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from synapse_async.errors import InvalidInputError

__all__ = ["check_int_range", "check_seconds", "has_control_chars", "is_int", "is_number"]


def is_int(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """Whether ``value`` is an ``int`` or a ``float`` and not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int_range(value: Any, name: str, low: int, high: int | None = None) -> int:
    """An integer from ``low`` to ``high`` (no upper bound when None); ``bool`` is refused.

    Raises:
        InvalidInputError: naming ``name``, the range and the value given.
    """
    if not is_int(value) or value < low or (high is not None and value > high):
        wanted = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidInputError(f"{name} must be an integer {wanted}, got {value!r}")
    return value


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
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        extra = " or None" if optional else ""
        raise InvalidInputError(
            f"{name} must be a positive number of seconds{extra}, got {value!r}"
        )
    return float(value)
