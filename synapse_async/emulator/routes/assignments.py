"""``assignments/`` and ``sdk/assignments/``: list, retrieve, tags (created by seeding only)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from .list_filters import DATE_PARAMS, check_known, paginate_filtered, post_filter
from .params import get_or_404, path_id, query_filters
from .tagging import set_tags_handler

__all__ = ["TABLE", "new_assignment", "register_tables", "setup"]

TABLE = "assignments"


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("project", "task", "status"))


def new_assignment(
    project: int,
    task: int,
    *,
    status: str = "pending",
    data: dict[str, Any] | None = None,
    file: dict[str, Any] | None = None,
    now: str | None = None,
) -> Doc:
    """An assignment doc (no id yet); ``data`` is the annotation (DM schema)."""
    now = now or now_iso()
    return {
        "project": project,
        "task": task,
        "status": status,
        "data": data,
        "file": file,
        "tags": [],
        "created": now,
        "modified": now,
    }


async def list_assignments(request: web.Request) -> web.Response:
    """``GET assignments/`` / ``GET sdk/assignments/``: one page.

    Filters ``project, task, status, user``, and ``tags`` and date ranges (see
    ``list_filters``); an unknown filter is a 400.
    """
    check_known(request, {"project", "task", "status", "user", "tags", *DATE_PARAMS})
    filters = query_filters(request, ints=("project", "task"), strings=("status",))
    keep = post_filter(request)
    user = request.query.get("user")
    if user:
        users = {u.strip() for u in user.split(",")}
        other = keep

        def keep(d: Doc) -> bool:
            return str(d.get("user")) in users and (other is None or other(d))

    if keep is not None:
        return paginate_filtered(request, request.app[STORE], TABLE, filters, keep)
    return paginate(request, request.app[STORE], TABLE, filters)


async def get_assignment(request: web.Request) -> web.Response:
    """``GET assignments/{id}/``."""
    return web.json_response(get_or_404(request.app[STORE], TABLE, path_id(request)))


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/assignments/", list_assignments)
    r.add_get("/sdk/assignments/", list_assignments)
    r.add_post("/assignments/set_tags/", set_tags_handler(TABLE, "assignment_ids"))
    r.add_get("/assignments/{id}/", get_assignment)
