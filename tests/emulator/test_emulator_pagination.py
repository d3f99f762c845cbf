from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL

from tests.emulator.emulator_helpers import get_json, run, serve


def test_page_numbers_count_next_previous() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            pid = emu.seed.project()["id"]
            emu.seed.tasks(pid, 25)
            status, page1 = await get_json(http, f"tasks/?project={pid}&page_size=10")
            assert status == 200
            assert page1["count"] == 25
            assert page1["previous"] is None
            assert [t["id"] for t in page1["results"]] == list(range(1, 11))
            nxt = URL(page1["next"])
            assert nxt.is_absolute() and str(nxt).startswith(emu.url)
            assert nxt.query["page"] == "2" and nxt.query["project"] == str(pid)
            assert nxt.query["page_size"] == "10"
            async with aiohttp.ClientSession(headers=dict(http.headers)) as abs_http:
                status, page2 = await get_json(abs_http, page1["next"])
                assert [t["id"] for t in page2["results"]] == list(range(11, 21))
                assert "page" not in URL(page2["previous"]).query  # DRF drops page=1
                status, page3 = await get_json(abs_http, page2["next"])
                assert [t["id"] for t in page3["results"]] == list(range(21, 26))
                assert page3["next"] is None
                assert URL(page3["previous"]).query["page"] == "2"
            default = (await get_json(http, "tasks/"))[1]
            assert len(default["results"]) == 25 and default["next"] is None

    run(scenario())


def test_bad_page_size_and_page() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            emu.seed.tasks(emu.seed.project()["id"], 5)
            for bad in ("0", "1001", "abc", "-3", "2.5"):
                status, body = await get_json(http, f"tasks/?page_size={bad}")
                assert status == 400, bad
                assert body["detail"].startswith("page_size must be an integer between 1 and 1000")
            assert (await get_json(http, "tasks/?page_size=1000"))[0] == 200
            assert (await get_json(http, "tasks/?page=0"))[0] == 400
            assert (await get_json(http, "tasks/?page=x"))[0] == 400
            assert await get_json(http, "tasks/?page=2") == (404, {"detail": "Invalid page."})
            assert (await get_json(http, "tasks/?page=5&page_size=1"))[0] == 200
            assert (await get_json(http, "tasks/?page=6&page_size=1"))[0] == 404

    run(scenario())


def test_empty_collection_page_one_ok() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            assert await get_json(http, "tasks/") == (
                200,
                {"count": 0, "next": None, "previous": None, "results": []},
            )
            assert (await get_json(http, "tasks/?page=2"))[0] == 404

    run(scenario())


def test_cursor_mode_walks_every_item_once() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            a = emu.seed.project()["id"]
            b = emu.seed.project()["id"]
            # interleave two projects so the filtered ids are not contiguous
            for _ in range(7):
                emu.seed.tasks(a, 3)
                emu.seed.tasks(b, 2)
            expected = [t["id"] for t in emu.store.list("tasks", limit=None, project=a)]
            assert len(expected) == 21
            seen: list[int] = []
            pages: list[dict[str, Any]] = []
            url: str | None = f"tasks/?project={a}&pagination=cursor&page_size=4"
            async with aiohttp.ClientSession(emu.url, headers=dict(http.headers)) as s:
                while url is not None:
                    status, page = await get_json(s, url)
                    assert status == 200
                    assert "count" not in page
                    pages.append(page)
                    seen.extend(t["id"] for t in page["results"])
                    url = page["next"]
                assert seen == expected
                assert len(pages) == 6
                assert pages[0]["previous"] is None
                # previous of the third page gives the second page again
                status, back = await get_json(s, pages[2]["previous"])
                assert [t["id"] for t in back["results"]] == expected[4:8]
                status, back = await get_json(s, pages[1]["previous"])
                assert [t["id"] for t in back["results"]] == expected[0:4]
            status, _ = await get_json(http, "tasks/?pagination=cursor&cursor=zz")
            assert status == 400

    run(scenario())
