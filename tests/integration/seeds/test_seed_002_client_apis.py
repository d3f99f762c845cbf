"""Seed 002 (client APIs overview): its ``BackendClient`` calls run through
``synapse_sync.compat`` against the emulator, import lines changed
(``synapse_sdk.clients.backend`` / ``synapse_sdk.clients.exceptions`` ->
``synapse_sync.compat``). The seed's literal ids (123, 789, ...) are the emulator's ids of
objects the test creates first.

ADAPTED where the seed cannot run as printed:
- ``create_data_file(...)['data_unit_id']``: a data file alone has no data unit (the real API
  returns none either); ``data_collection=`` asks the SDK to make one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.seeds.conftest import SEED_TOKEN, SeedEmulator


def test_basic_usage_and_environment(
    seed_emulator: SeedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = seed_emulator
    pid = emu.run(emu.emu.seed.project, "p")["id"]
    emu.run(emu.emu.seed.tasks, pid, 120)
    emu.run(emu.emu.seed.data_collection)
    base_url = emu.url
    # --- seed block "Basic Backend Client Usage" ---
    from synapse_sync.compat import BackendClient

    client = BackendClient(
        base_url=base_url,  # ADAPTED: the emulator, not "https://api.synapse.sh"
        api_token="sk_live_xxxx",
    )
    tasks = client.list_tasks(params={"project": pid})
    collections = client.list_data_collection()
    models = client.list_models(params={"project": pid})
    # --- end ---
    assert tasks["count"] == 120 and len(tasks["results"]) == 100
    assert collections["count"] == 1 and models["count"] == 0

    # --- seed block "Environment Configuration" ---
    os.environ["SYNAPSE_API_TOKEN"] = "sk_live_xxxx"
    os.environ["SYNAPSE_AGENT_TOKEN"] = "your-agent-token"
    client = BackendClient(base_url=base_url)
    # --- end ---
    assert client.list_tasks(params={"page": 2, "page_size": 50})["count"] == 120
    assert client.client.config.auth_headers()["SYNAPSE-Agent"] == "Token your-agent-token"
    monkeypatch.delenv("SYNAPSE_API_TOKEN")
    monkeypatch.delenv("SYNAPSE_AGENT_TOKEN")


def test_error_handling_and_pagination(
    seed_emulator: SeedEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from synapse_sync.compat import BackendClient

    pid = seed_emulator.run(seed_emulator.emu.seed.project, "p")["id"]
    seed_emulator.run(seed_emulator.emu.seed.tasks, pid, 60)
    client = BackendClient(base_url=seed_emulator.url, api_token=SEED_TOKEN)
    # --- seed block "Error Handling" ---
    from synapse_sync.compat import ClientError

    try:
        result = client.get_project(123)
    except ClientError as e:
        if e.status_code == 404:
            print("Project not found")
        elif e.status_code == 403:
            print("Permission denied")
        else:
            print(f"API Error: {e}")
    # --- end ---
    assert capsys.readouterr().out == "Project not found\n"
    # --- seed block "Pagination" ---
    page1 = client.list_tasks(params={"page": 1, "page_size": 50})
    all_tasks = client.list_tasks(list_all=True)
    # --- end ---
    assert len(page1["results"]) == 50 and page1["next"]
    iterator, count = all_tasks
    assert count == 60 and len(list(iterator)) == 60


def test_batch_file_and_workflow_operations(seed_emulator: SeedEmulator, tmp_path: Path) -> None:
    from synapse_sync.compat import BackendClient

    emu = seed_emulator
    pid = emu.run(emu.emu.seed.project, "p")["id"]
    collection_id = emu.run(emu.emu.seed.data_collection)["id"]
    emu.run(emu.emu.seed.data_units, collection_id, 3)
    emu.run(emu.emu.seed.assignments, pid, 3)
    client = BackendClient(base_url=emu.url, api_token=SEED_TOKEN)
    tag_ids = [client.client.task_tags.create(f"t{i}").id for i in range(2)]
    large = tmp_path / "large_file.zip"
    large.write_bytes(os.urandom(3 * 2**20))
    image = tmp_path / "image.jpg"
    image.write_bytes(b"jpeg" * 100)
    # --- seed block "Batch Operations" ---
    tasks_data = [
        {"project": pid, "data_unit": 1},
        {"project": pid, "data_unit": 2},
        {"project": pid, "data_unit": 3},
    ]
    created_tasks = client.create_tasks(tasks_data)
    client.set_tags_assignments({"assignment_ids": [1, 2, 3], "tag_ids": tag_ids})
    # --- seed block "File Operations" ---
    result = client.create_chunked_upload(large)
    data_file = client.create_data_file(image, use_chunked_upload=True)
    # --- end ---
    assert [t["data_unit"] for t in created_tasks] == [1, 2, 3]
    assert result["size"] == 3 * 2**20 and len(result["checksum"]) == 32
    assert data_file["size"] == 400 and data_file["data_unit_id"] is None

    # --- seed function complete_data_workflow ---
    collection = client.get_data_collection(collection_id)
    data_file = client.create_data_file(image, data_collection=collection_id)  # ADAPTED
    tasks = client.create_tasks([{"project": pid, "data_unit": data_file["data_unit_id"]}])
    assignments = client.list_assignments(params={"project": pid})
    models = client.list_models(params={"project": pid})
    # --- end ---
    assert collection["id"] == collection_id
    assert tasks[0]["data_unit"] == data_file["data_unit_id"] > 3
    assert assignments["count"] == 3 and models["results"] == []
    from synapse_async import InvalidInputError

    with pytest.raises(InvalidInputError, match="data_collection"):
        client.create_tasks([{"project": pid, "data_unit": None}])


def test_plugin_deployment_workflow(
    seed_emulator: SeedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synapse_sync.compat import BackendClient

    monkeypatch.chdir(tmp_path)
    Path("plugin.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    client = BackendClient(base_url=seed_emulator.url, api_token=SEED_TOKEN)
    # --- seed function plugin_deployment_workflow ---
    # 1. Create plugin
    plugin = client.create_plugin({"name": "My Plugin", "description": "Custom processing plugin"})

    # 2. Create release
    with open("plugin.zip", "rb") as f:
        release = client.create_plugin_release(
            {"plugin": plugin["id"], "version": "1.0.0", "file": f}
        )

    # 3. Execute plugin
    job = client.run_plugin(plugin["id"], {"parameters": {"threshold": 0.8}})

    # 4. Monitor execution
    job_status = client.get_job(job["job_id"])
    # --- end ---
    assert release["version"] == "1.0.0" and release["plugin"] == plugin["id"]
    assert job_status["id"] == job["job_id"]
    assert job_status["params"] == {"threshold": 0.8}  # kept, not dropped
