"""Reading and checking request parameters: path ids, query filters, body fields.

Every failure is an :class:`~synapse_async.emulator.errors.ApiError` shaped like the
backend's (DRF) answers: ``{"detail": {"field": ["message"]}}`` for body fields.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import ApiError, bad_request, not_found
from ..store import Doc, Store

__all__ = [
    "body_object",
    "field_error",
    "get_or_404",
    "id_list",
    "path_id",
    "query_expand",
    "query_filters",
]


def field_error(field: str, message: str) -> ApiError:
    """A DRF field error: 400 ``{"detail": {field: [message]}}``."""
    return bad_request({field: [message]})


def path_id(request: web.Request, name: str = "id") -> int:
    """The integer id in the URL path (404 when it is not an integer, as a router would)."""
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        raise not_found() from None


def get_or_404(store: Store, table: str, id: int) -> Doc:
    """The stored doc, or 404 ``Not found.``."""
    doc = store.get(table, id)
    if doc is None:
        raise not_found()
    return doc


def query_filters(
    request: web.Request, *, ints: tuple[str, ...] = (), strings: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Equality filters from the query string; ``ints`` must parse as integers (else 400).

    A comma-separated value (``?status=pending,done``) filters on any of the values.
    """
    filters: dict[str, Any] = {}
    for name in (*ints, *strings):
        raw = request.query.get(name)
        if raw is None or raw == "":
            continue
        values: list[Any] = raw.split(",")
        if name in ints:
            try:
                values = [int(v) for v in values]
            except ValueError:
                raise bad_request(
                    {name: [f"Select a valid choice. {raw!r} is not an integer."]}
                ) from None
        filters[name] = values[0] if len(values) == 1 else values
    return filters


def query_expand(request: web.Request) -> set[str]:
    """The names in ``?expand=a,b`` (repeated ``expand`` parameters are merged)."""
    names: set[str] = set()
    for raw in request.query.getall("expand", []):
        names.update(part.strip() for part in raw.split(",") if part.strip())
    return names


def body_object(body: Any) -> dict[str, Any]:
    """The JSON body as an object (400 when it is another JSON type)."""
    if not isinstance(body, dict):
        raise bad_request(
            {
                "non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {type(body).__name__}."
                ]
            }
        )
    return body


def id_list(body: dict[str, Any], field: str) -> list[int]:
    """``body[field]`` as a list of integer ids (400 otherwise)."""
    value = body.get(field)
    if value is None:
        raise field_error(field, "This field is required.")
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise field_error(field, "Expected a list of integer ids.")
    return value
