"""Shared plumbing of the resource classes (request helpers, decoding, listing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from synapse_async._validation import is_int
from synapse_async.errors import InvalidInputError, UnexpectedResponseError
from synapse_async.models._converter import structure, structurer
from synapse_async.pagination import AsyncPaginator

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["AsyncResource", "batch_key", "check_id", "created_items"]

T = TypeVar("T")
R = TypeVar("R", bound="AsyncResource")


def check_id(value: Any, name: str = "id") -> int:
    """Validate an object id (a positive integer) before it goes into a URL."""
    if not is_int(value) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    return value


def batch_key(key: str | None, n: int) -> str | None:
    """The Idempotency-Key of batch ``n`` of a call given ``key`` (AUTO: a fresh one)."""
    if key is None:
        from synapse_async.http import AUTO

        return AUTO  # type: ignore[no-any-return]
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"idempotency_key must be a non-empty string, got {key!r}")
    return key if n == 0 else f"{key}-{n}"


def created_items(data: Any) -> list[Any]:
    """The created records of a batch create reply: ``{"results": [...]}``, a list, or one."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        return list(data["results"])
    return [data]


def created_id(item: Any, what: str) -> int:
    """The ``id`` of one record of a batch create reply.

    Raises:
        UnexpectedResponseError: the record has no integer id.
    """
    value = item.get("id") if isinstance(item, Mapping) else None
    if type(value) is not int:
        raise UnexpectedResponseError(
            f"the server's reply to a {what} batch holds a record without an integer id: "
            f"{item!r:.200}",
            status_code=200,
        )
    return value


class AsyncResource:
    """Base of the API resource classes; holds the client's HTTP layer."""

    def __init__(self, http: HTTPClient) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _sibling(self, given: R | None, cls: Callable[[HTTPClient], R]) -> R:
        """The sibling resource the client passed in, else a ``cls`` on this HTTP layer.

        The one wiring rule of the resources: one that reads through another takes it as a
        constructor argument (``AsyncClient`` passes its own); built alone, it makes one.
        """
        return given if given is not None else cls(self._http)

    def _decode(self, data: Any, cls: type[T]) -> T:
        return structure(data, cls, strict=self._http.config.strict_decoding)

    def _paginate(
        self, path: str, params: Mapping[str, Any], cls: type[T], page_size: int
    ) -> AsyncPaginator[T]:
        return AsyncPaginator(
            self._http,
            path,
            params,
            structurer(cls, strict=self._http.config.strict_decoding),
            page_size=page_size,
            concurrency=self._http.config.page_concurrency,
        )
