"""Shared fixtures: a real emulator on loopback and a strict-decoding client bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

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
