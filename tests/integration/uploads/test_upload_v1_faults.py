"""The v1 sequential protocol (what the real backend serves) under faults.

A chunk answered with a 5xx is sent again; a chunk whose answer was lost (stored by the
server, the connection closed before the reply) is recognised from the server's offset and
not sent twice. Counted at the emulator; the stored file must be byte-identical.
"""

from __future__ import annotations

import pytest

from synapse_async import AsyncClient, UploadError
from synapse_async.emulator import Emulator, Faults
from tests.integration.uploads.conftest import MIB, FileMaker, md5_of

pytestmark = pytest.mark.anyio

CHUNK = 5 * MIB
SIZE = 4 * CHUNK + 12_345  # five chunks, the last one short
CHUNKS = 5


def v1(emu: Emulator) -> None:
    emu.uploads.settings.parallel = False  # the real backend: no parallel extension


async def test_chunks_answered_with_5xx_are_resent(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    v1(emulator)
    # Only chunk PUTs are faulted (not the status GET, not the completing POST).
    emulator.set_faults(
        Faults(
            error_rate=0.5,
            error_statuses=(500,),
            methods=("PUT",),
            paths="^/chunked_upload/",
            seed=4,
        )
    )
    path = make_file(SIZE)
    result = await client.uploads.upload_file(path, part_size=CHUNK)
    stored = emulator.data_dir / "files" / f"upload-{result.id}"
    assert result.checksum == md5_of(path) == md5_of(stored)
    injected = emulator.counters["injected_errors"]
    assert injected >= 2, emulator.counters
    up = emulator.uploads.counters_json()["uploads"][result.id]
    # every chunk reached the handler once; every refused PUT was sent again
    assert up["chunk_puts"] == up["parts_stored"] == CHUNKS
    assert emulator.counters["requests"] == CHUNKS + injected


async def test_a_chunk_that_keeps_failing_names_itself(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    v1(emulator)
    emulator.set_faults(
        Faults(
            error_rate=1.0,
            error_statuses=(500,),
            methods=("PUT",),
            paths="^/chunked_upload/[0-9a-f]+/$",
        )
    )
    path = make_file(SIZE)
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(path, part_size=CHUNK)
    assert info.value.part == 2 and info.value.reason == "server_error"
    # chunk 2 was sent again before the client gave up (a bounded number of times)
    assert 2 <= emulator.counters["injected_errors"] <= 20


async def test_lost_chunk_answers_are_recovered_from_the_servers_offset(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    v1(emulator)
    # Every chunk after the first is stored, then its answer is lost.
    emulator.set_faults(
        Faults(lost_reply_rate=1.0, methods=("PUT",), paths="^/chunked_upload/[0-9a-f]+/$")
    )
    path = make_file(SIZE)
    result = await client.uploads.upload_file(path, part_size=CHUNK)
    stored = emulator.data_dir / "files" / f"upload-{result.id}"
    assert result.checksum == md5_of(path) == md5_of(stored)
    assert emulator.reply_counters["lost_replies"] >= CHUNKS - 1
    up = emulator.uploads.counters_json()["uploads"][result.id]
    # no chunk was written twice: a resend after a lost answer is recognised (the server is
    # already past it) instead of being stored again
    assert up["chunk_puts"] == up["parts_stored"] == CHUNKS
    assert up["bytes_received"] >= SIZE
