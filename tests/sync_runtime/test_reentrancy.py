"""Blocking calls made on the loop thread fail fast instead of deadlocking."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from synapse_sync import FacadeReentrancyError, Portal


async def add(a: int, b: int) -> int:
    return a + b


def test_sync_call_on_the_loop_thread_raises_within_10ms(portal: Portal) -> None:
    async def reenter() -> float:
        start = time.perf_counter()
        try:
            portal.call(add, 1, 2)
        except FacadeReentrancyError as exc:
            assert "await add(...)" in str(exc)  # names what to await instead
            return time.perf_counter() - start
        raise AssertionError("no error")

    assert portal.call(reenter) < 0.010


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

    def on_progress(done: int) -> None:
        portal.call(add, done, 0)  # what a naive user callback might do

    async def upload(progress: Callable[[int], None]) -> None:
        for chunk in range(3):
            await asyncio.sleep(0)
            progress(chunk)

    start = time.monotonic()
    with pytest.raises(FacadeReentrancyError):
        portal.call(upload, on_progress)
    assert time.monotonic() - start < 1


def test_logging_handler_calling_the_facade_does_not_hang(portal: Portal) -> None:
    seen: list[type[BaseException]] = []

    class Shipper(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                portal.call(add, 1, 1)  # e.g. a handler shipping logs through the SDK
            except FacadeReentrancyError as exc:
                seen.append(type(exc))

    logger = logging.getLogger("tests.sync_runtime.shipper")
    handler = Shipper()
    logger.addHandler(handler)
    try:
        async def logs() -> str:
            logger.warning("inside the facade loop")
            return "done"

        portal.call(add, 0, 0)
        logger.warning("outside the loop")  # from the test thread: the handler's call works
        assert seen == []
        start = time.monotonic()
        assert portal.call(logs) == "done"
        assert time.monotonic() - start < 1
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
