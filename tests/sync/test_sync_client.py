"""The generated sync client against a real emulator, from plain blocking code."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from synapse_async import NotFoundError, Task, UnexpectedResponseError, ValidationError
from synapse_sync import FacadeReentrancyError, get_portal
from synapse_sync.client import Client
from synapse_sync.compat import BackendClient
from tests.fixtures import ThreadedEmulator
from tests.helpers import Spawn, tasks_created_on


def _seed(emu: ThreadedEmulator, n: int) -> int:
    project = emu.run(emu.emu.seed.project, "sync")
    emu.run(emu.emu.seed.tasks, project["id"], n)
    return int(project["id"])


def test_list_get_create_and_errors(threaded_emulator: ThreadedEmulator) -> None:
    pid = _seed(threaded_emulator, 1234)
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        tasks = list(client.tasks.list(project=pid, page_size=100))
        assert len(tasks) == 1234 and all(isinstance(t, Task) for t in tasks)
        assert [t.id for t in tasks] == sorted(t.id for t in tasks)
        page = client.tasks.list(project=pid).page(2)
        assert page.count == 1234 and len(page.items) == 100
        assert client.tasks.get(tasks[0].id) == tasks[0]
        project = client.projects.create("made from sync code", labels=["a"])
        assert project.name == "made from sync code" and project.state == "draft"
        with pytest.raises(NotFoundError) as info:
            client.tasks.get(10**7)
        assert type(info.value) is NotFoundError  # the original exception, not a wrapper
        with pytest.raises(ValidationError):
            client.tasks.create(pid, [{"data_unit": 999999}])


def test_an_unreadable_item_ends_the_listing_where_the_async_one_does(
    threaded_emulator: ThreadedEmulator,
) -> None:
    pid = _seed(threaded_emulator, 250)
    store = threaded_emulator.emu.store
    bad_id = threaded_emulator.run(lambda: store.ids("tasks", project=pid))[150]
    threaded_emulator.run(store.update, "tasks", bad_id, {"created": "not a timestamp"})
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        seen = 0
        listing = iter(client.tasks.list(project=pid, page_size=100))
        with pytest.raises(UnexpectedResponseError, match=r"page 2 holds an item .*Task\.created"):
            for _ in listing:
                seen += 1
        assert seen == 100  # page 1 whole, nothing of page 2 (decoded here, in this thread)
        assert list(listing) == []  # the listing is over, like a generator that raised


def test_break_closes_the_async_generator_before_the_next_statement(
    threaded_emulator: ThreadedEmulator,
) -> None:
    pid = _seed(threaded_emulator, 3000)
    portal = get_portal()
    release = threading.Event()
    gated: list[bool] = []

    def hold_the_server(spawn: Spawn) -> None:
        # The first page fetch (a task started by the producer task, which a facade call
        # started) stops the emulator's loop: the listing's fetches are surely in flight at
        # the `break`.
        creator, _ = spawn
        if gated or creator is None or all(t is not creator for c, t in spawned if c):
            return
        gated.append(True)
        threaded_emulator.loop.call_soon_threadsafe(release.wait, 30)

    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        seen = []
        try:
            with tasks_created_on(portal.loop, hold_the_server) as spawned:
                for task in client.tasks.list(project=pid, page_size=10):
                    seen.append(task.id)
                    if len(seen) == 2:
                        break
                # The next statement: nothing the listing started may still be running.
                pending = portal.call(_pending, [t for _, t in spawned])
        finally:
            release.set()
    assert len(seen) == 2
    listing = [t for creator, t in spawned if creator is not None]  # producer + page fetches
    assert len(listing) >= 3 and gated
    assert pending == []
    assert any(t.cancelled() for t in listing)  # fetches in flight were cancelled, not awaited


async def _pending(tasks: list[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The tasks of ``tasks`` not finished (read on the loop that runs them)."""
    me = asyncio.current_task()
    return [t for t in tasks if t is not me and not t.done()]


def test_many_threads_share_one_loop(threaded_emulator: ThreadedEmulator) -> None:
    pid = _seed(threaded_emulator, 50)
    errors: list[BaseException] = []
    loops_before = {t.ident for t in threading.enumerate() if t.name == "synapse-sync-loop"}
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        ids = [t.id for t in client.tasks.list(project=pid)]

        def worker(k: int) -> None:
            try:
                for i in range(40):
                    if i % 4 == 0:
                        assert client.projects.get(pid).id == pid
                    elif i % 4 == 1:
                        assert client.tasks.get(ids[(k + i) % 50]).id == ids[(k + i) % 50]
                    elif i % 4 == 2:
                        assert client.tasks.list(project=pid, page_size=20).page(1).count == 50
                    else:
                        with pytest.raises(NotFoundError):
                            client.tasks.get(10**6 + k)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert errors == []
    loops_after = {t.ident for t in threading.enumerate() if t.name == "synapse-sync-loop"}
    loop_thread = get_portal().thread
    assert loop_thread is not None and loop_thread.ident in loops_after
    assert loops_after - loops_before <= {loop_thread.ident}  # no extra loop started


def test_progress_callback_that_calls_the_facade_gets_reentrancy_error(
    threaded_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    from synapse_async.emulator import Faults

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (6 * 2**20))
    calls = 0
    seen: list[BaseException] = []
    # Count only project requests (no fault is injected): the refused call must send none.
    threaded_emulator.run(threaded_emulator.emu.set_faults, Faults(paths="/projects/"))
    threaded_emulator.run(threaded_emulator.emu.reset_counters)
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:

        def on_progress(done: int, total: int) -> None:
            nonlocal calls
            calls += 1
            try:
                client.projects.get(1)
            except FacadeReentrancyError as exc:
                seen.append(exc)

        result = client.uploads.upload_file(path, part_size=5 * 2**20, on_progress=on_progress)
    assert result.size == 6 * 2**20
    assert calls >= 1 and len(seen) == calls  # every call refused (a deadlock would hang)
    assert "await" in str(seen[0])
    assert threaded_emulator.run(lambda: threaded_emulator.emu.counters["requests"]) == 0


def test_compat_script_runs_unchanged(threaded_emulator: ThreadedEmulator) -> None:
    pid = _seed(threaded_emulator, 250)
    # A script written for the official client: only the import line differs.
    client = BackendClient(threaded_emulator.url, threaded_emulator.access_token)
    project = client.get_project(pid)
    first = client.list_tasks(params={"project": pid})
    assert isinstance(first, dict) and first["count"] == 250
    listing = client.list_tasks(params={"project": pid}, list_all=True)
    assert isinstance(listing, tuple)
    tasks, count = listing
    ids = [t["id"] for t in tasks]
    assert project["id"] == pid and count == 250 and len(ids) == 250
    client.close()


def test_call_timeout_cancels_a_slow_call(threaded_emulator: ThreadedEmulator) -> None:
    from synapse_async.emulator import Faults
    from synapse_sync import FacadeTimeoutError, call_timeout

    pid = _seed(threaded_emulator, 5)
    portal = get_portal()
    # The answer would take 60 s: an error within the test's run means the call gave up.
    threaded_emulator.run(threaded_emulator.emu.set_faults, Faults(latency=60.0))
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        with (
            tasks_created_on(portal.loop) as spawned,
            call_timeout(0.2),
            pytest.raises(FacadeTimeoutError) as info,
        ):
            client.projects.get(pid)
        assert "was cancelled" in str(info.value) and "still running" not in str(info.value)
        calls = [t for creator, t in spawned if creator is None]
        assert len(calls) == 1 and calls[0].cancelled()  # the request task, ended on the loop
        threaded_emulator.run(threaded_emulator.emu.set_faults, Faults())
        assert client.projects.get(pid).id == pid  # the scope ended: no bound any more
