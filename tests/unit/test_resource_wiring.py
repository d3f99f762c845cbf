"""Resources reach their siblings through the client that built them, copies included."""

from __future__ import annotations

import pytest

from synapse_async import AsyncClient
from synapse_async.testing import json_response
from synapse_async.transport import Request, Response
from tests.unit.conftest import MakeClient

pytestmark = pytest.mark.anyio


def _handler(request: Request) -> Response:
    if "/projects/1/" in request.url:
        return json_response({"id": 1, "name": "p"})
    return json_response({"count": 0, "next": None, "previous": None, "results": []})


def _assert_wired(client: AsyncClient) -> None:
    assert client.exports._assignments is client.assignments
    assert client.exports._tasks is client.tasks
    assert client.exports._ground_truth_events is client.ground_truth_events
    assert client.projects._exports is client.exports
    assert client.data_files._uploads is client.uploads
    assert client.ml_models._uploads is client.uploads
    assert client.plugin_releases._uploads is client.uploads


async def test_the_client_hands_each_resource_its_own_siblings(make_client: MakeClient) -> None:
    client = make_client(_handler)
    _assert_wired(client)
    copy = client.with_options(timeout=5)
    _assert_wired(copy)
    assert copy.exports is not client.exports and copy.uploads is not client.uploads


async def test_a_copys_project_export_lists_through_the_copy(make_client: MakeClient) -> None:
    client = make_client(_handler)
    scoped = client.with_options(extra_headers={"X-Trace": "abc"})
    project = await scoped.projects.get(1)
    assert project._exports is scoped.exports
    assert await project.export("json") == []
    requests = client._http.transport.requests  # type: ignore[attr-defined]
    paths = [r.url.split("?")[0].rsplit("/sdk/", 1)[-1] for r in requests]
    assert any("assignments" in p for p in paths) and any("tasks" in p for p in paths), paths
    assert all(r.headers.get("X-Trace") == "abc" for r in requests), paths
