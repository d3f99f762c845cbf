"""``AsyncBackendClient``: a script written in the official client's style runs unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from synapse_async import APIError, InvalidInputError, NotFoundError
from synapse_async.compat import AsyncBackendClient
from synapse_async.emulator import Emulator
from tests.helpers import make_client

Listed = dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]


def one_page(listed: Listed) -> dict[str, Any]:
    """A listing without ``list_all``: one page ``{"count", "next", "previous", "results"}``."""
    assert isinstance(listed, dict), listed
    return listed


def every(listed: Listed) -> tuple[AsyncIterator[dict[str, Any]], int]:
    """A listing with ``list_all=True``: ``(iterator, count)``."""
    assert isinstance(listed, tuple), listed
    return listed


pytestmark = pytest.mark.anyio


async def official_style_script(
    base_url: str, token: str, ids: dict[str, Any], workdir: Path
) -> dict[str, Any]:
    """Written as for ``synapse_sdk.clients.backend.BackendClient``, awaited."""
    client = AsyncBackendClient(base_url=base_url, access_token=token)
    project = await client.get_project(ids["project"])

    # data ingestion
    collection = await client.get_data_collection(ids["collection"])
    file_specs = collection["file_specifications"]
    image = workdir / "image.jpg"
    image.write_bytes(b"\xff\xd8 fake jpeg")
    data_file = await client.create_data_file(image)
    organized = await client.upload_data_file(
        {"files": {file_specs[0]["name"]: image}, "meta": {"source": "camera-1"}}, collection["id"]
    )
    data_units = await client.create_data_units([organized])

    # tasks and annotation
    tasks = await client.create_tasks(
        [{"project": project["id"], "data_unit": u["id"]} for u in data_units]
    )
    task = await client.get_task(tasks[0]["id"], params={"expand": "data_unit"})
    await client.annotate_task_data(task["id"], {"annotations": {"image_1": []}})
    await client.set_tags_tasks({"task_ids": [task["id"]], "tag_ids": [ids["tag"]]})
    page1 = await client.list_tasks(params={"project": project["id"], "page_size": 2})
    generator, count = every(
        await client.list_tasks(params={"project": project["id"]}, list_all=True)
    )
    all_tasks = [t async for t in generator]

    # HITL
    assignments = one_page(await client.list_assignments(params={"project": project["id"]}))
    assignment = await client.get_assignment(assignments["results"][0]["id"])
    await client.set_tags_assignments(
        {"assignment_ids": [assignment["id"]], "tag_ids": [ids["tag"]]}
    )

    # plugins and jobs
    plugin = await client.create_plugin({"name": "My Plugin", "description": "Custom"})
    archive = workdir / "plugin.zip"
    archive.write_bytes(b"PK plugin archive")
    with open(archive, "rb") as f:  # noqa: ASYNC230 (as the official docs do)
        release = await client.create_plugin_release(
            {"plugin": plugin["id"], "version": "1.0.0", "file": f}
        )
    job = await client.run_plugin(plugin["id"], {"action": "export", "params": {"threshold": 0.8}})
    lines = [line async for line in client.tail_job_console_logs(job["job_id"])]
    job_status = await client.get_job(job["job_id"])
    console = await client.list_job_console_logs(job["job_id"])
    await client.create_logs(
        {"message": "Training complete", "level": "info", "job": job["job_id"]}
    )
    jobs, job_count = every(await client.list_jobs(list_all=True))
    agent_status = await client.health_check_agent(ids["agent_token"])

    # storage and ML
    storage = await client.create_storage(
        {"name": "My Storage", "provider": "amazon_s3", "configuration": {"secret_key": "s3cr3t"}}
    )
    storage_full = await client.get_storage(storage["id"])
    weights = workdir / "model.pkl"
    weights.write_bytes(b"weights" * 100)
    upload = await client.create_chunked_upload(weights)
    model = await client.create_model(
        {"name": "My Model", "project": project["id"], "file": str(weights)}
    )
    models = await client.list_models(params={"project": project["id"]})
    events, event_count = every(
        await client.list_ground_truth_events(
            params={"ground_truth_dataset_versions": [ids["gt_version"]]}, list_all=True
        )
    )
    version = await client.get_ground_truth_version(ids["gt_version"])
    result = {
        "project": project,
        "data_file": data_file,
        "organized": organized,
        "tasks": tasks,
        "task": task,
        "page1": page1,
        "count": count,
        "all_tasks": all_tasks,
        "assignment": assignment,
        "release": release,
        "job": job,
        "lines": lines,
        "job_status": job_status,
        "console": console,
        "jobs": [j async for j in jobs],
        "job_count": job_count,
        "agent": agent_status,
        "storage": storage_full,
        "upload": upload,
        "model": model,
        "models": models,
        "events": [e async for e in events],
        "event_count": event_count,
        "version": version,
    }
    await client.aclose()
    return result


async def test_official_style_script_runs_against_the_emulator(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with make_client(emulator) as typed:
        project = await typed.projects.create("compat")
        await typed.tasks.create(project.id, [{"data": {"n": i}} for i in range(3)])
        collection = await typed.data_collections.create(
            "imgs", file_specifications=[{"name": "image_1", "file_type": "image"}]
        )
        tag = await typed.task_tags.create("reviewed")
        agent = await typed.agents.create("agent-1")
    gt = emulator.seed.ground_truth(versions=1, events=7)
    ids = {
        "project": project.id,
        "collection": collection.id,
        "tag": tag.id,
        "agent_token": agent.token,
        "gt_version": gt["versions"][0]["id"],
    }
    out = await official_style_script(emulator.url, emulator.access_token, ids, tmp_path)

    assert out["project"]["name"] == "compat"
    assert out["organized"]["files"]["image_1"] == {
        "checksum": hashlib.md5(b"\xff\xd8 fake jpeg").hexdigest(),
        "path": "image.jpg",
    }
    assert out["data_file"]["checksum"] == out["organized"]["files"]["image_1"]["checksum"]
    assert out["task"]["data_unit"]["meta"] == {"source": "camera-1"}  # embedded, as on the wire
    assert out["page1"]["count"] == 4 and len(out["page1"]["results"]) == 2
    assert out["page1"]["next"] and out["count"] == 4
    assert [t["id"] for t in out["all_tasks"]][-1] == out["tasks"][0]["id"]
    assert out["assignment"]["data"] == {"annotations": {"image_1": []}}
    assert out["release"]["version"] == "1.0.0" and out["release"]["code"] == "my-plugin"
    assert out["job"]["job_id"] == out["job"]["id"]
    assert out["lines"][-1] == "export finished\n" and out["job_status"]["status"] == "completed"
    assert out["console"][-1] == "export finished"
    assert out["job_count"] == 1 and len(out["jobs"]) == 1
    assert out["agent"]["status"] == "connected"
    assert out["storage"]["configuration"]["secret_key"] == "s3cr3t"
    assert "s3cr3t" not in repr(out["storage"])
    assert out["upload"]["checksum"] == hashlib.md5(b"weights" * 100).hexdigest()
    assert out["model"]["checksum"] == out["upload"]["checksum"]
    assert out["models"]["count"] == 1
    assert out["event_count"] == 7 and len(out["events"]) == 7
    assert out["version"]["event_count"] == 7


async def test_compat_listing_pages_and_list_all(emulator: Emulator) -> None:
    project = emulator.seed.project("big")
    emulator.seed.tasks(project["id"], 250)
    async with AsyncBackendClient(
        emulator.url, emulator.access_token, timeout={"connect": 5, "read": 15}
    ) as client:
        page3 = await client.list_tasks(params={"project": str(project["id"]), "page": 3})
        assert isinstance(page3, dict) and page3["count"] == 250
        assert len(page3["results"]) == 50 and page3["next"] is None
        generator, count = every(
            await client.list_tasks(
                params={"project": project["id"], "page_size": 30}, list_all=True
            )
        )
        items = [t async for t in generator]
        assert count == 250 and [t["data"]["index"] for t in items] == list(range(250))
        collections = one_page(await client.list_data_collection())
        assert collections["results"] == [] and collections["count"] == 0


async def test_compat_errors_and_bad_input(emulator: Emulator) -> None:
    async with AsyncBackendClient(emulator.url, api_token=emulator.access_token) as client:
        with pytest.raises(NotFoundError) as info:
            await client.get_project(999)
        assert isinstance(info.value, APIError) and info.value.status_code == 404
        with pytest.raises(InvalidInputError, match="'project'"):
            await client.create_tasks([{"data_unit": 1}])
        with pytest.raises(InvalidInputError, match="'file'"):
            await client.create_model({"name": "m"})
        with pytest.raises(InvalidInputError, match="action 'set' only"):
            await client.set_tags_tasks({"task_ids": [1], "tag_ids": [1], "action": "add"})
        with pytest.raises(InvalidInputError, match="file path"):
            await client.create_plugin_release({"plugin": 1, "version": "1", "file": b"raw"})
        assert "AsyncBackendClient" in repr(client)
