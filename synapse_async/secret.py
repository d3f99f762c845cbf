"""``Secret``: a credential value that never shows itself in reprs, strings or ``asdict``.

``ClientConfig`` holds its tokens as ``Secret``: ``repr``, ``str``, f-strings, logging and
``attrs.asdict(config)`` (which keeps non-attrs values as they are) all show ``***``. The value
itself is read with ``reveal()``, which only the code building auth headers calls.
"""

from __future__ import annotations

import hmac
from typing import Any, final

from synapse_async.errors import ConfigurationError

__all__ = ["Secret", "check_credential"]

_REDACTED = "***"


def check_credential(value: Any, name: str) -> str:
    """``value`` stripped of surrounding whitespace; control characters are refused.

    A token read with ``open(f).read()`` keeps its trailing newline: it is stripped here, so
    that the first request does not fail deep inside the HTTP library.

    Raises:
        ConfigurationError: not a string, empty once stripped, or a control character inside
            (the value itself is never shown).
    """
    if isinstance(value, Secret):
        value = value.reveal()
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ConfigurationError(f"{name} is empty: pass the credential's value")
    bad = next((c for c in text if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise ConfigurationError(
            f"{name} contains the control character {bad!r} (value not shown): an HTTP header "
            "cannot carry it; check how the credential was read or pasted"
        )
    return text


@final
class Secret:
    """A credential: ``repr``/``str`` show ``***``; ``reveal()`` returns the value.

    Two secrets are equal when their values are (compared in constant time).

    Args:
        value: the credential (a string).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ConfigurationError(f"a credential must be a string, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The credential's value (for building request headers only)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_REDACTED}')"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, spec: str) -> str:
        return format(_REDACTED, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))
