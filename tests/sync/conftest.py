"""A real emulator on its own thread and loop, for blocking callers of the sync facade."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from synapse_async.emulator import Emulator


@dataclass
class ThreadedEmulator:
    """An Emulator running on a background thread; ``run`` calls into its loop."""

    emu: Emulator
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return self.emu.url

    @property
    def access_token(self) -> str:
        return self.emu.access_token

    def run(self, fn: Any, *args: Any) -> Any:
        """Run a plain function (e.g. a seeding helper) on the emulator's loop thread."""

        async def call() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(30)


@pytest.fixture
def threaded_emulator() -> Iterator[ThreadedEmulator]:
    ready = threading.Event()
    stop: asyncio.Event | None = None
    box: dict[str, Any] = {}

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with Emulator() as emu:
            box["emu"] = ThreadedEmulator(emu, asyncio.get_running_loop())
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="emulator", daemon=True)
    thread.start()
    assert ready.wait(30), "emulator did not start"
    yield box["emu"]
    assert stop is not None
    box["emu"].loop.call_soon_threadsafe(stop.set)
    thread.join(30)
