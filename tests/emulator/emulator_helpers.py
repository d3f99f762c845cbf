"""Shared helpers for the emulator tests (plain asyncio, no pytest plugins)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp

from synapse_async.emulator import Emulator

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run one test scenario on a fresh event loop."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def auth_headers(emu: Emulator) -> dict[str, str]:
    return {"Synapse-Access-Token": f"Token {emu.access_token}"}


@asynccontextmanager
async def serve(**kwargs: Any) -> AsyncIterator[tuple[Emulator, aiohttp.ClientSession]]:
    """A running emulator and an authenticated session whose base URL is the emulator."""
    async with (
        Emulator(**kwargs) as emu,
        aiohttp.ClientSession(emu.url, headers=auth_headers(emu)) as http,
    ):
        yield emu, http


async def get_json(http: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.get(url, **kw) as r:
        return r.status, await r.json(content_type=None)


async def post_json(http: aiohttp.ClientSession, url: str, body: Any, **kw: Any) -> tuple[int, Any]:
    async with http.post(url, json=body, **kw) as r:
        return r.status, await r.json(content_type=None)
