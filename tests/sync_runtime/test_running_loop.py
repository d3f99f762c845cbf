"""Calls from a thread that already runs an event loop (Jupyter, a web handler)."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from synapse_sync import FacadeRunningLoopError, FacadeRunningLoopWarning, Portal


async def add(a: int, b: int) -> int:
    return a + b


def _under_running_loop(portal: Portal) -> tuple[list[int], list[warnings.WarningMessage], int]:
    async def main() -> tuple[list[int], list[warnings.WarningMessage], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        results = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(3):
                results.append(portal.call(add, i, 1))  # one call site, three calls
            results.append(portal.call(add, 10, 1))  # a second call site
        task.cancel()
        return results, caught, ticks

    return asyncio.run(main())


def test_call_inside_asyncio_run_works_and_warns_once_per_call_site(portal: Portal) -> None:
    results, caught, ticks = _under_running_loop(portal)
    assert results == [1, 2, 3, 11]
    ours = [w for w in caught if issubclass(w.category, FacadeRunningLoopWarning)]
    assert len(ours) == 2
    assert {w.filename for w in ours} == {__file__}  # points at the user's line
    assert "await add(...)" in str(ours[0].message)
    assert ticks > 0


def test_raise_policy(portal: Portal) -> None:
    portal.running_loop_policy = "raise"
    with pytest.raises(FacadeRunningLoopError):
        _under_running_loop(portal)


def test_ignore_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNAPSE_SYNC_RUNNING_LOOP", "ignore")
    with Portal() as p:
        results, caught, _ = _under_running_loop(p)
    assert results == [1, 2, 3, 11]
    assert not [w for w in caught if issubclass(w.category, FacadeRunningLoopWarning)]


def test_bad_policy_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNAPSE_SYNC_RUNNING_LOOP", "sometimes")
    with pytest.raises(ValueError):
        Portal()
