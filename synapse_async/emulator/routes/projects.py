"""``projects/``: list, create, retrieve."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from .billing import PRICE_PER_TASK
from .params import body_object, field_error, get_or_404, path_id

__all__ = ["TABLE", "new_project", "register_tables", "setup"]

TABLE = "projects"
STATES = ("draft", "pending_deposit", "active", "paused", "review", "completed", "cancelled")

_MISSING = object()
# optional create fields -> (accepted JSON types, default). Fields with a _MISSING default
# (the managed-workflow ones, EXT) appear in a project only once they were set.
_OPTIONAL: dict[str, tuple[tuple[type, ...], Any]] = {
    "description": ((str,), ""),
    "annotation_type": ((str, list), None),
    "data_type": ((str,), None),
    "labels": ((list, dict), list),
    "metadata": ((dict,), dict),
    "instructions": ((str,), _MISSING),
    "quality_settings": ((dict,), _MISSING),
    "pricing_tier": ((str,), _MISSING),
    "priority": ((int, str), _MISSING),
}


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("state",))


def new_project(name: str, **fields: Any) -> Doc:
    """A project doc (no id yet) with defaults filled in; ``fields`` override them.

    The workflow fields (``instructions, quality_settings, pricing_tier, priority``) are
    present only when given.
    """
    now = now_iso()
    doc: Doc = {"name": name}
    for key, (_types, default) in _OPTIONAL.items():
        if default is not _MISSING:
            doc[key] = default() if callable(default) else default
    doc.update(state="draft", created=now, modified=now)
    doc.update(fields)
    return doc


def validate_create(body: Any) -> Doc:
    """Check a create body; returns the project doc to insert (400 on invalid fields)."""
    data = body_object(body)
    name = data.get("name")
    if name is None:
        raise field_error("name", "This field is required.")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field may not be blank.")
    fields: dict[str, Any] = {}
    for key, (types, _default) in _OPTIONAL.items():
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise field_error(key, f"Expected {' or '.join(t.__name__ for t in types)}.")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise field_error(key, "Expected a list of strings.")
        if key == "annotation_type" and isinstance(value, list) and not value:
            raise field_error(key, "Expected a type name or a non-empty list of them.")
        fields[key] = value
    labels = fields.get("labels")
    if isinstance(labels, dict):
        kinds = fields.get("annotation_type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
        for kind, names in labels.items():
            if kind not in kinds:
                raise field_error(
                    "labels", f"Key {kind!r} is not one of annotation_type {kinds!r}."
                )
            if not isinstance(names, list) or not all(isinstance(v, str) for v in names):
                raise field_error("labels", f"labels[{kind!r}]: expected a list of strings.")
    tier = fields.get("pricing_tier")
    if tier is not None and tier not in PRICE_PER_TASK:
        raise field_error("pricing_tier", f"Expected one of {', '.join(PRICE_PER_TASK)}.")
    return new_project(name, **fields)


async def list_projects(request: web.Request) -> web.Response:
    """``GET projects/`` (paginated; ``?state=`` filters)."""
    state = request.query.get("state")
    return paginate(request, request.app[STORE], TABLE, {"state": state} if state else {})


async def create_project(request: web.Request) -> web.Response:
    """``POST projects/`` -> 201 the project."""
    doc = validate_create(await read_json(request))
    return web.json_response(request.app[STORE].insert(TABLE, doc), status=201)


async def get_project(request: web.Request) -> web.Response:
    """``GET projects/{id}/``."""
    return web.json_response(get_or_404(request.app[STORE], TABLE, path_id(request)))


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    app.router.add_get("/projects/", list_projects)
    app.router.add_post("/projects/", create_project)
    app.router.add_get("/projects/{id}/", get_project)
