"""The one retry engine: which failures are retried, how long to wait, and the time budget.

``retrying`` runs one attempt function until it succeeds, a failure is not retryable, the
policy's ``max_retries`` are spent, or the call's :class:`Budget` runs out; ``backoff``
drives the loop. Every request of the SDK goes through it (``HTTPClient``): JSON calls,
streamed upload bodies, downloads and the opening of event streams. Part and chunk loops only
classify the final failure; they never retry on their own.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import anyio
import backoff

from synapse_async.config import RetryPolicy, Timeout
from synapse_async.errors import (
    APIError,
    ConnectFailed,
    RateLimitError,
    SynapseError,
    TransportError,
    WaitTimeoutError,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "Budget",
    "ConnectFailed",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
    "pause",
    "poll",
    "retry_delay",
    "retrying",
    "wait_generator",
]

logger = logging.getLogger("synapse_async.http")

T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Budget:
    """The time one call may spend, all attempts and waits included.

    Each attempt's timeouts are capped by what is left (:meth:`cap`), so an attempt started
    late cannot outlast the budget by a whole read timeout.

    Args:
        seconds: the budget.
    """

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (<= 0 once spent)."""
        return self.deadline - time.monotonic()

    def renew(self) -> None:
        """Start the budget afresh (a download that made progress)."""
        self.deadline = time.monotonic() + self.seconds

    def cap(self, timeout: Timeout, *, total: bool = True) -> Timeout:
        """``timeout`` with each phase limited to what is left of the budget.

        Args:
            timeout: the configured timeouts.
            total: also cap ``total`` (off for bodies streamed for as long as they flow).
        """
        left = max(self.remaining(), 0.001)
        return Timeout(
            connect=left if timeout.connect is None else min(timeout.connect, left),
            read=timeout.read if timeout.read is None else min(timeout.read, left),
            total=(
                timeout.total
                if not total
                else left
                if timeout.total is None
                else min(timeout.total, left)
            ),
        )


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
        return idempotent and exc.retryable
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


def wait_generator(
    policy: RetryPolicy, budget: Budget | None = None
) -> Generator[float | None, Any, None]:
    """A ``backoff`` wait generator: receives each failure, yields the seconds to wait.

    A wait never runs past the budget.
    """
    exc = yield None  # backoff primes the generator with send(None)
    attempt = 0
    while True:
        attempt += 1
        wait = retry_delay(exc, attempt, policy)
        if budget is not None:
            wait = max(0.0, min(wait, budget.remaining()))
        exc = yield wait


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    budget: Budget,
    retryable: Callable[[SynapseError], bool],
    what: str,
    progressed: Callable[[], bool] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or its failure is final; return its result.

    A failure is final when ``retryable`` says so, after ``policy.max_retries`` retries, or
    when the budget is spent. ``progressed`` (downloads): when it says an attempt moved
    forward, that attempt does not count against ``max_retries`` and the budget restarts.
    Only ``SynapseError`` is retried; anything else propagates at once.

    Args:
        attempt: one try (it caps its own timeouts with ``budget.cap``).
        policy: the client's retry policy.
        budget: the call's time budget.
        retryable: whether a failure may be retried at all.
        what: the request, as shown in log lines.
        progressed: see above.
    """
    if policy.max_retries == 0:
        return await attempt()
    try:  # most calls succeed at once: no backoff machinery is built for them
        return await attempt()
    except Exception as exc:
        first: Exception | None = exc
    failures = 0

    async def once() -> T:  # backoff needs a coroutine function to drive it async
        nonlocal first
        if first is not None:  # the first attempt's failure, judged like any other
            exc, first = first, None
            raise exc
        return await attempt()

    def giveup(exc: Exception) -> bool:
        nonlocal failures
        if not isinstance(exc, SynapseError) or not retryable(exc):
            return True
        if progressed is not None and progressed():
            failures = 0
            budget.renew()
        failures += 1
        return failures > policy.max_retries or budget.remaining() <= 0

    def on_backoff(details: Any) -> None:
        logger.info(
            "retrying %s after %s (retry %d, waiting %.2fs)",
            what,
            type(details["exception"]).__name__,
            failures,
            details["wait"],
        )

    run = backoff.on_exception(
        wait_generator,  # type: ignore[arg-type]
        Exception,
        max_tries=None,
        max_time=None,
        jitter=None,
        giveup=giveup,
        on_backoff=on_backoff,
        logger=None,
        policy=policy,
        budget=budget,
    )(once)
    result: T = await run()
    return result


async def pause(seconds: float) -> None:
    """The sleep between two polls of a wait (one place: a test harness may drive it)."""
    await anyio.sleep(seconds)


async def poll(
    fetch: Callable[[], Awaitable[T]],
    finished: Callable[[T], bool],
    *,
    interval: float,
    max_wait: float | None,
    describe: Callable[[T], str],
) -> T:
    """Call ``fetch`` every ``interval`` seconds until ``finished`` says so; return the last.

    The last wait is cut short at the deadline, so that a last poll happens there. Each
    ``fetch`` is a request with its own retries; an exception it raises ends the wait.

    Args:
        fetch: one poll.
        finished: whether a polled value ends the wait.
        interval: seconds between polls (fixed, no jitter).
        max_wait: the deadline in seconds; None: as long as it takes.
        describe: the ``WaitTimeoutError`` message for the last value polled.

    Raises:
        WaitTimeoutError: still not finished at the deadline.
    """

    async def once() -> T:  # backoff needs a coroutine function to drive it async
        return await fetch()

    async def wait(details: Any) -> None:  # the pause between polls, cut at the deadline
        left = interval if max_wait is None else max_wait - details["elapsed"]
        await pause(max(0.0, min(interval, left)))

    run = backoff.on_predicate(
        backoff.constant,
        predicate=lambda value: not finished(value),
        max_time=max_wait,
        jitter=None,
        logger=None,
        on_backoff=wait,
        interval=0,  # backoff's own sleep: none, ``wait`` pauses
    )(once)
    last: T = await run()
    if not finished(last):
        assert max_wait is not None
        raise WaitTimeoutError(describe(last), waited=max_wait, last=last)
    return last
