"""DRF-style pagination for list endpoints: page numbers by default, cursors on request.

Page-number mode (``?page=N&page_size=S``, S from 1 to 1000, default 100) answers
``{"count", "next", "previous", "results"}``; cursor mode (``?pagination=cursor``, optional
``cursor=<id>``) answers ``{"next", "previous", "results"}`` without a count, each page holding
the items with id greater than the cursor. ``next``/``previous`` are absolute URLs built from
the request URL, other query parameters kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from .errors import ApiError, bad_request
from .store import Doc, Store

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "paginate", "parse_page_size"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Serialize = Callable[[Doc], Any]
SerializePage = Callable[[list[Doc]], list[Any]]


def parse_page_size(request: web.Request) -> int:
    """The ``page_size`` query parameter, validated (400 when not an int in 1..1000)."""
    raw = request.query.get("page_size")
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(
            f"page_size must be an integer between 1 and {MAX_PAGE_SIZE}, got {raw!r}"
        )
    return size


def _parse_positive(request: web.Request, name: str, default: int, minimum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid {name}: {raw!r} is not an integer.") from None
    if value < minimum:
        raise bad_request(f"Invalid {name}: must be >= {minimum}, got {value}.")
    return value


def _results(
    docs: list[Doc], serialize: Serialize | None, serialize_page: SerializePage | None
) -> list[Any]:
    if serialize_page is not None:
        return serialize_page(docs)
    if serialize is not None:
        return [serialize(d) for d in docs]
    return list(docs)


def paginate(
    request: web.Request,
    store: Store,
    table: str,
    filters: Mapping[str, Any],
    *,
    serialize: Serialize | None = None,
    serialize_page: SerializePage | None = None,
) -> web.Response:
    """One page of ``table`` filtered by ``filters`` (equality on indexed columns).

    Args:
        request: the list request (reads ``page``, ``page_size``, ``pagination``, ``cursor``).
        store: the record store.
        table: the registered table.
        filters: passed to :meth:`Store.list`.
        serialize: turns one stored doc into the wire item (default: the doc as is).
        serialize_page: turns a whole page of docs into wire items (for batched expansion);
            takes precedence over ``serialize``.

    Raises:
        ApiError: 400 on a bad ``page``/``page_size``/``cursor``; 404 ``Invalid page.`` past
            the last page (page 1 of an empty collection is fine).
    """
    size = parse_page_size(request)
    url = request.url
    if request.query.get("pagination") == "cursor":
        return _cursor_page(request, store, table, filters, size, url, serialize, serialize_page)
    page = _parse_positive(request, "page", 1, 1)
    count = store.count(table, **filters)
    last = max(1, math.ceil(count / size))
    if page > last:
        raise ApiError(404, "Invalid page.")
    next_url = str(url.update_query(page=page + 1)) if page < last else None
    if page == 1:
        previous_url = None
    elif page == 2:
        previous_url = str(url.without_query_params("page"))
    else:
        previous_url = str(url.update_query(page=page - 1))
    offset = (page - 1) * size
    if serialize is None and serialize_page is None:
        # Fast path: splice the stored JSON texts, no per-item decode and re-encode.
        texts = store.list_json(table, offset=offset, limit=size, **filters)
        head = json.dumps({"count": count, "next": next_url, "previous": previous_url})
        body = f'{head[:-1]}, "results": [{", ".join(texts)}]}}'
        return web.Response(text=body, content_type="application/json")
    docs = store.list(table, offset=offset, limit=size, **filters)
    return web.json_response(
        {
            "count": count,
            "next": next_url,
            "previous": previous_url,
            "results": _results(docs, serialize, serialize_page),
        }
    )


def _cursor_page(
    request: web.Request,
    store: Store,
    table: str,
    filters: Mapping[str, Any],
    size: int,
    url: URL,
    serialize: Serialize | None,
    serialize_page: SerializePage | None,
) -> web.Response:
    cursor = _parse_positive(request, "cursor", 0, 0)
    docs = store.list(table, limit=size + 1, id_gt=cursor, **filters)
    more = len(docs) > size
    docs = docs[:size]
    next_url = str(url.update_query(cursor=docs[-1]["id"])) if more else None
    previous_url: str | None = None
    if cursor > 0:
        first = docs[0]["id"] if docs else cursor + 1
        before = store.list(table, limit=size, id_lt=first, descending=True, **filters)
        if before:
            start = int(before[-1]["id"]) - 1
            prev = (
                url.update_query(cursor=start) if start > 0 else url.without_query_params("cursor")
            )
            previous_url = str(prev)
    return web.json_response(
        {
            "next": next_url,
            "previous": previous_url,
            "results": _results(docs, serialize, serialize_page),
        }
    )
