"""Retry decisions as small pure functions (no I/O), used by ``http.py`` through ``backoff``."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Generator
from typing import Any

from synapse_async.config import RetryPolicy
from synapse_async.errors import (
    APIError,
    RateLimitError,
    SynapseError,
    TransportError,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ConnectFailed(TransportError):
    """A transport error raised before any byte of the request was sent (always safe to retry)."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def is_retryable(exc: BaseException, policy: RetryPolicy, *, idempotent: bool) -> bool:
    """Whether ``exc`` from one attempt may be retried under ``policy``."""
    if isinstance(exc, ConnectFailed):
        return True
    if isinstance(exc, TransportError):
        # The request may have reached the server: only safe when repeating it is harmless.
        return idempotent and getattr(exc, "retryable", True)
    if isinstance(exc, APIError):
        return idempotent and exc.status_code in policy.retry_statuses
    return False


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Full-jitter exponential delay before retry number ``attempt`` (1-based)."""
    ceiling = min(policy.max_delay, policy.initial_delay * (2 ** (attempt - 1)))
    return (rng or random).uniform(0, ceiling)


def retry_delay(exc: SynapseError, attempt: int, policy: RetryPolicy) -> float:
    """The wait before the next attempt: Retry-After (capped) when given, else full jitter."""
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        return min(exc.retry_after, policy.retry_after_cap)
    return backoff_delay(attempt, policy)


def wait_generator(policy: RetryPolicy) -> Generator[float | None, Any, None]:
    """A ``backoff`` wait generator: receives each failure, yields the seconds to wait."""
    exc = yield None  # backoff primes the generator with send(None)
    attempt = 0
    while True:
        attempt += 1
        exc = yield retry_delay(exc, attempt, policy)
