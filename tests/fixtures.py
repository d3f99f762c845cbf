"""Fixtures shared by more than one test directory (registered by ``tests/conftest.py``).

An emulator on loopback and a strict-decoding client bound to it (``emulator``, ``client``);
an emulator on its own thread and loop for blocking callers (``threaded_emulator``, also
``running_emulator(**options)`` for a test's own settings); an emulator whose annotation
simulator works only when told (``manual_emu``, ``manual_client``); and the environment every
test runs in (``_isolated_env``). Fixtures used by one directory stay in its ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient
from synapse_async.emulator import Emulator
from tests.helpers import make_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Tests never read the developer's real credentials or config file."""
    for key in (
        "SYNAPSE_HOST",
        "SYNAPSE_ACCESS_TOKEN",
        "SYNAPSE_USER_TOKEN",
        "SYNAPSE_TENANT",
        "SYNAPSE_AGENT_TOKEN",
        "SYNAPSE_API_TOKEN",
        "cynaps_API_KEY",
        "CYNAPS_API_KEY",
        "cynaps_BASE_URL",
        "CYNAPS_BASE_URL",
        "SYNAPSE_TIMEOUT",
        "cynaps_TIMEOUT",
        "CYNAPS_TIMEOUT",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(
        "SYNAPSE_CONFIG_FILE", str(tmp_path_factory.mktemp("cfg") / "absent-config.json")
    )
    yield


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator() as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncClient]:
    async with make_client(emulator) as c:
        yield c


@dataclass
class ThreadedEmulator:
    """An Emulator on its own thread and loop, for callers that block their own thread."""

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

    def run_async(self, coro_fn: Any, *args: Any) -> Any:
        """Run a coroutine function on the emulator's loop thread."""
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop).result(120)


@contextlib.contextmanager
def running_emulator(**options: Any) -> Iterator[ThreadedEmulator]:
    """An Emulator(**options) served from a background thread until the block ends."""
    ready = threading.Event()
    stop: asyncio.Event | None = None
    box: dict[str, Any] = {}

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with Emulator(**options) as emu:
            box["emu"] = ThreadedEmulator(emu, asyncio.get_running_loop())
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="emulator", daemon=True)
    thread.start()
    assert ready.wait(30), "emulator did not start"
    try:
        yield box["emu"]
    finally:
        assert stop is not None
        box["emu"].loop.call_soon_threadsafe(stop.set)
        thread.join(30)


@pytest.fixture
def threaded_emulator() -> Iterator[ThreadedEmulator]:
    """A default Emulator on its own thread (the sync facade and Ray block the test's thread)."""
    with running_emulator() as emu:
        yield emu


@pytest.fixture
async def manual_emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    """An emulator whose simulator annotates only when told (annotation_speed=0)."""
    async with Emulator(
        annotation_speed=0,
        s3_root=tmp_path / "s3",
        webhook_retry_delay=0.02,
        webhook_max_attempts=3,
    ) as emu:
        yield emu


@pytest.fixture
async def manual_client(manual_emu: Emulator) -> AsyncIterator[AsyncClient]:
    """A strict client of ``manual_emu``."""
    async with make_client(manual_emu) as c:
        yield c
