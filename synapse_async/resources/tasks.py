"""Tasks: list, get, create in batches, set tags, write annotation data."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import Assignment, Task
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import (
    AsyncResource,
    batch_key,
    check_id,
    created_id,
    created_items,
)

__all__ = ["DM_SCHEMA_V1", "TASK_BATCH_SIZE", "AsyncTasks"]

TASK_BATCH_SIZE = 1000
"""The most task specs the server takes in one ``POST tasks/``."""

DM_SCHEMA_V1 = "dm_schema_v1"
"""The annotation document schema ``annotate_task_data`` sends by default."""


def _check_spec(spec: Any, index: int) -> dict[str, Any]:
    if not isinstance(spec, Mapping) or not (("data_unit" in spec) ^ ("data" in spec)):
        raise InvalidInputError(
            f"task spec #{index} must be a mapping with exactly one of 'data_unit' (an id) or "
            f"'data' (a dict), got {spec!r}"
        )
    if "data_unit" in spec:
        check_id(spec["data_unit"], f"task spec #{index} data_unit")
    elif not isinstance(spec["data"], Mapping):
        raise InvalidInputError(f"task spec #{index} 'data' must be a dict, got {spec['data']!r}")
    return dict(spec)


class AsyncTasks(AsyncResource):
    """``client.tasks``: annotation tasks."""

    def list(
        self,
        *,
        project: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[Task]:
        """Every task (of ``project`` when given), in server order, pages fetched concurrently.

        Extra keyword filters (``status=...``, ``data_unit=...``) are sent as query parameters.
        """
        if project is not None:
            check_id(project, "project")
        return self._paginate("sdk/tasks/", {"project": project, **filters}, Task, page_size)

    async def get(self, task_id: int, *, expand: str | None = None) -> Task:
        """One task by id.

        ``expand="data_unit"`` also fetches the unit into ``task.expanded_data_unit``.
        """
        data = await self._http.request(
            "GET", build_path("tasks", check_id(task_id, "task_id")), params={"expand": expand}
        )
        if (
            expand == "data_unit"
            and isinstance(data, dict)
            and isinstance(data.get("data_unit"), dict)
        ):
            data = {
                **data,
                "data_unit": data["data_unit"].get("id"),
                "expanded_data_unit": data["data_unit"],
            }
        return self._decode(data, Task)

    async def create(
        self,
        project: int,
        specs: Iterable[Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> builtins.list[Task]:
        """Create tasks from specs (``{"data_unit": id}`` or ``{"data": {...}}``).

        Any number of specs: they are validated first, then sent in batches of 1,000 in order.
        Each batch is retried safely (it carries an idempotency key: a fresh one per call, or
        ``idempotency_key``, batch n > 0 getting ``"<key>-<n>"``).
        """
        created = await self._post(project, specs, idempotency_key)
        return [self._decode(item, Task) for item in created]

    async def _create_ids(
        self,
        project: int,
        specs: Iterable[Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> builtins.list[int]:
        """``create``, returning only the new ids (a bulk upload needs nothing else)."""
        created = await self._post(project, specs, idempotency_key)
        return [created_id(item, "task") for item in created]

    async def _post(
        self, project: int, specs: Iterable[Mapping[str, Any]], idempotency_key: str | None
    ) -> builtins.list[Any]:
        check_id(project, "project")
        checked = [_check_spec(spec, i) for i, spec in enumerate(specs)]
        if not checked:
            raise InvalidInputError("specs is empty: pass at least one task spec")
        created: builtins.list[Any] = []
        for n, start in enumerate(range(0, len(checked), TASK_BATCH_SIZE)):
            batch = checked[start : start + TASK_BATCH_SIZE]
            data = await self._http.request(
                "POST",
                "tasks/",
                json_body={"project": project, "data": batch},
                idempotency_key=batch_key(idempotency_key, n),
            )
            created.extend(created_items(data))
        return created

    async def set_tags(self, task_ids: Iterable[int], tag_ids: Iterable[int]) -> int:
        """Set tags on tasks; returns how many tasks were updated."""
        body = {
            "task_ids": [check_id(t, "task id") for t in task_ids],
            "tag_ids": [check_id(t, "tag id") for t in tag_ids],
        }
        data = await self._http.request("POST", "tasks/set_tags/", json_body=body)
        return int(data.get("updated", 0)) if isinstance(data, dict) else 0

    async def annotate_task_data(
        self, task_id: int, data: Mapping[str, Any], *, schema: str = DM_SCHEMA_V1
    ) -> Assignment:
        """Write an annotation document to a task (e.g. pre-annotations from a model).

        ``PUT tasks/{id}/annotate_task_data/?schema=...``. ``data`` is the document in
        ``schema`` (DM schema v1: ``{"annotations": {...}, "annotationsData": {...}}``). The
        task's assignment holds it afterwards; that assignment is returned.

        Raises:
            InvalidInputError: a bad id, a ``data`` that is not a mapping, or an empty schema.
            ValidationError: the server rejects the document or the schema.
        """
        check_id(task_id, "task_id")
        if not isinstance(data, Mapping):
            raise InvalidInputError(
                f"annotation data must be a mapping (a DM schema document), got {data!r}"
            )
        if not isinstance(schema, str) or not schema.strip():
            raise InvalidInputError(f"schema must be a non-empty string, got {schema!r}")
        result = await self._http.request(
            "PUT",
            build_path("tasks", task_id, "annotate_task_data"),
            params={"schema": schema},
            json_body=dict(data),
        )
        return self._decode(result, Assignment)
