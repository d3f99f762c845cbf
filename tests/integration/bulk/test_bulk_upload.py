"""``client.data_collections.upload`` against the emulator: units, tasks, dedupe, report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient
from synapse_async.bulk import BulkItem, BulkProgress, scan_directory
from synapse_async.emulator import Emulator
from synapse_async.errors import BulkUploadError, InvalidInputError
from synapse_async.transfer import checksums
from tests.integration.bulk.conftest import make_files

pytestmark = pytest.mark.anyio


def _names(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir()]


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


async def test_items_become_units_and_tasks(
    client: AsyncClient, emulator: Emulator, collection: int, project: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 30)
    items: list[Any] = [
        {"files": {"image": p}, "meta": {"n": i}, "groups": ["g"]} for i, p in enumerate(files[:20])
    ]
    items += [
        BulkItem(files={"image": str(p)}, meta={"n": 20 + i}) for i, p in enumerate(files[20:])
    ]
    seen: list[BulkProgress] = []
    report = await client.data_collections.upload(
        collection, iter(items), project=project, on_progress=seen.append
    )
    assert report.failed == 0 and report.failures == []
    assert (report.items, report.sent, report.already_on_server) == (30, 30, 0)
    assert report.bytes_sent == report.bytes_total == sum(p.stat().st_size for p in files)
    assert len(set(report.data_unit_ids)) == 30 and len(set(report.task_ids)) == 30
    assert emulator.store.count("data_files") == 30
    assert emulator.store.count("data_units", data_collection=collection) == 30
    units = {u.id: u async for u in client.data_units.list(data_collection=collection)}
    by_name = {u.files["image"]["path"]: u for u in units.values()}
    for i, p in enumerate(files):
        unit = by_name[p.name]  # the file name, never the local absolute path
        assert unit.files["image"]["checksum"] == _md5(p)
        assert unit.meta == {"n": i}
    assert by_name[files[0].name].groups == ["g"]
    tasks = [t async for t in client.tasks.list(project=project)]
    assert sorted(t.data_unit for t in tasks) == sorted(units)  # type: ignore[type-var]
    last = seen[-1]
    assert (last.files_done, last.files_total, last.items_done) == (30, 30, 30)
    assert last.bytes_done == last.bytes_total == report.bytes_total and last.scan_complete


async def test_files_the_server_holds_are_not_sent(
    client: AsyncClient, emulator: Emulator, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "a", 12)
    first = await client.data_collections.upload(
        collection, [{"files": {"image": p}} for p in files[:8]]
    )
    assert first.sent == 8
    copies = []
    for p in files:  # same content at other paths: 8 known to the server, 4 new
        q = tmp_path / "b" / p.name
        q.parent.mkdir(exist_ok=True)
        q.write_bytes(p.read_bytes())
        copies.append(q)
    second = await client.data_collections.upload(
        collection, [{"files": {"image": q}} for q in copies]
    )
    assert (second.sent, second.already_on_server) == (4, 8)
    assert second.bytes_sent == sum(q.stat().st_size for q in copies[8:])
    assert emulator.store.count("data_files") == 12
    assert emulator.store.count("data_units", data_collection=collection) == 20


async def test_same_content_twice_in_one_run_is_sent_once(
    client: AsyncClient, emulator: Emulator, collection: int, tmp_path: Path
) -> None:
    a = tmp_path / "a.jpg"
    b = tmp_path / "b.jpg"
    a.write_bytes(b"same" * 100)
    b.write_bytes(b"same" * 100)
    report = await client.data_collections.upload(
        collection, [{"files": {"image": a}}, {"files": {"image": b}}]
    )
    assert (report.sent, report.already_on_server, report.failed) == (1, 1, 0)
    assert emulator.store.count("data_files") == 1
    assert len(report.data_unit_ids) == 2


async def test_async_iterable_and_scan_directory_grouping(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    root = tmp_path / "ds"
    (root / "sub").mkdir(parents=True)
    for stem in ("0001", "0002"):
        (root / f"{stem}.jpg").write_bytes(stem.encode() * 50)
        (root / f"{stem}.json").write_text(json.dumps({"stem": stem}))
    (root / "sub" / "0003.png").write_bytes(b"png" * 40)
    (root / "notes.txt").write_text("no slot takes .txt")
    coll = await client.data_collections.get(collection)
    items = list(scan_directory(root, file_specifications=coll))
    by_files = sorted(sorted(i.files) for i in items)
    assert by_files == [["image"], ["image", "label"], ["image", "label"], ["txt"]]

    async def agen() -> AsyncIterator[BulkItem]:
        for item in items:
            yield item

    report = await client.data_collections.upload(collection, agen())
    assert report.items == 4 and report.failed == 1
    assert report.failures[0].paths == {"txt": str(root / "notes.txt")}
    assert "slot 'txt' is not defined" in report.failures[0].message
    assert len(report.data_unit_ids) == 3 and report.sent == 5


async def test_one_slot_scan_and_pattern(tmp_path: Path) -> None:
    make_files(tmp_path, 3)
    (tmp_path / "skip.png").write_bytes(b"x")
    items = list(
        scan_directory(
            tmp_path, file_specifications=[{"name": "img"}], pattern="*.jpg", recursive=False
        )
    )
    assert [i.files["img"].name for i in items] == ["0000.jpg", "0001.jpg", "0002.jpg"]


async def test_report_to_json_is_written_whole(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 2)
    report = await client.data_collections.upload(
        collection, [{"files": {"image": files[0]}}, {"files": {"image": tmp_path / "nope"}}]
    )
    out = tmp_path / "report.json"
    report.to_json(out)
    data = json.loads(out.read_text())
    assert data["failed"] == 1 and data["failures"][0]["error_type"] == "InvalidInputError"
    assert data["data_unit_ids"] == report.data_unit_ids
    assert [n for n in _names(tmp_path) if n.startswith(".report")] == []


async def test_fail_fast_stops_at_first_bad_item(
    client: AsyncClient, emulator: Emulator, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 200)
    items = [{"files": {"image": tmp_path / "missing.jpg"}}]
    items += [{"files": {"image": p}} for p in files]
    with pytest.raises(BulkUploadError) as info:
        await client.data_collections.upload(collection, items, fail_fast=True)
    report = info.value.report
    assert report.failures[0].index == 0 and "no such file" in report.failures[0].message
    assert emulator.store.count("data_units", data_collection=collection) < 200


async def test_fail_fast_stops_reading_a_long_input(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    # The input is read ahead of the stages; when they stop, the reader stops too (no hang,
    # and a generator is not drained to its end).
    files = make_files(tmp_path / "in", 5)
    taken = 0

    def items() -> Iterator[dict[str, Any]]:
        nonlocal taken
        yield {"files": {"image": tmp_path / "missing.jpg"}}
        for i in range(100_000):
            taken += 1
            yield {"files": {"image": files[i % 5]}}

    with pytest.raises(BulkUploadError):
        await client.data_collections.upload(collection, items(), fail_fast=True)
    assert taken < 50_000


async def test_a_failed_check_creates_no_journal(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 3)
    journal = tmp_path / "up.journal"
    with pytest.raises(InvalidInputError, match="data collection 999 does not exist"):
        await client.data_collections.upload(
            999, [{"files": {"image": p}} for p in files], journal=journal
        )
    assert not journal.exists()


async def test_missing_collection_and_project_are_typed_errors(
    client: AsyncClient, collection: int, tmp_path: Path
) -> None:
    files = make_files(tmp_path, 1)
    with pytest.raises(InvalidInputError, match="data collection 999 does not exist"):
        await client.data_collections.upload(999, [{"files": {"image": files[0]}}])
    with pytest.raises(InvalidInputError, match="project 999 does not exist"):
        await client.data_collections.upload(
            collection, [{"files": {"image": files[0]}}], project=999
        )
    with pytest.raises(InvalidInputError, match="scan_directory"):
        await client.data_collections.upload(collection, str(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="max_concurrency"):
        await client.data_collections.upload(collection, [], max_concurrency=0)


async def test_a_file_above_50_mib_goes_by_chunked_upload(
    client: AsyncClient, emulator: Emulator, collection: int, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    with big.open("wb") as fh:
        fh.truncate(50 * 2**20 + 7)
        fh.seek(12345)
        fh.write(b"not all zero")
    small = make_files(tmp_path / "small", 3)
    seen: list[BulkProgress] = []
    report = await client.data_collections.upload(
        collection, [{"files": {"image": p}} for p in [big, *small]], on_progress=seen.append
    )
    assert report.failed == 0 and report.sent == 4
    assert len(emulator.uploads.counters_json()["uploads"]) == 1  # one chunked upload
    units = [u async for u in client.data_units.list(data_collection=collection)]
    sums = {u.files["image"]["path"]: u.files["image"]["checksum"] for u in units}
    assert sums["big.jpg"] == _md5(big)
    assert seen[-1].bytes_done == seen[-1].bytes_total == report.bytes_total


async def test_a_large_file_hashed_by_the_bulk_upload_is_not_hashed_whole_again(
    client: AsyncClient, collection: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.jpg"
    with big.open("wb") as fh:
        fh.truncate(50 * 2**20 + 7)
        fh.write(b"\xff\xd8 some bytes")
    whole_passes: list[int] = []
    in_thread = checksums._in_thread

    async def counting(snapshot: Any, offset: int, length: int) -> bytes:
        if offset == 0 and length == snapshot.size:
            whole_passes.append(length)
        return await in_thread(snapshot, offset, length)

    monkeypatch.setattr(checksums, "_in_thread", counting)
    report = await client.data_collections.upload(collection, [{"files": {"image": big}}])
    assert report.failed == 0 and report.sent == 1
    assert whole_passes == []  # the pipeline's own MD5 was handed to the chunked upload
    units = [u async for u in client.data_units.list(data_collection=collection)]
    assert units[0].files["image"]["checksum"] == _md5(big)
    # a plain chunked upload of the same file still hashes it (the guard above can fail)
    await client.uploads.upload_file(big, resume=False)
    assert whole_passes == [big.stat().st_size]
