from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from synapse_async.emulator.app import build_app
from synapse_async.emulator.store import Store
from tests.emulator.emulator_helpers import get_json, run, serve


def test_unknown_route_and_method_are_json() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            async with http.get("no/such/thing/") as r:
                assert r.status == 404
                assert r.content_type == "application/json"
                assert await r.json() == {"detail": "Not found."}
                assert len(r.headers["X-Request-Id"]) == 32
            async with http.delete("projects/") as r:
                assert r.status == 405
                assert await r.json() == {"detail": 'Method "DELETE" not allowed.'}

    run(scenario())


def test_invalid_json_body_is_400() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            async with http.post(
                "projects/", data=b"{not json", headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 400
                body = await r.json()
                assert body["detail"].startswith("JSON parse error - ")
            async with http.post("projects/", json=[1, 2]) as r:
                assert r.status == 400

    run(scenario())


def test_request_ids_are_unique_and_on_errors() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http), aiohttp.ClientSession(emu.url) as anon:
            ids = set()
            for _ in range(3):
                async with http.get("projects/") as r:
                    ids.add(r.headers["X-Request-Id"])
            async with anon.get("projects/") as r:
                assert r.status == 401
                ids.add(r.headers["X-Request-Id"])
            assert len(ids) == 4

    run(scenario())


def test_uncaught_exception_is_json_500(tmp_path: Path) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("kaboom")

    async def scenario() -> None:
        store = Store(tmp_path / "db.sqlite3")
        app = build_app(store=store, access_token="t", base_dir=tmp_path)
        app.router.add_get("/boom/", boom)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}/") as s:
                status, body = await get_json(
                    s, "boom/", headers={"Synapse-Access-Token": "Token t"}
                )
                assert status == 500
                assert body == {"detail": "A server error occurred."}
        finally:
            await runner.cleanup()
            store.close()

    run(scenario())


def test_a_body_cut_off_by_the_client_is_not_logged_as_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with serve() as (emu, _http):
            host, port = emu.url.split("//", 1)[1].rstrip("/").split(":")
            _reader, writer = await asyncio.open_connection(host, int(port))
            body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
            writer.write(
                b"POST /data_files/ HTTP/1.1\r\nHost: x\r\n"
                b"Synapse-Access-Token: Token " + emu.access_token.encode() + b"\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 100000\r\n\r\n" + body
            )  # far less than announced
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()  # the client goes away mid-body (e.g. killed)
            await asyncio.sleep(0.2)
            assert emu.store.count("data_files") == 0

    with caplog.at_level(logging.ERROR, logger="synapse_async.emulator"):
        run(scenario())
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]
