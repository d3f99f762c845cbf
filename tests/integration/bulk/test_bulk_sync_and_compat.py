"""The blocking twins: ``Client.data_collections.upload`` and the compat methods, as the
official client's scripts call them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synapse_async.bulk import BulkProgress, scan_directory
from synapse_async.errors import BulkUploadError
from synapse_sync import Client
from synapse_sync.compat import BackendClient
from tests.fixtures import ThreadedEmulator
from tests.integration.bulk.conftest import make_files


def _collection_and_project(client: Client) -> tuple[int, int]:
    coll = client.data_collections.create(
        "sync bulk",
        file_specifications=[{"name": "image", "file_type": "image", "is_required": True}],
    )
    return coll.id, client.projects.create("sync bulk").id


def test_sync_upload_of_a_scanned_folder(
    threaded_emulator: ThreadedEmulator,
    tmp_path: Path,
) -> None:
    make_files(tmp_path / "in", 15)
    seen: list[BulkProgress] = []
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        collection, project = _collection_and_project(client)
        coll = client.data_collections.get(collection)
        report = client.data_collections.upload(
            coll,
            scan_directory(tmp_path / "in", file_specifications=coll),
            project=project,
            journal=tmp_path / "j",
            on_progress=seen.append,
        )
        assert (report.items, report.sent, report.failed) == (15, 15, 0)
        assert len(report.task_ids) == 15
        again = client.data_collections.upload(
            coll,
            scan_directory(tmp_path / "in", file_specifications=coll),
            project=project,
            journal=tmp_path / "j",
        )
        assert (again.skipped, again.sent) == (15, 0)
    assert seen[-1].items_done == 15


def test_compat_upload_data_collection_as_the_official_client(
    threaded_emulator: ThreadedEmulator,
    tmp_path: Path,
) -> None:
    files = make_files(tmp_path / "in", 12)
    client = BackendClient(threaded_emulator.url, threaded_emulator.access_token)
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as typed:
        collection, project = _collection_and_project(typed)
    data: list[dict[str, Any]] = [
        {"files": {"image": p}, "meta": {"n": i}} for i, p in enumerate(files)
    ]
    calls: list[tuple[int, int]] = []
    client.upload_data_collection(
        collection,
        data,
        project_id=project,
        batch_size=5,
        max_workers=4,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    listing: Any = client.list_data_units(params={"data_collection": collection}, list_all=True)
    units, count = listing
    assert count == 12
    assert sorted(u["meta"]["n"] for u in units) == list(range(12))
    tasks = client.list_tasks(params={"project": project})
    assert isinstance(tasks, dict) and tasks["count"] == 12
    assert calls and calls[-1] == (12, 12) and all(t == 12 for _, t in calls)

    bad = [*data[:2], {"files": {"image": tmp_path / "missing.jpg"}}]
    with pytest.raises(BulkUploadError, match="1 of 3 items failed") as info:
        client.upload_data_collection(collection, bad)
    assert info.value.report.failures[0].index == 2
    client.close()


def test_compat_upload_data_file_and_create_data_units(
    threaded_emulator: ThreadedEmulator,
    tmp_path: Path,
) -> None:
    files = make_files(tmp_path / "in", 2)
    client = BackendClient(threaded_emulator.url, threaded_emulator.access_token)
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as typed:
        collection, _ = _collection_and_project(typed)
    spec: dict[str, Any] = client.upload_data_file(
        organized_file={"files": {"image": files[0]}, "meta": {"a": 1}, "groups": "batch-1"},
        collection_id=collection,
        use_chunked_upload=False,
    )
    assert spec["data_collection"] == collection and spec["meta"] == {"a": 1}
    assert spec["files"]["image"]["path"] == files[0].name
    assert len(spec["files"]["image"]["checksum"]) == 32
    assert spec["groups"] == ["batch-1"]  # a single name is one group, not its letters
    created = client.create_data_units([spec])
    assert created[0]["files"] == spec["files"] and created[0]["groups"] == ["batch-1"]
    client.close()
