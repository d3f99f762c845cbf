"""Assignments: list, get, set tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.http import build_path
from synapse_async.models import Assignment
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncAssignments"]


class AsyncAssignments(AsyncResource):
    """``client.assignments``: annotators' work on tasks, with the annotation data."""

    def list(
        self,
        *,
        project: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[Assignment]:
        """Every assignment (of ``project`` when given), in server order."""
        if project is not None:
            check_id(project, "project")
        return self._paginate(
            "sdk/assignments/", {"project": project, **filters}, Assignment, page_size
        )

    async def get(self, assignment_id: int) -> Assignment:
        """One assignment by id."""
        data = await self._http.request(
            "GET", build_path("assignments", check_id(assignment_id, "assignment_id"))
        )
        return self._decode(data, Assignment)

    async def set_tags(self, assignment_ids: Iterable[int], tag_ids: Iterable[int]) -> int:
        """Set tags on assignments; returns how many were updated."""
        body = {
            "assignment_ids": [check_id(a, "assignment id") for a in assignment_ids],
            "tag_ids": [check_id(t, "tag id") for t in tag_ids],
        }
        data = await self._http.request("POST", "assignments/set_tags/", json_body=body)
        return int(data.get("updated", 0)) if isinstance(data, dict) else 0
