"""Defaults of the facade runtime and the environment variables that override them.

``SYNAPSE_SYNC_DEBUG=1``
    asyncio debug mode on the facade loop (slow-callback reports, coroutine origin
    tracking) and full tracebacks (facade frames are not stripped).
``SYNAPSE_SYNC_RUNNING_LOOP=warn|raise|ignore``
    what a blocking call does when the calling thread runs an event loop (default warn).
``SYNAPSE_SYNC_SHUTDOWN_TIMEOUT=<seconds>``
    the bound on shutdown at ``close()`` and at interpreter exit (default 5).
"""

from __future__ import annotations

import os
from typing import Literal

__all__ = [
    "CANCEL_GRACE",
    "DEFAULT_BATCH",
    "LOOP_THREAD_NAME",
    "SHUTDOWN_TIMEOUT",
    "WAIT_SLICE",
    "RunningLoopPolicy",
    "debug_enabled",
    "running_loop_policy",
    "shutdown_timeout",
]

RunningLoopPolicy = Literal["warn", "raise", "ignore"]

LOOP_THREAD_NAME = "synapse-sync-loop"
# Blocking waits poll in slices this long: Ctrl-C stays responsive on every OS (Windows does
# not interrupt lock waits) and a dead loop thread is noticed within one slice.
WAIT_SLICE = 0.1
# After Ctrl-C or a facade timeout, how long to wait for the cancelled task's cleanup.
CANCEL_GRACE = 5.0
SHUTDOWN_TIMEOUT = 5.0
# Items the loop may hold ahead of the caller of a sync iterator. Several pages' worth: with
# less than a page (it was 64) the loop parked after every page of a listing until the
# calling thread had woken up and taken it, so the two threads ran one after the other.
DEFAULT_BATCH = 1024

_POLICIES: tuple[RunningLoopPolicy, ...] = ("warn", "raise", "ignore")


def debug_enabled(value: bool | None = None) -> bool:
    """``value``, else whether ``SYNAPSE_SYNC_DEBUG`` is true (1, true, yes, on)."""
    if value is not None:
        return value
    return os.environ.get("SYNAPSE_SYNC_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def running_loop_policy(value: str | None = None) -> RunningLoopPolicy:
    """``value``, else ``SYNAPSE_SYNC_RUNNING_LOOP`` (default ``"warn"``), validated."""
    if value is None:
        value = os.environ.get("SYNAPSE_SYNC_RUNNING_LOOP", "").strip().lower() or "warn"
    for policy in _POLICIES:
        if value == policy:
            return policy
    raise ValueError(f"running-loop policy must be one of {_POLICIES}, got {value!r}")


def shutdown_timeout(value: float | None = None) -> float:
    """``value``, else ``SYNAPSE_SYNC_SHUTDOWN_TIMEOUT`` (default 5 seconds)."""
    if value is not None:
        return value
    raw = os.environ.get("SYNAPSE_SYNC_SHUTDOWN_TIMEOUT", "").strip()
    if not raw:
        return SHUTDOWN_TIMEOUT
    value = float(raw)
    if value < 0:
        raise ValueError(f"SYNAPSE_SYNC_SHUTDOWN_TIMEOUT must be >= 0, got {raw!r}")
    return value
