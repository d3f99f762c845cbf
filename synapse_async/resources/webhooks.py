"""Webhooks (EXT): subscriptions to workflow events, and their deliveries.

Deliveries are signed: verify them with :func:`synapse_async.webhooks.verify_signature`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import Webhook, WebhookDelivery
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncWebhooks"]


def _check_url(url: Any) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"url must be an absolute http(s) URL, got {url!r}")
    return str(url)


def _check_events(events: Any) -> builtins.list[str]:
    if isinstance(events, str) or not isinstance(events, Sequence) or not events:
        raise InvalidInputError(
            f"events must be a non-empty list such as ['project.completed'], got {events!r}"
        )
    for event in events:
        if not isinstance(event, str) or not event.strip():
            raise InvalidInputError(f"invalid event type {event!r}")
    return [e.strip() for e in events]


class AsyncWebhooks(AsyncResource):
    """``client.webhooks``: where the platform POSTs workflow events."""

    async def create(
        self,
        url: str,
        events: Sequence[str],
        project_id: int | None = None,
        secret: str | None = None,
    ) -> Webhook:
        """Subscribe ``url`` to ``events`` of one project (or of all projects).

        Args:
            url: the receiver, an absolute http(s) URL.
            events: event types: ``project.started``, ``project.paused``, ``project.review``,
                ``project.cancelled``,
                ``project.completed``, ``task.completed``, ``deposit.paid``,
                ``import.completed``, ``import.failed``.
            project_id: only this project's events.
            secret: the signing secret (8+ characters); None: the server makes one and
                returns it once, in this call's result (``webhook.secret``).
        """
        body: dict[str, Any] = {"url": _check_url(url), "events": _check_events(events)}
        if project_id is not None:
            body["project"] = check_id(project_id, "project_id")
        if secret is not None:
            if not isinstance(secret, str) or len(secret) < 8:
                raise InvalidInputError("secret must be a string of at least 8 characters")
            body["secret"] = secret
        return self._decode(await self._http.request("POST", "webhooks/", json_body=body), Webhook)

    def list(
        self, *, project_id: int | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncPaginator[Webhook]:
        """Every webhook (those of ``project_id`` when given), in creation order."""
        params = {} if project_id is None else {"project": check_id(project_id, "project_id")}
        return self._paginate("webhooks/", params, Webhook, page_size)

    async def get(self, webhook_id: int) -> Webhook:
        """One webhook by id (its secret is never returned)."""
        data = await self._http.request(
            "GET", build_path("webhooks", check_id(webhook_id, "webhook_id"))
        )
        return self._decode(data, Webhook)

    async def delete(self, webhook_id: int) -> None:
        """Delete a webhook; deliveries not yet made are dropped."""
        await self._http.request(
            "DELETE", build_path("webhooks", check_id(webhook_id, "webhook_id")), expect="none"
        )

    def deliveries(
        self, webhook_id: int, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncPaginator[WebhookDelivery]:
        """The webhook's deliveries, oldest first, with attempts and the last error."""
        path = build_path("webhooks", check_id(webhook_id, "webhook_id"), "deliveries")
        return self._paginate(path, {}, WebhookDelivery, page_size)
