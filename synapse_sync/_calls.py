"""One blocking hop to the facade loop: the waiter a caller blocks on, and its outcomes.

A ``Hop`` is created in the calling thread, started on the loop thread by
``loop.call_soon_threadsafe(hop.start)`` and finished exactly once on the loop thread (or by
the loop thread's final sweep when it exits). The caller blocks on a plain lock that
``finish`` releases: cheaper than ``concurrent.futures.Future`` (no condition variable, no
callbacks list), which keeps the per-call overhead under the bare
``run_coroutine_threadsafe`` round trip.

Life of a ``TaskHop``: ``start`` calls the async function on the loop (so any awaitable it
returns, and every loop-bound object it touches, belongs to the facade loop), wraps it in a
Task and finishes from the Task's done callback. ``cancel`` (scheduled by a caller hit by
Ctrl-C or a timeout) cancels that Task; the caller then waits for ``finish`` so the task's
cleanup has run before it re-raises.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable, MutableSet
from typing import Any, Generic, TypeVar

from synapse_sync.errors import FacadeReentrancyError

__all__ = ["CANCELLED", "CLOSED", "CRASHED", "ERROR", "OK", "PENDING", "FacadeFuture",
           "FutureHop", "Hop", "TaskHop", "describe"]

T = TypeVar("T")

# Outcome states of a hop (small ints: compared on every call).
PENDING, OK, ERROR, CANCELLED, CRASHED, CLOSED = range(6)


def describe(fn: object) -> str:
    """A readable name for a callable: ``AsyncProjects.get`` rather than a repr."""
    name = getattr(fn, "__qualname__", None)
    if isinstance(name, str):
        return name
    return repr(fn)


class _Escaped:
    """A ``KeyboardInterrupt``/``SystemExit`` raised by a coroutine, carried as a value.

    Raised out of a Task, those two would stop the facade loop for every caller; boxed,
    they reach the calling thread as the original exception object.
    """

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def _guard(aw: Awaitable[T]) -> T | _Escaped:
    try:
        return await aw
    except (KeyboardInterrupt, SystemExit) as exc:
        return _Escaped(exc)


_GUARD_CODE = _guard.__code__


def strip_guard_frame(exc: BaseException) -> None:
    """Drop the facade's own ``_guard`` frame from the head of ``exc``'s traceback."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _GUARD_CODE and tb.tb_next is not None:
        exc.__traceback__ = tb.tb_next


class Hop:
    """A caller blocked on one unit of work running on the facade loop.

    Attributes:
        lock: held until the hop finishes; the caller acquires it to wait.
        state: ``PENDING`` until finished, then ``OK``, ``ERROR``, ``CANCELLED``,
            ``CRASHED`` or ``CLOSED``.
        value: the result (``OK``) or the exception (``ERROR``/``CANCELLED``).
        fn: what runs on the loop, for messages and for the stuck-task report.
    """

    __slots__ = ("cancel_requested", "fn", "lock", "pending", "state", "value")

    def __init__(self, fn: object, pending: MutableSet[Hop]) -> None:
        self.fn = fn
        self.pending = pending
        self.state = PENDING
        self.value: Any = None
        self.cancel_requested = False
        self.lock = threading.Lock()
        self.lock.acquire()

    def start(self) -> None:
        """Begin the work; runs on the loop thread."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Ask the work to stop; runs on the loop thread. ``finish`` follows later."""
        self.cancel_requested = True

    def task(self) -> asyncio.Task[Any] | None:
        """The Task doing the work, if there is one (for shutdown reports)."""
        return None

    def finish(self, state: int, value: Any) -> None:
        """Record the outcome once and wake the caller (loop thread, or the exit sweep)."""
        if self.state != PENDING:
            return
        self.value = value
        self.state = state
        self.pending.discard(self)
        self._notify()

    def _notify(self) -> None:
        self.lock.release()


class TaskHop(Hop):
    """Run ``fn(*args, **kwargs)`` on the loop and wait for the awaitable it returns."""

    __slots__ = ("_task", "args", "kwargs", "loop", "strip")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...],
                 kwargs: dict[str, Any], loop: asyncio.AbstractEventLoop,
                 pending: MutableSet[Hop], strip: bool) -> None:
        super().__init__(fn, pending)
        self.args = args
        self.kwargs = kwargs
        self.loop = loop
        self.strip = strip
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        """Call the function on the loop thread and run its awaitable as a Task."""
        if self.state != PENDING:
            return
        if self.cancel_requested:
            self.finish(CANCELLED, asyncio.CancelledError())
            return
        try:
            aw = self.fn(*self.args, **self.kwargs)  # type: ignore[operator]
            task = self.loop.create_task(_guard(aw))
        except BaseException as exc:  # the function itself failed: deliver it as-is
            self.finish(ERROR, exc)
            return
        self._task = task
        task.add_done_callback(self._on_done)

    def cancel(self) -> None:
        """Cancel the Task (or, before it exists, make ``start`` skip the work)."""
        self.cancel_requested = True
        if self._task is not None:
            self._task.cancel()

    def task(self) -> asyncio.Task[Any] | None:
        """The Task running the awaitable."""
        return self._task

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            try:
                task.result()
            except asyncio.CancelledError as exc:
                self.finish(CANCELLED, exc)
            return
        error = task.exception()
        if error is None:
            result = task.result()
            if type(result) is _Escaped:
                self.finish(ERROR, result.exc)
            else:
                self.finish(OK, result)
            return
        if self.strip:
            strip_guard_frame(error)
        self.finish(ERROR, error)


class FacadeFuture(concurrent.futures.Future[T], Generic[T]):
    """The ``concurrent.futures.Future`` returned by ``Portal.submit``.

    ``cancel()`` cancels the underlying Task on the loop. ``result()`` and ``exception()``
    raise ``FacadeReentrancyError`` instead of deadlocking when called, unfinished, on the
    facade's own loop thread.
    """

    _loop_ident: int | None = None
    _hop: FutureHop | None = None

    def cancel(self) -> bool:
        """Cancel the future and the task behind it; False if it already finished."""
        hop = self._hop
        if not super().cancel():
            return False
        if hop is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop has nothing to cancel
                hop.loop.call_soon_threadsafe(hop.cancel)
        return True

    def result(self, timeout: float | None = None) -> T:
        """The result, waiting up to ``timeout`` seconds (see ``concurrent.futures``)."""
        self._check_thread("result")
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception, waiting up to ``timeout`` seconds (see ``concurrent.futures``)."""
        self._check_thread("exception")
        return super().exception(timeout)

    def _check_thread(self, what: str) -> None:
        if not self.done() and threading.get_ident() == self._loop_ident:
            name = describe(self._hop.fn) if self._hop is not None else "the call"
            raise FacadeReentrancyError(
                f"FacadeFuture.{what}() for {name} called on the facade's own loop thread "
                f"before it finished: this would deadlock. Await {name}(...) instead.")


class FutureHop(TaskHop):
    """A ``TaskHop`` whose outcome goes to a ``FacadeFuture`` instead of a blocked caller."""

    __slots__ = ("errors", "future")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...],
                 kwargs: dict[str, Any], loop: asyncio.AbstractEventLoop,
                 pending: MutableSet[Hop], strip: bool,
                 errors: Callable[[int, BaseException | None], BaseException]) -> None:
        super().__init__(fn, args, kwargs, loop, pending, strip)
        self.future: FacadeFuture[Any] = FacadeFuture()
        self.future._hop = self
        self.errors = errors

    def _notify(self) -> None:
        future = self.future
        future._hop = None
        if future.cancelled():
            return
        try:
            if self.state == OK:
                future.set_result(self.value)
            elif self.state == ERROR:
                future.set_exception(self.value)
            else:
                future.set_exception(self.errors(self.state, self.value))
        except concurrent.futures.InvalidStateError:  # cancelled by the user meanwhile
            pass

