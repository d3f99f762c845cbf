"""Listings against the emulator when its count lies (the pages past the end are empty)."""

from __future__ import annotations

from typing import Any

import pytest

from synapse_async import AsyncClient
from synapse_async.emulator import Emulator

pytestmark = pytest.mark.anyio


async def test_a_listing_whose_count_lies_ends_at_the_first_empty_page(
    emulator: Emulator, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = emulator.seed.project("p")["id"]
    emulator.seed.tasks(project_id, 30)
    store = emulator.store
    real_count = store.count

    def lying_count(name: str, **filters: Any) -> int:
        return 10**7 if name == "tasks" else real_count(name, **filters)

    monkeypatch.setattr(store, "count", lying_count)
    before = emulator.counters["requests"]
    ids = [t.id async for t in client.tasks.list(project=project_id, page_size=10)]
    assert len(ids) == 30 == len(set(ids))
    # pages 1-4 (the 4th is empty), plus at most one window of pages in flight
    assert emulator.counters["requests"] - before <= 4 + client.config.page_concurrency
