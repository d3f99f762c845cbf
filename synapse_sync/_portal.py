"""The facade runtime: one background event-loop thread that runs the SDK's coroutines.

Generated sync classes hold a ``Portal`` (normally the process-wide ``get_portal()``) and
turn each async method into one blocking hop: ``return self._portal.call(self._aio.get, id)``.
The numbers below refer to ../shared/SYNC_FACADE.md.

* One loop per portal on a named daemon thread (``synapse-sync-loop``), started lazily under
  a lock with a second check and a readiness event (1); any number of threads may call at
  once (15). The loop uses a ``poll`` selector: no kernel state shared with a forked child.
* Every blocking call is ``asyncio.run_coroutine_threadsafe`` plus a wait in slices of at
  most 100 ms (7) on the ``concurrent.futures.Future`` it returns (``_wait``), behind one
  guard: on the loop thread it raises ``FacadeReentrancyError`` (4); under an event loop
  running in the calling thread it warns once per process, raises or stays silent (5).
* Ctrl-C, ``SystemExit`` or a per-call timeout cancel the task on the loop and wait, at most
  ``cancel_grace`` seconds, for its cleanup before re-raising (6, 8).
* Blocking work handed to the loop's default executor runs on a pool that stays available
  until the loop stops (``_executor``), so a call in a non-daemon thread can finish while
  the interpreter waits for that thread at exit.
* Fork: the child gets a fresh loop on its first call (14). Exit: ``close()`` (and the atexit
  hook) cancel everything and stop within ``shutdown_timeout``; a stuck loop thread is
  abandoned with a ``FacadeShutdownWarning`` (16). A dead loop fails every pending and later
  call with ``FacadeCrashedError`` (17).
* Exceptions from the SDK are re-raised as the same object (19); contextvars are copied
  into the task, never back (13).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import functools
import logging
import os
import selectors
import threading
import time
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar, overload

from synapse_sync import _config, _lifecycle
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
from synapse_sync._executor import LoopExecutor
from synapse_sync._fanout import run_all
from synapse_sync._iterators import SyncIterator
from synapse_sync._shutdown import SupportsAclose, drain, silence, warn_left_behind
from synapse_sync.errors import (
    FacadeClosedError,
    FacadeCrashedError,
    FacadeReentrancyError,
    FacadeTimeoutError,
)

__all__ = ["Portal", "State", "call_timeout", "get_portal"]

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")

log = logging.getLogger("synapse_sync")


class State(enum.Enum):
    """Where a portal is in its life.

    ``NEW``: no loop yet (also in a forked child); ``CLOSING``: cancelling outstanding work;
    ``CRASHED``: the loop thread died, every call fails with ``FacadeCrashedError``.
    """

    NEW = "new"
    RUNNING = "running"
    CLOSING = "closing"
    CLOSED = "closed"
    CRASHED = "crashed"


_NEW, _RUNNING, _CLOSING, _CLOSED, _CRASHED = State  # fast local names for the hot path

_get_ident = threading.get_ident
_getpid = os.getpid
_monotonic = time.monotonic
_run_threadsafe = asyncio.run_coroutine_threadsafe
_orphans: list[asyncio.AbstractEventLoop] = []  # loops inherited by a forked child


class Portal:
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
        batch_size: items fetched per hop by ``iterate`` (default 64).

    The loop thread starts on the first call, not here. Use as a context manager, or call
    ``close()``; the atexit hook closes whatever is left.
    """

    _loop: asyncio.AbstractEventLoop | None
    _thread: threading.Thread | None
    _ident: int | None  # the loop thread's
    _executor: LoopExecutor | None

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
        self._name = name
        self._debug = _config.debug_enabled() if debug is None else debug
        self.running_loop_policy: _config.RunningLoopPolicy = (
            _config.running_loop_policy()
            if running_loop_policy is None
            else _config.check_policy(running_loop_policy)
        )
        self.shutdown_timeout = (
            _config.shutdown_timeout() if shutdown_timeout is None else shutdown_timeout
        )
        self.cancel_grace = cancel_grace
        self.batch_size = batch_size
        self._strip = not self._debug
        self._state = _NEW
        self._crash: BaseException | None = None
        self._closers: list[weakref.ref[SupportsAclose]] = []
        self._generation = 0
        self._loop = None
        self._after_fork()  # the per-process part: locks, thread, pending futures
        _lifecycle.register(self)

    # -- introspection --------------------------------------------------------------------

    @property
    def state(self) -> State:
        """Where the portal is in its life (``State.NEW`` in a fresh fork child)."""
        return self._state if self._pid == _getpid() or self._state is _CLOSED else _NEW

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The facade's event loop (started on first access). Do not stop or close it."""
        if self._state is not _RUNNING or self._pid != _getpid():
            self._ensure_running()
        assert self._loop is not None
        return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        """The loop thread, or None before the first call (and in a fresh fork child)."""
        return self._thread if self._pid == _getpid() else None

    @property
    def generation(self) -> int:
        """How many loops this portal has started (0 before the first call).

        It changes when a forked child starts its own loop: objects built on an earlier
        generation's loop (sessions, clients) must not be used on the new one.
        """
        return self._generation

    @property
    def debug(self) -> bool:
        """Whether asyncio debug mode and full tracebacks are on."""
        return self._debug

    @property
    def running(self) -> bool:
        """True while the loop thread is up and accepting calls."""
        return self._state is _RUNNING and self._pid == _getpid()

    @property
    def closed(self) -> bool:
        """True once ``close()`` (or the exit hook) has run; calls then fail."""
        return self._state in (_CLOSING, _CLOSED)

    def in_loop_thread(self) -> bool:
        """True when the caller runs on this portal's loop thread."""
        return self._ident is not None and _get_ident() == self._ident

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

    def iterate_flat(
        self,
        flatten: Callable[[Any], Iterable[T]],
        fn: Callable[P, AsyncIterable[Any]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> SyncIterator[T]:
        """A sync iterator over the items of each chunk ``fn(*args, **kwargs)`` yields.

        ``flatten(chunk)`` gives a chunk's items (e.g. a page's). The loop steps the async
        iterator once per chunk instead of once per item, and hops carry whole chunks: at
        most ``batch_size`` items plus one chunk wait ahead of the consumer.
        """
        return SyncIterator(self, fn, args, kwargs, self.batch_size, flatten)

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

    def close_on_shutdown(self, resource: SupportsAclose) -> None:
        """Await ``resource.aclose()`` on the loop at shutdown, if it is still alive then.

        Held weakly; resources are closed last-registered first, after the outstanding
        tasks were cancelled.
        """
        self._closers = [r for r in self._closers if r() is not None]
        self._closers.append(weakref.ref(resource))

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

    def _wait(self, future: concurrent.futures.Future[Any], deadline: float | None) -> bool:
        """Wait in slices (Ctrl-C lands between them) until ``future`` is done: True.

        False when ``deadline`` passed first, or the loop thread can no longer finish it.
        """
        while not future.done():
            wait = _config.WAIT_SLICE
            if deadline is not None:
                wait = min(wait, deadline - _monotonic())
                if wait <= 0:
                    return False
            try:
                future.exception(wait)
            except concurrent.futures.TimeoutError:  # the slice ended
                if self._gone():
                    return future.done()
            except concurrent.futures.CancelledError:
                pass
        return True

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

    def _gone(self) -> bool:
        """True when the loop thread can no longer finish anything (dead or abandoned)."""
        if self._state in (_CLOSED, _CRASHED):
            return True
        return self._thread is None or not self._thread.is_alive()

    # -- lifecycle --------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._pid != _getpid():
            self._after_fork()
        while self._state is not _RUNNING:
            if self._state is not _NEW:
                raise self._state_error()
            with self._start_lock:
                if self._state is _NEW:  # second check: another thread may have won
                    self._start()

    def _state_error(self) -> BaseException:
        if self._state is _CRASHED:
            err = FacadeCrashedError(
                "the facade's event-loop thread died; every pending and later call fails. "
                "The cause is chained below."
            )
            err.__cause__ = self._crash
            return err
        if self._state is _NEW:  # start refused at exit
            return FacadeClosedError("the interpreter is exiting; the facade does not start")
        return FacadeClosedError("the facade is closed")

    def _start(self) -> None:
        if _lifecycle.in_exit():
            raise FacadeClosedError(
                "the interpreter is exiting: the facade never starts its loop thread from an "
                "atexit handler or a finalizer. Make the call before exit begins."
            )
        if hasattr(selectors, "PollSelector"):  # no epoll instance shared after fork
            loop: asyncio.AbstractEventLoop = asyncio.SelectorEventLoop(selectors.PollSelector())
        else:
            loop = asyncio.new_event_loop()
        if self._debug:
            loop.set_debug(True)  # otherwise asyncio's default (on under -X dev)
        self._executor = LoopExecutor(f"{self._name}-worker")
        loop.set_default_executor(self._executor)
        ready = threading.Event()
        thread = threading.Thread(
            target=self._serve, args=(loop, ready), name=self._name, daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # "can't create new thread at interpreter shutdown"
            loop.close()
            raise FacadeClosedError("the interpreter is exiting; the facade cannot start") from exc
        try:
            ready.wait()  # the thread id is known (re-entrancy checks) once this is set
        finally:  # even if Ctrl-C lands here: the thread runs, so the state must say so
            self._loop, self._thread = loop, thread
            self._generation += 1
            self._state = _RUNNING

    def _serve(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        """The loop thread's body."""
        self._ident = _get_ident()
        asyncio.set_event_loop(loop)
        ready.set()
        crash: BaseException | None = None
        try:
            loop.run_forever()
        except BaseException as exc:  # whatever kills the loop is reported to every caller
            crash = exc
        if crash is None and self._state not in (_CLOSING, _CLOSED):
            crash = RuntimeError("the facade's event loop was stopped from outside")
        if crash is not None:
            self._crash = crash
            self._state = _CRASHED
            log.error("synapse_sync: the facade's event-loop thread died", exc_info=crash)
        else:
            self._state = _CLOSED
        self._fail_submitted()
        if crash is None and not self._drained:
            # close() gave up on this thread while it was blocked; now that it is free,
            # finish the cleanup (nobody waits for it: the thread was abandoned).
            with contextlib.suppress(BaseException):
                loop.run_until_complete(self._drain(_monotonic() + self.shutdown_timeout))
        silence(asyncio.all_tasks(loop))
        with contextlib.suppress(Exception):  # after a crash the loop may be inconsistent
            loop.close()
        asyncio.set_event_loop(None)

    def _fail_submitted(self) -> None:
        """Fail the futures of ``submit`` that the loop will never complete."""
        for future in list(self._submitted):
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_exception(self._state_error())

    def close(self, timeout: float | None = None) -> None:
        """Cancel outstanding work, close resources and stop the loop thread, bounded.

        Waits at most ``timeout`` seconds (default ``shutdown_timeout``). Tasks that ignore
        cancellation, or a loop thread that stays blocked, are left behind with a
        ``FacadeShutdownWarning`` naming them. Later calls raise ``FacadeClosedError``.
        Closing twice is a no-op. Never starts the loop.
        """
        if self._pid != _getpid():
            self._after_fork()
        if self._state is _RUNNING and self.in_loop_thread():
            raise FacadeReentrancyError(
                "Portal.close() called on the facade's own loop thread: it would wait for "
                "itself. Close it from another thread."
            )
        bound = self.shutdown_timeout if timeout is None else timeout
        with self._close_lock:
            with self._start_lock:
                if self._state is not _RUNNING:
                    if self._state in (_NEW, _CRASHED):
                        self._state = _CLOSED
                    return
                self._state = _CLOSING
            self._shutdown(bound)

    def _shutdown(self, bound: float) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None and thread is not None
        deadline = _monotonic() + bound + 0.25  # drain bounds itself by 0.25 s less
        done = _run_threadsafe(self._drain(deadline - 0.25), loop)
        stuck: list[str] = []
        try:
            if self._wait(done, deadline):
                stuck = done.result(0)
        except Exception:  # drain itself failed: still stop the loop
            log.warning("synapse_sync: shutdown failed", exc_info=True)
        finally:
            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(loop.stop)
        thread.join(max(0.1, deadline - _monotonic()))
        if thread.is_alive():
            self._state = _CLOSED  # blocked callers notice this within one wait slice
            self._fail_submitted()  # nobody polls these: fail them here
        warn_left_behind(loop, self._ident if thread.is_alive() else None, stuck, bound)

    def _drain(self, deadline: float) -> Coroutine[Any, Any, list[str]]:
        assert self._executor is not None
        return drain(deadline, list(self._closers), self._on_drained, self._executor)

    def _on_drained(self, stuck: list[asyncio.Task[Any]]) -> None:
        self._drained = True
        silence(stuck)

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's loop and thread; start afresh when used."""
        old = self._loop
        if old is not None:
            _orphans.append(old)  # never closed or collected: that could touch parent state
            with contextlib.suppress(RuntimeError):
                silence(asyncio.all_tasks(old))
        self._pid = _getpid()
        self._start_lock, self._close_lock = threading.Lock(), threading.Lock()
        self._loop = None
        self._thread = self._ident = self._executor = None
        self._submitted: set[concurrent.futures.Future[Any]] = set()
        self._drained = False
        if self._state is not _CLOSED:
            self._state = _NEW
            self._crash = None

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
