"""The facade loop thread's life, and the process-wide hooks that drive it.

``LoopThread`` (the base of ``Portal``) owns one event loop on a named daemon thread:

* started lazily under a lock with a second check and a readiness event; the loop uses a
  ``poll`` selector, which keeps no kernel state that a forked child would share;
* reset in a forked child (``os.register_at_fork``), which starts a fresh loop when used;
* closed with a bound (``close()``, ``with``, the atexit hook): outstanding tasks are
  cancelled, registered resources closed, and a stuck loop thread is abandoned with a
  ``FacadeShutdownWarning``; never started from an atexit handler (``in_exit``);
* when the thread dies, every pending and later call fails with ``FacadeCrashedError``.

Blocking work handed to the loop's default executor runs on a pool that stays available
until the loop stops (``_executor``), so a call in a non-daemon thread can finish while the
interpreter waits for that thread at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import enum
import logging
import os
import selectors
import threading
import time
import weakref
from typing import Any

from synapse_sync import _config
from synapse_sync._executor import LoopExecutor
from synapse_sync._shutdown import SupportsAclose, drain, silence, warn_left_behind
from synapse_sync.errors import FacadeClosedError, FacadeCrashedError, FacadeReentrancyError

__all__ = ["LoopThread", "State", "at_exit", "in_exit"]

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
_WAIT_SLICE = _config.WAIT_SLICE
_orphans: list[asyncio.AbstractEventLoop] = []  # loops inherited by a forked child
_threads: weakref.WeakSet[LoopThread] = weakref.WeakSet()
_exiting = False


class LoopThread:
    """One event loop on its own daemon thread, started on first use (see the module doc).

    Args:
        name: the loop thread's name.
        debug: asyncio debug mode (default: ``SYNAPSE_SYNC_DEBUG``).
        shutdown_timeout: bound in seconds on ``close()`` and on the exit hook (default:
            ``SYNAPSE_SYNC_SHUTDOWN_TIMEOUT``, else 5).
    """

    _loop: asyncio.AbstractEventLoop | None
    _thread: threading.Thread | None
    _ident: int | None  # the loop thread's
    _executor: LoopExecutor | None

    def __init__(self, name: str, debug: bool | None, shutdown_timeout: float | None) -> None:
        self._name = name
        self._debug = _config.debug_enabled(debug)
        self.shutdown_timeout = _config.shutdown_timeout(shutdown_timeout)
        self._state = _NEW
        self._crash: BaseException | None = None
        self._closers: list[weakref.ref[SupportsAclose]] = []
        self._generation = 0
        self._loop = None
        self._after_fork()  # the per-process part: locks, thread, pending futures
        _threads.add(self)

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

    def close_on_shutdown(self, resource: SupportsAclose) -> None:
        """Await ``resource.aclose()`` on the loop at shutdown, if it is still alive then.

        Held weakly; resources are closed last-registered first, after the outstanding
        tasks were cancelled.
        """
        self._closers = [r for r in self._closers if r() is not None]
        self._closers.append(weakref.ref(resource))

    def _wait(self, future: concurrent.futures.Future[Any], deadline: float | None) -> bool:
        """Wait in slices (Ctrl-C lands between them) until ``future`` is done: True.

        False when ``deadline`` passed first, or the loop thread can no longer finish it.
        """
        while True:
            wait = _WAIT_SLICE
            if deadline is not None:
                wait = min(wait, deadline - _monotonic())
                if wait <= 0:
                    return future.done()
            try:
                future.exception(wait)  # returns (or raises CancelledError) once it is done
                return True
            except concurrent.futures.TimeoutError:  # the slice ended
                if self._gone():
                    return future.done()
            except concurrent.futures.CancelledError:
                return True

    def _gone(self) -> bool:
        """True when the loop thread can no longer finish anything (dead or abandoned)."""
        if self._state in (_CLOSED, _CRASHED):
            return True
        return self._thread is None or not self._thread.is_alive()

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
        if in_exit():
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
        done = asyncio.run_coroutine_threadsafe(self._drain(deadline - 0.25), loop)
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

    async def _drain(self, deadline: float) -> list[str]:
        assert self._executor is not None
        stuck = await drain(deadline, list(self._closers), self._executor)
        self._drained = True
        return stuck

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


def in_exit() -> bool:
    """True once interpreter exit has begun: atexit hooks are running or have run.

    ``threading._shutdown`` (which runs before atexit handlers) marks the main thread as no
    longer alive, so a main-thread call that sees a dead main thread comes from an atexit
    handler or a finalizer. Other threads may still be running legitimately then.
    """
    if _exiting:
        return True
    main = threading.main_thread()
    return threading.current_thread() is main and not main.is_alive()


def at_exit() -> None:
    """Close every loop thread with its bound; never start one (calls then fail)."""
    global _exiting
    _exiting = True
    for loop_thread in list(_threads):
        try:
            loop_thread.close()
        except Exception:  # exit must go on; say what happened
            log.warning("synapse_sync: closing the facade at exit failed", exc_info=True)


def _after_fork_in_child() -> None:
    for loop_thread in list(_threads):
        loop_thread._after_fork()


atexit.register(at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
