"""Jobs (get, list, update, console logs, live tail, wait) and logs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from synapse_async import (
    AsyncClient,
    InvalidInputError,
    Job,
    LogEntry,
    NotFoundError,
    TimeoutError,
    ValidationError,
    WaitTimeoutError,
)
from synapse_async.emulator import Emulator, Faults
from synapse_async.resources.jobs import sse_events

pytestmark = pytest.mark.anyio


async def test_job_get_list_update(emulator: Emulator, client: AsyncClient) -> None:
    ids = [
        emulator.seed.job(["a"], status=s)["id"]
        for s in ("running", "completed", "running", "failed")
    ]
    job = await client.jobs.get(ids[0])
    assert isinstance(job, Job) and job.status == "running" and not job.is_finished
    assert [j.id async for j in client.jobs.list(page_size=1)] == ids
    assert [j.id async for j in client.jobs.list(status="running")] == [ids[0], ids[2]]
    updated = await client.jobs.update(
        ids[0],
        status="running",
        progress_record={"step": 5, "total": 100},
        metrics_record={"loss": 0.25},
    )
    assert updated.progress_record == {"step": 5, "total": 100}
    assert updated.metrics_record == {"loss": 0.25}
    finished = await client.jobs.update(ids[0], status="completed", result={"ok": True})
    assert (
        finished.is_finished and finished.finished is not None and finished.result == {"ok": True}
    )


async def test_console_logs_and_logs_resource(emulator: Emulator, client: AsyncClient) -> None:
    job_id = emulator.seed.job(["line 1", "line 2"])["id"]
    entry = await client.logs.create("line 3", job=job_id, level="warning", data={"k": 1})
    assert isinstance(entry, LogEntry) and entry.job == job_id and entry.level == "warning"
    many = await client.logs.create_many([{"message": f"bulk {i}"} for i in range(5)])
    assert [e.message for e in many] == [f"bulk {i}" for i in range(5)]
    assert await client.jobs.console_logs(job_id) == ["line 1", "line 2", "line 3"]
    assert [e.message async for e in client.logs.list(job=job_id, page_size=1)] == [
        "line 1",
        "line 2",
        "line 3",
    ]
    assert [e.message async for e in client.logs.list(level="warning")] == ["line 3"]
    assert (await client.logs.list().page(1)).count == 8


async def test_tail_follows_a_running_job_until_it_finishes(
    emulator: Emulator, client: AsyncClient
) -> None:
    job_id = emulator.seed.job(["first", "multi\nline"])["id"]
    seen: list[str] = []

    async def writer() -> None:
        await anyio.sleep(0.1)
        await client.logs.create("later", job=job_id)
        await anyio.sleep(0.1)
        await client.jobs.update(job_id, status="completed")

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        async for line in client.jobs.tail_console_logs(job_id, max_wait=10):
            seen.append(line)
    assert seen == ["first", "multi\nline", "later"]


async def test_tail_of_a_scheduled_job_and_early_break(
    emulator: Emulator, client: AsyncClient
) -> None:
    job_id = emulator.seed.job(
        [f"step {i}" for i in range(5)], step_seconds=0.02, outcome="failed"
    )["id"]
    lines = [line async for line in client.jobs.tail_console_logs(job_id)]
    assert lines == [f"step {i}" for i in range(5)]
    assert (await client.jobs.get(job_id)).status == "failed"
    other = emulator.seed.job([f"x{i}" for i in range(3)])["id"]
    async for line in client.jobs.tail_console_logs(other):
        assert line == "x0"
        break  # closing the stream early must not hang or leak
    assert (await client.jobs.get(other)).status == "running"


async def test_tail_max_wait(emulator: Emulator, client: AsyncClient) -> None:
    job_id = emulator.seed.job(["only line"])["id"]
    seen: list[str] = []
    # A hang guard only (the job never ends: without max_wait the tail would wait forever).
    with anyio.fail_after(60), pytest.raises(WaitTimeoutError, match="max_wait") as info:
        async for line in client.jobs.tail_console_logs(job_id, max_wait=0.3):
            seen.append(line)
    assert seen == ["only line"]
    # a deadline of the wait, not a transport failure
    assert not isinstance(info.value, TimeoutError) and info.value.waited == 0.3
    with pytest.raises(WaitTimeoutError, match="still running") as waited:
        await client.jobs.wait(job_id, poll_interval=0.05, max_wait=0.2)
    assert waited.value.last is not None and not waited.value.last.is_finished


async def test_jobs_bad_input(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="job_id"):
        await client.jobs.get(0)
    with pytest.raises(InvalidInputError, match="nothing to update"):
        await client.jobs.update(1)
    with pytest.raises(InvalidInputError, match="max_wait"):
        async for _ in client.jobs.tail_console_logs(1, max_wait=-1):
            pass
    with pytest.raises(InvalidInputError, match="poll_interval"):
        await client.jobs.wait(1, poll_interval=0)
    with pytest.raises(NotFoundError):
        async for _ in client.jobs.tail_console_logs(999):
            pass
    with pytest.raises(NotFoundError):
        await client.jobs.console_logs(999)


async def test_jobs_and_logs_server_validation(emulator: Emulator, client: AsyncClient) -> None:
    job_id = emulator.seed.job()["id"]
    with pytest.raises(ValidationError, match="status"):
        await client.jobs.update(job_id, status="exploded")
    with pytest.raises(ValidationError, match="job"):
        await client.logs.create("x", job=4242)
    with pytest.raises(ValidationError, match="level"):
        await client.logs.create("x", level="loud")
    with pytest.raises(InvalidInputError, match="entry #1"):
        await client.logs.create_many([{"message": "ok"}, {"msg": "no"}])
    with pytest.raises(InvalidInputError, match="empty"):
        await client.logs.create_many([])


async def _lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_sse_parser() -> None:
    raw = [
        ": keepalive",
        "",
        "data: one",
        "",
        "data: two",
        "data:three",
        "",
        "event: progress",
        "data: 50",
        "",
        "event: end",
        "data: completed",
        "",
        "data: trailing",
    ]
    events = [e async for e in sse_events(_lines(*raw))]
    assert events == [
        ("message", "one"),
        ("message", "two\nthree"),
        ("progress", "50"),
        ("end", "completed"),
        ("message", "trailing"),
    ]


async def test_seed_jobs_and_ground_truth_over_http(client: AsyncClient) -> None:
    job = await client._http.request(
        "POST",
        "_emulator/seed/",
        json_body={"kind": "job", "lines": ["a", "b"], "step_seconds": 0.01},
    )
    lines = [line async for line in client.jobs.tail_console_logs(job["id"], max_wait=5)]
    assert lines == ["a", "b"] and (await client.jobs.get(job["id"])).status == "completed"
    gt = await client._http.request(
        "POST", "_emulator/seed/", json_body={"kind": "ground_truth", "versions": 1, "events": 3}
    )
    version = gt["versions"][0]["id"]
    assert (await client.ground_truth_dataset_versions.get(version)).event_count == 3


async def test_tail_opening_is_retried_under_injected_faults(
    emulator: Emulator, client: AsyncClient
) -> None:
    job_id = emulator.seed.job(["a", "b"], step_seconds=0.01)["id"]
    emulator.set_faults(
        Faults(
            error_rate=0.3,
            rate_limit_rate=0.1,
            retry_after=0.01,
            seed=1,
            error_statuses=(502, 503),
            paths="tail_console_logs",
        )
    )
    before = emulator.counters["requests"]
    for _ in range(3):
        assert [line async for line in client.jobs.tail_console_logs(job_id)] == ["a", "b"]
    assert emulator.counters["requests"] - before > 3  # some attempts were faulted, retried
