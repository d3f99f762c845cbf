"""Pure helpers of ``synapse_async.compat``: models to dicts, ``params`` to listing calls.

Kept apart so that ``compat.py`` stays a flat table of the official client's methods.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Union

import attrs

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.models import Model
from synapse_async.pagination import AsyncPaginator, Page

__all__ = ["ListResult", "as_dict", "file_path", "listing", "pop_field"]

Dict = dict[str, Any]
ListResult = Union[Dict, tuple[AsyncIterator[Dict], int]]
"""One page as a dict, or ``(iterator of every item, count)`` with ``list_all=True``."""

_ID_PARAMS = frozenset({"project", "data_collection", "plugin", "job", "ground_truth",
                        "data_unit", "task"})


def as_dict(obj: Any) -> Dict:
    """A model (or attrs object, or mapping) as a plain dict, unknown server fields kept."""
    if isinstance(obj, Model):
        return obj.to_dict()
    if attrs.has(type(obj)):
        return attrs.asdict(obj)
    return dict(obj) if isinstance(obj, Mapping) else dict(vars(obj))


def _query(params: Mapping[str, Any] | None) -> tuple[Dict, int, int]:
    """Filters (numeric id strings made ints), page number and page size from ``params``."""
    query = dict(params or {})
    page = int(query.pop("page", 1))
    size = int(query.pop("page_size", DEFAULT_PAGE_SIZE))
    for key in _ID_PARAMS & query.keys():
        if isinstance(query[key], str) and query[key].isdigit():
            query[key] = int(query[key])
    return query, page, size


async def _all_items(first: Page[Any], pages: AsyncIterator[Page[Any]]) -> AsyncIterator[Dict]:
    for item in first.items:
        yield as_dict(item)
    async for page in pages:
        for item in page.items:
            yield as_dict(item)


async def listing(make: Callable[[Dict, int], AsyncPaginator[Any]],
                   params: Mapping[str, Any] | None, list_all: bool) -> ListResult:
    """One page as the official client's dict, or ``(iterator of every item, count)``.

    ``make(filters, page_size)`` builds the resource's paginator.
    """
    query, number, size = _query(params)
    paginator = make(query, size)
    if not list_all:
        page = await paginator.page(number)
        return {"count": page.count, "next": page.next_url, "previous": None,
                "results": [as_dict(i) for i in page.items]}
    pages = paginator.pages()
    first = await pages.__anext__()
    count = first.count if first.count is not None else len(first.items)
    return _all_items(first, pages), count


def pop_field(data: Mapping[str, Any], key: str, what: str) -> tuple[Any, Dict]:
    """``data[key]`` and a copy of the rest (``InvalidInputError`` naming ``what`` if absent)."""
    rest = dict(data)
    if key not in rest:
        raise InvalidInputError(f"{what} needs a {key!r} field")
    return rest.pop(key), rest


def file_path(value: Any) -> str | os.PathLike[str]:
    """A path from a path or an open file (the official client accepts ``open(...)``)."""
    if isinstance(value, (str, os.PathLike)):
        return value
    name = getattr(value, "name", None)
    if isinstance(name, str) and Path(name).is_file():
        return name
    raise InvalidInputError(f"expected a file path or a file opened from a path, got {value!r}")
