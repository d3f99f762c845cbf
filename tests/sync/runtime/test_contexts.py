"""Async context managers as sync ones."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import pytest

from synapse_sync import Portal


class Session:
    def __init__(self, suppress: bool = False) -> None:
        self.suppress = suppress
        self.exit_seen: tuple[type[BaseException] | None, BaseException | None] | None = None
        self.threads: list[str] = []

    async def __aenter__(self) -> str:
        self.threads.append(threading.current_thread().name)
        return "session"

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> bool:
        self.threads.append(threading.current_thread().name)
        self.exit_seen = (et, ev)
        return self.suppress


def test_enter_and_exit_run_on_the_loop(portal: Portal) -> None:
    s = Session()
    with portal.context(lambda: s) as value:
        assert value == "session"
    assert s.exit_seen == (None, None)
    assert s.threads == ["synapse-sync-loop"] * 2


def test_body_exception_reaches_aexit_and_propagates(portal: Portal) -> None:
    s = Session()
    err = ValueError("body")
    with pytest.raises(ValueError) as info, portal.context(lambda: s):
        raise err
    assert info.value is err
    assert s.exit_seen == (ValueError, err)


def test_true_from_aexit_suppresses(portal: Portal) -> None:
    s = Session(suppress=True)
    with portal.context(lambda: s):
        raise ValueError("suppressed")
    assert s.exit_seen is not None and s.exit_seen[0] is ValueError


def test_keyboard_interrupt_in_the_body_still_runs_aexit(portal: Portal) -> None:
    s = Session()
    with pytest.raises(KeyboardInterrupt), portal.context(lambda: s):
        raise KeyboardInterrupt
    assert s.exit_seen is not None and s.exit_seen[0] is KeyboardInterrupt
    assert portal.call(_noop) is None  # the loop is fine


async def _noop() -> None:
    return None


def test_asynccontextmanager_cleanup_runs_on_the_loop(portal: Portal) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def opened(name: str) -> AsyncIterator[str]:
        events.append("open")
        try:
            yield name
        finally:
            events.append(f"close@{threading.current_thread().name}")

    with pytest.raises(RuntimeError), portal.context(opened, "db") as name:
        assert name == "db"
        raise RuntimeError("fail")
    assert events == ["open", "close@synapse-sync-loop"]


def test_single_use(portal: Portal) -> None:
    cm = portal.context(lambda: Session())
    with cm:
        pass
    with pytest.raises(RuntimeError), cm:
        pass
