"""Foundation resources against the emulator: projects, tasks, assignments, data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from synapse_async import (
    AsyncClient,
    AsyncProjectHandle,
    DataCollection,
    InvalidInputError,
    NotFoundError,
    Project,
    ValidationError,
)
from synapse_async.emulator import Emulator

pytestmark = pytest.mark.anyio


async def test_project_create_get_list(client: AsyncClient) -> None:
    created = await client.projects.create(
        "Street scenes", labels=["car", "person"], data_type="image", annotation_type="bounding_box"
    )
    assert isinstance(created, AsyncProjectHandle) and created.state == "draft"
    assert isinstance(created.data, Project)
    fetched = await client.projects.get(created.id)
    assert fetched.data == created.data and fetched.labels == ["car", "person"]
    assert fetched.created is not None and fetched.created.tzinfo is not None
    assert [p async for p in client.projects.list()] == [created.data]


@pytest.mark.parametrize("bad", ["", "   ", None, 5])
async def test_project_bad_name(client: AsyncClient, bad: object) -> None:
    with pytest.raises(InvalidInputError, match="project name"):
        await client.projects.create(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, "7", None, True])
async def test_bad_ids_rejected_before_request(client: AsyncClient, bad: object) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        await client.tasks.get(bad)  # type: ignore[arg-type]


async def test_tasks_created_in_batches_of_1000(emulator: Emulator, client: AsyncClient) -> None:
    project = await client.projects.create("bulk")
    before = emulator.counters["requests"]
    tasks = await client.tasks.create(project.id, [{"data": {"n": i}} for i in range(2500)])
    assert emulator.counters["requests"] - before == 3
    assert len(tasks) == 2500 and [t.data for t in tasks[:2]] == [{"n": 0}, {"n": 1}]
    assert (await client.tasks.list(project=project.id).page(1)).count == 2500


async def test_task_spec_validation_names_the_spec(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="task spec #1"):
        await client.tasks.create(1, [{"data": {}}, {"nope": 1}])
    with pytest.raises(InvalidInputError, match="empty"):
        await client.tasks.create(1, [])


async def test_task_for_unknown_data_unit_is_validation_error(client: AsyncClient) -> None:
    project = await client.projects.create("p")
    with pytest.raises(ValidationError, match="data_unit"):
        await client.tasks.create(project.id, [{"data_unit": 99999}])


async def test_data_collection_units_and_task_expand(client: AsyncClient) -> None:
    coll = await client.data_collections.create(
        "images",
        file_specifications=[{"name": "image_1", "file_type": "image", "is_required": True}],
    )
    assert isinstance(coll, DataCollection)
    got = await client.data_collections.get(coll.id)
    assert got.file_specifications[0]["name"] == "image_1"
    units = await client.data_units.create(
        [
            {
                "data_collection": coll.id,
                "files": {"image_1": {"checksum": "0" * 32, "path": "a/1.jpg"}},
                "meta": {"i": i},
            }
            for i in range(3)
        ]
    )
    assert [u.meta for u in units] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [u.id async for u in client.data_units.list(data_collection=coll.id)] == [
        u.id for u in units
    ]
    assert (await client.data_units.get(units[0].id)).files["image_1"]["path"] == "a/1.jpg"
    project = await client.projects.create("p")
    [task] = await client.tasks.create(project.id, [{"data_unit": units[1].id}])
    expanded = await client.tasks.get(task.id, expand="data_unit")
    assert expanded.data_unit == units[1].id
    assert expanded.expanded_data_unit is not None
    assert expanded.expanded_data_unit.meta == {"i": 1}


async def test_data_unit_with_local_absolute_path_rejected(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="absolute path"):
        await client.data_units.create(
            [{"data_collection": 1, "files": {"x": {"path": "/home/me/a.jpg"}}}]
        )


async def test_data_file_upload_and_checksum_lookup(client: AsyncClient, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4000
    path = tmp_path / "photo.jpg"
    path.write_bytes(payload)
    data_file = await client.data_files.create(path)
    md5 = hashlib.md5(payload).hexdigest()
    assert (data_file.checksum, data_file.size, data_file.filename) == (
        md5,
        len(payload),
        "photo.jpg",
    )
    assert (await client.data_files.get(data_file.id)).checksum == md5
    assert await client.data_files.verify_checksums([md5, "f" * 32]) == {md5: data_file.id}


async def test_data_file_bad_paths(client: AsyncClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        await client.data_files.create(tmp_path / "missing.bin")
    with pytest.raises(InvalidInputError, match="directory"):
        await client.data_files.create(tmp_path)


async def test_assignments_list_get_and_tags(emulator: Emulator, client: AsyncClient) -> None:
    project = emulator.seed.project(name="a")
    emulator.seed.tasks(project["id"], 5)
    emulator.seed.assignments(project["id"], 5)
    assignments = [a async for a in client.assignments.list(project=project["id"])]
    assert len(assignments) == 5 and all(a.data for a in assignments)
    one = await client.assignments.get(assignments[0].id)
    assert one == assignments[0]
    assert await client.assignments.set_tags([a.id for a in assignments[:2]], [3]) == 2
    assert (await client.assignments.get(assignments[0].id)).tags == [3]
    tasks = [t.id async for t in client.tasks.list(project=project["id"])]
    assert await client.tasks.set_tags(tasks, [1, 2]) == 5
    with pytest.raises(NotFoundError):
        await client.assignments.get(10**6)
