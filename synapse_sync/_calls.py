"""One blocking call: the guards in front of it, what runs on the loop, its timeout scope.

A call is ``asyncio.run_coroutine_threadsafe(guarded(fn, args, kwargs), loop)``: ``fn`` is
called on the loop thread (so the awaitable it returns, and every loop-bound object it
touches, belongs to the facade loop) and awaited in a Task. ``KeyboardInterrupt`` and
``SystemExit`` raised by the coroutine are carried back as values: raised out of a Task they
would stop the facade loop for every caller.

``cancel_call`` is scheduled with ``loop.call_soon_threadsafe`` by a caller hit by Ctrl-C or
a timeout. Callbacks run in the order they were scheduled, so it always finds the Task that
``run_coroutine_threadsafe`` created earlier, and if that Task has not taken its first step
yet, cancelling it means the coroutine never starts.

The guards: a blocking call made on the loop thread gets ``reentrancy_error`` (it would
deadlock); one made under an event loop running in the calling thread goes through
``check_running_loop`` (warn once per process, raise, or stay silent).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from synapse_sync._config import RunningLoopPolicy
from synapse_sync.errors import (
    FacadeReentrancyError,
    FacadeRunningLoopError,
    FacadeRunningLoopWarning,
)

__all__ = [
    "CALL_TIMEOUT",
    "Escaped",
    "SubmitFuture",
    "call_timeout",
    "cancel_call",
    "check_running_loop",
    "describe",
    "guarded",
    "loop_running_here",
    "public_name",
    "reentrancy_error",
    "strip_guard_frame",
]

T = TypeVar("T")

CALL_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "synapse_sync_call_timeout", default=None
)
_warned_running_loop = False  # the running-loop warning is shown once per process


@contextlib.contextmanager
def call_timeout(seconds: float | None) -> Iterator[None]:
    """Bound every blocking facade call made in this block (and this context) to ``seconds``.

    On expiry the underlying task is cancelled and awaited, then ``FacadeTimeoutError`` is
    raised. This is the facade's per-call timeout: generated methods keep exactly the async
    signatures, so the bound is set by scope instead of by a keyword::

        with call_timeout(5):
            client.tasks.get(1)
    """
    if seconds is not None and (isinstance(seconds, bool) or not seconds >= 0):
        raise ValueError(f"call_timeout needs seconds >= 0 or None, got {seconds!r}")
    token = CALL_TIMEOUT.set(seconds)
    try:
        yield
    finally:
        CALL_TIMEOUT.reset(token)


def loop_running_here() -> bool:
    """True when the calling thread runs an event loop (a notebook, an async handler)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def reentrancy_error(fn: object) -> FacadeReentrancyError:
    """The error for a blocking call to ``fn`` made on the facade's own loop thread."""
    return FacadeReentrancyError(
        f"sync facade call to {describe(fn)} made on the facade's own event-loop thread (from "
        f"a coroutine, callback, logging handler or __del__ running on that loop); blocking "
        f"here would deadlock. In async code, use `await {public_name(fn)}(...)` instead."
    )


def check_running_loop(fn: object, policy: RunningLoopPolicy) -> None:
    """A blocking call to ``fn`` under a running loop: warn (once per process) or raise."""
    global _warned_running_loop
    if policy == "ignore" or (_warned_running_loop and policy == "warn"):
        return  # once per process: nothing to build after the first time
    message = (
        f"synapse_sync: a blocking call ({public_name(fn)}) was made from a thread whose event "
        f"loop is running (a notebook cell, an async web handler); that loop is blocked until "
        f"the call returns. In async code, use the async client instead: "
        f"`async with synapse_async.AsyncClient(...) as client:`, then "
        f"`await client.tasks.get(...)` or `async for task in client.tasks.list(...)`. "
        f"Shown once per process; SYNAPSE_SYNC_RUNNING_LOOP=ignore (or "
        f"Portal.running_loop_policy) silences it, 'raise' makes it an error."
    )
    if policy == "raise":
        raise FacadeRunningLoopError(message)
    _warned_running_loop = True
    frame: Any = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("synapse_sync"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, FacadeRunningLoopWarning, stacklevel=level)


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
