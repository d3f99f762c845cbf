"""Body faults (bandwidth, dropped connections, corruption) and how uploads survive them."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import anyio
import pytest

from synapse_async import AsyncClient, UploadError
from synapse_async.emulator import Emulator, Faults
from synapse_async.emulator.faults import BodyFault, FaultInjector
from tests.integration.uploads.conftest import MIB, FileMaker, md5_of

pytestmark = pytest.mark.anyio


def test_body_fault_decisions_are_deterministic_under_the_seed() -> None:
    def draws(seed: int) -> list[BodyFault | None]:
        inj = FaultInjector(Faults(drop_rate=0.3, corrupt_rate=0.3, bandwidth=1e6, seed=seed))
        return [inj.decide_body(1000) for _ in range(50)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    decisions = draws(7)
    assert any(d is not None and d.drop_after is not None for d in decisions)
    assert any(d is not None and d.corrupt_at is not None for d in decisions)
    assert FaultInjector(Faults()).decide_body(1000) is None
    with pytest.raises(ValueError):
        Faults(bandwidth=0)
    with pytest.raises(ValueError):
        Faults(drop_rate=2)
    assert Faults.from_dict(Faults(bandwidth=5, drop_rate=0.1).to_dict()).bandwidth == 5.0


async def raw_part_put(emu: Emulator, data: bytes) -> tuple[str, int | str]:
    headers = {"Synapse-Access-Token": f"Token {emu.access_token}"}
    async with aiohttp.ClientSession(emu.url, headers=headers) as http:
        async with http.post(
            "chunked_upload/", json={"filename": "x", "size": len(data), "part_size": 5 * MIB}
        ) as r:
            uid = (await r.json())["id"]
        digest = base64.b64encode(hashlib.md5(data).digest()).decode()
        try:
            async with http.put(
                f"chunked_upload/{uid}/parts/1/", data=data, headers={"Content-MD5": digest}
            ) as r:
                return uid, r.status
        except aiohttp.ClientError as exc:
            return uid, type(exc).__name__


async def test_bandwidth_cap_drop_and_corruption_on_the_wire(emulator: Emulator) -> None:
    data = os.urandom(2 * MIB)
    emulator.set_faults(Faults(bandwidth=4e6, paths="/parts/"))
    started = time.perf_counter()
    assert (await raw_part_put(emulator, data))[1] == 200
    assert time.perf_counter() - started >= 2 * MIB / 4e6 * 0.9
    emulator.set_faults(Faults(corrupt_rate=1.0, paths="/parts/"))
    assert (await raw_part_put(emulator, data))[1] == 400
    emulator.set_faults(Faults(drop_rate=1.0, paths="/parts/"))
    uid, outcome = await raw_part_put(emulator, data)
    assert outcome != 200
    assert emulator.uploads.counters_json()["uploads"][uid]["parts_stored"] == 0
    faults = emulator.uploads.counters_json()["faults"]
    assert faults["corrupted_bodies"] >= 1 and faults["dropped_connections"] >= 1


async def test_bandwidth_cap_paces_data_file_posts_and_other_body_faults_leave_them(
    emulator: Emulator, client: AsyncClient, tmp_path: Path
) -> None:
    emulator.set_faults(Faults(bandwidth=4e6, corrupt_rate=1.0, drop_rate=0.0))
    for size in (400_000, 3 * MIB):  # read whole / streamed by the emulator
        path = tmp_path / f"{size}.bin"
        path.write_bytes(os.urandom(size))
        started = time.perf_counter()
        made = await client.data_files.create(path)
        # a lower bound (sleeps never end early), not a speed claim
        assert time.perf_counter() - started >= size / 4e6 * 0.9
        assert made.checksum == md5_of(path)  # pacing only: nothing corrupted
    assert emulator.uploads.counters_json()["faults"]["corrupted_bodies"] == 0


@pytest.mark.parametrize(
    "faults, counter",
    [
        (Faults(drop_rate=0.25, paths="/parts/", seed=3), "dropped_connections"),
        (Faults(corrupt_rate=0.25, paths="/parts/", seed=3), "corrupted_bodies"),
        (
            Faults(error_rate=0.25, error_statuses=(500,), paths="/parts/", seed=3),
            "injected_errors",
        ),
    ],
)
async def test_failed_parts_are_resent_alone(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker, faults: Faults, counter: str
) -> None:
    emulator.set_faults(faults)
    path = make_file(40 * MIB + 5)
    result = await client.uploads.upload_file(path, part_size=5 * MIB, max_concurrency=2)
    assert result.checksum == md5_of(path)
    fault_counts = {**emulator.counters, **emulator.uploads.counters_json()["faults"]}
    assert fault_counts[counter] >= 1, fault_counts
    up = emulator.uploads.counters_json()["uploads"][result.id]
    assert up["parts_stored"] == 9
    if counter == "corrupted_bodies":
        assert up["checksum_mismatches"] == fault_counts[counter]
    # only failed parts went again: every part PUT beyond the 9 is one the faults hit
    extra = up["part_puts"] - 9
    assert extra <= fault_counts[counter]


async def test_a_part_that_cannot_succeed_names_itself_and_stops_the_rest(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    emulator.set_faults(Faults(corrupt_rate=1.0, bandwidth=10e6, paths="/parts/"))
    attempts = client.config.retry.max_retries + 1  # one engine: no loop around its retries
    # one worker: part 1 fails every attempt, and parts 2 and 3 are never sent
    path = make_file(11 * MIB, name="a.bin")
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(path, part_size=5 * MIB, max_concurrency=1)
    err = info.value
    assert err.part == 1 and err.reason == "checksum_mismatch" and err.upload_id
    assert "part 1 of" in str(err) and "MD5" in str(err)
    up = emulator.uploads.counters_json()["uploads"][err.upload_id]
    assert up["part_puts"] == up["checksum_mismatches"] == attempts
    # two workers: the 1 MiB part 2 fails first; part 1, in flight, is cancelled mid-body
    path = make_file(6 * MIB, name="b.bin")
    with pytest.raises(UploadError) as info:
        await client.uploads.upload_file(path, part_size=5 * MIB, max_concurrency=2)
    assert info.value.part == 2
    up = emulator.uploads.counters_json()["uploads"][info.value.upload_id]
    assert attempts <= up["checksum_mismatches"] < 2 * attempts
    # Part 1's PUT in flight is usually cut short (part_puts > mismatches), unless the failure
    # came while part 1 waited between attempts: either way, nothing is sent afterwards.
    assert up["part_puts"] >= up["checksum_mismatches"]
    await anyio.sleep(1.0)  # longer than one 5 MiB attempt at 10 MB/s: no new PUT starts
    # (bytes already in the socket buffers may still arrive; requests must not)
    assert (
        emulator.uploads.counters_json()["uploads"][info.value.upload_id]["part_puts"]
        == up["part_puts"]
    )
    assert up["parts_stored"] == 0
    # the server keeps what arrived: without the fault, a new call completes the upload
    emulator.set_faults(Faults())
    result = await client.uploads.upload_file(path, part_size=5 * MIB, max_concurrency=2)
    assert result.id == info.value.upload_id and result.checksum == md5_of(path)


def recorder(seen: list[int]) -> Callable[[int, int], None]:
    return lambda done, _total: seen.append(done)


ASSORTED = [
    1,
    1000,
    65_536,
    MIB,
    5 * MIB - 1,
    5 * MIB,
    5 * MIB + 1,
    6 * MIB,
    9 * MIB,
    10 * MIB,
    11 * MIB + 5,
    13 * MIB,
    15 * MIB,
    17 * MIB + 1,
    20 * MIB,
    24 * MIB,
    30 * MIB,
    40 * MIB,
    60 * MIB,
    300_000_000,
]


@pytest.mark.slow
async def test_twenty_assorted_uploads_with_failing_and_corrupted_parts(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    """10% of part requests fail (5xx answers or dropped connections), 2% are corrupted."""
    assert len(ASSORTED) == 20
    emulator.set_faults(
        Faults(
            error_rate=0.05,
            error_statuses=(500, 502, 503),
            drop_rate=0.05,
            corrupt_rate=0.02,
            paths="/parts/",
            seed=15,
        )
    )
    for i, size in enumerate(ASSORTED):
        path = make_file(size, name=f"f{i}.bin", seed=i)
        seen: list[int] = []
        result = await client.uploads.upload_file(
            path, part_size=5 * MIB, max_concurrency=8, on_progress=recorder(seen)
        )
        stored = emulator.data_dir / "files" / f"upload-{result.id}"
        assert result.checksum == md5_of(path) == md5_of(stored), size
        assert result.size == size
        assert seen == sorted(seen) and seen[-1] == size
        stored.unlink()  # keep the disk footprint small
        path.unlink()
    totals = emulator.uploads.counters_json()["totals"]
    faults = {**emulator.counters, **emulator.uploads.counters_json()["faults"]}
    parts = sum(max(1, -(-s // (5 * MIB))) for s in ASSORTED)
    print(
        f"\n{parts} parts, {emulator.counters['requests']} part requests; injected: "
        f"{faults['injected_errors']} 5xx, {faults['dropped_connections']} drops, "
        f"{faults['corrupted_bodies']} corrupted; server saw {totals['resends']} resends "
        f"({totals['resent_bytes']} bytes), {totals['checksum_mismatches']} MD5 mismatches"
    )
    assert totals["parts_stored"] == parts
    assert faults["injected_errors"] >= 3 and faults["dropped_connections"] >= 3
    assert faults["corrupted_bodies"] >= 1
    # Corrupted bodies are caught by the server's MD5 check. No upper bound by
    # corrupted_bodies: on a loaded machine a part whose answer timed out is resent while the
    # first PUT may still be writing, and the server then sees a mismatch of its own (the
    # resend fixes it; the stored files' MD5s above are what matters).
    assert totals["checksum_mismatches"] >= 1
    assert totals["resends"] >= faults["dropped_connections"] + totals["checksum_mismatches"]
