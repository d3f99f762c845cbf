"""A server reply that misstates what was stored is an ``UploadError``, never a success.

The emulator stores the right bytes but its reply lies (``Faults(wrong_part_md5=...)`` and
friends); the client must compare the reply with what it sent and refuse to report success.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse_async import AsyncClient, UploadError
from synapse_async.emulator import Emulator, Faults
from tests.integration.uploads.conftest import MIB, FileMaker

pytestmark = pytest.mark.anyio


def upload_ids(emu: Emulator) -> list[str]:
    return list(emu.uploads.counters_json()["uploads"])


@pytest.mark.parametrize(
    "lie", [Faults(wrong_part_md5=True), Faults(wrong_part_size=True)], ids=["md5", "size"]
)
async def test_a_part_reply_naming_other_bytes_fails_the_upload(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker, lie: Faults
) -> None:
    emulator.set_faults(lie)
    size = 12 * MIB
    path = make_file(size)
    progress: list[int] = []
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(
            path,
            part_size=5 * MIB,
            max_concurrency=1,
            on_progress=lambda done, _t: progress.append(done),
        )
    err = info.value
    assert err.reason == "checksum_mismatch" and err.part == 1, err
    assert "data.bin" in str(err)  # the message names the file
    assert emulator.reply_counters["wrong_replies"] >= 1
    # the part was not counted as sent, and nothing was completed on the server
    assert all(done < size for done in progress)
    (uid,) = upload_ids(emulator)
    assert emulator.store.list("chunked_uploads", upload_id=uid)[0]["status"] != "complete"


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "v1"])
async def test_a_completion_reply_with_another_checksum_fails_the_upload(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker, parallel: bool
) -> None:
    emulator.uploads.settings.parallel = parallel
    emulator.set_faults(Faults(wrong_checksum=True))
    size = 7 * MIB + 3
    path: Path = make_file(size)
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(path, part_size=5 * MIB)
    err = info.value
    assert err.reason == "checksum_mismatch" and err.part is None, err
    assert "data.bin" in str(err)
    assert emulator.reply_counters["wrong_replies"] == 1
    # the same upload without the lie succeeds (the bytes on the server were right all along)
    emulator.set_faults(Faults())
    result = await client.uploads.upload_file(path, part_size=5 * MIB)
    assert result.size == size
