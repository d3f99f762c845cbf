"""The default transport sends through the proxy named in the environment."""

from __future__ import annotations

import pytest
from aiohttp import web

from synapse_async import AsyncClient

pytestmark = pytest.mark.anyio


async def test_requests_go_through_the_http_proxy_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return web.json_response({"id": 1, "name": "via proxy"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with AsyncClient("http://api.synapse.invalid/", access_token="t") as client:
            project = await client.projects.get(1)
    finally:
        await runner.cleanup()
    assert project.name == "via proxy"
    assert seen and "api.synapse.invalid" in seen[0]
