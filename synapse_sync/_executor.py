"""The facade loop's default executor: blocking work (file reads, hashing) off the loop.

Unlike ``concurrent.futures.ThreadPoolExecutor``, it does not stop taking work when the main
thread ends. ``concurrent.futures`` refuses new jobs in *every* thread pool as soon as
interpreter exit begins ("cannot schedule new futures after interpreter shutdown"), which is
before Python waits for the program's non-daemon threads; a sync call still running in such a
thread (an upload reading its file) would then fail. This pool keeps working until the facade
shuts it down, after those threads have finished. Its workers are daemon threads, so a job
that never returns cannot hold up exit either.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["LoopExecutor"]

P = ParamSpec("P")
T = TypeVar("T")

_Job = tuple[concurrent.futures.Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class LoopExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread pool owned by one facade loop (daemon workers, started on demand).

    A ``ThreadPoolExecutor`` by type only (asyncio accepts nothing else as a default
    executor); its own ``submit`` and ``shutdown`` replace the base class's machinery.

    Args:
        name: prefix of the worker threads' names.
        max_workers: at most this many threads (default ``min(32, cpu_count + 4)``).
    """

    def __init__(self, name: str, max_workers: int | None = None) -> None:
        super().__init__(max_workers, thread_name_prefix=name)
        self._name = name
        self._max = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._stopped = False
        self.threads: list[threading.Thread] = []
        """The worker threads started so far."""

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        """Run ``fn(*args, **kwargs)`` on a worker; raises ``RuntimeError`` after shutdown."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._jobs.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self.threads) < self._max:
                thread = threading.Thread(
                    target=self._work, daemon=True, name=f"{self._name}_{len(self.threads)}"
                )
                thread.start()
                self.threads.append(thread)
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            _run(job)
            del job  # hold no references while idle
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more jobs; stop the workers once the queue is empty (see ``Executor``)."""
        with self._lock:
            self._stopped = True
            threads = list(self.threads)
        if cancel_futures:
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
        for _ in threads:
            self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()


def _run(job: _Job) -> None:
    future, fn, args, kwargs = job
    if future.set_running_or_notify_cancel():
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
