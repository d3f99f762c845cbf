"""What keeps a bulk upload fast, asserted by counts: requests in flight, hash batches, bytes."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import anyio
import pytest

from synapse_async import AsyncClient
from synapse_async.bulk import BulkItem
from synapse_async.bulk.pipeline import _HASH_BATCH, _collect_hash_batch, _Entry, _File
from synapse_async.config import ClientConfig
from synapse_async.emulator import Emulator, Faults
from synapse_async.resources.data_files import _plain_file_form
from synapse_async.transport import AiohttpTransport, Request, Response
from tests.integration.bulk.conftest import make_files

pytestmark = pytest.mark.anyio


class _CountingTransport:
    """The default transport, counting ``POST data_files/`` requests in flight at once."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.now = 0
        self.peak = 0

    async def send(self, request: Request) -> Response:
        counted = request.method == "POST" and request.url.endswith("/data_files/")
        if counted:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return await self.inner.send(request)
        finally:
            if counted:
                self.now -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _upload_counting(
    emulator: Emulator, tmp_path: Path, n: int, **settings: object
) -> tuple[int, int]:
    """Upload ``n`` small files at 100 ms latency (long enough for the pipeline to fill up to
    its cap even on a loaded machine); (data files POSTs at once at most, units)."""
    emulator.set_faults(Faults(latency=0.1))
    transport = _CountingTransport()
    files = make_files(tmp_path / "in", n)
    config = ClientConfig.resolve(
        emulator.url,
        access_token=emulator.access_token,
        strict_decoding=True,
        **settings,  # type: ignore[arg-type]
    )
    async with AsyncClient(config=config, transport=transport) as client:
        coll = await client.data_collections.create(
            "c", file_specifications=[{"name": "image", "is_required": True}]
        )
        report = await client.data_collections.upload(
            coll, [BulkItem(files={"image": p}) for p in files]
        )
    assert report.sent == n and report.failed == 0
    return transport.peak, len(report.data_unit_ids)


async def test_default_keeps_more_than_64_files_in_flight(
    emulator: Emulator, tmp_path: Path
) -> None:
    # At 20 ms latency 64 requests in flight left a small-file upload waiting on latency.
    peak, units = await _upload_counting(emulator, tmp_path, 300)
    assert units == 300
    assert 64 < peak <= 128


async def test_senders_stay_below_the_connection_pool(emulator: Emulator, tmp_path: Path) -> None:
    # A pool of 10: 6 senders, 4 connections left for dedupe, data unit and task requests.
    peak, units = await _upload_counting(emulator, tmp_path, 40, max_connections=10)
    assert units == 40
    assert peak == 6


def _entry(index: int, size: int) -> _Entry:
    return _Entry(
        index=index,
        key=str(index),
        item=BulkItem(files={"image": f"{index}.jpg"}),
        files=[_File("image", Path(f"{index}.jpg"), size, 0)],
    )


async def test_hash_batches_are_bounded_by_bytes() -> None:
    send, recv = anyio.create_memory_object_stream[_Entry](100)
    for i in range(3):
        send.send_nowait(_entry(i, 5 * 10**6))  # large: one per batch, sends start sooner
    for i in range(3, 3 + _HASH_BATCH + 5):
        send.send_nowait(_entry(i, 20_000))
    send.close()
    sizes = []
    while (batch := await _collect_hash_batch(recv)) is not None:
        sizes.append(len(batch))
    assert sizes == [1, 1, 1, _HASH_BATCH, 5]


async def test_plain_file_form_is_what_formdata_writes() -> None:
    content = bytes(range(256)) * 40
    built = _plain_file_form("0001_a-b.c~d.jpg", content)
    assert built is not None
    body, content_type = built
    boundary = content_type.split("boundary=", 1)[1]
    form = aiohttp.FormData()
    form.add_field(
        "file", content, filename="0001_a-b.c~d.jpg", content_type="application/octet-stream"
    )
    writer = form()
    writer._boundary = boundary.encode()  # type: ignore[attr-defined]  # same boundary as ours

    class Sink:
        data = b""

        async def write(self, chunk: bytes) -> None:
            self.data += bytes(chunk)

    sink = Sink()
    await writer.write(sink)  # type: ignore[arg-type]
    assert body == sink.data
    assert content_type == f"multipart/form-data; boundary={boundary}"


def test_names_that_need_quoting_and_large_files_go_through_formdata() -> None:
    assert _plain_file_form("a b.jpg", b"x") is None
    assert _plain_file_form('quo"te.jpg', b"x") is None
    assert _plain_file_form("é.jpg", b"x") is None
    assert _plain_file_form("big.jpg", b"x" * (2 << 20)) is None


async def test_quoted_names_still_reach_the_server(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.jpg"
    spaced = tmp_path / "with space.jpg"
    plain.write_bytes(b"one")
    spaced.write_bytes(b"two")
    first = await client.data_files.create(plain)
    second = await client.data_files.create(spaced)
    assert (first.size, second.size) == (3, 3)
    names = {d["filename"] for d in emulator.store.list("data_files", limit=None)}
    assert "plain.jpg" in names and len(names) == 2
