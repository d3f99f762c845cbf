"""map/gather: many coroutines in one hop; first failure cancels and awaits the rest."""

from __future__ import annotations

import asyncio
import time

import pytest

from synapse_sync import FacadeTimeoutError, Portal


async def nap(x: int) -> int:
    await asyncio.sleep(0.05)
    return x * 2


def test_map_runs_100_calls_of_50ms_in_one_hop(portal: Portal) -> None:
    portal.call(nap, 0)
    start = time.monotonic()
    results = portal.map(nap, range(100))
    assert time.monotonic() - start < 0.5
    assert results == [x * 2 for x in range(100)]


def test_map_limit_caps_concurrency(portal: Portal) -> None:
    running = peak = 0

    async def track(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1
        return x

    assert portal.map(track, range(30), limit=4) == list(range(30))
    assert peak == 4


def test_first_failure_cancels_the_rest_and_is_reraised(portal: Portal) -> None:
    cancelled: list[int] = []
    boom = ValueError("item 3")

    async def work(x: int) -> int:
        if x == 3:
            await asyncio.sleep(0.01)
            raise boom
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    with pytest.raises(ValueError) as info:
        portal.map(work, range(6))
    assert info.value is boom
    assert sorted(cancelled) == [0, 1, 2, 4, 5]


def test_return_exceptions(portal: Portal) -> None:
    async def maybe(x: int) -> int:
        if x % 2:
            raise KeyError(x)
        return x

    out = portal.map(maybe, range(4), return_exceptions=True)
    assert out[0] == 0 and out[2] == 2
    assert isinstance(out[1], KeyError) and isinstance(out[3], KeyError)


def test_map_timeout_cancels_every_child(portal: Portal) -> None:
    cancelled = 0

    async def slow(x: int) -> int:
        nonlocal cancelled
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return x

    with pytest.raises(FacadeTimeoutError):
        portal.map(slow, range(10), timeout=0.1)
    assert cancelled == 10


def test_gather(portal: Portal) -> None:
    assert portal.gather(lambda: nap(1), lambda: nap(2)) == [2, 4]
    assert portal.map(nap, []) == []
