"""Listings against a mock server: order, a lying count, empty pages, bad next links."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from synapse_async import ClientConfig, PageFetchError, RetryPolicy, UnexpectedResponseError
from synapse_async.testing import MockTransport, json_response
from synapse_async.transport import Request, Response
from synapse_sync import Client
from tests.unit.conftest import BASE, TOKEN, MakeClient

pytestmark = pytest.mark.anyio


def pages_of(total: int, *, claimed: int | None = None, next_link: object = "auto") -> object:
    """A task listing of ``total`` tasks whose count says ``claimed``."""

    def handler(request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        page, size = int(query.get("page", ["1"])[0]), int(query["page_size"][0])
        ids = range((page - 1) * size + 1, min(page * size, total) + 1)
        link = f"{request.url}&next" if next_link == "auto" else next_link
        return json_response(
            {
                "count": total if claimed is None else claimed,
                "next": link,
                "results": [{"id": i, "project": 1} for i in ids],
            }
        )

    return handler


async def test_pages_come_in_order(make_client: MakeClient) -> None:
    client = make_client(pages_of(250))
    ids = [t.id async for t in client.tasks.list(page_size=100)]
    assert ids == list(range(1, 251))
    assert len(client._http.transport.requests) == 3  # type: ignore[attr-defined]


async def test_a_count_that_lies_ends_at_the_first_empty_page(make_client: MakeClient) -> None:
    client = make_client(pages_of(150, claimed=10**9), page_concurrency=4)
    ids = [t.id async for t in client.tasks.list(page_size=100)]
    assert ids == list(range(1, 151))
    # page 3 is empty; at most one window of pages was in flight besides it
    assert len(client._http.transport.requests) <= 3 + 4  # type: ignore[attr-defined]


@pytest.mark.parametrize("link", [{"href": "x"}, 5, ["x"]])
async def test_a_next_link_that_is_not_a_url_is_an_unexpected_response(
    make_client: MakeClient, link: object
) -> None:
    client = make_client(pages_of(10, next_link=link))
    with pytest.raises(UnexpectedResponseError) as info:
        [t async for t in client.tasks.list(page_size=5)]
    assert "page 1" in str(info.value) and "next" in str(info.value)


def with_bad_page(total: int, bad: int, body: bytes) -> object:
    """``pages_of(total)``, except page ``bad`` answers ``body`` as JSON."""
    good = pages_of(total)

    def handler(request: Request) -> Response:
        if parse_qs(urlsplit(request.url).query).get("page") == [str(bad)]:
            return Response(200, {"Content-Type": "application/json"}, content=body)
        return good(request)  # type: ignore[operator,no-any-return]

    return handler


async def test_a_page_of_invalid_json_is_a_page_fetch_error(make_client: MakeClient) -> None:
    client = make_client(with_bad_page(300, 2, b'{"count": 300, "results": [{"id'))
    seen = 0
    with pytest.raises(PageFetchError, match="page 2 of sdk/tasks/") as info:
        async for _ in client.tasks.list(page_size=100):
            seen += 1
    assert seen == 100 and info.value.page == 2
    assert "invalid JSON" in str(info.value.__cause__)


def sync_client(handler: object) -> Client:
    config = ClientConfig.resolve(
        BASE, access_token=TOKEN, retry=RetryPolicy(max_retries=1, initial_delay=0.001)
    )
    return Client(config=config, transport=MockTransport(handler))  # type: ignore[arg-type]


def test_sync_listing_reads_a_page_of_invalid_json_as_the_async_one_does() -> None:
    with sync_client(with_bad_page(300, 2, b"[not json")) as client:
        seen = 0
        with pytest.raises(PageFetchError, match="page 2 of sdk/tasks/") as info:
            for _ in client.tasks.list(page_size=100):
                seen += 1
        assert seen == 100 and info.value.page == 2
        assert "invalid JSON" in str(info.value.__cause__)


def test_sync_listing_ends_at_the_first_empty_page_whatever_the_count() -> None:
    with sync_client(pages_of(150, claimed=10**9)) as client:
        ids = [t.id for t in client.tasks.list(page_size=100)]
        assert ids == list(range(1, 151))
        transport = client._aio._http.transport
        assert isinstance(transport, MockTransport)
        # page 3 is empty: the listing stopped when it was decoded. Until then the loop went
        # on at most as far as a deferred listing may: the pages of the consumer's last hop
        # and of the loop's buffer (each under a batch plus one page) and a window in flight.
        pages_per_batch = math.ceil(client._portal.batch_size / 100) + 1
        assert len(transport.requests) <= 3 + 2 * pages_per_batch + 16
