"""Close, shutdown bounds and a dying loop thread (in-process)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable

import pytest

from synapse_sync import (
    FacadeClosedError,
    FacadeCrashedError,
    FacadeShutdownWarning,
    Portal,
    State,
    get_portal,
)
from tests.sync.runtime.conftest import loop_threads


async def add(a: int, b: int) -> int:
    return a + b


async def double(a: int) -> int:
    return 2 * a


def test_default_portal_is_shared_and_lazy() -> None:
    assert get_portal() is get_portal()
    assert Portal().thread is None


def test_close_without_use_never_starts_a_thread() -> None:
    before = len(loop_threads())
    p = Portal()
    p.close()
    assert p.closed and p.thread is None and len(loop_threads()) == before
    with pytest.raises(FacadeClosedError):
        p.call(add, 1, 2)


def test_calls_after_close_raise_closed_and_close_is_idempotent() -> None:
    with Portal() as p:
        assert p.call(add, 1, 2) == 3
        thread = p.thread
    assert thread is not None and not thread.is_alive()
    p.close()
    for attempt in (
        lambda: p.call(add, 1, 2),
        lambda: p.submit(add, 1, 2),
        lambda: p.map(double, []),
        lambda: p.loop,
    ):
        with pytest.raises(FacadeClosedError):
            attempt()


def test_close_cancels_a_call_in_flight_in_another_thread() -> None:
    p = Portal()
    seen: list[str] = []
    errors: list[BaseException] = []
    started = threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    def caller() -> None:
        try:
            p.call(slow)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=caller)
    t.start()
    assert started.wait(5)
    p.close()
    t.join(5)
    assert seen == ["cancelled"]
    assert len(errors) == 1 and isinstance(errors[0], FacadeClosedError)


def test_close_is_bounded_when_a_task_ignores_cancellation() -> None:
    p = Portal(shutdown_timeout=0.5)
    started, release = threading.Event(), threading.Event()
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        started.set()
        while not release.is_set():  # released only after close() returned
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:  # ignores cancellation
                cancels += 1

    p.submit(stubborn)
    assert started.wait(30)
    with pytest.warns(FacadeShutdownWarning, match="stubborn"):
        p.close()  # returns although the task never ends: bounded (else pytest-timeout)
    assert cancels >= 1 and not release.is_set()
    assert p.thread is not None and not p.thread.is_alive()
    release.set()


def test_close_abandons_a_blocked_loop_thread_with_a_warning() -> None:
    p = Portal(shutdown_timeout=0.3)
    started, release = threading.Event(), threading.Event()

    async def blocks_the_loop() -> None:
        started.set()
        release.wait(30)  # the bug under test: blocks the loop (until the test releases it)

    future = p.submit(blocks_the_loop)
    assert started.wait(30)
    with pytest.warns(FacadeShutdownWarning, match="still blocked"):
        p.close()
    assert p.thread is not None and p.thread.is_alive()  # abandoned, not waited for
    with pytest.raises(FacadeClosedError):
        future.result(30)
    release.set()
    p.thread.join(30)
    assert not p.thread.is_alive()


def test_shutdown_closes_registered_resources_and_async_generators() -> None:
    events: list[str] = []

    class Client:
        async def aclose(self) -> None:
            events.append(f"aclose@{threading.current_thread().name}")

    async def gen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            events.append("agen finalized")

    holder: list[AsyncIterator[int]] = []

    async def start_gen() -> int:
        g = gen()
        holder.append(g)  # left suspended: only shutdown_asyncgens() can finalize it
        return await g.__anext__()

    p = Portal()
    client = Client()
    p.close_on_shutdown(client)
    assert p.call(start_gen) == 1
    p.close()
    assert events == ["aclose@synapse-sync-loop", "agen finalized"]


def test_loop_death_fails_the_call_in_flight() -> None:
    p = Portal()
    started = threading.Semaphore(0)

    async def slow() -> None:
        started.release()
        await asyncio.Event().wait()  # never ends by itself

    def kill() -> None:
        raise SystemExit("injected into the loop")

    future = p.submit(slow)
    errors: list[BaseException] = []

    def caller() -> None:
        try:
            p.call(slow)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=caller)
    t.start()
    assert started.acquire(timeout=30) and started.acquire(timeout=30)  # both calls running
    p.loop.call_soon_threadsafe(kill)
    t.join(30)  # a hang guard: the call never ends unless the crash is noticed
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], FacadeCrashedError)
    assert isinstance(errors[0].__cause__, SystemExit)
    with pytest.raises(FacadeCrashedError):
        future.result(30)
    ran: list[int] = []

    async def record() -> None:
        ran.append(1)

    with pytest.raises(FacadeCrashedError) as info:
        p.call(record)  # later calls fail too, without running
    assert ran == []
    assert isinstance(info.value.__cause__, SystemExit)
    p.close()
    with pytest.raises(FacadeClosedError):
        p.call(add, 1, 2)


def test_loop_death_by_keyboard_interrupt_fails_a_waiting_iterator() -> None:
    p = Portal()

    async def slow_source() -> AsyncIterator[int]:
        yield 1
        await asyncio.Event().wait()  # never ends by itself: only the crash ends next()
        yield 2

    it = p.iterate(slow_source)
    assert next(it) == 1

    def kill() -> None:
        raise KeyboardInterrupt

    threading.Timer(0.1, lambda: p.loop.call_soon_threadsafe(kill)).start()
    with pytest.raises(FacadeCrashedError) as info:
        next(it)
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    p.close()


def test_close_on_the_loop_thread_is_refused(portal: Portal) -> None:
    from synapse_sync import FacadeReentrancyError

    async def close_inside() -> str:
        try:
            portal.close()
        except FacadeReentrancyError:
            return "refused"
        return "closed"

    assert portal.call(close_inside) == "refused"


def test_an_aclose_that_raises_at_once_is_logged_and_shutdown_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []

    class Quiet:
        async def aclose(self) -> None:
            closed.append("quiet")

    class Broken:
        def aclose(self) -> Awaitable[None]:  # fails before returning an awaitable
            raise OSError("socket already gone")

    p = Portal()
    quiet, broken = Quiet(), Broken()
    p.close_on_shutdown(quiet)
    p.close_on_shutdown(broken)  # closed first (last registered)
    assert p.call(add, 1, 2) == 3
    with caplog.at_level("WARNING", logger="synapse_sync"):
        p.close()  # does not raise
    assert closed == ["quiet"]  # the later steps still ran
    assert p.state is State.CLOSED
    failed = [r for r in caplog.records if "Broken.aclose() failed" in r.getMessage()]
    assert len(failed) == 1 and isinstance(failed[0].exc_info[1], OSError)  # type: ignore[index]
