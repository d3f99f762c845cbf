"""Listings against a mock server: order, a lying count, empty pages, bad next links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from synapse_async import UnexpectedResponseError
from synapse_async.testing import json_response
from synapse_async.transport import Request, Response
from tests.unit.conftest import MakeClient

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
