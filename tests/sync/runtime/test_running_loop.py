"""Calls from a thread that already runs an event loop (Jupyter, a web handler)."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from synapse_sync import FacadeRunningLoopError, FacadeRunningLoopWarning, Portal, _calls
from synapse_sync._calls import public_name


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


@pytest.fixture(autouse=True)
def _fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warning is once per process: let each test see its first time."""
    monkeypatch.setattr(_calls, "_warned_running_loop", False)


def test_call_inside_asyncio_run_works_and_warns_once_per_process(portal: Portal) -> None:
    results, caught, ticks = _under_running_loop(portal)
    assert results == [1, 2, 3, 11]
    ours = [w for w in caught if issubclass(w.category, FacadeRunningLoopWarning)]
    assert len(ours) == 1  # two call sites, four calls: one warning
    assert ours[0].filename == __file__  # points at the user's line
    assert "async for task in client.tasks.list(...)" in str(ours[0].message)
    assert ticks > 0
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        with Portal() as other:  # another portal in the same process: still silent
            _under_running_loop(other)
    assert not [w for w in again if issubclass(w.category, FacadeRunningLoopWarning)]


def test_warning_names_the_public_async_method() -> None:
    from synapse_async import AsyncClient

    aio = AsyncClient("http://127.0.0.1:9/", access_token="t")
    assert public_name(aio.tasks.get) == "client.tasks.get"
    assert public_name(aio.aclose) == "client.aclose"
    assert public_name(add) == "add"


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
