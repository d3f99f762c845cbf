"""The journal: a rerun skips what is done; a crash at any point leaves no duplicate."""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from synapse_async import AsyncClient
from synapse_async.bulk import BulkProgress
from synapse_async.bulk.journal import Journal
from synapse_async.emulator import Emulator, Faults
from tests.integration.bulk.conftest import make_files

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[3]


def _unit_checksums(emu: Emulator, collection: int) -> list[str]:
    return [
        u["files"]["image"]["checksum"]
        for u in emu.store.list("data_units", limit=None, data_collection=collection)
    ]


async def test_rerun_with_journal_sends_nothing(
    client: AsyncClient, emulator: Emulator, collection: int, project: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 25)
    items = [{"files": {"image": p}} for p in files]
    journal = tmp_path / "up.journal"
    first = await client.data_collections.upload(
        collection, items, project=project, journal=journal
    )
    assert first.sent == 25 and first.skipped == 0
    last: list[BulkProgress] = []
    again = await client.data_collections.upload(
        collection, items, project=project, journal=journal, on_progress=last.append
    )
    assert (again.skipped, again.sent, again.already_on_server, again.bytes_sent) == (25, 0, 0, 0)
    assert again.bytes_total == first.bytes_total == sum(p.stat().st_size for p in files)
    done = last[-1]  # skipped items count as done in the progress too
    assert (done.items_done, done.files_done, done.files_total) == (25, 25, 25)
    assert done.bytes_done == done.bytes_total == first.bytes_total
    assert sorted(again.data_unit_ids) == sorted(first.data_unit_ids)
    assert sorted(again.task_ids) == sorted(first.task_ids)
    assert emulator.store.count("data_units", data_collection=collection) == 25
    assert emulator.store.count("tasks", project=project) == 25


async def test_changed_file_after_journal_is_reported(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 3)
    items = [{"files": {"image": p}} for p in files]
    journal = tmp_path / "up.journal"
    await client.data_collections.upload(collection, items, journal=journal)
    files[2].write_bytes(b"a new version of the file")
    report = await client.data_collections.upload(collection, items, journal=journal)
    assert report.skipped == 2 and report.failed == 1
    assert report.failures[0].error_type == "FileChangedError"
    assert "changed since the journal recorded it" in report.failures[0].message


class _Crash(Exception):
    pass


@pytest.mark.parametrize("kind", ["unit", "task"])
async def test_crash_after_the_server_answered_replays_the_same_batch(
    client: AsyncClient,
    emulator: Emulator,
    collection: int,
    project: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """The server created the batch but the journal never heard: the rerun resends that
    batch with the journaled Idempotency-Key and gets the same units (or tasks) back."""
    files = make_files(tmp_path / "in", 30)
    items = [{"files": {"image": p}} for p in files]
    journal = tmp_path / "up.journal"
    original = Journal.finish_batch

    def crash(self: Journal, batch_kind: str, *args: Any) -> None:
        if batch_kind == kind:
            raise _Crash("killed before the answer was journaled")
        original(self, batch_kind, *args)

    monkeypatch.setattr(Journal, "finish_batch", crash)
    with pytest.raises(Exception) as info:
        await client.data_collections.upload(collection, items, project=project, journal=journal)
    assert "killed before" in repr(info.value)
    created = emulator.store.count("data_units" if kind == "unit" else "tasks")
    assert 0 < created <= 30  # the server did create a batch
    monkeypatch.setattr(Journal, "finish_batch", original)
    report = await client.data_collections.upload(
        collection, items, project=project, journal=journal
    )
    assert report.failed == 0
    assert emulator.store.count("data_units", data_collection=collection) == 30
    assert emulator.store.count("tasks", project=project) == 30
    assert len(set(report.data_unit_ids)) == 30 and len(set(report.task_ids)) == 30
    assert emulator.store.count("data_files") == 30


async def _run_script(emu: Emulator, args: list[str], kill_at: int | None) -> tuple[int, list[str]]:
    cmd = [
        sys.executable,
        "-m",
        "tests.integration.bulk.bulk_script",
        "--url",
        emu.url,
        f"--token={emu.access_token}",
        *args,
    ]
    lines: list[str] = []
    async with await anyio.open_process(cmd, cwd=REPO) as proc:
        assert proc.stdout is not None
        buffer = b""
        with anyio.fail_after(120):
            async for data in proc.stdout:
                buffer += data
                *complete, buffer = buffer.split(b"\n")
                lines += [c.decode() for c in complete]
                done = [int(x.split()[1]) for x in lines if x.startswith("progress")]
                if kill_at is not None and done and done[-1] >= kill_at:
                    proc.kill()  # SIGKILL: nothing of the uploader's cleanup runs
                    break
            code = await proc.wait()
    return code, lines


async def test_sigkill_midway_then_rerun_finishes_without_duplicates(
    emulator: Emulator, client: AsyncClient, collection: int, project: int, tmp_path: Path
) -> None:
    n = 300
    make_files(tmp_path / "in", n, size=4000)
    journal = tmp_path / "up.journal"
    args = [
        "--dir",
        str(tmp_path / "in"),
        "--journal",
        str(journal),
        "--collection",
        str(collection),
        "--project",
        str(project),
    ]
    emulator.set_faults(Faults(latency=0.02))
    code, lines = await _run_script(emulator, args, kill_at=n // 2)
    assert code == -signal.SIGKILL, lines
    assert not any(x.startswith("done") for x in lines)
    sent_before = emulator.store.count("data_files")
    assert 0 < sent_before < n
    emulator.set_faults(Faults())
    code, lines = await _run_script(emulator, args, kill_at=None)
    assert code == 0, lines
    assert lines[-1] == f"done {n} {n}"
    sums = _unit_checksums(emulator, collection)
    assert len(sums) == n and len(set(sums)) == n  # every file once, no duplicate unit
    assert emulator.store.count("tasks", project=project) == n
    # Files the server held after the kill were not sent again.
    assert emulator.store.count("data_files") == n
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT COUNT(*) FROM items WHERE task_id IS NOT NULL").fetchone() == (
            n,
        )
