"""Error mapping, ``err.response``, secrets in error bodies, per-call extras, credentials."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from synapse_async import (
    AsyncClient,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    RateLimitError,
    UnexpectedResponseError,
)
from synapse_async.testing import MockTransport, json_response
from synapse_async.transport import AiohttpTransport, Request, Response
from tests.unit.conftest import BASE, TOKEN, MakeClient

pytestmark = pytest.mark.anyio


async def test_api_errors_carry_the_raw_response(make_client: MakeClient) -> None:
    def handler(request: Request) -> Response:
        return json_response(
            {"detail": "Not found."}, status=404, headers={"X-Request-Id": "r-1", "X-Thing": "v"}
        )

    client = make_client(handler)
    with pytest.raises(NotFoundError) as info:
        await client.projects.get(7)
    err = info.value
    assert err.response is not None
    assert err.response.status == 404 and err.response.headers["x-thing"] == "v"
    assert b"Not found." in err.response.body
    assert err.detail == "Not found." and err.request_id == "r-1"


async def test_a_429_honours_retry_after(make_client: MakeClient) -> None:
    def handler(request: Request) -> Response:
        return json_response({"detail": "slow"}, status=429, headers={"Retry-After": "0.001"})

    client = make_client(handler)
    with pytest.raises(RateLimitError) as info:
        await client.projects.get(1)
    assert info.value.retry_after == 0.001


async def test_a_token_echoed_in_an_error_body_is_scrubbed_everywhere(
    make_client: MakeClient,
) -> None:
    def echo(request: Request) -> Response:
        return json_response(
            {
                "detail": {"headers": dict(request.headers)},
                "echo": [request.headers["Synapse-Access-Token"]],
            },
            status=401,
        )

    client = make_client(echo)
    with pytest.raises(AuthenticationError) as info:
        await client.projects.get(1)
    err = info.value
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err.detail) and TOKEN not in repr(err.body)
    assert err.response is not None and TOKEN.encode() not in err.response.body
    assert "***" in repr(err.body)


async def test_with_options_adds_headers_and_query_but_never_replaces_credentials(
    make_client: MakeClient,
) -> None:
    client = make_client(lambda request: json_response({"id": 1, "name": "p"}))
    scoped = client.with_options(
        extra_headers={"X-Trace": "abc", "Synapse-Access-Token": "Token evil"},
        extra_query={"lang": "en"},
    )
    deeper = scoped.with_options(extra_headers={"X-Other": "1"})
    await deeper.projects.get(1)
    await client.projects.get(1)
    scoped_req, plain_req = client._http.transport.requests  # type: ignore[attr-defined]
    assert scoped_req.headers["X-Trace"] == "abc" and scoped_req.headers["X-Other"] == "1"
    assert scoped_req.headers["Synapse-Access-Token"] == f"Token {TOKEN}"
    assert "lang=en" in scoped_req.url
    assert "X-Trace" not in plain_req.headers and "lang=" not in plain_req.url


async def test_control_characters_in_headers_and_credentials(make_client: MakeClient) -> None:
    client = make_client(lambda request: json_response({"id": 1, "name": "p"}))
    with pytest.raises(ConfigurationError) as info:
        client.with_options(extra_headers={"X-Bad": "a\nb"})
    assert "X-Bad" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        AsyncClient(BASE, access_token="abc\x00def")
    assert "access_token" in str(info.value) and "abc" not in str(info.value)
    transport = MockTransport(lambda request: json_response({"id": 1, "name": "p"}))
    async with AsyncClient(BASE, access_token=f" {TOKEN}\n", transport=transport) as stripped:
        await stripped.projects.get(1)
    assert transport.requests[0].headers["Synapse-Access-Token"] == f"Token {TOKEN}"


async def test_the_default_session_takes_proxies_from_the_environment_and_an_ssl_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "direct.test")
    context = ssl.create_default_context()
    transport = AiohttpTransport(ssl=context)
    try:
        session = transport.session
        assert isinstance(session.connector, aiohttp.TCPConnector)
        assert session.connector._ssl is context
        proxy, _auth = transport._proxy("https://api.test/tasks/")
        assert str(proxy) == "http://proxy.test:3128"
        assert transport._proxy("https://direct.test/x/") == (None, None)
        assert AiohttpTransport(trust_env=False)._owned  # and then no lookup at all
    finally:
        await transport.aclose()
    async with aiohttp.ClientSession() as own:
        client = AsyncClient(BASE, access_token=TOKEN, transport=own)
        assert isinstance(client._http.transport, AiohttpTransport)
        assert client._http.transport.session is own
        await client.aclose()
        assert not own.closed  # the caller's session stays the caller's
    with pytest.raises(ConfigurationError):
        AsyncClient(BASE, access_token=TOKEN, transport=object())  # type: ignore[arg-type]


async def test_a_batch_reply_without_integer_ids_is_an_unexpected_response(
    make_client: MakeClient,
) -> None:
    # A bulk upload reads only the ids of the units and tasks it creates: a record without
    # one is reported, never turned into a None id in the journal or the report.
    def handler(request: Request) -> Response:
        return json_response({"results": [{"id": 5}, {"id": "6"}]}, status=201)

    client = make_client(handler)
    units = [{"data_collection": 1, "files": {"image": {"checksum": "0" * 32, "path": "a.jpg"}}}]
    with pytest.raises(UnexpectedResponseError, match="without an integer id"):
        await client.data_units._create_ids(units * 2)
    with pytest.raises(UnexpectedResponseError, match="task batch"):
        await client.tasks._create_ids(3, [{"data_unit": 1}, {"data_unit": 2}])
