"""Fan-out for sync callers: many coroutines, one hop, first failure cancels the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["run_all"]


async def _one(factory: Callable[[], Awaitable[Any]], sem: asyncio.Semaphore | None) -> Any:
    try:
        if sem is None:
            return await factory()
        async with sem:
            return await factory()
    except (KeyboardInterrupt, SystemExit) as exc:
        # Raised out of a Task these would stop the loop; fail just this item instead.
        raise _Interrupted(exc) from exc


class _Interrupted(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(repr(exc))
        self.exc = exc


def _outcome(task: asyncio.Task[Any]) -> Any:
    if task.cancelled():
        return asyncio.CancelledError()
    exc = task.exception()
    if exc is None:
        return task.result()
    return exc.exc if isinstance(exc, _Interrupted) else exc


async def run_all(factories: Sequence[Callable[[], Awaitable[Any]]], limit: int | None,
                  return_exceptions: bool) -> list[Any]:
    """Await every ``factory()`` concurrently; results in input order.

    Without ``return_exceptions``, the first failure cancels and awaits the others, then is
    re-raised as the same object (the lowest input index if several failed at once). If this
    coroutine is cancelled (the caller's Ctrl-C or timeout), every child is cancelled and
    awaited first.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit!r}")
    if not factories:
        return []
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(limit) if limit is not None else None
    tasks = [loop.create_task(_one(f, sem)) for f in factories]
    when = asyncio.ALL_COMPLETED if return_exceptions else asyncio.FIRST_EXCEPTION
    try:
        done, pending = await asyncio.wait(tasks, return_when=when)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    if return_exceptions:
        return [_outcome(t) for t in tasks]
    if pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
    for task in tasks:  # input order among those that had failed when the wait ended
        if task in done and not task.cancelled() and task.exception() is not None:
            raise _outcome(task)
    return [_outcome(t) for t in tasks]
