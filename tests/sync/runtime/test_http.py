"""Loop-bound resources live on the facade loop: one HTTP connection pool across calls."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from synapse_sync import Portal


class Server:
    """A loopback aiohttp server that records the client port of every request."""

    def __init__(self) -> None:
        self.peers: list[int] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        async def hello(request: web.Request) -> web.Response:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.peers.append(peer[1] if peer else -1)
            return web.json_response({"n": len(self.peers)})

        app = web.Application()
        app.router.add_get("/", hello)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def make_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


class OwnedSession:
    """An aiohttp session with the ``aclose()`` that ``close_on_shutdown`` awaits.

    ``aiohttp.ClientSession`` has ``close()``, not ``aclose()``.
    """

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def aclose(self) -> None:
        await self.session.close()


async def fetch(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as resp:
        return int((await resp.json())["n"])


def test_ten_sync_calls_reuse_one_keep_alive_connection(portal: Portal) -> None:
    server = Server()
    url = portal.call(server.start)
    session = portal.call(make_session)  # created on, and owned by, the facade loop
    owner = OwnedSession(session)  # held here: the portal keeps only a weak reference
    portal.close_on_shutdown(owner)
    try:
        assert [portal.call(fetch, session, url) for _ in range(10)] == list(range(1, 11))
        assert len(set(server.peers)) == 1  # one TCP connect for ten calls
    finally:
        portal.call(session.close)
        portal.call(server.stop)
