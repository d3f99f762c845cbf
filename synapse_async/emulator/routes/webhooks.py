"""``webhooks/`` (EXT): create, list, retrieve, delete, and each webhook's ``deliveries/``.

A webhook doc: ``{"url", "events", "project" (None: every project), "active", "created"}``
plus the private ``_secret`` (never sent back; a secret the server generated is sent once,
in the create answer). Deliveries (``webhook_delivery``) record each event's attempts.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ..clock import now_iso
from ..errors import read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from . import projects
from .params import body_object, field_error, get_or_404, path_id, query_filters

__all__ = ["DELIVERIES", "EVENT_TYPES", "TABLE", "public", "register_tables", "setup"]

TABLE = "webhooks"
DELIVERIES = "webhook_deliveries"
EVENT_TYPES = (
    "deposit.paid",
    "import.completed",
    "import.failed",
    "project.cancelled",
    "project.completed",
    "project.paused",
    "project.review",
    "project.started",
    "task.completed",
)
"""The event types a webhook can subscribe to."""

MIN_SECRET_LENGTH = 8


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("project",))
    store.register_table(DELIVERIES, indexed=("webhook", "status"))


def public(doc: Doc) -> Doc:
    """The wire form: private (``_``-prefixed) fields dropped."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _validate(store: Store, body: Any) -> tuple[Doc, bool]:
    data = body_object(body)
    url = data.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise field_error("url", "Enter a valid http(s) URL.")
    events = data.get("events")
    if not isinstance(events, list) or not events:
        raise field_error("events", "Expected a non-empty list of event types.")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise field_error(
            "events",
            f"Unknown event type {unknown[0]!r}; expected one of {', '.join(EVENT_TYPES)}.",
        )
    project = data.get("project")
    if project is not None:
        if not isinstance(project, int) or isinstance(project, bool):
            raise field_error("project", "Incorrect type. Expected pk value.")
        if store.get(projects.TABLE, project) is None:
            raise field_error("project", f'Invalid pk "{project}" - object does not exist.')
    secret = data.get("secret")
    generated = secret is None
    if generated:
        secret = "whsec_" + secrets.token_urlsafe(24)
    elif not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise field_error(
            "secret", f"Ensure this field has at least {MIN_SECRET_LENGTH} characters."
        )
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise field_error("active", "Must be a valid boolean.")
    doc = {
        "url": url,
        "events": list(dict.fromkeys(events)),
        "project": project,
        "active": active,
        "created": now_iso(),
        "_secret": secret,
    }
    return doc, generated


async def create_webhook(request: web.Request) -> web.Response:
    """``POST webhooks/`` ``{"url", "events", "project"?, "secret"?, "active"?}`` -> 201."""
    doc, generated = _validate(request.app[STORE], await read_json(request))
    stored = request.app[STORE].insert(TABLE, doc)
    answer = public(stored)
    if generated:
        answer["secret"] = stored["_secret"]
    return web.json_response(answer, status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    """``GET webhooks/`` (paginated; ``?project=`` filters)."""
    filters = query_filters(request, ints=("project",))
    return paginate(request, request.app[STORE], TABLE, filters, serialize=public)


async def get_webhook(request: web.Request) -> web.Response:
    """``GET webhooks/{id}/``."""
    return web.json_response(public(get_or_404(request.app[STORE], TABLE, path_id(request))))


async def delete_webhook(request: web.Request) -> web.Response:
    """``DELETE webhooks/{id}/`` -> 204."""
    store = request.app[STORE]
    get_or_404(store, TABLE, path_id(request))
    store.delete(TABLE, path_id(request))
    return web.Response(status=204)


async def list_deliveries(request: web.Request) -> web.Response:
    """``GET webhooks/{id}/deliveries/`` (paginated, oldest first)."""
    store = request.app[STORE]
    hook = get_or_404(store, TABLE, path_id(request))
    return paginate(request, store, DELIVERIES, {"webhook": hook["id"]}, serialize=public)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/webhooks/", list_webhooks)
    r.add_post("/webhooks/", create_webhook)
    r.add_get("/webhooks/{id}/", get_webhook)
    r.add_delete("/webhooks/{id}/", delete_webhook)
    r.add_get("/webhooks/{id}/deliveries/", list_deliveries)
