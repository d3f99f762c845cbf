from __future__ import annotations

import re

from tests.emulator.emulator_helpers import get_json, post_json, run, serve

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_project_create_get_and_404() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            status, project = await post_json(
                http,
                "projects/",
                {"name": "Cars", "labels": ["car", "bus"], "priority": 3, "metadata": {"k": 1}},
            )
            assert status == 201
            assert project["name"] == "Cars"
            assert project["labels"] == ["car", "bus"]
            assert project["state"] == "draft"
            assert project["metadata"] == {"k": 1}
            assert project["priority"] == 3
            assert "instructions" not in project  # workflow fields appear once set
            assert ISO_Z.match(project["created"]) and ISO_Z.match(project["modified"])
            assert await get_json(http, f"projects/{project['id']}/") == (200, project)
            assert await get_json(http, "projects/999/") == (404, {"detail": "Not found."})
            assert (await get_json(http, "projects/abc/"))[0] == 404

    run(scenario())


def test_project_validation() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            assert await post_json(http, "projects/", {}) == (
                400,
                {"detail": {"name": ["This field is required."]}},
            )
            status, body = await post_json(http, "projects/", {"name": "  "})
            assert status == 400 and "name" in body["detail"]
            status, body = await post_json(http, "projects/", {"name": "x", "labels": [1]})
            assert status == 400 and "labels" in body["detail"]
            # multi-type projects: label lists keyed by type, never silently dropped
            multi = {
                "name": "v",
                "annotation_type": ["classification", "keypoint"],
                "labels": {"classification": ["run"], "keypoint": ["head"]},
            }
            status, made = await post_json(http, "projects/", multi)
            assert status == 201 and made["labels"] == multi["labels"]
            assert made["annotation_type"] == ["classification", "keypoint"]
            status, body = await post_json(
                http,
                "projects/",
                {**multi, "labels": {"classification": ["run"], "polygon": ["x"]}},
            )
            assert status == 400 and "polygon" in str(body["detail"]["labels"])
            status, body = await post_json(http, "projects/", {**multi, "annotation_type": []})
            assert status == 400 and "annotation_type" in body["detail"]

    run(scenario())


def test_tasks_create_both_spec_kinds_and_expand() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            project = emu.seed.project(name="P")
            collection = emu.seed.data_collection()
            emu.seed.data_units(collection["id"], 2)
            status, body = await post_json(
                http,
                "tasks/",
                {"project": project["id"], "data": [{"data_unit": 2}, {"data": {"text": "hi"}}]},
            )
            assert status == 201
            assert body["count"] == 2
            first, second = body["results"]
            assert first["data_unit"] == 2 and first["data"] is None
            assert second["data_unit"] is None and second["data"] == {"text": "hi"}
            for task in (first, second):
                assert task["status"] == "pending" and task["tags"] == []
                assert task["project"] == project["id"]
                assert ISO_Z.match(task["created"])
            assert await get_json(http, f"tasks/{first['id']}/") == (200, first)
            status, expanded = await get_json(http, f"tasks/{first['id']}/?expand=data_unit")
            assert status == 200
            assert expanded["data_unit"]["id"] == 2
            assert expanded["data_unit"]["data_collection"] == collection["id"]
            status, page = await get_json(http, "tasks/?expand=data_unit")
            assert page["results"][0]["data_unit"]["id"] == 2
            assert page["results"][1]["data_unit"] is None
            assert await get_json(http, "tasks/12345/") == (404, {"detail": "Not found."})

    run(scenario())


def test_tasks_create_validation() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            project = emu.seed.project()
            pid = project["id"]
            status, body = await post_json(
                http, "tasks/", {"project": pid, "data": [{"data": {}}] * 1001}
            )
            assert status == 400 and "1000" in str(body["detail"])
            status, body = await post_json(http, "tasks/", {"project": pid, "data": []})
            assert status == 400
            status, body = await post_json(
                http, "tasks/", {"project": pid, "data": [{"data_unit": 777}]}
            )
            assert status == 400 and "777" in str(body["detail"])
            status, body = await post_json(http, "tasks/", {"project": 999, "data": [{"data": {}}]})
            assert status == 400 and "project" in body["detail"]
            status, body = await post_json(http, "tasks/", {"data": [{"data": {}}]})
            assert status == 400 and "project" in body["detail"]
            status, body = await post_json(http, "tasks/", {"project": pid, "data": [{"x": 1}]})
            assert status == 400
            # nothing was created by the failed requests
            assert emu.store.count("tasks") == 0
            status, body = await post_json(
                http, "tasks/", {"project": pid, "data": [{"data": {"i": i}} for i in range(1000)]}
            )
            assert status == 201 and body["count"] == 1000

    run(scenario())


def test_task_filters_and_sdk_path() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            a = emu.seed.project(name="A")["id"]
            b = emu.seed.project(name="B")["id"]
            emu.seed.tasks(a, 5)
            emu.seed.tasks(b, 3)
            assert (await get_json(http, f"tasks/?project={a}"))[1]["count"] == 5
            assert (await get_json(http, f"sdk/tasks/?project={b}"))[1]["count"] == 3
            assert (await get_json(http, f"tasks/?project={a},{b}"))[1]["count"] == 8
            assert (await get_json(http, "tasks/?status=pending"))[1]["count"] == 8
            assert (await get_json(http, "tasks/?status=completed"))[1]["count"] == 0
            assert (await get_json(http, "tasks/?project=abc"))[0] == 400

    run(scenario())


def test_set_tags_on_tasks_and_assignments() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            pid = emu.seed.project()["id"]
            emu.seed.assignments(pid, 3)
            status, body = await post_json(
                http, "tasks/set_tags/", {"task_ids": [1, 2, 99], "tag_ids": [7, 8]}
            )
            assert (status, body) == (200, {"updated": 2})
            assert (await get_json(http, "tasks/1/"))[1]["tags"] == [7, 8]
            assert (await get_json(http, "tasks/3/"))[1]["tags"] == []
            status, body = await post_json(
                http, "tasks/set_tags/", {"task_ids": [1], "tag_ids": [8], "action": "remove"}
            )
            assert (await get_json(http, "tasks/1/"))[1]["tags"] == [7]
            status, body = await post_json(
                http, "assignments/set_tags/", {"assignment_ids": [3], "tag_ids": [5]}
            )
            assert (status, body) == (200, {"updated": 1})
            assert (await get_json(http, "assignments/3/"))[1]["tags"] == [5]
            status, _ = await post_json(http, "tasks/set_tags/", {"task_ids": ["x"], "tag_ids": []})
            assert status == 400

    run(scenario())


def test_assignments_list_and_get() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            pid = emu.seed.project()["id"]
            assert emu.seed.assignments(pid, 4) == 4
            assert emu.seed.assignments(pid, 2, annotated=False) == 2
            status, page = await get_json(http, f"sdk/assignments/?project={pid}")
            assert status == 200 and page["count"] == 6
            first = page["results"][0]
            assert first["status"] == "completed"
            assert first["data"]["annotations"]["image_1"][0]["tool"] == "bounding_box"
            assert first["file"] is None
            assert (await get_json(http, "assignments/?status=pending"))[1]["count"] == 2
            assert (await get_json(http, "assignments/?task=1"))[1]["count"] == 2
            assert await get_json(http, f"assignments/{first['id']}/") == (200, first)
            assert (await get_json(http, "assignments/999/"))[0] == 404

    run(scenario())
