"""The demo job lists every task in order, and its concurrent listing really overlaps pages."""

from __future__ import annotations

from typing import Any

import pytest

from synapse_async import demo
from synapse_async.emulator import Emulator

pytestmark = pytest.mark.anyio


async def test_demo_lists_every_task_with_pages_in_flight_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Emulator] = []

    class Recorded(Emulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(demo, "Emulator", Recorded)
    figures = await demo.run_demo(tasks=1200, latency_ms=10, page_size=50)
    assert figures["tasks"] == 1200
    out = capsys.readouterr().out
    assert "listed 1200 tasks" in out and "in server order: True" in out
    # The concurrent listing had several of its 24 pages in flight at once (the sequential
    # one has one at a time), measured by the emulator, not by a clock.
    (emu,) = started
    assert emu.concurrency["peak_in_flight"] > 2, emu.concurrency
    # project + 24 pages concurrently + 24 pages one by one: every request counted once
    assert emu.counters["requests"] == 1 + 24 + 24
