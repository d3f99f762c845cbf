"""Single calls: results, original exceptions, tracebacks, contextvars, timeouts, submit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import threading
import traceback
from collections.abc import Callable

import pytest

from synapse_sync import FacadeTimeoutError, Portal
from synapse_sync.errors import FacadeError


async def add(a: int, b: int = 0) -> int:
    return a + b


def test_call_returns_and_runs_on_the_named_loop_thread(portal: Portal) -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert portal.thread is None  # lazy: nothing started yet
    assert portal.call(add, 1, b=2) == 3
    assert portal.call(where) == "synapse-sync-loop"
    assert portal.thread is not None and portal.thread.daemon
    assert portal.loop.is_running()


def test_loop_bound_objects_survive_across_calls(portal: Portal) -> None:
    queue: asyncio.Queue[int] = portal.call(_make_queue)
    portal.call(queue.put, 7)
    assert portal.call(queue.get) == 7


async def _make_queue() -> asyncio.Queue[int]:
    return asyncio.Queue()


def test_original_exception_object_and_chain_are_reraised(portal: Portal) -> None:
    raised: list[BaseException] = []

    async def fail() -> None:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            err = ValueError("outer")
            raised.append(err)
            raise err from inner

    with pytest.raises(ValueError) as info:
        portal.call(fail)
    assert type(info.value) is ValueError
    assert info.value is raised[0]
    assert isinstance(info.value.__cause__, KeyError)
    assert isinstance(info.value.__context__, KeyError)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].name == "fail"  # ends in the user's frame
    assert all(f.name != "guarded" for f in frames)  # facade wrapper stripped


def test_stop_async_iteration_from_a_call_is_not_mapped(portal: Portal) -> None:
    stop = StopAsyncIteration("end")

    async def ends() -> None:
        raise stop

    with pytest.raises(StopAsyncIteration) as info:
        portal.call(ends)
    assert info.value is stop


def test_debug_mode_keeps_facade_frames() -> None:
    async def fail() -> None:
        raise ValueError("x")

    with Portal(debug=True) as p:
        assert p.loop.get_debug()
        with pytest.raises(ValueError) as info:
            p.call(fail)
    assert "guarded" in [f.name for f in traceback.extract_tb(info.value.__traceback__)]


def test_debug_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNAPSE_SYNC_DEBUG", "1")
    with Portal() as p:
        assert p.debug and p.loop.get_debug()


def test_synchronous_failure_of_the_function_is_reraised(portal: Portal) -> None:
    def not_async(x: int) -> asyncio.Future[int]:
        raise LookupError(x)

    with pytest.raises(LookupError):
        portal.call(not_async, 1)
    with pytest.raises(TypeError):
        portal.call(add)  # type: ignore[call-arg]


def test_keyboard_interrupt_raised_by_a_coroutine_reaches_the_caller(portal: Portal) -> None:
    async def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        portal.call(interrupt)
    assert portal.call(add, 1) == 1  # the loop survived


def test_cancellation_starting_inside_the_core_surfaces_as_cancelled_error(portal: Portal) -> None:
    async def self_cancel() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(1)

    with pytest.raises(asyncio.CancelledError):
        portal.call(self_cancel)


def test_contextvars_flow_in_but_not_back(portal: Portal) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def read_then_write() -> str:
        seen = var.get()
        var.set("inside")
        return seen

    token = var.set("caller")
    try:
        assert portal.call(read_then_write) == "caller"
        assert var.get() == "caller"
        assert portal.submit(read_then_write).result(5) == "caller"
    finally:
        var.reset(token)


def test_timeout_cancels_the_task_and_raises_facade_timeout(portal: Portal) -> None:
    seen: list[str] = []

    async def slow() -> None:
        seen.append("started")
        try:
            await asyncio.Event().wait()  # never ends by itself: only the timeout ends it
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    with pytest.raises(FacadeTimeoutError) as info:
        portal.call_with_timeout(0.1, slow)
    assert seen == ["started", "cancelled"]  # cleanup ran before the caller got the error
    assert "was cancelled" in str(info.value) and "still running" not in str(info.value)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, FacadeError)
    assert portal.call(_other_tasks) == 0


async def _other_tasks() -> int:
    return len(asyncio.all_tasks() - {asyncio.current_task()})


def test_user_timeout_error_is_not_a_facade_timeout(portal: Portal) -> None:
    async def own_timeout() -> None:
        raise TimeoutError("from the server")

    runs: list[Callable[[], None]] = [
        lambda: portal.call(own_timeout),
        lambda: portal.call_with_timeout(5, own_timeout),
    ]
    for run in runs:
        with pytest.raises(TimeoutError) as info:
            run()
        assert type(info.value) is TimeoutError
        assert not isinstance(info.value, FacadeTimeoutError)


def test_timeout_reports_a_task_that_ignores_cancellation() -> None:
    release = threading.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # ignores cancellation
                await asyncio.sleep(0.05)

    with Portal(cancel_grace=0.2, shutdown_timeout=1) as p:
        # The task never ends before `release`: getting the error at all shows the wait for
        # it is bounded by cancel_grace (a hang would trip pytest-timeout).
        with pytest.raises(FacadeTimeoutError, match="still running"):
            p.call_with_timeout(0.1, stubborn)
        release.set()


def test_timeout_none_and_invalid(portal: Portal) -> None:
    assert portal.call_with_timeout(None, add, 2) == 2
    with pytest.raises(ValueError):
        portal.call_with_timeout(-1, add, 2)


def test_submit_returns_a_concurrent_future(portal: Portal) -> None:
    future = portal.submit(add, 2, 3)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(5) == 5

    async def fail() -> None:
        raise ValueError("x")

    assert type(portal.submit(fail).exception(5)) is ValueError


def test_submit_cancel_cancels_the_task(portal: Portal) -> None:
    seen = threading.Event()
    started = threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            seen.set()
            raise

    future = portal.submit(slow)
    assert started.wait(5)
    assert future.cancel()
    assert seen.wait(2)
    assert future.cancelled()
