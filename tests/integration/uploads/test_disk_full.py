"""A full disk on the emulator is recoverable through the API: 507 with a clear message, an
upload larger than the free space is refused at creation, and aborting frees the space."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest

from synapse_async import AsyncClient, ServerError
from synapse_async.emulator import Emulator, Faults
from tests.emulator.test_emulator_uploads import MIB, call, put_part
from tests.helpers import make_client

pytestmark = pytest.mark.anyio
PART = 5 * MIB


@pytest.fixture
async def small_disk() -> AsyncIterator[Emulator]:
    async with Emulator(faults=Faults(disk_free=12 * MIB)) as emu:
        yield emu


@pytest.fixture
async def disk_http(small_disk: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Synapse-Access-Token": f"Token {small_disk.access_token}"}
    async with aiohttp.ClientSession(small_disk.url, headers=headers) as session:
        yield session


async def create(http: aiohttp.ClientSession, size: int) -> tuple[int, Any]:
    return await call(
        http, "POST", "chunked_upload/", json={"filename": "f.bin", "size": size, "part_size": PART}
    )


async def test_upload_larger_than_free_space_is_refused_at_create(
    disk_http: aiohttp.ClientSession,
) -> None:
    status, body = await create(disk_http, 13 * MIB)
    assert status == 507 and "Insufficient storage" in body["detail"]
    assert "13631488 bytes" in body["detail"]
    status, _first = await create(disk_http, 8 * MIB)
    assert status == 201
    # 8 MiB are promised to the first upload: 4 MiB more do not fit beside it
    status, body = await create(disk_http, 5 * MIB)
    assert status == 507


async def test_full_disk_gives_507_and_abort_frees_the_space(
    small_disk: Emulator, disk_http: aiohttp.ClientSession
) -> None:
    status, up = await create(disk_http, 10 * MIB)
    assert status == 201
    assert (await put_part(disk_http, up["id"], 1, os.urandom(PART)))[0] == 200
    # the disk fills up behind the emulator's back (another process writes 6 MiB)
    small_disk.set_faults(attrs.evolve(small_disk.faults, disk_free=8 * MIB))
    status, body = await put_part(disk_http, up["id"], 2, os.urandom(PART))
    assert status == 507 and "DELETE chunked_upload" in body["detail"]
    status, body = await create(disk_http, 1 * MIB)
    assert status == 507
    # abort frees the bytes, then a new upload fits again
    assert (await call(disk_http, "DELETE", f"chunked_upload/{up['id']}/"))[0] == 204
    assert not list((small_disk.data_dir / "files").glob(f"upload-{up['id']}"))
    status, again = await create(disk_http, 7 * MIB)
    assert status == 201, again


async def test_sdk_names_the_full_disk(small_disk: Emulator, tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (13 * MIB))
    async with make_client(small_disk) as client:
        assert isinstance(client, AsyncClient)
        with pytest.raises(ServerError) as info:
            await client.uploads.upload_file(path, part_size=PART)
    assert info.value.status_code == 507 and "Insufficient storage" in str(info.value)
