"""Concurrent listing against the emulator: order, completeness, faults, growth, cleanup."""

from __future__ import annotations

import pytest

from synapse_async import (
    AsyncClient,
    InvalidInputError,
    NotFoundError,
    PageFetchError,
    RetryPolicy,
    Task,
    UnexpectedResponseError,
)
from synapse_async.emulator import Emulator, Faults
from tests.helpers import make_client, tasks_created

pytestmark = pytest.mark.anyio


def seed(emu: Emulator, n: int) -> int:
    project = emu.seed.project(name="listing")
    emu.seed.tasks(project["id"], n)
    return int(project["id"])


async def ids_of(client: AsyncClient, project: int, **kw: object) -> list[int]:
    return [t.id async for t in client.tasks.list(project=project, **kw)]  # type: ignore[arg-type]


async def test_every_item_once_in_server_order(emulator: Emulator, client: AsyncClient) -> None:
    project = seed(emulator, 2345)
    ids = await ids_of(client, project, page_size=100)
    assert len(ids) == 2345
    assert ids == sorted(ids) and len(set(ids)) == 2345
    tasks = [t async for t in client.tasks.list(project=project, page_size=1000)]
    assert all(isinstance(t, Task) and t.project == project for t in tasks)
    assert [t.id for t in tasks] == ids


async def test_other_projects_filtered_out(emulator: Emulator, client: AsyncClient) -> None:
    a = seed(emulator, 30)
    b = seed(emulator, 40)
    assert len(await ids_of(client, a, page_size=7)) == 30
    assert len(await ids_of(client, b, page_size=7)) == 40


async def peak_while_listing(emu: Emulator, client: AsyncClient, project: int, **kw: object) -> int:
    """The most listing requests the emulator had in flight at once during one listing."""
    emu.reset_counters()
    assert len(await ids_of(client, project, **kw)) == emu.store.count("tasks", project=project)
    return emu.concurrency["peak_in_flight"]


async def test_pages_are_fetched_concurrently(emulator: Emulator, client: AsyncClient) -> None:
    project = seed(emulator, 2000)
    # the latency holds each request open long enough for the next ones to overlap it
    emulator.set_faults(Faults(latency=0.05))
    peak = await peak_while_listing(emulator, client, project, page_size=100)
    assert 1 < peak <= client.config.page_concurrency, peak


@pytest.mark.parametrize("cap", [1, 2, 5])
async def test_pages_in_flight_never_exceed_page_concurrency(emulator: Emulator, cap: int) -> None:
    project = seed(emulator, 1500)
    emulator.set_faults(Faults(latency=0.05))
    async with make_client(emulator, page_concurrency=cap) as c:
        peak = await peak_while_listing(emulator, c, project, page_size=50)  # 30 pages
    # the cap is reached (the pages really overlap) and never exceeded
    assert peak == cap, peak


async def test_empty_collection_ends_after_one_request(
    emulator: Emulator, client: AsyncClient
) -> None:
    project = emulator.seed.project(name="empty")
    before = emulator.counters["requests"]
    assert await ids_of(client, project["id"]) == []
    assert emulator.counters["requests"] - before == 1


@pytest.mark.parametrize("bad", [0, 1001, -3, 2.5, True])
async def test_bad_page_size_rejected_before_any_request(client: AsyncClient, bad: object) -> None:
    with pytest.raises(InvalidInputError, match=f"page_size.*got {bad!r}"):
        client.tasks.list(project=1, page_size=bad)  # type: ignore[arg-type]


async def test_server_rejects_out_of_range_page_size(
    emulator: Emulator, client: AsyncClient
) -> None:
    from synapse_async import ValidationError

    with pytest.raises(ValidationError, match="page_size"):
        await client._http.request("GET", "sdk/tasks/", params={"page_size": 5000})


async def test_one_page_with_count_and_page_by_page(
    emulator: Emulator, client: AsyncClient
) -> None:
    project = seed(emulator, 250)
    listing = client.tasks.list(project=project, page_size=100)
    page = await listing.page(3)
    assert page.count == 250 and page.number == 3 and len(page.items) == 50
    assert page.next_url is None
    sizes = [len(p.items) async for p in listing.pages()]
    assert sizes == [100, 100, 50]
    with pytest.raises(NotFoundError):
        await listing.page(4)
    with pytest.raises(InvalidInputError, match="page number"):
        await listing.page(0)


async def test_full_listing_under_ten_percent_faults(emulator: Emulator) -> None:
    project = seed(emulator, 3000)
    emulator.set_faults(
        Faults(
            error_rate=0.07,
            rate_limit_rate=0.03,
            retry_after=0.01,
            error_statuses=(502, 503),
            seed=11,
        )
    )
    async with make_client(emulator) as c:
        ids = await ids_of(c, project, page_size=50)
    assert len(ids) == 3000 and ids == sorted(set(ids))
    assert emulator.counters["injected_errors"] > 0 and emulator.counters["injected_429"] > 0


async def test_page_that_keeps_failing_is_named(emulator: Emulator) -> None:
    project = seed(emulator, 500)
    async with make_client(emulator, retry=RetryPolicy(max_retries=2, initial_delay=0.01)) as c:
        listing = c.tasks.list(project=project, page_size=100).__aiter__()
        first = await listing.__anext__()
        assert first.project == project
        emulator.set_faults(Faults(error_rate=1.0, error_statuses=(503,)))
        with pytest.raises(PageFetchError, match="page 2 of sdk/tasks/") as info:
            async for _ in listing:
                pass
    assert info.value.page == 2
    assert "503" in str(info.value.__cause__)


async def test_an_unreadable_item_names_its_page(emulator: Emulator) -> None:
    project = seed(emulator, 250)
    bad_id = emulator.store.ids("tasks", project=project)[150]
    emulator.store.update("tasks", bad_id, {"created": "not a timestamp"})
    async with make_client(emulator) as c:
        seen = 0
        with pytest.raises(
            UnexpectedResponseError, match=r"sdk/tasks/: page 2 holds an item .*Task\.created"
        ) as info:
            async for _ in c.tasks.list(project=project, page_size=100):
                seen += 1
    assert seen == 100  # page 1 was delivered whole, nothing of page 2
    assert isinstance(info.value.__cause__, UnexpectedResponseError)


async def test_items_inserted_while_listing_do_not_loop(
    emulator: Emulator, client: AsyncClient
) -> None:
    project = seed(emulator, 300)
    seen = []
    async for task in client.tasks.list(project=project, page_size=20):
        seen.append(task.id)
        if len(seen) in (1, 150):
            emulator.seed.tasks(project, 100)
    assert seen == sorted(set(seen))
    assert 300 <= len(seen) <= 500


async def test_items_deleted_while_listing_end_cleanly(
    emulator: Emulator, client: AsyncClient
) -> None:
    project = seed(emulator, 300)
    seen = []
    async for task in client.tasks.list(project=project, page_size=20):
        seen.append(task.id)
        if len(seen) == 1:
            for tid in range(task.id + 100, task.id + 300):
                emulator.store.delete("tasks", tid)
    assert len(seen) == len(set(seen)) and 20 <= len(seen) <= 300


async def test_cursor_mode_followed_sequentially(emulator: Emulator, client: AsyncClient) -> None:
    project = seed(emulator, 333)
    listing = client.tasks.list(project=project, page_size=50, pagination="cursor")
    first = await listing.page(1)
    assert first.count is None and first.next_url
    ids = [t.id async for t in listing]
    assert len(ids) == 333 and ids == sorted(set(ids))


async def test_break_cancels_in_flight_pages(emulator: Emulator, client: AsyncClient) -> None:
    project = seed(emulator, 2000)
    emulator.set_faults(Faults(latency=0.05))
    with tasks_created() as created:
        gen = client.tasks.list(project=project, page_size=10).__aiter__()
        seen = 0
        async for _task in gen:
            seen += 1
            if seen == 25:  # page 3: the window of later pages is out
                break
        pending_at_break = [t for t in created if not t.done()]
        await gen.aclose()  # type: ignore[attr-defined]
    # pages were in flight when the consumer stopped, and closing the listing ended all of
    # them (cancelled, not left running against the server)
    assert pending_at_break, "no page was in flight at the break: the test checks nothing"
    assert [t for t in created if not t.done()] == []
    assert all(t.cancelled() for t in pending_at_break)


async def test_listing_other_resources(emulator: Emulator, client: AsyncClient) -> None:
    for i in range(12):
        emulator.seed.project(name=f"p{i}")
    names = [p.name async for p in client.projects.list(page_size=5)]
    assert len(names) == 12 and names[-1] == "p11"
