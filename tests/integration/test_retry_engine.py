"""The one retry engine against the emulator: attempts and time budget per call."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synapse_async import (
    AsyncClient,
    ClientConfig,
    RetryPolicy,
    Timeout,
    TimeoutError,
    UploadError,
)
from synapse_async.emulator import Emulator, Faults
from tests.helpers import make_client

pytestmark = pytest.mark.anyio

MIB = 2**20


async def test_a_part_failing_forever_is_sent_max_retries_plus_one_times(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(os.urandom(6 * MIB))  # two parts; one sender: part 1 fails first
    emulator.set_faults(Faults(error_rate=1.0, error_statuses=(503,), paths="/parts/"))
    policy = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.02)
    async with make_client(emulator, retry=policy) as client:
        with pytest.raises(UploadError) as info:
            await client.uploads.upload_file(
                path, part_size=5 * MIB, max_concurrency=1, resume=False
            )
    assert info.value.part == 1 and info.value.reason == "server_error"
    # every PUT of part 1 was answered 503: no loop around the engine's own retries
    assert emulator.counters["injected_errors"] == policy.max_retries + 1


async def test_a_part_failing_forever_ends_within_the_budget(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(os.urandom(MIB))
    emulator.set_faults(Faults(error_rate=1.0, error_statuses=(503,), paths="/parts/"))
    budget = 1.5
    policy = RetryPolicy(max_retries=1000, initial_delay=0.05, max_delay=0.2, budget=budget)
    async with make_client(emulator, retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(UploadError):
            await client.uploads.upload_file(path, part_size=5 * MIB, resume=False)
        elapsed = time.monotonic() - started
    sent = emulator.counters["injected_errors"]
    assert 2 <= sent < policy.max_retries  # the budget, not the attempt count, ended it
    assert elapsed <= 2 * budget + 1  # generous: a loaded CI machine


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_each_attempt_is_capped_by_what_is_left_of_the_budget(silent_server: str) -> None:
    budget = 1.0
    policy = RetryPolicy(max_retries=5, initial_delay=0.01, max_delay=0.02, budget=budget)
    config = ClientConfig.resolve(
        silent_server, access_token="t", timeout=Timeout(read=30.0), retry=policy
    )
    async with AsyncClient(config=config) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.projects.get(1)
        elapsed = time.monotonic() - started
    # without the cap, the first attempt alone waits the whole 30 s read timeout
    assert elapsed <= 2 * budget + 1
