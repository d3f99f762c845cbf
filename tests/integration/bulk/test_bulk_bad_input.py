"""Every bad input of a bulk upload: a typed error, or a per-item failure with the others done."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient
from synapse_async.bulk import scan_directory
from synapse_async.bulk.journal import Journal
from synapse_async.emulator import Emulator
from synapse_async.errors import InvalidInputError, JournalError
from synapse_async.resources.data_files import AsyncDataFiles
from tests.integration.bulk.conftest import make_files

pytestmark = pytest.mark.anyio


async def test_bad_items_fail_alone(
    client: AsyncClient, emulator: Emulator, collection: int, tmp_path: Path
) -> None:
    good = make_files(tmp_path / "good", 3)
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.jpg"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    broken = tmp_path / "broken.jpg"
    broken.symlink_to(tmp_path / "gone.jpg")
    raw_name = os.fsdecode(b"bad-\xff.jpg")
    (tmp_path / raw_name).write_bytes(b"x")
    bad: list[tuple[Any, str]] = [
        ({"files": {"image": tmp_path / "missing.jpg"}}, "no such file"),
        ({"files": {"image": tmp_path / "good"}}, "is a directory"),
        ({"files": {"image": fifo}}, "not a regular file"),
        ({"files": {"image": sock_path}}, "not a regular file"),
        ({"files": {"image": loop}}, "symlink loop"),
        ({"files": {"image": broken}}, "broken symlink"),
        ({"files": {"image": tmp_path / raw_name}}, "not valid UTF-8"),
        ({"files": {"image": good[0], "depth": good[1]}}, "slot 'depth' is not defined"),
        ({"files": {"label": good[2]}}, "required slot 'image'"),
        ({"files": {"image": good[0]}}, "duplicate path"),  # item 0 has it already
        ({"files": {}}, "non-empty mapping"),
        ("not an item", "expected a BulkItem"),
        ({"files": {"image": good[1]}, "extra": 1}, "unknown item keys"),
    ]
    items: list[Any] = [{"files": {"image": good[0]}}] + [b for b, _ in bad]
    items.append({"files": {"image": good[1]}})
    try:
        report = await client.data_collections.upload(collection, items)
    finally:
        sock.close()
    assert report.items == len(items)
    assert report.failed == len(bad)
    assert len(report.data_unit_ids) == 2
    by_index = {f.index: f for f in report.failures}
    for n, (_item, expected) in enumerate(bad, start=1):
        failure = by_index[n]
        assert expected in failure.message, (n, failure.message)
        assert failure.error_type == "InvalidInputError"
    assert emulator.store.count("data_files") == 2
    assert emulator.store.count("data_units", data_collection=collection) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
async def test_unreadable_file_fails_alone(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path, 2)
    files[0].chmod(0)
    report = await client.data_collections.upload(
        collection, [{"files": {"image": p}} for p in files]
    )
    assert report.failed == 1 and "not readable" in report.failures[0].message


@pytest.mark.parametrize("size", [1000, 40_000])  # sent from memory / read from disk
async def test_file_changed_while_sent(
    client: AsyncClient, collection: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    files = make_files(tmp_path, 3, size=size)
    from_path = AsyncDataFiles.create
    from_bytes = AsyncDataFiles._create_from_bytes

    def rewrite(name: str) -> None:
        if name == files[1].name:  # the file is rewritten after it was hashed
            files[1].write_bytes(b"new content, other size")

    async def create(self: AsyncDataFiles, path: Any, **kw: Any) -> Any:
        rewrite(Path(path).name)
        return await from_path(self, path, **kw)

    async def create_from_bytes(self: AsyncDataFiles, name: str, content: bytes) -> Any:
        rewrite(name)
        return await from_bytes(self, name, content)

    monkeypatch.setattr(AsyncDataFiles, "create", create)
    monkeypatch.setattr(AsyncDataFiles, "_create_from_bytes", create_from_bytes)
    report = await client.data_collections.upload(
        collection, [{"files": {"image": p}} for p in files]
    )
    assert report.failed == 1
    failure = report.failures[0]
    assert failure.index == 1 and failure.error_type == "FileChangedError"
    assert "changed while it was sent" in failure.message
    assert len(report.data_unit_ids) == 2


async def test_scan_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such directory"):
        scan_directory(tmp_path / "nope", file_specifications=[{"name": "img"}])
    f = make_files(tmp_path / "d", 1)[0]
    with pytest.raises(InvalidInputError, match="not a directory"):
        scan_directory(f, file_specifications=[{"name": "img"}])
    with pytest.raises(InvalidInputError, match="file_specifications"):
        scan_directory(tmp_path, file_specifications=[])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no files matching"):
        list(scan_directory(empty, file_specifications=[{"name": "img"}]))


async def test_scan_directory_symlink_loop_is_read_once(tmp_path: Path) -> None:
    make_files(tmp_path / "a", 2)
    (tmp_path / "a" / "back").symlink_to(tmp_path)  # a/back -> root: a loop
    items = list(scan_directory(tmp_path, file_specifications=[{"name": "img"}]))
    assert sorted(i.files["img"].name for i in items) == ["0000.jpg", "0001.jpg"]


async def test_empty_directory_is_a_typed_error(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    items = scan_directory(tmp_path, file_specifications=[{"name": "image"}])
    with pytest.raises(InvalidInputError, match="no files matching"):
        await client.data_collections.upload(collection, items)


async def test_journal_of_another_collection(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 2)
    items = [{"files": {"image": p}} for p in files]
    journal = tmp_path / "up.journal"
    await client.data_collections.upload(collection, items, journal=journal)
    other = await client.data_collections.create("other", file_specifications=[{"name": "image"}])
    with pytest.raises(JournalError, match=f"belongs to collection {collection}"):
        await client.data_collections.upload(other.id, items, journal=journal)


async def test_corrupt_journal(client: AsyncClient, collection: int, tmp_path: Path) -> None:
    files = make_files(tmp_path / "in", 1)
    journal = tmp_path / "up.journal"
    journal.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="not a readable bulk upload journal"):
        await client.data_collections.upload(
            collection, [{"files": {"image": files[0]}}], journal=journal
        )


async def test_disk_full_while_writing_the_journal(
    client: AsyncClient,
    emulator: Emulator,
    collection: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = make_files(tmp_path / "in", 40)
    items = [{"files": {"image": p}, "meta": {"pad": "x" * 3000}} for p in files]
    journal = tmp_path / "up.journal"
    original = Journal.__init__

    def small_disk(self: Journal, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        self._conn.execute(f"PRAGMA max_page_count = {pages + 4}")  # SQLITE_FULL soon

    monkeypatch.setattr(Journal, "__init__", small_disk)
    with pytest.raises(JournalError, match=r"cannot write journal .*full"):
        await client.data_collections.upload(collection, items, journal=journal)
    monkeypatch.setattr(Journal, "__init__", original)
    # Space is back: the same journal finishes the job, with no duplicate data unit.
    report = await client.data_collections.upload(collection, items, journal=journal)
    assert report.failed == 0
    assert emulator.store.count("data_units", data_collection=collection) == 40
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT COUNT(*) FROM items WHERE unit_id IS NOT NULL").fetchone() == (
            40,
        )
