"""The facade runtime: blocking calls into one background event-loop thread.

Generated sync classes hold a ``Portal`` (normally the process-wide ``get_portal()``) and
turn each async method into one blocking hop: ``return self._portal.call(self._aio.get, id)``.
The loop thread itself (start, fork, bounded close, crash) is ``_lifecycle.LoopThread``,
the base class. The numbers below refer to ../shared/SYNC_FACADE.md.

* Every blocking call is ``asyncio.run_coroutine_threadsafe`` plus a wait in slices of at
  most 100 ms (7) on the ``concurrent.futures.Future`` it returns (``_wait``), behind one
  guard: on the loop thread it raises ``FacadeReentrancyError`` (4); under an event loop
  running in the calling thread it warns once per process, raises or stays silent (5).
  Any number of threads may call at once (15).
* Ctrl-C, ``SystemExit`` or a per-call timeout cancel the task on the loop and wait, at most
  ``cancel_grace`` seconds, for its cleanup before re-raising (6, 8).
* Exceptions from the SDK are re-raised as the same object (19); contextvars are copied
  into the task, never back (13).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import threading
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar, overload

from synapse_sync import _config
from synapse_sync._calls import (
    CALL_TIMEOUT,
    Escaped,
    SubmitFuture,
    call_timeout,
    cancel_call,
    check_running_loop,
    describe,
    guarded,
    loop_running_here,
    reentrancy_error,
    strip_guard_frame,
)
from synapse_sync._contexts import SyncContextManager
from synapse_sync._fanout import run_all
from synapse_sync._iterators import Chunk, SyncIterator
from synapse_sync._lifecycle import LoopThread, State
from synapse_sync.errors import FacadeClosedError, FacadeTimeoutError

__all__ = ["Portal", "State", "call_timeout", "get_portal"]

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")

_RUNNING, _CLOSING, _CLOSED, _CRASHED = State.RUNNING, State.CLOSING, State.CLOSED, State.CRASHED
_get_ident = threading.get_ident
_getpid = os.getpid
_monotonic = time.monotonic
_run_threadsafe = asyncio.run_coroutine_threadsafe


class Portal(LoopThread):
    """Runs coroutines on one background event-loop thread for blocking callers.

    Args:
        name: the loop thread's name.
        debug: asyncio debug mode and unstripped tracebacks (default: ``SYNAPSE_SYNC_DEBUG``).
        running_loop_policy: ``"warn"``, ``"raise"`` or ``"ignore"``: what a blocking call
            does when the calling thread runs an event loop (default:
            ``SYNAPSE_SYNC_RUNNING_LOOP``, else ``"warn"``).
        shutdown_timeout: bound in seconds on ``close()`` and on the exit hook (default:
            ``SYNAPSE_SYNC_SHUTDOWN_TIMEOUT``, else 5).
        cancel_grace: after Ctrl-C or a timeout, how long to wait for the cancelled task.
        batch_size: items the loop may buffer ahead of the caller of ``iterate`` and
            ``iterate_chunks`` (default 1024); each hop takes all that are buffered.

    The loop thread starts on the first call, not here. Use as a context manager, or call
    ``close()``; the atexit hook closes whatever is left.
    """

    def __init__(
        self,
        *,
        name: str = _config.LOOP_THREAD_NAME,
        debug: bool | None = None,
        running_loop_policy: _config.RunningLoopPolicy | None = None,
        shutdown_timeout: float | None = None,
        cancel_grace: float = _config.CANCEL_GRACE,
        batch_size: int = _config.DEFAULT_BATCH,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        super().__init__(name, debug, shutdown_timeout)
        self.running_loop_policy = _config.running_loop_policy(running_loop_policy)
        self.cancel_grace = cancel_grace
        self.batch_size = batch_size
        self._strip = not self._debug

    # -- calls ----------------------------------------------------------------------------

    def call(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``await fn(*args, **kwargs)`` on the loop and return its result.

        ``fn`` is called on the loop thread. Exceptions are re-raised as the same object.
        Ctrl-C while waiting cancels the task, waits for its cleanup, then re-raises. Inside
        ``with call_timeout(seconds):`` the call is bounded like ``call_with_timeout``.
        """
        return self._run(CALL_TIMEOUT.get(), fn, args, kwargs)

    def call_with_timeout(
        self,
        timeout: float | None,
        fn: Callable[P, Awaitable[T]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like ``call``, but give up after ``timeout`` seconds (None: no limit).

        On expiry the task is cancelled and awaited (at most ``cancel_grace`` s), then
        ``FacadeTimeoutError`` is raised. If the task finished anyway, its outcome is
        returned. The timeout comes first so that ``fn``'s own ``timeout=`` never collides.
        """
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
        return self._run(timeout, fn, args, kwargs)

    def submit(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        """Start ``await fn(*args, **kwargs)`` on the loop; return a ``Future`` at once.

        Does not block, so it is allowed on the loop thread too (but never block on the
        future's ``result()`` there: the loop would wait for itself). ``future.cancel()``
        cancels the task. If the facade closes or crashes first, the future fails with
        ``FacadeClosedError`` or ``FacadeCrashedError``.
        """
        _, future = self._schedule(self.loop, fn, args, kwargs)
        outer: SubmitFuture[T] = SubmitFuture(self._ident)
        outer.add_done_callback(lambda f: f.cancelled() and future.cancel())
        future.add_done_callback(functools.partial(self._settle_submitted, outer))
        self._submitted.add(outer)
        outer.add_done_callback(self._submitted.discard)
        return outer

    def _settle_submitted(
        self, outer: concurrent.futures.Future[Any], inner: concurrent.futures.Future[Any]
    ) -> None:
        if outer.done():
            return
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            try:
                outer.set_result(self._outcome(inner))
            except BaseException as exc:
                outer.set_exception(exc)

    @overload
    def map(
        self,
        fn: Callable[[A], Awaitable[T]],
        items: Iterable[A],
        /,
        *,
        limit: int | None = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[T]: ...

    @overload
    def map(
        self,
        fn: Callable[[A], Awaitable[T]],
        items: Iterable[A],
        /,
        *,
        limit: int | None = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[True],
    ) -> list[T | BaseException]: ...

    def map(
        self,
        fn: Callable[[A], Awaitable[Any]],
        items: Iterable[A],
        /,
        *,
        limit: int | None = None,
        timeout: float | None = None,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Run ``fn(item)`` for every item concurrently on the loop, in one hop.

        Results come back in input order. ``limit`` caps how many run at once. On the first
        failure the others are cancelled and awaited, then that exception is re-raised
        (unless ``return_exceptions``, which returns exceptions in place of results).
        """
        factories = [functools.partial(fn, item) for item in items]
        return self.call_with_timeout(timeout, run_all, factories, limit, return_exceptions)

    def gather(
        self,
        *factories: Callable[[], Awaitable[T]],
        limit: int | None = None,
        timeout: float | None = None,
    ) -> list[T]:
        """Run every zero-argument async callable concurrently in one hop (see ``map``)."""
        return self.call_with_timeout(timeout, run_all, list(factories), limit, False)

    def iterate(
        self, fn: Callable[P, AsyncIterable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SyncIterator[T]:
        """A sync iterator over the async iterable ``fn(*args, **kwargs)``.

        Nothing runs until the first ``next()``; then ``fn`` is called on the loop and up to
        ``batch_size`` items come back per hop. See ``SyncIterator`` for closing.
        """
        return SyncIterator(self, fn, args, kwargs, self.batch_size)

    def iterate_chunks(
        self, fn: Callable[P, AsyncIterable[Chunk[T]]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SyncIterator[T]:
        """A sync iterator over the items of each chunk ``fn(*args, **kwargs)`` yields.

        The loop steps the async iterator once per chunk (e.g. a fetched page) and buffers
        chunks until they hold ``batch_size`` items; the calling thread turns each chunk into
        its items (``chunk.decode()``) right before yielding them. A chunk with no items ends
        the iteration.
        """
        return SyncIterator(self, fn, args, kwargs, self.batch_size, chunked=True)

    def iterate_batched(
        self,
        batch_size: int,
        fn: Callable[P, AsyncIterable[T]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> SyncIterator[T]:
        """``iterate`` with an explicit number of items per hop."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        return SyncIterator(self, fn, args, kwargs, batch_size)

    def context(
        self, fn: Callable[P, AbstractAsyncContextManager[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SyncContextManager[T]:
        """A sync context manager over the async one ``fn(*args, **kwargs)`` returns."""
        return SyncContextManager(self, fn, args, kwargs)

    # -- the one blocking path ------------------------------------------------------------

    def _run(
        self,
        timeout: float | None,
        fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        """Run ``fn`` on the loop and wait for it: the body of every blocking call."""
        if self._state is not _RUNNING or self._pid != _getpid():
            self._ensure_running()
        if _get_ident() == self._ident:
            raise reentrancy_error(fn)
        if self.running_loop_policy != "ignore" and loop_running_here():
            check_running_loop(fn, self.running_loop_policy)
        coro, future = self._schedule(self._loop, fn, args, kwargs)
        try:
            if self._wait(future, None if timeout is None else _monotonic() + timeout):
                return self._outcome(future)
        except BaseException:  # Ctrl-C, SystemExit, a signal handler's exception
            if not future.done():
                self._cancel(coro, future)
            raise
        if self._gone():  # the loop thread died or was abandoned
            raise self._state_error()
        ended = self._cancel(coro, future)  # the timeout expired
        if ended and not future.cancelled():
            return self._outcome(future)  # it finished anyway: its own outcome
        if self._state is not _RUNNING or self._gone():
            raise self._state_error()
        raise FacadeTimeoutError(
            f"{describe(fn)} did not finish within the facade timeout of {timeout:g} s; it "
            f"was cancelled{'' if ended else ' but is still running'}"
        )

    def _schedule(
        self,
        loop: asyncio.AbstractEventLoop | None,
        fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[Coroutine[Any, Any, Any], concurrent.futures.Future[T | Escaped]]:
        coro = guarded(fn, args, kwargs)
        try:
            return coro, _run_threadsafe(coro, loop)  # type: ignore[arg-type]
        except RuntimeError:  # the loop closed between the check and now
            coro.close()
            raise self._state_error() from None

    def _cancel(
        self, coro: Coroutine[Any, Any, Any], future: concurrent.futures.Future[Any]
    ) -> bool:
        """Cancel the call's Task and wait, at most ``cancel_grace`` s, until it has ended."""
        with contextlib.suppress(RuntimeError):  # a closed loop has nothing left to cancel
            self._loop.call_soon_threadsafe(cancel_call, coro, future)  # type: ignore[union-attr]
        return self._wait(future, _monotonic() + self.cancel_grace)

    def _outcome(self, future: concurrent.futures.Future[T | Escaped]) -> T:
        """The result of a finished call, or the exception the caller sees."""
        if future.cancelled():
            raise self._inner_cancel(asyncio.CancelledError())
        exc = future.exception(0)
        if exc is None:
            value = future.result(0)
            if isinstance(value, Escaped):
                raise value.exc
            return value
        if self._strip:
            strip_guard_frame(exc)
        try:
            raise exc
        finally:
            del exc  # no cycle through this frame

    def _inner_cancel(self, exc: asyncio.CancelledError) -> BaseException:
        """What a caller sees when its task was cancelled by someone other than itself."""
        if self._state in (_CLOSING, _CLOSED):
            err = FacadeClosedError("the facade was closed while this call was running")
            err.__cause__ = exc
            return err
        return self._state_error() if self._state is _CRASHED else exc

    def __enter__(self) -> Portal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Portal {self._name!r} {self._state.value}>"


_default = Portal()


def get_portal() -> Portal:
    """The process-wide portal generated sync classes use (its loop starts on first use)."""
    return _default
