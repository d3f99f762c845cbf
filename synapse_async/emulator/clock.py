"""Timestamps as the backend writes them: ISO-8601, UTC, with a ``Z`` suffix."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["now_iso"]


def now_iso() -> str:
    """The current UTC time, e.g. ``2024-05-01T12:00:00.123456Z``."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
