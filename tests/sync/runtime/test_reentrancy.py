"""Blocking calls made on the loop thread fail fast instead of deadlocking."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from synapse_sync import FacadeReentrancyError, Portal
from tests.helpers import tasks_created_on


async def add(a: int, b: int) -> int:
    return a + b


def test_sync_call_on_the_loop_thread_raises_before_scheduling_anything(portal: Portal) -> None:
    ran: list[int] = []

    async def add_recorded(a: int, b: int) -> int:
        ran.append(a + b)
        return a + b

    async def reenter() -> str:
        try:
            portal.call(add_recorded, 1, 2)
        except FacadeReentrancyError as exc:
            assert "add_recorded(...)` instead" in str(exc)  # names what to await instead
            return "raised"
        return "no error"

    portal.call(add, 0, 0)  # the loop runs: only the call under test creates tasks below
    with tasks_created_on(portal.loop) as created:
        assert portal.call(reenter) == "raised"
    assert len(created) == 1  # the outer call only: the refused call scheduled nothing
    assert ran == []


def test_every_blocking_entry_point_is_guarded(portal: Portal) -> None:
    async def gen() -> AsyncIterator[int]:
        yield 1

    async def double(a: int) -> int:
        return 2 * a

    entries: list[Callable[[], object]] = [
        lambda: portal.call_with_timeout(1, add, 1, 2),
        lambda: portal.map(double, []),
        lambda: next(portal.iterate(gen)),
        lambda: portal.close(),
    ]

    async def try_all() -> list[str]:
        names = []
        for entry in entries:
            try:
                entry()
            except FacadeReentrancyError as exc:
                names.append(type(exc).__name__)
        return names

    assert portal.call(try_all) == ["FacadeReentrancyError"] * len(entries)


def test_progress_callback_calling_the_facade_gets_the_error(portal: Portal) -> None:
    """A sync progress callback invoked on the loop that calls back into the facade."""

    ran: list[int] = []
    reported: list[int] = []

    async def add_recorded(a: int, b: int) -> int:
        ran.append(a + b)
        return a + b

    def on_progress(done: int) -> None:
        reported.append(done)
        portal.call(add_recorded, done, 0)  # what a naive user callback might do

    async def upload(progress: Callable[[int], None]) -> None:
        for chunk in range(3):
            await asyncio.sleep(0)
            progress(chunk)

    with pytest.raises(FacadeReentrancyError):  # raised, not deadlocked (else pytest-timeout)
        portal.call(upload, on_progress)
    assert reported == [0] and ran == []  # the first callback's call failed without running


def test_logging_handler_calling_the_facade_does_not_hang(portal: Portal) -> None:
    seen: list[type[BaseException]] = []

    class Shipper(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                portal.call(add, 1, 1)  # e.g. a handler shipping logs through the SDK
            except FacadeReentrancyError as exc:
                seen.append(type(exc))

    logger = logging.getLogger("tests.sync.runtime.shipper")
    handler = Shipper()
    logger.addHandler(handler)
    try:

        async def logs() -> str:
            logger.warning("inside the facade loop")
            return "done"

        portal.call(add, 0, 0)
        logger.warning("outside the loop")  # from the test thread: the handler's call works
        assert seen == []
        assert portal.call(logs) == "done"  # a deadlock would hang here (pytest-timeout)
        assert seen == [FacadeReentrancyError]
    finally:
        logger.removeHandler(handler)


def test_finalizer_running_on_the_loop_thread_gets_the_error(portal: Portal) -> None:
    seen: list[str] = []

    class Resource:
        def __del__(self) -> None:
            try:
                portal.call(add, 1, 1)  # e.g. a sync close() in a finalizer
            except FacadeReentrancyError:
                seen.append("reentrancy")

    async def drop() -> None:
        r = Resource()
        del r  # freed on the loop thread

    portal.call(drop)
    assert seen == ["reentrancy"]


def test_future_result_on_the_loop_thread_raises(portal: Portal) -> None:
    async def wait_on_own_future() -> str:
        future = portal.submit(asyncio.sleep, 0.05)  # submitting does not block: allowed
        try:
            future.result()
        except FacadeReentrancyError:
            await asyncio.sleep(0.1)
            return "raised"
        return "no error"

    assert portal.call(wait_on_own_future) == "raised"
