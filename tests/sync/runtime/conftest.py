"""Fixtures for the facade runtime tests: a private portal per test, always closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from synapse_sync import Portal


@pytest.fixture
def portal() -> Iterator[Portal]:
    p = Portal(shutdown_timeout=2.0, cancel_grace=2.0)
    try:
        yield p
    finally:
        if not p.in_loop_thread():
            p.close()


def loop_threads() -> list[threading.Thread]:
    """Live threads carrying the facade loop thread's name."""
    return [t for t in threading.enumerate() if t.name == "synapse-sync-loop"]
