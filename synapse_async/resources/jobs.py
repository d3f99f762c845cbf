"""Jobs: get, list, update, console logs, live tail (server-sent events), wait."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async._retry import poll
from synapse_async._validation import check_seconds
from synapse_async.config import Timeout
from synapse_async.errors import InvalidInputError, TimeoutError, WaitTimeoutError
from synapse_async.http import build_path
from synapse_async.models import Job
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["SSE_END_EVENT", "AsyncJobs", "sse_events"]

SSE_END_EVENT = "end"
"""The event a tail stream ends with (its data is the job's final status)."""


async def sse_events(lines: AsyncIterator[str]) -> AsyncGenerator[tuple[str, str], None]:
    """Parse server-sent-event lines into ``(event, data)`` pairs (WHATWG rules, no retry/id).

    ``data:`` lines of one event are joined with newlines; ``:`` comment lines (keep-alives)
    and events without data are skipped; the event name defaults to ``message``.
    """
    event, data = "message", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield event, "\n".join(data)


class AsyncJobs(AsyncResource):
    """``client.jobs``: plugin runs and other background work, with their console logs."""

    def list(
        self,
        *,
        status: str | None = None,
        plugin: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[Job]:
        """Every job (filtered by ``status``/``plugin`` when given), in server order."""
        if plugin is not None:
            check_id(plugin, "plugin")
        return self._paginate(
            "jobs/", {"status": status, "plugin": plugin, **filters}, Job, page_size
        )

    async def get(self, job_id: int) -> Job:
        """One job by id."""
        data = await self._http.request("GET", build_path("jobs", check_id(job_id, "job_id")))
        return self._decode(data, Job)

    async def update(
        self,
        job_id: int,
        *,
        status: str | None = None,
        progress_record: dict[str, Any] | None = None,
        metrics_record: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Job:
        """Report on a job (``PATCH jobs/{id}/``): status, progress, metrics, result, ...

        Only the given fields are sent. Returns the job's new state.
        """
        check_id(job_id, "job_id")
        body: dict[str, Any] = dict(fields)
        for key, value in (
            ("status", status),
            ("progress_record", progress_record),
            ("metrics_record", metrics_record),
        ):
            if value is not None:
                body[key] = value
        if not body:
            raise InvalidInputError(
                "nothing to update: pass status, progress_record, metrics_record or other fields"
            )
        data = await self._http.request("PATCH", build_path("jobs", job_id), json_body=body)
        return self._decode(data, Job)

    async def console_logs(self, job_id: int) -> builtins.list[str]:
        """The job's console log so far, one string per line, oldest first."""
        data = await self._http.request(
            "GET", build_path("jobs", check_id(job_id, "job_id"), "console_logs")
        )
        lines = data.get("lines", []) if isinstance(data, dict) else data
        return [str(line) for line in lines or []]

    async def tail_console_logs(
        self, job_id: int, *, max_wait: float | None = None
    ) -> AsyncIterator[str]:
        """Yield the job's console lines as they are written, until the job finishes.

        Starts with the lines written so far. ``async for line in
        client.jobs.tail_console_logs(job.id, max_wait=600): ...``. Breaking out of the loop
        closes the stream.

        Args:
            job_id: the job.
            max_wait: the most seconds to follow the job (None: until it finishes).

        Raises:
            WaitTimeoutError: the job was still running after ``max_wait`` seconds (the
                lines until then have been yielded).
            NotFoundError: no such job.
        """
        check_id(job_id, "job_id")
        limit = check_seconds(max_wait, "max_wait", optional=True)
        timeout = Timeout(connect=self._http.config.timeout.connect, read=None, total=limit)
        lines = self._http.stream_lines(
            "GET", build_path("jobs", job_id, "tail_console_logs"), timeout=timeout
        )
        events = sse_events(lines)
        try:
            async for event, data in events:
                if event == SSE_END_EVENT:
                    return
                if event == "message":
                    yield data
        except TimeoutError as exc:
            if limit is None:
                raise
            raise WaitTimeoutError(
                f"job {job_id} was still running after max_wait={limit:g}s of tailing; the "
                "lines until then were yielded (raise max_wait to follow it longer)",
                waited=limit,
            ) from exc
        finally:  # close the connection now, not when the generators are collected
            await events.aclose()
            await lines.aclose()

    async def wait(
        self, job_id: int, *, poll_interval: float = 1.0, max_wait: float | None = None
    ) -> Job:
        """Poll until the job finishes (completed, failed or stopped); returns it.

        Raises:
            WaitTimeoutError: it was still running after ``max_wait`` seconds.
        """
        check_id(job_id, "job_id")
        interval = check_seconds(poll_interval, "poll_interval")
        limit = check_seconds(max_wait, "max_wait", optional=True)
        assert interval is not None
        return await poll(
            lambda: self.get(job_id),
            lambda job: job.is_finished,
            interval=interval,
            max_wait=limit,
            describe=lambda job: f"job {job_id} was still {job.status} after max_wait={limit:g}s",
        )
