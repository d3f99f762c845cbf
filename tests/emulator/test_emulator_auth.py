from __future__ import annotations

import aiohttp

from synapse_async.emulator import Emulator
from tests.emulator.emulator_helpers import get_json, run, serve


def test_missing_and_bad_tokens_are_401() -> None:
    async def scenario() -> None:
        async with serve() as (emu, _http), aiohttp.ClientSession(emu.url) as anon:
            status, body = await get_json(anon, "projects/")
            assert status == 401
            assert body == {"detail": "Authentication credentials were not provided."}
            status, body = await get_json(
                anon, "projects/", headers={"Synapse-Access-Token": "Token nope"}
            )
            assert (status, body) == (401, {"detail": "Invalid token."})
            status, body = await get_json(
                anon, "projects/", headers={"Synapse-Access-Token": emu.access_token}
            )  # missing the "Token " scheme
            assert (status, body) == (401, {"detail": "Invalid token."})
            # unknown routes and control paths need the token too
            assert (await get_json(anon, "no/such/route/"))[0] == 401
            assert (await get_json(anon, "_emulator/faults/"))[0] == 401

    run(scenario())


def test_valid_access_token_and_health_without_token() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http), aiohttp.ClientSession(emu.url) as anon:
            assert await get_json(http, "projects/") == (
                200,
                {"count": 0, "next": None, "previous": None, "results": []},
            )
            assert await get_json(anon, "_emulator/health/") == (200, {"ok": True})

    run(scenario())


def test_user_token_with_tenant_and_agent_token() -> None:
    async def scenario() -> None:
        async with (
            Emulator(access_token="acc", user_token="usr", tenant="ten", agent_token="agt") as emu,
            aiohttp.ClientSession(emu.url) as s,
        ):
            user = {"Authorization": "Token usr", "Synapse-Tenant": "Token ten"}
            assert (await get_json(s, "projects/", headers=user))[0] == 200
            wrong_tenant = {"Authorization": "Token usr", "Synapse-Tenant": "Token other"}
            assert (await get_json(s, "projects/", headers=wrong_tenant)) == (
                401,
                {"detail": "Invalid token."},
            )
            assert (await get_json(s, "projects/", headers={"SYNAPSE-Agent": "Token agt"}))[
                0
            ] == 200
            assert (await get_json(s, "projects/", headers={"SYNAPSE-Agent": "Token x"}))[0] == 401
            assert (await get_json(s, "projects/", headers={"Synapse-Access-Token": "Token acc"}))[
                0
            ] == 200

    run(scenario())


def test_agent_and_user_tokens_refused_when_not_configured() -> None:
    async def scenario() -> None:
        async with serve() as (emu, _http), aiohttp.ClientSession(emu.url) as s:
            for headers in (
                {"Authorization": f"Token {emu.access_token}"},
                {"SYNAPSE-Agent": f"Token {emu.access_token}"},
            ):
                assert await get_json(s, "projects/", headers=headers) == (
                    401,
                    {"detail": "Invalid token."},
                )

    run(scenario())


def test_repr_hides_token() -> None:
    async def scenario() -> None:
        async with Emulator(access_token="very-secret-token") as emu:
            assert "very-secret-token" not in repr(emu)
            assert emu.url.startswith("http://127.0.0.1:") and emu.url.endswith("/")
            assert emu.port > 0
        emu2 = Emulator()
        assert emu2.access_token not in repr(emu2)
        assert len(emu2.access_token) >= 32

    run(scenario())


def test_generated_tokens_never_start_with_a_dash() -> None:
    # A token starting with "-" is read as an option by argparse (``--token -abc``):
    # the emulator's generated tokens carry a fixed prefix so command lines always parse.
    tokens = {Emulator().access_token for _ in range(200)}
    assert len(tokens) == 200
    assert all(t.startswith("emu_") for t in tokens)
