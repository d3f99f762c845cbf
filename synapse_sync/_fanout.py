"""Fan-out for sync callers: many coroutines, one hop, first failure cancels the rest.

The fail-fast case is the SDK's shared ``first_error`` task group (``synapse_async._tasks``)
run on the facade's loop; this module only adds what a blocking caller needs on top:
input-order results, a concurrency ``limit``, ``return_exceptions`` and turning a Ctrl-C
raised inside one child into that child's failure (so it cannot stop the loop thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from synapse_async._tasks import first_error

__all__ = ["run_all"]


class _Interrupted(Exception):
    """A child's ``KeyboardInterrupt``/``SystemExit``, carried as an ordinary failure."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(repr(exc))
        self.exc = exc


async def _one(factory: Callable[[], Awaitable[Any]], sem: anyio.Semaphore | None) -> Any:
    try:
        if sem is None:
            return await factory()
        async with sem:
            return await factory()
    except (KeyboardInterrupt, SystemExit) as exc:
        # Raised out of a task these would stop the loop; fail just this item instead.
        raise _Interrupted(exc) from exc


async def run_all(
    factories: Sequence[Callable[[], Awaitable[Any]]], limit: int | None, return_exceptions: bool
) -> list[Any]:
    """Await every ``factory()`` concurrently; results in input order.

    Without ``return_exceptions``, the first failure cancels and awaits the others, then is
    re-raised as the same object. With it, each failure takes its item's place in the
    results. If this coroutine is cancelled (the caller's Ctrl-C or timeout), every child is
    cancelled and awaited first.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit!r}")
    if not factories:
        return []
    sem = anyio.Semaphore(limit) if limit is not None else None
    results: list[Any] = [None] * len(factories)

    async def one(index: int) -> None:
        try:
            results[index] = await _one(factories[index], sem)
        except Exception as exc:
            if not return_exceptions:
                raise
            results[index] = exc.exc if isinstance(exc, _Interrupted) else exc

    try:
        async with first_error() as group:
            for index in range(len(factories)):
                group.start_soon(one, index)
    except _Interrupted as exc:
        raise exc.exc from None
    return results
