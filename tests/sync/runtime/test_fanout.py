"""map/gather: many coroutines in one hop; first failure cancels and awaits the rest."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synapse_sync import FacadeTimeoutError, Portal


async def nap(x: int) -> int:
    await asyncio.sleep(0.05)
    return x * 2


def test_map_runs_100_calls_concurrently_in_one_hop(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = 0
    run = Portal._run

    def counting(self: Portal, *args: Any) -> Any:
        nonlocal hops
        hops += 1
        return run(self, *args)

    monkeypatch.setattr(Portal, "_run", counting)
    running = peak = 0
    all_started: asyncio.Event | None = None

    async def meet(x: int) -> int:
        # Each call waits until all 100 have started: they can only finish if they overlap.
        nonlocal running, peak, all_started
        if all_started is None:
            all_started = asyncio.Event()
        running += 1
        peak = max(peak, running)
        if running == 100:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 30)  # a hang guard, not a speed claim
        running -= 1
        return x * 2

    results = portal.map(meet, range(100))
    assert results == [x * 2 for x in range(100)]
    assert peak == 100 and hops == 1


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
