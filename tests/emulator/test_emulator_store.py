from __future__ import annotations

from pathlib import Path

import pytest

from synapse_async.emulator import Store
from tests.emulator.emulator_helpers import get_json, post_json, run, serve


def test_crud_and_filters(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("things", indexed=("project", "status"))
    a = store.insert("things", {"project": 1, "status": "new", "x": [1]})
    assert a == {"id": 1, "project": 1, "status": "new", "x": [1]}
    docs = store.insert_many(
        "things", [{"project": p, "status": s} for p in (1, 2) for s in ("new", "done")]
    )
    assert [d["id"] for d in docs] == [2, 3, 4, 5]
    assert store.get("things", 4) == {"id": 4, "project": 2, "status": "new"}
    assert store.get("things", 99) is None
    assert store.count("things") == 5
    assert store.count("things", project=1) == 3
    assert store.count("things", project=[1, 2], status="done") == 2
    assert store.count("things", project=[]) == 0
    assert [d["id"] for d in store.list("things", project=1, offset=1, limit=1)] == [2]
    assert [d["id"] for d in store.list("things", id_gt=3)] == [4, 5]
    assert [d["id"] for d in store.list("things", id=[5, 1])] == [1, 5]
    assert store.ids("things", status="new") == [1, 2, 4]
    updated = store.update("things", 2, {"status": "done", "extra": True})
    assert updated == {"id": 2, "project": 1, "status": "done", "extra": True}
    assert store.count("things", status="done") == 3  # the index column follows the doc
    assert store.update("things", 99, {"a": 1}) is None
    assert store.update_many("things", [1, 2, 77], lambda d: {"n": d["id"] * 10}) == 2
    assert (store.get("things", 1) or {})["n"] == 10
    assert store.delete("things", 5) is True
    assert store.delete("things", 5) is False
    # AUTOINCREMENT: a deleted top id is not reused
    assert store.insert("things", {"project": 3})["id"] == 6
    with pytest.raises(KeyError):
        store.list("things", x=1)  # not an indexed column
    with pytest.raises(KeyError):
        store.get("unregistered", 1)
    with pytest.raises(ValueError):
        store.register_table("bad name")
    store.close()


def test_large_in_filter_is_chunked(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("k",))
    store.insert_many("t", ({"k": i % 7} for i in range(5000)))
    got = store.list("t", limit=None, id=list(range(1, 5001, 2)))
    assert [d["id"] for d in got] == list(range(1, 5001, 2))
    assert len(store.list("t", limit=10, offset=5, id=list(range(5000, 0, -1)))) == 10
    store.close()


def test_insert_many_100k(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("tasks", indexed=("project", "status"))
    docs = [{"project": 1, "status": "pending", "data": {"i": i}} for i in range(100_000)]
    store.insert_many("tasks", docs)
    assert store.count("tasks", project=1) == 100_000
    assert store.count("tasks", status="pending") == 100_000
    store.close()


def test_store_persists_across_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("k",))
    store.insert("t", {"k": 1})
    store.close()
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("k",))
    assert store.list("t") == [{"id": 1, "k": 1}]
    assert store.insert("t", {"k": 2})["id"] == 2
    store.close()


def test_emulator_restart_keeps_data(tmp_path: Path) -> None:
    async def first() -> int:
        async with serve(data_dir=tmp_path) as (_emu, http):
            status, project = await post_json(http, "projects/", {"name": "kept"})
            assert status == 201
            return int(project["id"])

    async def second(pid: int) -> None:
        async with serve(data_dir=tmp_path) as (emu, http):
            assert await get_json(http, f"projects/{pid}/") == (
                200,
                emu.store.get("projects", pid),
            )
            assert (await post_json(http, "projects/", {"name": "next"}))[1]["id"] == pid + 1

    pid = run(first())
    assert (tmp_path / "emulator.sqlite3").exists()
    assert (tmp_path / "files").is_dir()
    run(second(pid))
    assert tmp_path.exists()  # a given data dir is never removed


def test_temporary_data_dir_is_removed() -> None:
    async def scenario() -> Path:
        async with serve() as (emu, _http):
            path = emu.data_dir
            assert (path / "emulator.sqlite3").exists()
            return path

    assert not run(scenario()).exists()


def test_cached_counts_follow_every_kind_of_write(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("project",))
    assert store.count("t", project=1) == 0
    first = store.insert("t", {"project": 1})
    assert store.count("t", project=1) == 1
    store.insert_many("t", [{"project": 1}, {"project": 2}])
    assert store.count("t", project=1) == 2 and store.count("t", project=2) == 1
    store.update("t", first["id"], {"project": 2})
    assert store.count("t", project=1) == 1 and store.count("t", project=2) == 2
    store.delete("t", first["id"])
    assert store.count("t", project=2) == 1 and store.count("t") == 2


def _offset_page(store: Store, project: int, offset: int, limit: int) -> list[str]:
    rows = store.execute(
        "SELECT doc FROM t WHERE project = ? ORDER BY id LIMIT ? OFFSET ?", [project, limit, offset]
    )
    return [r[0] for r in rows]


def test_deep_pages_seek_to_the_same_rows_as_offset(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("project",))
    # interleave two projects so a project's ids are not contiguous
    store.insert_many("t", [{"project": 1 + (i % 3 == 0), "i": i} for i in range(4000)])
    for offset in (0, 999, 1000, 1001, 2345, 2665, 2666, 2667, 5000):
        for limit in (1, 100, 1000):
            expected = _offset_page(store, 1, offset, limit)
            assert store.list_json("t", offset=offset, limit=limit, project=1) == expected
            assert [d["i"] for d in store.list("t", offset=offset, limit=limit, project=1)] == [
                int(text.split('"i":')[1].rstrip("}")) for text in expected
            ]
    assert store.list("t", offset=1000, limit=None, project=2)[-1]["i"] == 3999


def test_deep_page_seek_follows_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.register_table("t", indexed=("project",))
    store.insert_many("t", [{"project": 1} for _ in range(3000)])
    before = store.list("t", offset=2000, limit=1, project=1)[0]["id"]
    store.delete("t", 5)  # every later row moves up by one
    assert store.list("t", offset=2000, limit=1, project=1)[0]["id"] == before + 1
    store.update("t", 10, {"project": 2})
    assert store.list_json("t", offset=2000, limit=1, project=1) == _offset_page(store, 1, 2000, 1)
    store.insert_many("t", [{"project": 1} for _ in range(10)])
    assert len(store.list("t", offset=2990, limit=None, project=1)) == 3000 - 2 + 10 - 2990
