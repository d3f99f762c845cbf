"""Serve applications: list, get, create (model serving started from a plugin release)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.http import build_path
from synapse_async.models import ServeApplication
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.task_tags import check_name

__all__ = ["AsyncServeApplications"]


class AsyncServeApplications(AsyncResource):
    """``client.serve_applications``: model-serving applications."""

    def list(
        self, *, status: str | None = None, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[ServeApplication]:
        """Every serve application (with ``status`` when given), in server order."""
        return self._paginate(
            "serve_applications/", {"status": status, **filters}, ServeApplication, page_size
        )

    async def get(self, application_id: int) -> ServeApplication:
        """One serve application by id."""
        data = await self._http.request(
            "GET", build_path("serve_applications", check_id(application_id, "application_id"))
        )
        return self._decode(data, ServeApplication)

    async def create(
        self,
        name: str,
        *,
        plugin_release: int,
        action: str = "deployment",
        params: Mapping[str, Any] | None = None,
        agent: int | None = None,
    ) -> ServeApplication:
        """Start serving ``plugin_release`` (its ``action``) under ``name``."""
        body: dict[str, Any] = {
            "name": check_name(name, "application name"),
            "plugin_release": check_id(plugin_release, "plugin_release"),
            "action": check_name(action, "action"),
            "params": dict(params or {}),
        }
        if agent is not None:
            body["agent"] = check_id(agent, "agent")
        data = await self._http.request("POST", "serve_applications/", json_body=body)
        return self._decode(data, ServeApplication)
