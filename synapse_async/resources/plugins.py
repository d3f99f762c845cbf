"""Plugins: list, get, create, update, run (a run is a job)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import Job, Plugin
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.task_tags import check_name

__all__ = ["AsyncPlugins", "check_plugin_code", "check_plugin_ref"]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def check_plugin_code(code: Any) -> str:
    """Validate a plugin code: letters, digits, ``_``, ``-``, ``.``; not all digits."""
    if not isinstance(code, str) or not _CODE.match(code) or code.isdigit():
        raise InvalidInputError(
            "a plugin code is letters, digits, '_', '-' or '.', starts with a letter or digit "
            f"and is not all digits (pass an int for an id), got {code!r}"
        )
    return code


def check_plugin_ref(plugin: Any) -> int | str:
    """A plugin id (positive int) or code (str), validated before it goes into a URL."""
    if isinstance(plugin, str):
        return check_plugin_code(plugin)
    return check_id(plugin, "plugin")


class AsyncPlugins(AsyncResource):
    """``client.plugins``: packaged code the platform runs as jobs."""

    def list(
        self, *, category: str | None = None, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[Plugin]:
        """Every plugin (of ``category`` when given), in server order."""
        return self._paginate("plugins/", {"category": category, **filters}, Plugin, page_size)

    async def get(self, plugin: int | str) -> Plugin:
        """One plugin by id or code."""
        data = await self._http.request("GET", build_path("plugins", check_plugin_ref(plugin)))
        return self._decode(data, Plugin)

    async def create(
        self,
        name: str,
        *,
        code: str | None = None,
        category: str | None = None,
        description: str = "",
        **fields: Any,
    ) -> Plugin:
        """Create a plugin; ``code`` defaults to a slug of ``name`` chosen by the server."""
        body: dict[str, Any] = {
            "name": check_name(name, "plugin name"),
            "description": description,
            **fields,
        }
        if code is not None:
            body["code"] = check_plugin_code(code)
        if category is not None:
            body["category"] = category
        data = await self._http.request("POST", "plugins/", json_body=body)
        return self._decode(data, Plugin)

    async def update(self, plugin: int | str, **fields: Any) -> Plugin:
        """Change a plugin's fields (``PUT plugins/{id_or_code}/``); returns the new state."""
        ref = check_plugin_ref(plugin)
        if not fields:
            raise InvalidInputError("nothing to update: pass the fields to change as keywords")
        data = await self._http.request("PUT", build_path("plugins", ref), json_body=fields)
        return self._decode(data, Plugin)

    async def run(
        self,
        plugin: int | str,
        *,
        action: str | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        agent: int | None = None,
        version: str | None = None,
        **fields: Any,
    ) -> Job:
        """Run a plugin action (``POST plugins/{id_or_code}/run/``); returns the job.

        Follow it with ``client.jobs.get(job.id)``, ``client.jobs.wait(job.id)`` or
        ``client.jobs.tail_console_logs(job.id)``.

        Args:
            plugin: the plugin's id or code.
            action: the action to run (``train``, ``export``, ``deployment``, ...); None:
                the plugin's default action.
            params: the action's parameters.
            context: free-form context of the run (kept on the job).
            agent: the agent to run on (the server picks one when None).
            version: the release version to run (the latest when None).
            **fields: further run options, sent as given.
        """
        ref = check_plugin_ref(plugin)
        body: dict[str, Any] = {"params": dict(params or {}), **fields}
        if action is not None:
            body["action"] = check_name(action, "action")
        if context is not None:
            if not isinstance(context, Mapping):
                raise InvalidInputError(f"context must be a dict, got {context!r:.80}")
            body["context"] = dict(context)
        if agent is not None:
            body["agent"] = check_id(agent, "agent")
        if version is not None:
            body["version"] = check_name(version, "version")
        data = await self._http.request("POST", build_path("plugins", ref, "run"), json_body=body)
        if isinstance(data, dict) and "id" in data:
            data = {k: v for k, v in data.items() if k != "job_id"}  # a copy of "id"
        elif isinstance(data, dict) and "job_id" in data:  # a server that answers the id only
            data = await self._http.request("GET", build_path("jobs", check_id(data["job_id"])))
        return self._decode(data, Job)
