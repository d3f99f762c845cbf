"""Auto-pagination: concurrent page-number listing, ordered streaming, bounded memory.

A list call returns an ``AsyncPaginator``. Iterating it (``async for item in paginator``)
fetches page 1, reads ``count``, then fetches the remaining pages concurrently (at most
``concurrency`` in flight) while yielding items in server order. At most ``concurrency``
fetched pages wait in memory ahead of the consumer, so memory does not grow with the
collection. Servers that send no ``count`` (cursor pagination) are followed through ``next``
one page at a time.

The page count is fixed when page 1 arrives: items created during the listing are not
yielded (no loop, no duplicates from appends); when the collection shrinks, the listing ends
at the first page the server no longer has.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from synapse_async._constants import MAX_PAGE_SIZE
from synapse_async._validation import is_int
from synapse_async.errors import (
    InvalidInputError,
    NotFoundError,
    PageFetchError,
    SynapseError,
    UnexpectedResponseError,
)

if TYPE_CHECKING:
    from synapse_async.http import Expect, HTTPClient, JSONBody

__all__ = ["AsyncPaginator", "Page", "PageChunk"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        items: the page's items, in server order.
        count: the collection size the server reported (None in cursor mode).
        number: the 1-based page number (None in cursor mode).
        next_url: the server's link to the next page, if any.
    """

    items: list[T]
    count: int | None
    number: int | None
    next_url: str | None


class PageChunk(Generic[T]):
    """A fetched page of a listing, decoded when first asked for.

    Attributes:
        number: the 1-based page number (None in cursor mode).
        size: how many items the page should hold (the collection's count says so), to bound
            how many chunks may wait in a buffer before they are decoded.
    """

    __slots__ = ("_body", "_page", "_paginator", "number", "size")

    def __init__(
        self,
        paginator: AsyncPaginator[T],
        number: int | None,
        size: int,
        *,
        page: Page[T] | None = None,
        body: JSONBody | None = None,
    ) -> None:
        self._paginator = paginator
        self.number = number
        self.size = size
        self._page = page
        self._body = body

    def __repr__(self) -> str:
        state = "decoded" if self._page is not None else "not decoded"
        return f"<PageChunk page={self.number} size={self.size} {state}>"

    def page(self) -> Page[T]:
        """The page, parsed and decoded on the first call (in the calling thread).

        Raises:
            PageFetchError: the page's body is not valid JSON.
            UnexpectedResponseError: the page or one of its items cannot be read.
        """
        page = self._page
        if page is None:
            page = self._page = self._paginator._read(self._body, self.number)
            self._body = None
        return page

    def decode(self) -> list[T]:
        """The page's items (see ``page()``)."""
        return self.page().items


def check_page_size(page_size: int) -> int:
    """Validate a page size (1..1000) before any request is sent."""
    if not is_int(page_size) or not (1 <= page_size <= MAX_PAGE_SIZE):
        raise InvalidInputError(
            f"page_size must be an integer between 1 and {MAX_PAGE_SIZE}, got {page_size!r}"
        )
    return page_size


class AsyncPaginator(Generic[T]):
    """An auto-paginating listing; ``async for`` yields every item in server order.

    Also: ``await paginator.page(n)`` for one page with its count, and
    ``async for page in paginator.pages()`` to go page by page.
    """

    def __init__(
        self,
        http: HTTPClient,
        path: str,
        params: Mapping[str, Any],
        decode: Callable[[Any], T],
        *,
        page_size: int,
        concurrency: int,
    ) -> None:
        self._http = http
        self._path = path
        self._params = {k: v for k, v in params.items() if v is not None}
        self._decode = decode
        self._page_size = check_page_size(page_size)
        if concurrency < 1:
            raise InvalidInputError(f"page concurrency must be >= 1, got {concurrency!r}")
        self._concurrency = concurrency

    def __repr__(self) -> str:
        return f"AsyncPaginator(path={self._path!r}, page_size={self._page_size})"

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iter_items()

    async def _iter_items(self) -> AsyncIterator[T]:
        # Closed explicitly: a consumer that stops early (break + aclose) must find the
        # pages in flight cancelled when aclose returns, not whenever the GC finalises them.
        pages = cast(AsyncGenerator[Page[T], None], self.pages())
        async with contextlib.aclosing(pages):
            async for page in pages:
                for item in page.items:
                    yield item

    async def page(self, number: int = 1) -> Page[T]:
        """Fetch one page (1-based) with the collection's count.

        Raises:
            InvalidInputError: ``number`` is not a positive integer.
            NotFoundError: the page is past the end of the collection.
        """
        if not is_int(number) or number < 1:
            raise InvalidInputError(f"page number must be an integer >= 1, got {number!r}")
        return self._to_page(await self._fetch(number), number)

    async def _fetch(self, number: int, expect: Expect = "json") -> Any:
        params = {**self._params, "page": number, "page_size": self._page_size}
        return await self._http.request("GET", self._path, params=params, expect=expect)

    def _to_page(self, data: Any, number: int | None) -> Page[T]:
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise UnexpectedResponseError(
                f"GET {self._path}: expected a page object with 'results', got "
                f"{type(data).__name__}",
                status_code=200,
            )
        count = data.get("count")
        try:
            items = [self._decode(item) for item in data["results"]]
        except UnexpectedResponseError as exc:
            where = f"page {number}" if number is not None else "a page"
            raise UnexpectedResponseError(
                f"GET {self._path}: {where} holds an item the SDK cannot read: {exc}",
                status_code=200,
            ) from exc
        next_url = data.get("next")
        if next_url is not None and not isinstance(next_url, str):
            where = f"page {number}" if number is not None else "a page"
            raise UnexpectedResponseError(
                f"GET {self._path}: {where} has a 'next' link that is not a URL "
                f"({type(next_url).__name__}: {next_url!r})",
                status_code=200,
            )
        return Page(
            items=items,
            count=count if isinstance(count, int) else None,
            number=number if count is not None else None,
            next_url=next_url,
        )

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield every page in order (pages 2.. fetched concurrently when the count is known)."""
        chunks = cast(AsyncGenerator[PageChunk[T], None], self._chunks(deferred=False))
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                yield chunk.page()

    async def _chunks(self, *, deferred: bool = True) -> AsyncIterator[PageChunk[T]]:
        """Every page in order, as chunks; ``deferred``: pages 2.. are decoded by the consumer.

        Deferred chunks are what the sync facade iterates: the loop thread only fetches, and
        the calling thread parses and decodes each page right before it yields the page's
        items, so decoded items live no longer than in an ``async for``. A deferred chunk
        that decodes to no items ends the listing (as an empty page does here); until its
        consumer decodes it, the loop may fetch the pages after it (under a count that lies,
        as many as its consumer lets it buffer).
        """
        # Fetch tasks only do the HTTP round trip; pages are decoded as they are consumed,
        # after the window was refilled and the new requests had a turn to go out. Decoding
        # inside the fetch tasks would queue every decode of a burst of responses ahead of
        # the next requests, serialising CPU with network latency.
        first = await self.page(1)
        yield PageChunk(self, 1, len(first.items), page=first)
        if not first.items:
            return
        if first.count is None or self._concurrency == 1:
            async for page in self._follow_next(first.next_url):
                yield PageChunk(self, None, len(page.items), page=page)
            return
        count, size = first.count, self._page_size
        last = math.ceil(count / size)
        in_flight: deque[tuple[int, asyncio.Task[JSONBody | None]]] = deque()
        next_number = 2
        try:
            while next_number <= last or in_flight:
                started = False
                while next_number <= last and len(in_flight) < self._concurrency:
                    task = asyncio.ensure_future(self._numbered(next_number))
                    in_flight.append((next_number, task))
                    next_number += 1
                    started = True
                if started:
                    await asyncio.sleep(0)  # let the new requests go out before decoding
                number, task = in_flight.popleft()
                body = await task
                if body is None:  # the collection shrank below this page
                    return
                expected = max(1, min(size, count - (number - 1) * size))
                chunk = PageChunk(self, number, expected, body=body)
                if not deferred and not chunk.page().items:  # past the end, whatever the count said
                    return
                yield chunk
        finally:
            for _, task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.gather(*(task for _, task in in_flight), return_exceptions=True)

    async def _numbered(self, number: int) -> JSONBody | None:
        try:
            body: JSONBody | None = await self._fetch(number, "json_later")
        except NotFoundError:
            return None
        except SynapseError as exc:
            raise self._page_error(number, exc) from exc
        return body

    def _page_error(self, number: int | None, exc: SynapseError) -> PageFetchError:
        return PageFetchError(
            f"page {number} of {self._path} failed: {exc}",
            page=number,
            url=self._http.url_for(self._path, {**self._params, "page": number}),
        )

    def _read(self, body: JSONBody | None, number: int | None) -> Page[T]:
        """Parse and decode a page fetched with ``expect="json_later"``."""
        try:
            data = None if body is None else body.load()
        except UnexpectedResponseError as exc:
            raise self._page_error(number, exc) from exc
        return self._to_page(data, number)

    async def _follow_next(self, url: str | None) -> AsyncIterator[Page[T]]:
        seen: set[str] = set()
        while url:
            if url in seen:  # a server bug must not make the listing loop forever
                raise UnexpectedResponseError(
                    f"GET {self._path}: the server's next link repeats ({url})", status_code=200
                )
            seen.add(url)
            try:
                data = await self._http.request("GET", url)
            except SynapseError as exc:
                raise PageFetchError(
                    f"page {url} of {self._path} failed: {exc}", page=None, url=url
                ) from exc
            page = self._to_page(data, None)
            if not page.items:  # an empty page ends the listing, whatever its next link
                return
            yield page
            url = page.next_url
