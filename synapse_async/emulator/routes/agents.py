"""``agents/`` (list, create, retrieve, ``{token}/connect/``) and ``serve_applications/``.

An agent's token is answered once, by the create request; lists and retrievals leave it out.
``POST agents/{token}/connect/`` is the agent's health check: it marks it ``connected``.
A serve application starts ``deploying`` and is ``running`` (with a URL) from
:data:`DEPLOY_SECONDS` after its creation, evaluated lazily when read.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import not_found, read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from . import plugins
from .jobs import public
from .params import body_object, field_error, get_or_404, path_id, query_filters

__all__ = ["AGENTS", "DEPLOY_SECONDS", "SERVE_APPS", "register_tables", "setup"]

AGENTS = "agents"
SERVE_APPS = "serve_applications"
DEPLOY_SECONDS = 0.1


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(AGENTS, indexed=("status",))
    store.register_table(SERVE_APPS, indexed=("status",))


async def list_agents(request: web.Request) -> web.Response:
    """``GET agents/`` (paginated; filter ``status``)."""
    filters = query_filters(request, strings=("status",))
    return paginate(request, request.app[STORE], AGENTS, filters, serialize=public)


async def create_agent(request: web.Request) -> web.Response:
    """``POST agents/`` ``{"name", "url"?}`` -> 201 the agent, with its token (only here)."""
    body = body_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field is required.")
    url = body.get("url")
    if url is not None and not isinstance(url, str):
        raise field_error("url", "Enter a valid URL.")
    token = secrets.token_hex(20)
    doc = request.app[STORE].insert(
        AGENTS,
        {
            "name": name,
            "status": "created",
            "url": url,
            "last_connected": None,
            "created": now_iso(),
            "_token": token,
        },
    )
    return web.json_response({**public(doc), "token": token}, status=201)


async def get_agent(request: web.Request) -> web.Response:
    """``GET agents/{id}/`` (no token)."""
    return web.json_response(public(get_or_404(request.app[STORE], AGENTS, path_id(request))))


async def connect_agent(request: web.Request) -> web.Response:
    """``POST agents/{token}/connect/``: the agent with this token checks in (404 if none)."""
    store = request.app[STORE]
    given = request.match_info["token"].encode()
    # Few agents exist; compare every token in constant time rather than index secrets.
    match = next(
        (
            a
            for a in store.list(AGENTS, limit=None)
            if hmac.compare_digest(str(a.get("_token", "")).encode(), given)
        ),
        None,
    )
    if match is None:
        raise not_found()
    doc = store.update(AGENTS, match["id"], {"status": "connected", "last_connected": now_iso()})
    return web.json_response(public(doc or match))


# -- serve applications ----------------------------------------------------------------------


def _deployed(store: Store, doc: Doc) -> Doc:
    if doc["status"] == "deploying" and time.time() - float(doc["_t0"]) >= DEPLOY_SECONDS:
        changes = {"status": "running", "url": f"http://serve.local/{doc['id']}/"}
        doc = store.update(SERVE_APPS, doc["id"], changes) or doc
    return doc


async def list_serve_apps(request: web.Request) -> web.Response:
    """``GET serve_applications/`` (paginated; filter ``status``)."""
    store = request.app[STORE]
    for doc in store.list(SERVE_APPS, limit=None, status="deploying"):
        _deployed(store, doc)
    filters = query_filters(request, strings=("status",))
    return paginate(request, store, SERVE_APPS, filters, serialize=public)


async def get_serve_app(request: web.Request) -> web.Response:
    """``GET serve_applications/{id}/``."""
    store = request.app[STORE]
    return web.json_response(
        public(_deployed(store, get_or_404(store, SERVE_APPS, path_id(request))))
    )


def _pk(store: Store, body: dict[str, Any], key: str, table: str, required: bool) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or store.get(table, value) is None:
        raise field_error(key, f'Invalid pk "{value}" - object does not exist.')
    return value


async def create_serve_app(request: web.Request) -> web.Response:
    """``POST serve_applications/`` ``{"name", "plugin_release", "action"?, "params"?}``."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field is required.")
    release = _pk(store, body, "plugin_release", plugins.RELEASES, True)
    agent = _pk(store, body, "agent", AGENTS, False)
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise field_error("params", "Expected an object.")
    action = body.get("action") or "deployment"
    if not isinstance(action, str):
        raise field_error("action", "Not a valid string.")
    doc = store.insert(
        SERVE_APPS,
        {
            "name": name,
            "plugin_release": release,
            "action": action,
            "status": "deploying",
            "params": params,
            "url": None,
            "agent": agent,
            "created": now_iso(),
            "_t0": time.time(),
        },
    )
    return web.json_response(public(doc), status=201)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    plugins.register_tables(store)
    r = app.router
    r.add_get("/agents/", list_agents)
    r.add_post("/agents/", create_agent)
    r.add_get("/agents/{id:\\d+}/", get_agent)
    r.add_post("/agents/{token}/connect/", connect_agent)
    r.add_get("/serve_applications/", list_serve_apps)
    r.add_post("/serve_applications/", create_serve_app)
    r.add_get("/serve_applications/{id}/", get_serve_app)
