"""``SYNAPSE_LOG`` and the debug lines: query strings shown, credentials never."""

from __future__ import annotations

import logging

import pytest

from synapse_async import AsyncClient, ValidationError
from synapse_async._logging import loggable_url, setup_from_env
from synapse_async.emulator import Emulator


def test_loggable_url_keeps_the_query_and_hides_secrets() -> None:
    url = "http://h/sdk/tasks/?project=1&page=2&token=abc&X-Amz-Signature=f00&note=hello%20s3cr3t"
    shown = loggable_url(url, secrets=["s3cr3t"])
    assert "project=1&page=2" in shown
    assert "token=***" in shown and "X-Amz-Signature=***" in shown
    assert "abc" not in shown and "f00" not in shown and "s3cr3t" not in shown


def test_setup_from_env_installs_one_handler_at_the_level() -> None:
    root = logging.getLogger("synapse_async")
    before = list(root.handlers), root.level
    try:
        assert setup_from_env({"SYNAPSE_LOG": "nonsense"}) is None
        handler = setup_from_env({"SYNAPSE_LOG": "debug"})
        again = setup_from_env({"SYNAPSE_LOG": "INFO"})
        assert handler is again and handler in root.handlers
        assert root.level == logging.INFO
        assert sum(h is handler for h in root.handlers) == 1
    finally:
        for h in list(root.handlers):
            if h not in before[0]:
                root.removeHandler(h)
        root.setLevel(before[1])


@pytest.mark.anyio
async def test_debug_lines_name_the_query_and_never_the_token(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    project = emulator.seed.project(name="logs")
    emulator.seed.tasks(project["id"], 3)
    caplog.set_level(logging.DEBUG, logger="synapse_async.http")
    async with AsyncClient(emulator.url, access_token=emulator.access_token) as client:
        tasks = [t async for t in client.tasks.list(project=project["id"], status="pending")]
        assert len(tasks) == 3
        # filters the server refuses (400) are logged all the same: one named like a secret,
        # one whose value is the token
        with pytest.raises(ValidationError):
            await client.tasks.list(
                project=project["id"], api_key="k-123", search=emulator.access_token
            ).page(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "synapse_async.http"]
    assert any("status=pending" in line and "page_size=100" in line for line in lines), lines
    assert all(emulator.access_token not in line for line in lines)
    assert any("api_key=***" in line and "search=***" in line for line in lines)
    assert all("k-123" not in line for line in lines)
