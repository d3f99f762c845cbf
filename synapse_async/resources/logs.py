"""Logs: list, create one, create many (entries of a job form its console log)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.models import LogEntry
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["LOG_BATCH_SIZE", "AsyncLogs"]

LOG_BATCH_SIZE = 1000
"""The most entries sent in one ``POST logs/``."""


def _check_entry(entry: Any, index: int) -> dict[str, Any]:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("message"), str):
        raise InvalidInputError(
            f"log entry #{index} must be a mapping with a string 'message', got {entry!r}"
        )
    if entry.get("job") is not None:
        check_id(entry["job"], f"log entry #{index} job")
    level = entry.get("level", "info")
    if not isinstance(level, str) or not level:
        raise InvalidInputError(f"log entry #{index} level must be a non-empty string")
    return dict(entry)


class AsyncLogs(AsyncResource):
    """``client.logs``: log records, optionally attached to a job."""

    def list(
        self,
        *,
        job: int | None = None,
        level: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[LogEntry]:
        """Every log entry (of ``job`` / at ``level`` when given), oldest first."""
        if job is not None:
            check_id(job, "job")
        return self._paginate("logs/", {"job": job, "level": level, **filters}, LogEntry, page_size)

    async def create(
        self,
        message: str,
        *,
        level: str = "info",
        job: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> LogEntry:
        """Write one log entry (to ``job``'s console log when given)."""
        entry: dict[str, Any] = {"message": message, "level": level}
        if job is not None:
            entry["job"] = job
        if data is not None:
            entry["data"] = dict(data)
        body = _check_entry(entry, 0)
        result = await self._http.request("POST", "logs/", json_body=body)
        return self._decode(result, LogEntry)

    async def create_many(self, entries: Iterable[Mapping[str, Any]]) -> builtins.list[LogEntry]:
        """Write many entries (``{"message", "level"?, "job"?, "data"?}``), in batches, in order."""
        checked = [_check_entry(e, i) for i, e in enumerate(entries)]
        if not checked:
            raise InvalidInputError("entries is empty: pass at least one log entry")
        created: builtins.list[LogEntry] = []
        for start in range(0, len(checked), LOG_BATCH_SIZE):
            result = await self._http.request(
                "POST", "logs/", json_body=checked[start : start + LOG_BATCH_SIZE]
            )
            created.extend(self._decode(item, LogEntry) for item in result)
        return created
