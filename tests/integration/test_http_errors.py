"""The HTTP layer against a real emulator: typed errors, retries, credentials, logging."""

from __future__ import annotations

import logging
import socket

import pytest
from aiohttp import web

from synapse_async import (
    AsyncClient,
    AuthenticationError,
    ClientConfig,
    NotFoundError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from synapse_async.emulator import Emulator, Faults
from tests.helpers import make_client

pytestmark = pytest.mark.anyio


async def test_bad_token_is_authentication_error(emulator: Emulator) -> None:
    async with AsyncClient(emulator.url, access_token="wrong-token") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.projects.get(1)
    assert info.value.status_code == 401
    assert "access token" in str(info.value)
    assert "wrong-token" not in str(info.value)


async def test_nothing_listening_names_the_host() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    cfg = ClientConfig.resolve(
        f"http://127.0.0.1:{port}",
        access_token="t",
        env={},
        retry=RetryPolicy(max_retries=2, initial_delay=0.01),
    )
    async with AsyncClient(config=cfg) as c:
        with pytest.raises(TransportError, match=f"127.0.0.1:{port}.*base_url"):
            await c.projects.get(1)


async def test_html_error_page_is_typed_not_json_decode_error(emulator: Emulator) -> None:
    emulator.set_faults(Faults(html_error_rate=1.0))
    async with make_client(emulator, retry=RetryPolicy(max_retries=1, initial_delay=0.01)) as c:
        with pytest.raises(ServerError) as info:
            await c.projects.get(1)
    assert info.value.status_code == 502
    assert "HTML page" in str(info.value)


async def test_nonexistent_id_is_not_found(client: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.tasks.get(987654)
    assert "tasks/987654/" in str(info.value)
    assert info.value.request_id  # the emulator sends X-Request-Id


async def test_non_json_success_body_is_unexpected_response() -> None:
    async def handler(_: web.Request) -> web.Response:
        return web.Response(text="<html>login page</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/projects/1/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with AsyncClient(f"http://127.0.0.1:{port}", access_token="t") as c:
            with pytest.raises(UnexpectedResponseError, match="expected JSON but got text/html"):
                await c.projects.get(1)
    finally:
        await runner.cleanup()


async def test_credentials_never_sent_to_another_origin(client: AsyncClient) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"count": 0, "next": None, "previous": None, "results": []})

    app = web.Application()
    app.router.add_get("/elsewhere/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await client._http.request("GET", f"http://127.0.0.1:{port}/elsewhere/")
    finally:
        await runner.cleanup()
    assert seen, "the foreign server got the request"
    lowered = {k.lower() for k in seen[0]}
    assert not lowered & {
        "synapse-access-token",
        "authorization",
        "synapse-tenant",
        "synapse-agent",
    }
    assert seen[0]["User-Agent"].startswith("synapse-async/")


async def test_retries_ride_out_503_and_429(emulator: Emulator) -> None:
    project = emulator.seed.project(name="p")
    emulator.set_faults(Faults(error_rate=0.3, rate_limit_rate=0.2, retry_after=0.01, seed=7))
    async with make_client(emulator) as c:
        for _ in range(20):
            assert (await c.projects.get(project["id"])).name == "p"
    assert emulator.counters["injected_errors"] + emulator.counters["injected_429"] > 0


async def test_retried_creating_posts_create_once(emulator: Emulator) -> None:
    emulator.set_faults(Faults(error_rate=0.3, rate_limit_rate=0.1, retry_after=0.01, seed=3))
    async with make_client(emulator) as c:
        for i in range(15):
            await c.projects.create(f"p{i}")
    emulator.set_faults(Faults())
    async with make_client(emulator) as c:
        names = [p.name async for p in c.projects.list()]
    assert names == [f"p{i}" for i in range(15)]


async def test_persistent_503_gives_up_with_the_last_error(emulator: Emulator) -> None:
    emulator.set_faults(Faults(error_rate=1.0, error_statuses=(503,)))
    async with make_client(emulator, retry=RetryPolicy(max_retries=3, initial_delay=0.01)) as c:
        with pytest.raises(ServerError) as info:
            await c.projects.get(1)
    assert info.value.status_code == 503
    assert emulator.counters["injected_errors"] == 4  # 1 try + 3 retries


async def test_tokens_never_logged(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.set_faults(Faults(error_rate=0.5, seed=1))
    async with make_client(emulator) as c:
        await c.projects.list().page(1)
        with pytest.raises(NotFoundError):
            await c.projects.get(424242)
    assert caplog.records, "debug logging produced records"
    assert all(emulator.access_token not in r.getMessage() for r in caplog.records)


async def test_per_call_timeout_via_with_options(emulator: Emulator) -> None:
    # Without the 0.1 s timeout the request would be answered (404) after the latency.
    emulator.set_faults(Faults(latency=0.5))
    async with make_client(emulator, retry=RetryPolicy(max_retries=0)) as c:
        with pytest.raises(TimeoutError):
            await c.with_options(timeout=0.1).projects.get(1)
    assert emulator.counters["requests"] == 1
