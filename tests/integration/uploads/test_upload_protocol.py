"""client.uploads.upload_file over both protocols, progress, data_files.create above 50 MiB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient, DataFile, TransportError, UploadResult
from synapse_async.emulator import Emulator
from tests.helpers import make_client
from tests.integration.uploads.conftest import MIB, FileMaker, md5_of

pytestmark = pytest.mark.anyio


def stored(emu: Emulator, upload_id: str) -> Path:
    return emu.data_dir / "files" / f"upload-{upload_id}"


def spy_requests(client: AsyncClient) -> list[tuple[str, str]]:
    """Record (method, path) of every request the client's HTTP layer sends."""
    calls: list[tuple[str, str]] = []
    http = client._http
    original = http.request

    async def request(method: str, path: str, **kw: Any) -> Any:
        calls.append((method, path))
        return await original(method, path, **kw)

    http.request = request  # type: ignore[method-assign,assignment]
    return calls


async def test_parallel_upload_result_bytes_and_progress(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    path = make_file(23 * MIB + 12345)
    seen: list[tuple[int, int]] = []
    result = await client.uploads.upload_file(
        path, part_size=5 * MIB, max_concurrency=3, on_progress=lambda d, t: seen.append((d, t))
    )
    assert isinstance(result, UploadResult)
    assert result.checksum == md5_of(path)
    assert result.size == path.stat().st_size
    assert result.filename == "data.bin"
    assert result.status == 2 and result.completed_at is not None  # the real enum: 2 = complete
    assert md5_of(stored(emulator, result.id)) == result.checksum
    # progress: never backwards, ends at the size, total constant
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert done[-1] == path.stat().st_size
    assert {t for _, t in seen} == {path.stat().st_size}
    counters = emulator.uploads.counters_json()["uploads"][result.id]
    assert counters["part_puts"] == 5 and counters["parts_stored"] == 5
    assert counters["resends"] == 0 and counters["chunk_puts"] == 0
    status = await client.uploads.get(result.id)
    assert status.is_complete and [p.n for p in status.parts] == [1, 2, 3, 4, 5]


async def test_single_small_part_and_one_byte(client: AsyncClient, make_file: FileMaker) -> None:
    one = make_file(1, name="one.bin")
    result = await client.uploads.upload_file(one)
    assert result.size == 1 and result.checksum == md5_of(one)
    small = make_file(3 * MIB + 7, name="small.bin", seed=2)
    assert (await client.uploads.upload_file(small)).checksum == md5_of(small)


async def test_v1_fallback_detected_once_per_client(
    emulator: Emulator, make_file: FileMaker
) -> None:
    emulator.uploads.settings.parallel = False  # the real backend: no parallel extension
    first = make_file(12 * MIB + 1, name="a.bin", seed=1)
    second = make_file(6 * MIB, name="b.bin", seed=2)
    async with make_client(emulator) as client:
        calls = spy_requests(client)
        seen: list[int] = []
        r1 = await client.uploads.upload_file(
            first, part_size=5 * MIB, on_progress=lambda d, t: seen.append(d)
        )
        r2 = await client.uploads.upload_file(second, part_size=5 * MIB)
    assert (r1.checksum, r2.checksum) == (md5_of(first), md5_of(second))
    assert md5_of(stored(emulator, r1.id)) == r1.checksum
    assert seen == sorted(seen) and seen[-1] == first.stat().st_size
    # the extension was probed once (405), then v1 straight away
    assert calls.count(("POST", "chunked_upload/")) == 1
    assert ("PUT", "chunked_upload/") in calls
    totals = emulator.uploads.counters_json()["totals"]
    assert totals["part_puts"] == 0 and totals["chunk_puts"] == 3 + 2


async def test_parallel_detected_once_and_shared_with_data_files(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    calls = spy_requests(client)
    big = make_file(50 * MIB + 3, name="big.bin", seed=3)
    data_file = await client.data_files.create(big)
    assert isinstance(data_file, DataFile)
    assert data_file.checksum == md5_of(big) and data_file.size == big.stat().st_size
    assert data_file.filename == "big.bin"
    assert ("POST", "data_files/") in calls
    creates = [c for c in calls if c == ("POST", "chunked_upload/")]
    assert len(creates) == 1  # parallel, created once
    # the bytes behind the data file are the file's
    record = emulator.store.get("data_files", data_file.id)
    assert record is not None
    assert md5_of(emulator.data_dir / "files" / record["_storage"]) == data_file.checksum
    small = make_file(MIB, name="small.bin", seed=4)
    assert (await client.data_files.create(small)).checksum == md5_of(small)  # multipart


async def test_data_files_create_above_50_mib_over_v1(
    emulator: Emulator, make_file: FileMaker
) -> None:
    emulator.uploads.settings.parallel = False
    big = make_file(50 * MIB + 1, name="big.bin", seed=5)
    async with make_client(emulator) as client:
        data_file = await client.data_files.create(big)
        assert data_file.checksum == md5_of(big)
        assert (await client.data_files.get(data_file.id)).size == big.stat().st_size


@pytest.mark.parametrize("parallel", [True, False])
async def test_a_lost_completion_answer_is_rechecked(
    emulator: Emulator, make_file: FileMaker, parallel: bool
) -> None:
    """The server completed the upload but its answer was lost: GET says so; no error."""
    emulator.uploads.settings.parallel = parallel
    path = make_file(6 * MIB)
    async with make_client(emulator) as client:
        http = client._http
        original = http.request
        lost: list[str] = []

        async def request(method: str, target: str, **kw: Any) -> Any:
            answer = await original(method, target, **kw)
            segments = target.rstrip("/").split("/")
            if method == "POST" and segments[-2:-1] == ["chunked_upload"]:  # the completion
                lost.append(target)
                raise TransportError("connection reset (test)", method=method, url=target)
            return answer

        http.request = request  # type: ignore[method-assign,assignment]
        result = await client.uploads.upload_file(path, part_size=5 * MIB)
    assert len(lost) == 1
    assert result.checksum == md5_of(path) and result.size == 6 * MIB
    assert md5_of(stored(emulator, result.id)) == result.checksum


async def test_abort_and_get(emulator: Emulator, client: AsyncClient, make_file: FileMaker) -> None:
    from synapse_async import NotFoundError

    path = make_file(6 * MIB)
    result = await client.uploads.upload_file(path, part_size=5 * MIB)
    assert (await client.uploads.get(result.id)).is_complete
    with pytest.raises(NotFoundError):
        await client.uploads.abort("0" * 32)
