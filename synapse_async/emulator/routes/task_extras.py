"""``task_tags/`` (list, create, retrieve) and ``tasks/{id}/annotate_task_data/`` (PUT).

Annotating a task writes the document into the task's assignment (created when the task has
none yet, kept ``pending``; an existing assignment keeps its status) and answers with it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Store
from . import assignments, projects, tasks
from .params import body_object, field_error, get_or_404, path_id, query_filters

__all__ = ["SCHEMAS", "TAGS", "register_tables", "setup"]

TAGS = "task_tags"
SCHEMAS = ("dm_schema_v1",)
"""The annotation schemas ``annotate_task_data`` accepts."""


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TAGS, indexed=("project",))


async def list_tags(request: web.Request) -> web.Response:
    """``GET task_tags/`` (paginated; filter ``project``)."""
    filters = query_filters(request, ints=("project",))
    return paginate(request, request.app[STORE], TAGS, filters)


async def create_tag(request: web.Request) -> web.Response:
    """``POST task_tags/`` ``{"name", "color"?, "project"?}`` -> 201."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field is required.")
    color = body.get("color")
    if color is not None and not isinstance(color, str):
        raise field_error("color", "Not a valid string.")
    project = body.get("project")
    if project is not None and (
        not isinstance(project, int)
        or isinstance(project, bool)
        or store.get(projects.TABLE, project) is None
    ):
        raise field_error("project", f'Invalid pk "{project}" - object does not exist.')
    doc = {"name": name, "color": color, "project": project, "created": now_iso()}
    return web.json_response(store.insert(TAGS, doc), status=201)


async def get_tag(request: web.Request) -> web.Response:
    """``GET task_tags/{id}/``."""
    return web.json_response(get_or_404(request.app[STORE], TAGS, path_id(request)))


def _check_document(body: Any) -> dict[str, Any]:
    doc = body_object(body)
    for key in ("annotations", "annotationsData"):
        value = doc.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            raise field_error(key, "Expected an object of file slot -> list of annotations.")
    return doc


async def annotate_task_data(request: web.Request) -> web.Response:
    """``PUT tasks/{id}/annotate_task_data/?schema=dm_schema_v1`` -> the assignment."""
    store = request.app[STORE]
    task = get_or_404(store, tasks.TABLE, path_id(request))
    schema = request.query.get("schema", SCHEMAS[0])
    if schema not in SCHEMAS:
        raise field_error(
            "schema", f'"{schema}" is not a supported schema; use one of {", ".join(SCHEMAS)}.'
        )
    document = _check_document(await read_json(request))
    now = now_iso()
    with store.transaction():
        existing = store.list(assignments.TABLE, limit=1, task=task["id"])
        if existing:
            doc = store.update(
                assignments.TABLE, existing[0]["id"], {"data": document, "modified": now}
            )
        else:
            doc = store.insert(
                assignments.TABLE,
                assignments.new_assignment(task["project"], task["id"], data=document, now=now),
            )
    return web.json_response(doc)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/task_tags/", list_tags)
    r.add_post("/task_tags/", create_tag)
    r.add_get("/task_tags/{id}/", get_tag)
    r.add_put("/tasks/{id}/annotate_task_data/", annotate_task_data)
