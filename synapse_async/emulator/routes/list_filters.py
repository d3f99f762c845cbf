"""Filters of the listings exports read (assignments, tasks, ground truth events).

Besides the equality filters of each route (``project``, ``status``, ...), these listings
honour the export workflow's optional filters:

- ``tags``: tag ids (comma-separated or repeated); an item matches when it carries any of them.
- ``category``: a ground truth event's category (``train``, ``validation``, ``test``, ...),
  its own ``category`` field or ``meta.category``.
- date ranges on ``created`` (and ``modified``): ``created__gte``, ``created__gt``,
  ``created__lte``, ``created__lt`` (ISO 8601; a bare date is midnight UTC), and the aliases
  ``created_after`` (``__gte``) and ``created_before`` (``__lt``).

A query parameter the listing does not know is answered with 400 naming it, instead of being
ignored (an ignored filter silently exports everything).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ..errors import ApiError, bad_request
from ..pagination import parse_page_size
from ..store import Doc, Store

__all__ = ["DATE_PARAMS", "PAGING_PARAMS", "check_known", "paginate_filtered", "post_filter"]

PAGING_PARAMS = frozenset({"page", "page_size", "pagination", "cursor", "expand", "format"})
"""Parameters every listing accepts besides its filters."""

_OPS = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
_ALIASES = {"created_after": "created__gte", "created_before": "created__lt"}
DATE_PARAMS = frozenset(
    {f"{field}__{op}" for field in ("created", "modified") for op in _OPS} | set(_ALIASES)
)
"""The date-range parameters."""


def check_known(request: web.Request, known: Iterable[str]) -> None:
    """400 naming every query parameter outside ``known`` and :data:`PAGING_PARAMS`."""
    allowed = PAGING_PARAMS | set(known)
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise bad_request(
            {name: [f"Unknown filter. Known: {', '.join(sorted(allowed))}."] for name in unknown}
        )


def _when(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request({name: [f"Enter a valid date/time, got {raw!r}."]}) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _doc_time(doc: Doc, field: str) -> datetime | None:
    raw = doc.get(field)
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _category(doc: Doc) -> Any:
    meta = doc.get("meta")
    return doc.get("category", meta.get("category") if isinstance(meta, dict) else None)


def post_filter(
    request: web.Request, *, tags: bool = True, category: bool = False
) -> Callable[[Doc], bool] | None:
    """The predicate of the request's ``tags``/``category``/date filters (None: none given)."""
    tests: list[Callable[[Doc], bool]] = []
    query = request.query
    if tags and "tags" in query:
        raw = [p.strip() for v in query.getall("tags") for p in v.split(",") if p.strip()]
        try:
            wanted = {int(p) for p in raw}
        except ValueError:
            raise bad_request({"tags": ["Enter a list of integer tag ids."]}) from None
        tests.append(lambda d: bool(wanted & set(d.get("tags") or [])))
    if category and query.get("category"):
        names = {p.strip() for p in query["category"].split(",") if p.strip()}
        tests.append(lambda d: _category(d) in names)
    for name in DATE_PARAMS & set(query):
        canonical = _ALIASES.get(name, name)
        field, op = canonical.split("__")
        bound = _when(name, query[name])
        compare = _OPS[op]

        def in_range(
            d: Doc, field: str = field, compare: Any = compare, bound: datetime = bound
        ) -> bool:
            when = _doc_time(d, field)
            return when is not None and bool(compare(when, bound))

        tests.append(in_range)
    if not tests:
        return None
    return lambda d: all(t(d) for t in tests)


def paginate_filtered(
    request: web.Request,
    store: Store,
    table: str,
    filters: Mapping[str, Any],
    keep: Callable[[Doc], bool],
    serialize: Callable[[list[Doc]], list[Any]] | None = None,
) -> web.Response:
    """One page of the docs that pass ``filters`` (equality) and ``keep`` (page numbers)."""
    size = parse_page_size(request)
    docs = [d for d in store.list(table, limit=None, **filters) if keep(d)]
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        raise bad_request({"page": ["Enter a whole number."]}) from None
    last = max(1, math.ceil(len(docs) / size))
    if not 1 <= page <= last:
        raise ApiError(404, "Invalid page.")
    url = request.url
    chunk = docs[(page - 1) * size : page * size]
    return web.json_response(
        {
            "count": len(docs),
            "next": str(url.update_query(page=page + 1)) if page < last else None,
            "previous": str(url.update_query(page=page - 1)) if page > 1 else None,
            "results": serialize(chunk) if serialize is not None else chunk,
        }
    )
