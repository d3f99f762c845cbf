"""Agents: list, get, create, health check (``agents/{token}/connect/``)."""

from __future__ import annotations

from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import Agent
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.task_tags import check_name

__all__ = ["AsyncAgents", "check_agent_token"]


def check_agent_token(token: Any) -> str:
    """Validate an agent token before it goes into a URL (never echoing it back)."""
    if (
        not isinstance(token, str)
        or not token
        or token != token.strip()
        or any(c.isspace() for c in token)
    ):
        kind = type(token).__name__ if not isinstance(token, str) else "a blank or spaced string"
        raise InvalidInputError(
            f"agent token must be a non-empty string without spaces, got {kind}"
        )
    return token


class AsyncAgents(AsyncResource):
    """``client.agents``: the compute agents that run plugin jobs."""

    def list(self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> AsyncPaginator[Agent]:
        """Every agent, in server order (``status=...`` and other filters as query params)."""
        return self._paginate("agents/", filters, Agent, page_size)

    async def get(self, agent_id: int) -> Agent:
        """One agent by id (its token is not included)."""
        data = await self._http.request("GET", build_path("agents", check_id(agent_id, "agent_id")))
        return self._decode(data, Agent)

    async def create(self, name: str, *, url: str | None = None, **fields: Any) -> Agent:
        """Register an agent; the result carries its token (the only time the server sends it)."""
        body: dict[str, Any] = {"name": check_name(name, "agent name"), **fields}
        if url is not None:
            body["url"] = url
        data = await self._http.request("POST", "agents/", json_body=body)
        return self._decode(data, Agent)

    async def health_check(self, agent_token: str) -> Agent:
        """Check in as the agent holding ``agent_token`` (``POST agents/{token}/connect/``).

        Returns the agent, now ``connected``. The token travels in the URL path, so the SDK
        hides it (``***``) in its logs, error messages and error attributes.

        Raises:
            NotFoundError: no agent has this token.
        """
        token = check_agent_token(agent_token)
        data = await self._http.request(
            "POST", build_path("agents", token, "connect"), redact=(token,)
        )
        return self._decode(data, Agent)
