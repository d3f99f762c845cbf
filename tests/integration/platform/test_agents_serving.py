"""Agents (+ health check with the token kept out of logs and errors), serve applications."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from synapse_async import (
    Agent,
    AsyncClient,
    ClientConfig,
    InvalidInputError,
    NotFoundError,
    RetryPolicy,
    ServeApplication,
    TransportError,
)
from synapse_async.emulator import Emulator
from tests.helpers import make_client

pytestmark = pytest.mark.anyio


async def test_agents_create_get_list_health_check(client: AsyncClient) -> None:
    agent = await client.agents.create("gpu-1", url="http://10.0.0.5:8000")
    assert isinstance(agent, Agent) and agent.status == "created" and agent.token
    assert agent.token not in repr(agent)
    fetched = await client.agents.get(agent.id)
    assert fetched.token is None and fetched.name == "gpu-1"
    for i in range(3):
        await client.agents.create(f"cpu-{i}")
    assert [a.name async for a in client.agents.list(page_size=2)] == [
        "gpu-1",
        "cpu-0",
        "cpu-1",
        "cpu-2",
    ]
    checked = await client.agents.health_check(agent.token)
    assert checked.id == agent.id and checked.status == "connected"
    assert checked.last_connected is not None
    assert [a.id async for a in client.agents.list(status="connected")] == [agent.id]


async def test_agent_token_never_logged_nor_in_errors(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "agent-secret-token-1234567890"
    async with make_client(emulator) as client:
        caplog.set_level(logging.DEBUG, logger="synapse_async")
        with pytest.raises(NotFoundError) as info:
            await client.agents.health_check(secret)
        agent = await client.agents.create("a")
        assert agent.token is not None
        await client.agents.health_check(agent.token)
    err = info.value
    assert secret not in str(err) and secret not in err.url and "***" in err.url
    assert "agents/***/connect/" in caplog.text
    assert secret not in caplog.text and agent.token not in caplog.text


@pytest.mark.parametrize("bad", ["", " s3cr3t", "s3c r3t", None, 5])
async def test_agent_bad_input(client: AsyncClient, bad: object) -> None:
    with pytest.raises(InvalidInputError, match="agent token") as info:
        await client.agents.health_check(bad)  # type: ignore[arg-type]
    if isinstance(bad, str) and bad.strip():
        assert "s3c" not in str(info.value)


async def test_agent_bad_ids_and_names(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        await client.agents.get(-3)
    with pytest.raises(InvalidInputError, match="agent name"):
        await client.agents.create("")
    with pytest.raises(NotFoundError):
        await client.agents.get(12345)


async def test_serve_applications(client: AsyncClient, tmp_path: Path) -> None:
    archive = tmp_path / "plugin.zip"
    archive.write_bytes(b"PK\x03\x04 plugin")
    plugin = await client.plugins.create("Detector", code="detector")
    release = await client.plugin_releases.create(plugin.id, "1.0.0", archive)
    app = await client.serve_applications.create(
        "detector-prod", plugin_release=release.id, params={"num_cpus": 2}
    )
    assert isinstance(app, ServeApplication) and app.status == "deploying" and app.url is None
    await client.serve_applications.create("detector-dev", plugin_release=release.id)
    await anyio.sleep(0.15)
    got = await client.serve_applications.get(app.id)
    assert got.status == "running" and got.url and got.params == {"num_cpus": 2}
    assert [a.name async for a in client.serve_applications.list(page_size=1)] == [
        "detector-prod",
        "detector-dev",
    ]
    assert len([a async for a in client.serve_applications.list(status="running")]) == 2
    with pytest.raises(InvalidInputError, match="plugin_release"):
        await client.serve_applications.create("x", plugin_release=0)
    with pytest.raises(InvalidInputError, match="application_id"):
        await client.serve_applications.get("1")  # type: ignore[arg-type]


async def test_agent_token_not_in_transport_errors(caplog: pytest.LogCaptureFixture) -> None:
    secret = "agent-secret-token-0987654321"
    config = ClientConfig.resolve(
        "http://127.0.0.1:9/", access_token="t", retry=RetryPolicy(max_retries=0)
    )
    caplog.set_level(logging.DEBUG, logger="synapse_async")
    async with AsyncClient(config=config) as client:
        with pytest.raises(TransportError) as info:
            await client.agents.health_check(secret)
    assert secret not in str(info.value) and secret not in info.value.url
    assert secret not in caplog.text
