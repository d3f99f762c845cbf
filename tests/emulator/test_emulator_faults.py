from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from synapse_async.emulator import Faults
from synapse_async.emulator.faults import HTML_BAD_GATEWAY, FaultInjector
from tests.emulator.emulator_helpers import get_json, post_json, run, serve


async def statuses(http: aiohttp.ClientSession, n: int) -> list[int]:
    out = []
    for _ in range(n):
        async with http.get("projects/") as r:
            await r.read()
            out.append(r.status)
    return out


def test_same_seed_same_status_sequence() -> None:
    faults = Faults(error_rate=0.3, rate_limit_rate=0.1, error_statuses=(500, 502, 503), seed=42)

    async def scenario() -> None:
        async with serve(faults=faults) as (emu, http):
            first = await statuses(http, 60)
            emu.set_faults(faults)  # restarts the RNG from the seed
            second = await statuses(http, 60)
            emu.set_faults(Faults(**{**faults.to_dict(), "seed": 43}))
            third = await statuses(http, 60)
        assert first == second
        assert first != third
        assert {200, 429} <= set(first)
        assert set(first) <= {200, 429, 500, 502, 503}
        assert len([s for s in first if s >= 500]) > 5

    run(scenario())

    # and a fresh emulator with the same seed agrees too
    async def again() -> list[int]:
        async with serve(faults=faults) as (_emu, http):
            return await statuses(http, 60)

    assert run(again()) == run(again())


def test_injector_sequence_is_deterministic_without_http() -> None:
    def sequence(seed: int) -> list[int | None]:
        inj = FaultInjector(Faults(error_rate=0.5, seed=seed))
        return [inj.decide().status for _ in range(100)]

    assert sequence(1) == sequence(1)
    assert sequence(1) != sequence(2)


def test_429_carries_retry_after_and_counters() -> None:
    async def scenario() -> None:
        async with serve(faults=Faults(rate_limit_rate=1.0, retry_after=0.05)) as (emu, http):
            async with http.get("projects/") as r:
                assert r.status == 429
                assert r.headers["Retry-After"] == "0.05"
                assert r.content_type == "application/json"
                assert "detail" in await r.json()
                assert r.headers["X-Request-Id"]
            emu.set_faults(Faults(rate_limit_rate=1.0, retry_after=2))
            async with http.get("projects/") as r:
                assert r.headers["Retry-After"] == "2"
            assert emu.counters == {"requests": 2, "injected_errors": 0, "injected_429": 2}

    run(scenario())


def test_error_body_is_json_detail() -> None:
    async def scenario() -> None:
        async with serve(faults=Faults(error_rate=1.0, error_statuses=(500,))) as (emu, http):
            assert await get_json(http, "projects/") == (500, {"detail": "injected fault"})
            assert emu.counters["injected_errors"] == 1

    run(scenario())


def test_html_error_rate_gives_text_html_502() -> None:
    async def scenario() -> None:
        async with (
            serve(faults=Faults(html_error_rate=1.0)) as (_emu, http),
            http.get("projects/") as r,
        ):
            assert r.status == 502
            assert r.content_type == "text/html"
            assert await r.text() == HTML_BAD_GATEWAY

    run(scenario())


def test_control_paths_and_path_filter() -> None:
    async def scenario() -> None:
        faults = Faults(error_rate=1.0, paths=r"^/tasks/")
        async with serve(faults=faults) as (emu, http):
            assert (await get_json(http, "projects/"))[0] == 200
            assert (await get_json(http, "tasks/"))[0] in (502, 503)
            # control paths are never faulted, even when every path matches
            emu.set_faults(Faults(error_rate=1.0, rate_limit_rate=0.0))
            assert (await get_json(http, "_emulator/health/"))[0] == 200
            assert (await get_json(http, "_emulator/faults/"))[0] == 200

    run(scenario())


def test_latency_is_added() -> None:
    async def scenario() -> None:
        async with serve(faults=Faults(latency=0.2)) as (_emu, http):
            await statuses(http, 1)  # warm the connection
            start = time.perf_counter()
            assert await statuses(http, 2) == [200, 200]
            assert time.perf_counter() - start >= 0.4

    run(scenario())


def test_faults_over_http() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            async with http.put(
                "_emulator/faults/", json={"rate_limit_rate": 1.0, "retry_after": 0.5, "seed": 3}
            ) as r:
                assert r.status == 200
                body = await r.json()
                assert body["faults"]["rate_limit_rate"] == 1.0
            assert emu.faults == Faults(rate_limit_rate=1.0, retry_after=0.5, seed=3)
            async with http.get("projects/") as r:
                assert r.status == 429 and r.headers["Retry-After"] == "0.5"
            status, body = await get_json(http, "_emulator/faults/")
            assert status == 200
            assert body["counters"]["injected_429"] == 1
            assert body["faults"]["error_statuses"] == [502, 503]
            for bad in ({"error_rate": 2}, {"nope": 1}, {"error_statuses": [404]}, {"paths": "("}):
                async with http.put("_emulator/faults/", json=bad) as r:
                    assert r.status == 400, bad
            async with http.put("_emulator/faults/", json={}) as r:
                assert r.status == 200
            assert emu.faults == Faults()

    run(scenario())


def test_faults_validation() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(latency=-1)
    with pytest.raises(ValueError):
        Faults(error_statuses=())
    f = Faults(error_statuses=[500])
    assert f.error_statuses == (500,)
    assert Faults.from_dict(f.to_dict()) == f
    g = Faults(methods=["put", "POST"], lost_reply_rate=0.5, wrong_checksum=True)
    assert g.methods == ("PUT", "POST")
    assert Faults.from_dict(g.to_dict()) == g
    for bad in (
        {"methods": "PUT"},
        {"methods": [1]},
        {"wrong_part_md5": 1},
        {"lost_reply_rate": 2},
    ):
        with pytest.raises(ValueError):
            Faults.from_dict(bad)


def test_method_filter_in_flight_gauge_and_lost_replies() -> None:
    async def scenario() -> None:
        async with serve(faults=Faults(latency=0.1)) as (emu, http):

            async def get() -> int:
                async with http.get("projects/") as r:
                    return r.status

            # five requests held open by the latency: all five in flight at once
            assert await asyncio.gather(*(get() for _ in range(5))) == [200] * 5
            assert emu.concurrency == {"in_flight": 0, "peak_in_flight": 5}
            # a POST-only filter leaves GETs alone
            emu.set_faults(Faults(error_rate=1.0, error_statuses=(500,), methods=("POST",)))
            assert await get() == 200
            assert (await post_json(http, "projects/", {"name": "p"}))[0] == 500
            emu.reset_counters()
            assert emu.concurrency["peak_in_flight"] == 0 and emu.counters["requests"] == 0
            # a lost reply: the request is handled (the project exists), the answer never comes
            emu.set_faults(Faults(lost_reply_rate=1.0, methods=("POST",)))
            with pytest.raises(aiohttp.ClientError):
                await post_json(http, "projects/", {"name": "lost"})
            assert emu.reply_counters["lost_replies"] == 1
            names = [p["name"] for p in (await get_json(http, "projects/"))[1]["results"]]
            assert "lost" in names
            _, body = await get_json(http, "_emulator/faults/")
            assert body["replies"]["lost_replies"] == 1
            assert body["concurrency"]["peak_in_flight"] >= 1

    run(scenario())
