from __future__ import annotations

from tests.emulator.emulator_helpers import get_json, post_json, run, serve


def test_seed_100k_tasks_in_process() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            pid = emu.seed.project(name="big")["id"]
            assert emu.seed.tasks(pid, 100_000) == 100_000
            status, page = await get_json(http, f"tasks/?project={pid}&page=100&page_size=1000")
            assert status == 200
            assert page["count"] == 100_000
            assert page["next"] is None
            last = page["results"][-1]
            assert last["id"] == 100_000 + 0  # ids start at 1 in a fresh store
            assert last["data"] == {"index": 99_999, "text": "item 99999"}
            assert last["status"] == "pending" and last["tags"] == []

    run(scenario())


def test_seed_over_http() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            status, project = await post_json(
                http, "_emulator/seed/", {"kind": "project", "name": "P"}
            )
            assert status == 201 and project["name"] == "P" and project["state"] == "draft"
            status, n = await post_json(
                http,
                "_emulator/seed/",
                {"kind": "tasks", "project_id": project["id"], "n": 100_000, "with_data": False},
            )
            assert (status, n) == (201, 100_000)
            status, n = await post_json(
                http,
                "_emulator/seed/",
                {"kind": "assignments", "project_id": project["id"], "n": 10},
            )
            assert (status, n) == (201, 10)
            status, coll = await post_json(http, "_emulator/seed/", {"kind": "data_collection"})
            assert status == 201
            status, n = await post_json(
                http,
                "_emulator/seed/",
                {"kind": "data_units", "collection_id": coll["id"], "n": 5},
            )
            assert (status, n) == (201, 5)
            assert emu.store.count("tasks") == 100_000
            assert emu.store.count("assignments", project=project["id"]) == 10
            for bad in (
                {"kind": "nope"},
                {},
                {"kind": "tasks", "bogus": 1},
                {"kind": "tasks", "project_id": 1, "n": "many"},
            ):
                assert (await post_json(http, "_emulator/seed/", bad))[0] == 400, bad

    run(scenario())


def test_assignments_seed_creates_missing_tasks() -> None:
    async def scenario() -> None:
        async with serve() as (emu, _http):
            pid = emu.seed.project()["id"]
            emu.seed.tasks(pid, 2)
            assert emu.seed.assignments(pid, 5) == 5
            assert emu.store.count("tasks", project=pid) == 5
            tasks = {a["task"] for a in emu.store.list("assignments", limit=None)}
            assert tasks == set(emu.store.ids("tasks", project=pid))

    run(scenario())
