"""``.../set_tags/``: set, add or remove tag ids on many records at once (tasks, assignments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ..clock import now_iso
from ..errors import read_json
from ..keys import STORE
from ..store import Doc
from .params import body_object, field_error, id_list

__all__ = ["set_tags_handler"]

_ACTIONS = ("set", "add", "remove")


def _change(action: str, tags: list[int], now: str) -> Callable[[Doc], dict[str, Any]]:
    def change(doc: Doc) -> dict[str, Any]:
        current = [t for t in doc.get("tags") or [] if isinstance(t, int)]
        if action == "set":
            new = list(dict.fromkeys(tags))
        elif action == "add":
            new = list(dict.fromkeys([*current, *tags]))
        else:
            drop = set(tags)
            new = [t for t in current if t not in drop]
        return {"tags": new, "modified": now}

    return change


def set_tags_handler(table: str, ids_field: str) -> Handler:
    """A handler for ``POST <table>/set_tags/`` reading ``{ids_field: [...], "tag_ids": [...]}``.

    ``ids`` is accepted in place of ``ids_field``; ``action`` (optional) is ``"set"`` (the
    default: replace the tags), ``"add"`` or ``"remove"``. Answers 200 ``{"updated": n}``;
    ids that do not exist are skipped.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        data = body_object(await read_json(request))
        ids = id_list(data, ids_field if ids_field in data or "ids" not in data else "ids")
        tags = id_list(data, "tag_ids")
        action = data.get("action", "set")
        if action not in _ACTIONS:
            raise field_error("action", f"Expected one of {', '.join(_ACTIONS)}.")
        n = request.app[STORE].update_many(table, ids, _change(action, tags, now_iso()))
        return web.json_response({"updated": n})

    handler.__doc__ = f"``POST {table}/set_tags/``."
    return handler
