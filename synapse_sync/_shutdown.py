"""Bounded shutdown of the facade loop, and the report of what refused to stop.

``drain`` runs on the facade loop as the last coroutine: it cancels every other task, waits
for them, closes the resources registered with ``Portal.close_on_shutdown``, then finalizes
async generators and shuts the default executor down; every step shares one deadline.
Whatever is still running at the deadline is described by ``describe_task`` for the
``FacadeShutdownWarning``, and left behind without "Task was destroyed but it is pending"
noise.

Known limit: ``concurrent.futures`` joins executor threads at exit *before* atexit hooks
run, so an executor job that never returns still blocks exit; the facade cannot bound it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import traceback
import warnings
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from synapse_sync._calls import describe
from synapse_sync._executor import LoopExecutor
from synapse_sync.errors import FacadeShutdownWarning

__all__ = ["SupportsAclose", "drain", "silence", "warn_left_behind"]

log = logging.getLogger("synapse_sync")


class SupportsAclose(Protocol):
    """Anything with an ``async def aclose()``: SDK clients, async generators.

    An ``aiohttp.ClientSession`` has ``close()``, not ``aclose()``: wrap it.
    """

    def aclose(self) -> Awaitable[Any]:
        """Release the resource."""
        ...


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def describe_task(task: asyncio.Task[Any]) -> str:
    """``name: Outer.method (file.py:123)``, looking through the facade's own wrapper."""
    coro: Any = task.get_coro()
    while coro is not None and getattr(coro, "__qualname__", "") in {"guarded", "Feed._produce"}:
        coro = getattr(coro, "cr_await", None)
    if coro is None:
        return task.get_name()
    where = ""
    frame = getattr(coro, "cr_frame", None)
    if frame is not None:
        where = f" ({frame.f_code.co_filename}:{frame.f_lineno})"
    return f"{task.get_name()}: {describe(coro)}{where}"


def silence(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Stop asyncio from logging "Task was destroyed but it is pending" for these tasks.

    They were already reported in a ``FacadeShutdownWarning``; the flag is asyncio's own
    (``asyncio.gather`` sets it the same way).
    """
    for task in tasks:
        task._log_destroy_pending = False  # type: ignore[attr-defined]


def _stuck_frame(ident: int | None) -> str:
    """Where the thread ``ident`` is right now (the loop thread when it is blocked)."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    if frame is None:
        return "unknown"
    summary = traceback.extract_stack(frame)[-1]
    return f"{summary.filename}:{summary.lineno} in {summary.name}"


def warn_left_behind(
    loop: asyncio.AbstractEventLoop, blocked: int | None, stuck: list[str], bound: float
) -> None:
    """Warn (``FacadeShutdownWarning``) about what a shutdown bounded by ``bound`` s left.

    ``blocked``: the id of a loop thread that stayed blocked; ``stuck``: the tasks that
    ignored cancellation.
    """
    if blocked is not None:
        try:
            tasks = "; ".join(describe_task(t) for t in asyncio.all_tasks(loop)) or "none"
        except RuntimeError:
            tasks = "(could not list the tasks)"
        message = (
            f"the facade's loop thread is still blocked after {bound:g} s (at "
            f"{_stuck_frame(blocked)}); abandoning it (daemon thread). Tasks left: {tasks}"
        )
    elif stuck:
        message = (
            f"{len(stuck)} task(s) ignored cancellation for {bound:g} s and were abandoned "
            f"at shutdown: {'; '.join(stuck)}"
        )
    else:
        return
    warnings.warn(f"synapse_sync: {message}", FacadeShutdownWarning, stacklevel=4)


async def _bounded(step: Callable[[], Awaitable[Any]], deadline: float, what: str) -> None:
    """Run one shutdown step by ``deadline``; a failure (even a synchronous one) is logged."""
    try:
        await asyncio.wait_for(step(), _remaining(deadline))
    except asyncio.TimeoutError:
        log.warning("synapse_sync shutdown: %s did not finish in time", what)
    except Exception:
        log.warning("synapse_sync shutdown: %s failed", what, exc_info=True)


async def _stop_executor(executor: LoopExecutor, deadline: float) -> None:
    # Not loop.shutdown_default_executor(): it joins from a new thread, and 3.12 refuses
    # to start threads at interpreter exit.
    executor.shutdown(wait=False, cancel_futures=True)
    workers = executor.threads
    # Threads have no awaitable "joined" signal; poll them (only at shutdown).
    while any(t.is_alive() for t in workers) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if any(t.is_alive() for t in workers):
        log.warning("synapse_sync shutdown: executor jobs still running were left behind")


async def drain(
    deadline: float,
    closers: list[weakref.ref[SupportsAclose]],
    executor: LoopExecutor,
) -> list[str]:
    """Cancel and await every other task, close resources, finalize; return what is stuck.

    ``executor`` is the loop's default executor.
    """
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks(loop) if t is not me]
    for task in tasks:
        task.cancel()
    stuck: list[asyncio.Task[Any]] = []
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=_remaining(deadline))
        stuck = sorted(pending, key=lambda t: t.get_name())
    for ref in reversed(closers):
        resource = ref()
        if resource is not None:
            await _bounded(resource.aclose, deadline, f"{describe(type(resource))}.aclose()")
    await _bounded(loop.shutdown_asyncgens, deadline, "shutdown_asyncgens()")
    await _stop_executor(executor, deadline)
    stuck = [t for t in stuck if not t.done()]
    silence(stuck)  # reported by the caller's warning instead
    return [describe_task(t) for t in stuck]
