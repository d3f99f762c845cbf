"""``first_error``: an anyio task group whose first failure cancels the rest, raised as itself.

The one "first failure cancels the others" of the SDK (uploads' hashers and senders, export
downloads). The error comes out as itself, not wrapped in an exception group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup

__all__ = ["FirstError", "first_error"]


class FirstError:
    """Starts tasks in a group; the first exception is kept and cancels the group."""

    def __init__(self, tg: TaskGroup) -> None:
        self._tg = tg
        self.error: Exception | None = None

    def start_soon(self, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``func(*args)`` in the group; an exception it raises fails the group."""
        self._tg.start_soon(self._guarded, func, args)

    def fail(self, exc: Exception) -> None:
        """Record ``exc`` (unless one was recorded before) and cancel the group."""
        if self.error is None:
            self.error = exc
        self._tg.cancel_scope.cancel()

    async def _guarded(self, func: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await func(*args)
        except Exception as exc:
            self.fail(exc)


@asynccontextmanager
async def first_error() -> AsyncIterator[FirstError]:
    """A task group (``group.start_soon(...)``) that fails as a whole on its first error.

    Waits for every task; the first exception (of a task or of the body) cancels the others
    and is raised once all have stopped.
    """
    async with anyio.create_task_group() as tg:
        group = FirstError(tg)
        try:
            yield group
        except Exception as exc:
            group.fail(exc)
    if group.error is not None:
        raise group.error
