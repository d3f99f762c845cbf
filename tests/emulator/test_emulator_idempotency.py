from __future__ import annotations

import asyncio
from pathlib import Path

from tests.emulator.emulator_helpers import get_json, run, serve


def test_same_key_twice_creates_once_with_identical_body() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            headers = {"Idempotency-Key": "key-1"}
            async with http.post("projects/", json={"name": "A"}, headers=headers) as r1:
                body1 = await r1.read()
                assert r1.status == 201
                assert "Idempotent-Replayed" not in r1.headers
            async with http.post("projects/", json={"name": "A"}, headers=headers) as r2:
                body2 = await r2.read()
                assert r2.status == 201
                assert r2.headers["Idempotent-Replayed"] == "true"
                assert r2.content_type == "application/json"
            assert body1 == body2
            assert (await get_json(http, "projects/"))[1]["count"] == 1
            # another key creates another object
            async with http.post(
                "projects/", json={"name": "A"}, headers={"Idempotency-Key": "key-2"}
            ) as r3:
                assert r3.status == 201
            assert (await get_json(http, "projects/"))[1]["count"] == 2

    run(scenario())


def test_errors_are_not_stored_and_keys_are_per_path() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            headers = {"Idempotency-Key": "k"}
            async with http.post("projects/", json={}, headers=headers) as r:
                assert r.status == 400
            async with http.post("projects/", json={"name": "ok"}, headers=headers) as r:
                assert r.status == 201  # the failed attempt did not poison the key
            async with http.post(
                "tasks/", json={"project": 1, "data": [{"data": {}}]}, headers=headers
            ) as r:
                assert r.status == 201  # same key, other path: handled
            assert emu.store.count("projects") == 1 and emu.store.count("tasks") == 1

    run(scenario())


def test_concurrent_requests_with_one_key_create_once() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            pid = emu.seed.project()["id"]
            payload = {"project": pid, "data": [{"data": {"i": i}} for i in range(500)]}

            async def post() -> bytes:
                async with http.post(
                    "tasks/", json=payload, headers={"Idempotency-Key": "same"}
                ) as r:
                    assert r.status == 201
                    return await r.read()

            bodies = await asyncio.gather(*(post() for _ in range(5)))
            assert len(set(bodies)) == 1
            assert emu.store.count("tasks") == 500

    run(scenario())


def test_replay_survives_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        headers = {"Idempotency-Key": "persisted"}
        async with (
            serve(data_dir=tmp_path, access_token="t") as (_emu, http),
            http.post("projects/", json={"name": "A"}, headers=headers) as r,
        ):
            first = await r.read()
        async with serve(data_dir=tmp_path, access_token="t") as (emu, http):
            async with http.post("projects/", json={"name": "A"}, headers=headers) as r:
                assert await r.read() == first
            assert emu.store.count("projects") == 1

    run(scenario())
