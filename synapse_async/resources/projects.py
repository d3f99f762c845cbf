"""Projects: list, get, create."""

from __future__ import annotations

import builtins
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import Project
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncProjects"]


class AsyncProjects(AsyncResource):
    """``client.projects``: annotation projects."""

    def list(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[Project]:
        """Every project visible to the token, in server order (pages fetched concurrently)."""
        return self._paginate("projects/", filters, Project, page_size)

    async def get(self, project_id: int) -> Project:
        """One project by id (``NotFoundError`` when it does not exist)."""
        data = await self._http.request("GET", build_path("projects", check_id(project_id)))
        return self._decode(data, Project)

    async def create(
        self,
        name: str,
        *,
        description: str = "",
        annotation_type: str | None = None,
        data_type: str | None = None,
        labels: builtins.list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Project:
        """Create a project (state ``draft``); extra keyword fields are sent as given."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"project name must be a non-empty string, got {name!r}")
        body: dict[str, Any] = {"name": name, "description": description, **fields}
        for key, value in (("annotation_type", annotation_type), ("data_type", data_type),
                           ("labels", labels), ("metadata", metadata)):
            if value is not None:
                body[key] = value
        data = await self._http.request("POST", "projects/", json_body=body)
        return self._decode(data, Project)
