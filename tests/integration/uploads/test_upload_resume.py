"""Resuming: after a cancelled upload, after a SIGKILLed process; when not to resume."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import anyio
import pytest

from synapse_async import APIError, AsyncClient
from synapse_async.emulator import Emulator, Faults
from synapse_async.transfer.resume import ResumeStore
from tests.integration.uploads.conftest import MIB, FileMaker, md5_of, state_files

pytestmark = pytest.mark.anyio

PART = 5 * MIB
REPO = Path(__file__).resolve().parents[3]


async def cancel_after(client: AsyncClient, path: Path, parts: int, concurrency: int) -> int:
    """Start uploading ``path``, cancel once ``parts`` parts are confirmed; the last progress."""
    seen = [0]
    with anyio.CancelScope() as scope:

        def progress(done: int, _total: int) -> None:
            seen.append(done)
            if done >= parts * PART:
                scope.cancel()

        await client.uploads.upload_file(
            path, part_size=PART, max_concurrency=concurrency, on_progress=progress
        )
    assert scope.cancelled_caught
    return seen[-1]


def only_upload(emu: Emulator) -> tuple[str, dict[str, int]]:
    uploads = emu.uploads.counters_json()["uploads"]
    assert len(uploads) == 1, uploads
    ((upload_id, counters),) = uploads.items()
    return str(upload_id), dict(counters)


async def test_cancelled_upload_resumes_with_only_the_missing_parts(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker, _cache_dir: Path
) -> None:
    path = make_file(40 * MIB + 1)  # 9 parts
    emulator.set_faults(Faults(bandwidth=20e6, paths="/parts/"))
    confirmed = await cancel_after(client, path, parts=3, concurrency=3)
    upload_id, before = only_upload(emulator)
    assert 3 <= before["parts_stored"] < 9
    assert len(state_files(_cache_dir)) == 1
    emulator.set_faults(Faults())
    seen: list[int] = []
    result = await client.uploads.upload_file(
        path, part_size=PART, max_concurrency=3, on_progress=lambda d, t: seen.append(d)
    )
    assert result.id == upload_id and result.checksum == md5_of(path)
    _, after = only_upload(emulator)
    # parts stored in the first run are not sent again (one still arriving when the second
    # run asked may be: it was in flight, and counts in the bound below)
    assert 9 <= after["parts_stored"] <= 9 + 3
    assert after["resent_bytes"] <= 3 * PART
    assert after["bytes_received"] <= path.stat().st_size + 3 * PART
    assert seen[0] >= confirmed and seen == sorted(seen)  # resumed from what was confirmed
    assert state_files(_cache_dir) == []  # state removed once complete


async def test_cancelled_v1_upload_resumes_at_the_servers_offset(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    emulator.uploads.settings.parallel = False
    path = make_file(25 * MIB + 3)  # 6 chunks
    emulator.set_faults(Faults(bandwidth=20e6, paths="^/chunked_upload/"))
    confirmed = await cancel_after(client, path, parts=2, concurrency=1)
    upload_id, before = only_upload(emulator)
    assert 2 <= before["parts_stored"] < 6
    emulator.set_faults(Faults())
    seen: list[int] = []
    result = await client.uploads.upload_file(
        path, part_size=PART, on_progress=lambda d, t: seen.append(d)
    )
    assert result.id == upload_id and result.checksum == md5_of(path)
    _, after = only_upload(emulator)
    assert after["parts_stored"] == 6 and after["chunk_puts"] <= 6 + 1  # one chunk cut short
    assert seen[0] >= confirmed


async def test_resume_false_starts_afresh_and_a_changed_file_starts_over(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    path = make_file(20 * MIB + 7)
    emulator.set_faults(Faults(bandwidth=20e6, paths="/parts/"))
    await cancel_after(client, path, parts=1, concurrency=2)
    old_id, _ = only_upload(emulator)
    emulator.set_faults(Faults())
    fresh = await client.uploads.upload_file(path, part_size=PART, resume=False)
    assert fresh.id != old_id and fresh.checksum == md5_of(path)
    # the file changes before the next call: the old upload is aborted, a new one made
    with path.open("ab") as fh:
        fh.write(b"more")
    again = await client.uploads.upload_file(path, part_size=PART)
    assert again.id not in (old_id, fresh.id) and again.checksum == md5_of(path)
    assert (emulator.data_dir / "files" / f"upload-{old_id}").exists() is False


async def test_expired_upload_starts_over(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker
) -> None:
    path = make_file(12 * MIB)
    emulator.set_faults(Faults(bandwidth=20e6, paths="/parts/"))
    await cancel_after(client, path, parts=1, concurrency=1)
    old_id, _ = only_upload(emulator)
    emulator.set_faults(Faults())
    # Expired by the control, not by a short ttl: a slow machine could let a 1 s ttl run
    # out while the first part is still being sent.
    emulator.uploads.expire(old_id)
    with pytest.raises(APIError) as gone:
        await client.uploads.get(old_id)
    assert gone.value.status_code == 410
    result = await client.uploads.upload_file(path, part_size=PART)
    assert result.id != old_id and result.checksum == md5_of(path)


async def run_script(
    emu: Emulator, path: Path, cache: Path, kill_at: int | None
) -> tuple[int, list[str]]:
    """Run the upload script; SIGKILL it 0.25 s after ``kill_at`` bytes are confirmed."""
    cmd = [
        sys.executable,
        "-m",
        "tests.integration.uploads.upload_script",
        "--url",
        emu.url,
        f"--token={emu.access_token}",
        "--file",
        str(path),
        "--cache-dir",
        str(cache),
        "--part-size",
        str(PART),
        "--concurrency",
        "4",
    ]
    lines: list[str] = []
    async with await anyio.open_process(cmd, cwd=REPO) as proc:
        assert proc.stdout is not None
        buffer = b""
        with anyio.fail_after(60):
            async for data in proc.stdout:
                buffer += data
                *complete, buffer = buffer.split(b"\n")
                lines += [c.decode() for c in complete]
                confirmed = [int(x.split()[1]) for x in lines if x.startswith("progress")]
                if kill_at is not None and confirmed and confirmed[-1] >= kill_at:
                    await anyio.sleep(0.25)  # the next parts are half-way through
                    proc.kill()  # SIGKILL: no cleanup code runs in the uploader
                    break
            code = await proc.wait()
    return code, lines


async def test_sigkilled_upload_resumes_resending_at_most_concurrency_parts(
    emulator: Emulator, make_file: FileMaker, tmp_path: Path
) -> None:
    path = make_file(60 * MIB + 3)  # 13 parts, 4 in flight
    cache = tmp_path / "kill-cache"
    emulator.set_faults(Faults(bandwidth=10e6, paths="/parts/"))
    code, lines = await run_script(emulator, path, cache, kill_at=4 * PART)
    assert code == -signal.SIGKILL, lines
    assert not any(x.startswith("done") for x in lines)
    upload_id, killed = only_upload(emulator)
    assert 4 <= killed["parts_stored"] < 13
    emulator.set_faults(Faults())
    code, lines = await run_script(emulator, path, cache, kill_at=None)
    assert code == 0, lines
    done = [x.split() for x in lines if x.startswith("done")]
    assert done == [["done", upload_id, md5_of(path)]]
    assert md5_of(emulator.data_dir / "files" / f"upload-{upload_id}") == md5_of(path)
    _, after = only_upload(emulator)
    resent = after["bytes_received"] - path.stat().st_size
    print(
        f"\nkilled after {killed['parts_stored']} parts; re-sent {resent} bytes "
        f"({after['resent_bytes']} in PUTs of parts seen before), limit {4 * PART}"
    )
    assert after["parts_stored"] == 13
    assert 0 < after["resent_bytes"] <= 4 * PART
    assert resent <= 4 * PART
    assert state_files(cache) == []


def test_resume_store_is_atomic_and_tolerant(tmp_path: Path) -> None:
    from synapse_async.transfer.resume import ResumeState

    store = ResumeStore(tmp_path / "state")
    state = ResumeState("http://h/", "/f", 10, 5, PART, "parallel", "abc", parts={1: "0" * 32})
    store.write(state.to_json())
    assert store.load("http://h/", "/f") == state
    assert store.load("http://other/", "/f") is None
    assert [p.name for p in (tmp_path / "state").iterdir()] == [
        store.file_for("http://h/", "/f").name
    ]  # no temporary files left behind
    store.file_for("http://h/", "/f").write_text("{not json")
    assert store.load("http://h/", "/f") is None
    store.discard("http://h/", "/f")
    assert store.load("http://h/", "/f") is None
