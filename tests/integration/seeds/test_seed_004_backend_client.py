"""Seed 004 (the ``BackendClient`` reference): each method's example runs through
``synapse_sync.compat.BackendClient`` against the emulator, with the arguments and result
keys the seed shows. Import lines changed (``synapse_sdk.clients.*`` ->
``synapse_sync.compat``); the seed's literal ids are the ids of objects the test creates.

Not runnable as printed (see docs/seeds.md): ``create_data_units([{'id': 1, 'file': {...}}])``
(the real API needs ``data_collection`` and ``files``; the SDK says so with a typed error).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synapse_async import InvalidInputError
from synapse_sync.compat import BackendClient
from tests.integration.seeds.conftest import SEED_TOKEN, SeedEmulator


@pytest.fixture
def backend_client(seed_emulator: SeedEmulator, monkeypatch: pytest.MonkeyPatch) -> BackendClient:
    # --- seed block "Example" (constructor, env form) ---
    import os

    os.environ["SYNAPSE_ACCESS_TOKEN"] = "sk_live_xxxx"
    from synapse_sync.compat import BackendClient

    client = BackendClient(base_url=seed_emulator.url)
    # --- end ---
    return client


def test_annotation_operations(seed_emulator: SeedEmulator, backend_client: BackendClient) -> None:
    emu = seed_emulator
    client = backend_client  # the seed's name
    pid = emu.run(emu.emu.seed.project, "p")["id"]
    collection_id = emu.run(emu.emu.seed.data_collection)["id"]
    emu.run(emu.emu.seed.data_units, collection_id, 2)
    project = client.get_project(pid)
    [task] = client.create_tasks([{"project": pid, "data_unit": 1}])
    task = client.get_task(task["id"], params={"expand": "data_unit"})
    result = client.annotate_task_data(
        task["id"], {"annotations": [{"type": "bbox", "coordinates": [10, 10, 100, 100]}]}
    )
    tasks = client.list_tasks(params={"project": pid})
    all_tasks = client.list_tasks(list_all=True)
    new_tasks = client.create_tasks(
        [
            {"project": pid, "data_unit": 2},
        ]
    )
    tag = client.client.task_tags.create("x").id
    client.set_tags_tasks({"task_ids": [task["id"], new_tasks[0]["id"]], "tag_ids": [tag]})
    assert project["id"] == pid and task["data_unit"]["id"] == 1
    [box] = result["data"]["annotationsData"]["image_1"]
    assert box["coordinate"] == {"x": 10, "y": 10, "width": 100, "height": 100}
    assert tasks["count"] == 1 and all_tasks[1] == 1  # listed before the second create
    assert all(t["tags"] == [tag] for t in client.list_tasks(params={"project": pid})["results"])
    with pytest.raises(InvalidInputError, match="unknown type"):
        client.annotate_task_data(
            task["id"], {"annotations": [{"type": "cube", "coordinates": [1]}]}
        )


def test_core_and_data_collection_operations(
    seed_emulator: SeedEmulator,
    backend_client: BackendClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = seed_emulator
    client = backend_client  # the seed's name
    collection_id = emu.run(emu.emu.seed.data_collection)["id"]
    large = tmp_path / "large_file.zip"
    large.write_bytes(os.urandom(2**20 + 7))
    image = tmp_path / "file.jpg"
    image.write_bytes(b"\xff\xd8" + b"x" * 50)

    result = client.create_chunked_upload(large)
    print(f"Upload completed: {result}")
    collections = client.list_data_collection()
    collection = client.get_data_collection(collection_id)
    file_specs = collection["file_specifications"]
    data_file = client.create_data_file(image)
    large_file = client.create_data_file(large, use_chunked_upload=True)
    uploaded = client.upload_data_file(
        organized_file={"files": {file_specs[0]["name"]: str(image)}, "meta": {"a": 1}},
        collection_id=collection_id,
        use_chunked_upload=False,
    )
    assert "Upload completed: {" in capsys.readouterr().out
    assert collections["count"] == 1 and file_specs
    assert client.list_data_collections() == collections  # the official (plural) name
    assert data_file["size"] == 52 and large_file["size"] == 2**20 + 7
    units = client.create_data_units([uploaded])
    assert units[0]["data_collection"] == collection_id
    with pytest.raises(InvalidInputError, match="data_collection"):
        client.create_data_units([{"id": 1, "file": {}}, {"id": 2, "file": {}}])


def test_hitl_and_integration_operations(
    seed_emulator: SeedEmulator, backend_client: BackendClient, tmp_path: Path
) -> None:
    emu = seed_emulator
    client = backend_client  # the seed's name
    pid = emu.run(emu.emu.seed.project, "p")["id"]
    emu.run(emu.emu.seed.assignments, pid, 2)
    assignment = client.get_assignment(1)
    assignments = client.list_assignments(params={"project": pid})
    all_assignments = client.list_assignments(list_all=True)
    tag = client.client.task_tags.create("q").id
    client.set_tags_assignments({"assignment_ids": [1, 2], "tag_ids": [tag]})
    assert assignment["id"] == 1 and assignments["count"] == 2 and all_assignments[1] == 2

    agent = client.client.agents.create("gpu-1")
    status = client.health_check_agent(agent.token)
    assert status["status"] == "connected"

    new_plugin = client.create_plugin({"name": "My Plugin", "description": "Plugin description"})
    plugin = client.get_plugin(new_plugin["id"])
    updated = client.update_plugin(plugin["id"], {"description": "Updated description"})
    assert updated["description"] == "Updated description"
    result = client.run_plugin(
        plugin["id"], {"parameters": {"input": "value"}, "context": {"request": "r-1"}}
    )
    assert result["params"] == {"input": "value"} and result["context"] == {"request": "r-1"}
    with pytest.raises(InvalidInputError, match="colour"):
        client.run_plugin(plugin["id"], {"colour": "red"})
    # the official client's own run fields are accepted too (its PluginRunRequest)
    assert (
        client.run_plugin(plugin["id"], {"action": "train", "language": "en", "debug": False})[
            "action"
        ]
        == "train"
    )

    archive = tmp_path / "plugin.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    release = client.create_plugin_release(
        {"plugin": plugin["id"], "version": "1.0.0", "file": open(archive, "rb")}
    )
    release_info = client.get_plugin_release(release["id"])
    assert release_info["version"] == "1.0.0"

    job_id = result["job_id"]
    jobs = client.list_jobs(params={"status": "running"})
    job = client.get_job(job_id, params={"expand": "logs"})
    assert isinstance(job["logs"], list) and jobs["count"] >= 0
    client.update_job(job_id, {"status": "completed"})
    logs = client.list_job_console_logs(job_id)
    assert logs == job["logs"] or len(logs) >= len(job["logs"])


def test_storage_ml_errors_and_url_conversion(
    seed_emulator: SeedEmulator,
    backend_client: BackendClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = seed_emulator
    client = backend_client  # the seed's name
    pid = emu.run(emu.emu.seed.project, "p")["id"]
    emu.run(emu.emu.seed.tasks, pid, 3)
    gt = emu.run(emu.emu.seed.ground_truth, "GT", versions=1, events=2)
    version_id = gt["versions"][0]["id"]
    from synapse_sync.compat import StorageCategory, StorageProvider

    new_storage = client.create_storage(
        {
            "name": "My Storage",
            "provider": StorageProvider.AMAZON_S3,
            "configuration": {"bucket": "b", "secret_access_key": "s3cr3t"},
        }
    )
    storages = client.list_storages()
    storage = client.get_storage(new_storage["id"])
    assert storages["count"] == 1 and storage["provider"] == "amazon_s3"
    assert StorageCategory.INTERNAL == "internal"  # type: ignore[comparison-overlap]  # a str enum

    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights")
    new_model = client.create_model({"name": "My Model", "project": pid, "file": str(model_file)})
    models = client.list_models(params={"project": pid})
    model = client.get_model(new_model["id"], params={"expand": "metrics"})
    assert models["count"] == 1 and model["name"] == "My Model"

    events = client.list_ground_truth_events(
        params={"ground_truth_dataset_versions": [version_id]}, list_all=True
    )
    version = client.get_ground_truth_version(version_id)
    assert events[1] == 2 and version["id"] == version_id

    # --- seed block "Error Handling" ---
    from synapse_sync.compat import ClientError

    try:
        project = client.get_project(999)
    except ClientError as e:
        print(f"API Error: {e}")
        print(f"Status Code: {e.status_code}")
        print(f"Response: {e.response}")
    # --- end ---
    out = capsys.readouterr().out
    assert "Status Code: 404\n" in out and "Response: {" in out

    # --- seed block "URL Conversion" ---
    tasks = client.list_tasks(url_conversion={"files": lambda url: f"https://cdn.example.com{url}"})
    # --- end ---
    assert tasks["count"] == 3
    with pytest.raises(InvalidInputError, match="functions"):
        client.list_tasks(url_conversion={"files_fields": ["files"]})
