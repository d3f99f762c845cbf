"""``tasks/`` and ``sdk/tasks/``: list, retrieve (``?expand=data_unit``), bulk create, tags."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import bad_request, read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from . import data, projects
from .list_filters import DATE_PARAMS, check_known, paginate_filtered, post_filter
from .params import body_object, field_error, get_or_404, path_id, query_expand, query_filters
from .tagging import set_tags_handler

__all__ = ["MAX_TASKS_PER_REQUEST", "TABLE", "new_task", "register_tables", "setup"]

TABLE = "tasks"
MAX_TASKS_PER_REQUEST = 1000
STATUSES = ("pending", "in_progress", "submitted", "completed", "rejected")


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("project", "status", "data_unit"))


def new_task(
    project: int,
    *,
    data_unit: int | None = None,
    data: dict[str, Any] | None = None,
    now: str | None = None,
) -> Doc:
    """A task doc (no id yet)."""
    now = now or now_iso()
    return {
        "project": project,
        "data_unit": data_unit,
        "data": data,
        "status": "pending",
        "tags": [],
        "created": now,
        "modified": now,
    }


def _expand_units(store: Store, docs: list[Doc]) -> list[Doc]:
    unit_ids = sorted({d["data_unit"] for d in docs if d.get("data_unit") is not None})
    units = {u["id"]: u for u in store.list(data.UNITS, limit=None, id=unit_ids)}
    return [
        {**d, "data_unit": units.get(d["data_unit"], d["data_unit"])}
        if d.get("data_unit") is not None
        else d
        for d in docs
    ]


async def list_tasks(request: web.Request) -> web.Response:
    """``GET tasks/`` / ``GET sdk/tasks/``: one page.

    Filters ``project, status, data_unit``, ``tags`` and date ranges (see ``list_filters``);
    an unknown filter is a 400.
    """
    store = request.app[STORE]
    check_known(request, {"project", "data_unit", "status", "tags", *DATE_PARAMS})
    filters = query_filters(request, ints=("project", "data_unit"), strings=("status",))
    expand = "data_unit" in query_expand(request)
    keep = post_filter(request)
    if keep is not None:
        return paginate_filtered(
            request,
            store,
            TABLE,
            filters,
            keep,
            (lambda docs: _expand_units(store, docs)) if expand else None,
        )
    if expand:
        return paginate(
            request, store, TABLE, filters, serialize_page=lambda docs: _expand_units(store, docs)
        )
    return paginate(request, store, TABLE, filters)


async def get_task(request: web.Request) -> web.Response:
    """``GET tasks/{id}/`` (``?expand=data_unit`` embeds the data unit)."""
    store = request.app[STORE]
    doc = get_or_404(store, TABLE, path_id(request))
    if "data_unit" in query_expand(request):
        doc = _expand_units(store, [doc])[0]
    return web.json_response(doc)


def _validate_specs(store: Store, body: Any) -> list[Doc]:
    payload = body_object(body)
    project = payload.get("project")
    if project is None:
        raise field_error("project", "This field is required.")
    if not isinstance(project, int) or isinstance(project, bool):
        raise field_error("project", "Incorrect type. Expected pk value.")
    if store.get(projects.TABLE, project) is None:
        raise field_error("project", f'Invalid pk "{project}" - object does not exist.')
    specs = payload.get("data")
    if not isinstance(specs, list):
        raise field_error("data", "Expected a list of task specs.")
    if not 1 <= len(specs) <= MAX_TASKS_PER_REQUEST:
        raise field_error(
            "data",
            f"Send between 1 and {MAX_TASKS_PER_REQUEST} tasks per request, got {len(specs)}.",
        )
    now = now_iso()
    tasks: list[Doc] = []
    for n, spec in enumerate(specs):
        if not isinstance(spec, dict) or ("data_unit" not in spec and "data" not in spec):
            raise field_error(
                "data", f"item {n}: expected {{'data_unit': id}} or {{'data': {{...}}}}."
            )
        unit = spec.get("data_unit")
        if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool)):
            raise field_error("data_unit", f"item {n}: Incorrect type. Expected pk value.")
        task_data = spec.get("data")
        if task_data is not None and not isinstance(task_data, dict):
            raise field_error("data", f"item {n}: 'data' must be an object.")
        tasks.append(new_task(project, data_unit=unit, data=task_data, now=now))
    wanted = sorted({t["data_unit"] for t in tasks if t["data_unit"] is not None})
    if wanted:
        found = {u["id"] for u in store.list(data.UNITS, limit=None, id=wanted)}
        missing = [u for u in wanted if u not in found]
        if missing:
            raise bad_request(
                {"data_unit": [f'Invalid pk "{missing[0]}" - object does not exist.']},
                missing=missing[:100],
            )
    return tasks


async def create_tasks(request: web.Request) -> web.Response:
    """``POST tasks/`` ``{"project", "data": [spec...]}`` -> 201 ``{"count", "results"}``."""
    store = request.app[STORE]
    tasks = _validate_specs(store, await read_json(request))
    created = store.insert_many(TABLE, tasks)
    return web.json_response({"count": len(created), "results": created}, status=201)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/tasks/", list_tasks)
    r.add_get("/sdk/tasks/", list_tasks)
    r.add_post("/tasks/", create_tasks)
    r.add_post("/tasks/set_tags/", set_tags_handler(TABLE, "task_ids"))
    r.add_get("/tasks/{id}/", get_task)
