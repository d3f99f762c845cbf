"""``storages/``: list (``?category=``, ``?provider=``), create, retrieve.

A storage's ``configuration`` (credentials included) is answered only by the retrieve
request with ``?with_configuration=true``; lists and the create answer leave it out. The
first internal storage created is the default one.
"""

from __future__ import annotations

from aiohttp import web

from ..clock import now_iso
from ..errors import read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from .params import body_object, field_error, get_or_404, path_id, query_filters

__all__ = ["CATEGORIES", "PROVIDERS", "STORAGES", "register_tables", "setup"]

STORAGES = "storages"
CATEGORIES = ("internal", "external")
PROVIDERS = ("amazon_s3", "azure", "digital_ocean", "file_system", "ftp", "sftp", "minio", "gcp")
_TRUE = ("1", "true", "True", "yes")


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(STORAGES, indexed=("category", "provider"))


def _without_configuration(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != "configuration"}


async def list_storages(request: web.Request) -> web.Response:
    """``GET storages/`` (paginated; filters ``category``, ``provider``; no configurations)."""
    filters = query_filters(request, strings=("category", "provider"))
    return paginate(
        request, request.app[STORE], STORAGES, filters, serialize=_without_configuration
    )


async def create_storage(request: web.Request) -> web.Response:
    """``POST storages/`` ``{"name", "provider", "category"?, "configuration", "is_default"?}``."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field is required.")
    provider = body.get("provider")
    if provider not in PROVIDERS:
        raise field_error("provider", f'"{provider}" is not a valid choice.')
    category = body.get("category", "external")
    if category not in CATEGORIES:
        raise field_error("category", f'"{category}" is not a valid choice.')
    configuration = body.get("configuration") or {}
    if not isinstance(configuration, dict):
        raise field_error("configuration", "Expected an object.")  # never echo the value
    is_default = body.get("is_default", False)
    if not isinstance(is_default, bool):
        raise field_error("is_default", "Must be a valid boolean.")
    with store.transaction():
        internal = store.count(STORAGES, category="internal")
        if category == "internal" and internal == 0:
            is_default = True
        if is_default:
            store.update_many(
                STORAGES, store.ids(STORAGES, category=category), {"is_default": False}
            )
        doc = store.insert(
            STORAGES,
            {
                "name": name,
                "category": category,
                "provider": provider,
                "is_default": is_default,
                "configuration": configuration,
                "created": now_iso(),
            },
        )
    return web.json_response(_without_configuration(doc), status=201)


async def get_storage(request: web.Request) -> web.Response:
    """``GET storages/{id}/`` (``?with_configuration=true`` adds the configuration)."""
    doc = get_or_404(request.app[STORE], STORAGES, path_id(request))
    if request.query.get("with_configuration") in _TRUE:
        return web.json_response(doc)
    return web.json_response(_without_configuration(doc))


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/storages/", list_storages)
    r.add_post("/storages/", create_storage)
    r.add_get("/storages/{id}/", get_storage)
