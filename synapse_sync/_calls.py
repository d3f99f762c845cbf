"""What runs on the facade loop for one blocking call, and how its outcome is read back.

A call is ``asyncio.run_coroutine_threadsafe(guarded(fn, args, kwargs), loop)``: ``fn`` is
called on the loop thread (so the awaitable it returns, and every loop-bound object it
touches, belongs to the facade loop) and awaited in a Task. ``KeyboardInterrupt`` and
``SystemExit`` raised by the coroutine are carried back as values: raised out of a Task they
would stop the facade loop for every caller.

``cancel_call`` is scheduled with ``loop.call_soon_threadsafe`` by a caller hit by Ctrl-C or
a timeout. Callbacks run in the order they were scheduled, so it always finds the Task that
``run_coroutine_threadsafe`` created earlier, and if that Task has not taken its first step
yet, cancelling it means the coroutine never starts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from synapse_sync.errors import FacadeReentrancyError

__all__ = [
    "Escaped",
    "SubmitFuture",
    "cancel_call",
    "describe",
    "guarded",
    "public_name",
    "strip_guard_frame",
]

T = TypeVar("T")


def describe(fn: object) -> str:
    """A readable name for a callable: ``AsyncProjects.get`` rather than a repr."""
    name = getattr(fn, "__qualname__", None)
    if isinstance(name, str):
        return name
    return repr(fn)


def public_name(fn: object) -> str:
    """How async code spells the call: ``client.tasks.get`` for ``AsyncTasks.get``.

    Used in messages only (never on the hot path). Falls back to ``describe``.
    """
    owner = getattr(fn, "__self__", None)
    facade_name = getattr(owner, "facade_name", None)  # an iteration: name its source
    if isinstance(facade_name, str):
        return facade_name
    name = getattr(fn, "__name__", None)
    if owner is not None and isinstance(name, str):
        path = _client_paths().get(type(owner).__name__)
        if path is not None:
            return f"{path}.{name}"
    return describe(fn)


def _client_paths() -> dict[str, str]:
    from synapse_async.client import AsyncClient  # deferred: messages only

    paths = {"AsyncClient": "client"}
    for attr, kind in inspect.get_annotations(AsyncClient).items():
        if isinstance(kind, str) and not attr.startswith("_"):
            paths.setdefault(kind, f"client.{attr}")
    return paths


class Escaped:
    """A ``KeyboardInterrupt``/``SystemExit`` raised by a coroutine, carried as a value."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def guarded(
    fn: Callable[..., Awaitable[T]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T | Escaped:
    """``await fn(*args, **kwargs)`` on the loop, boxing interrupts (see ``Escaped``)."""
    try:
        return await fn(*args, **kwargs)
    except (KeyboardInterrupt, SystemExit) as exc:
        return Escaped(exc)


_GUARD_CODE = guarded.__code__


def strip_guard_frame(exc: BaseException) -> None:
    """Drop the facade's own ``guarded`` frame from the head of ``exc``'s traceback."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _GUARD_CODE and tb.tb_next is not None:
        exc.__traceback__ = tb.tb_next


def cancel_call(coro: Coroutine[Any, Any, Any], future: concurrent.futures.Future[Any]) -> None:
    """Cancel the Task running ``coro`` (loop thread); ``future`` completes when it ends."""
    for task in asyncio.all_tasks():
        if task.get_coro() is coro:
            task.cancel()
            return
    future.cancel()  # no Task (it failed to start): nothing else will complete the future


class SubmitFuture(concurrent.futures.Future[T]):
    """``submit``'s future: waiting on it from the loop thread raises instead of hanging."""

    def __init__(self, loop_ident: int | None) -> None:
        super().__init__()
        self.loop_ident = loop_ident

    def result(self, timeout: float | None = None) -> T:
        """The result, waiting up to ``timeout`` seconds (see ``concurrent.futures``)."""
        self._check_thread()
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception, waiting up to ``timeout`` seconds (see ``concurrent.futures``)."""
        self._check_thread()
        return super().exception(timeout)

    def _check_thread(self) -> None:
        if not self.done() and threading.get_ident() == self.loop_ident:
            raise FacadeReentrancyError(
                "waiting on a Portal.submit() future on the facade's own loop thread would "
                "deadlock; await the coroutine instead"
            )
