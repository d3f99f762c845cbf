"""A v1 upload whose stored bytes fail the final MD5 check is dropped and sent again once."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from synapse_async import AsyncClient, UploadError
from synapse_async.emulator import Emulator, Faults
from tests.integration.uploads.conftest import MIB

pytestmark = pytest.mark.anyio


def state_files(cache: Path) -> list[Path]:
    return list(cache.glob("*.json"))


def v1_file(emulator: Emulator, tmp_path: Path) -> Path:
    emulator.uploads.settings.parallel = False  # the real backend: v1 chunks, no per-chunk MD5
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(12 * MIB))
    return path


async def test_a_corrupted_chunk_is_recovered_by_one_fresh_upload(
    emulator: Emulator,
    client: AsyncClient,
    tmp_path: Path,
    _cache_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = v1_file(emulator, tmp_path)
    emulator.set_faults(Faults(corrupt_rate=1.0, paths="^/chunked_upload/$"))

    def first_chunk_stored(done: int, total: int) -> None:
        if done:  # only the first chunk of the first upload is corrupted
            emulator.set_faults(Faults())

    caplog.set_level(logging.WARNING, logger="synapse_async.transfer")
    result = await client.uploads.upload_file(
        path, part_size=5 * MIB, on_progress=first_chunk_stored
    )
    assert result.checksum == hashlib.md5(path.read_bytes()).hexdigest()
    assert result.resent is True
    assert any("sending the file again" in r.getMessage() for r in caplog.records)
    assert emulator.uploads.counters_json()["faults"]["corrupted_bodies"] == 1
    assert not state_files(_cache_dir)  # no resume state left behind
    # a rerun uploads afresh and never meets the corrupted upload again
    again = await client.uploads.upload_file(path, part_size=5 * MIB)
    assert again.checksum == result.checksum and again.resent is False


async def test_a_second_mismatch_fails_and_leaves_nothing_that_can_only_fail(
    emulator: Emulator,
    client: AsyncClient,
    tmp_path: Path,
    _cache_dir: Path,
) -> None:
    path = v1_file(emulator, tmp_path)
    emulator.set_faults(Faults(corrupt_rate=1.0, paths="^/chunked_upload/$"))
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(path, part_size=5 * MIB)
    assert info.value.reason == "checksum_mismatch"
    assert emulator.uploads.counters_json()["faults"]["corrupted_bodies"] == 2  # sent twice
    assert not state_files(_cache_dir)
    emulator.set_faults(Faults())
    result = await client.uploads.upload_file(path, part_size=5 * MIB)
    assert result.checksum == hashlib.md5(path.read_bytes()).hexdigest()
