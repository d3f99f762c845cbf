"""Task tags: list, get, create (set them on tasks with ``client.tasks.set_tags``)."""

from __future__ import annotations

from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import TaskTag
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncTaskTags", "check_name"]


def check_name(value: Any, what: str) -> str:
    """Validate a display name (a non-empty string) before any request."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be a non-empty string, got {value!r}")
    return value


class AsyncTaskTags(AsyncResource):
    """``client.task_tags``: tags to organise tasks with."""

    def list(
        self, *, project: int | None = None, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[TaskTag]:
        """Every task tag (of ``project`` when given), in server order."""
        if project is not None:
            check_id(project, "project")
        return self._paginate("task_tags/", {"project": project, **filters}, TaskTag, page_size)

    async def get(self, tag_id: int) -> TaskTag:
        """One task tag by id."""
        data = await self._http.request("GET", build_path("task_tags", check_id(tag_id, "tag_id")))
        return self._decode(data, TaskTag)

    async def create(
        self, name: str, *, project: int | None = None, color: str | None = None
    ) -> TaskTag:
        """Create a tag (for ``project``, or tenant-wide when None)."""
        body: dict[str, Any] = {"name": check_name(name, "tag name")}
        if project is not None:
            body["project"] = check_id(project, "project")
        if color is not None:
            body["color"] = check_name(color, "color")
        data = await self._http.request("POST", "task_tags/", json_body=body)
        return self._decode(data, TaskTag)
