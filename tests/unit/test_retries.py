"""The retry engine with a mock transport: attempts, idempotency, budget, transport errors."""

from __future__ import annotations

from itertools import count

import pytest

from synapse_async import RetryPolicy, ServerError, TransportError, ValidationError
from synapse_async.testing import MockTransport, json_response
from synapse_async.transport import ConnectFailed, Request, Response
from tests.unit.conftest import MakeClient

pytestmark = pytest.mark.anyio

PROJECT = {"id": 1, "name": "p"}


def flaky(*statuses: int) -> object:
    """A handler answering ``statuses`` in turn, then 200 with a project."""
    answers = iter(statuses)

    def handler(request: Request) -> Response:
        status = next(answers, 200)
        if status == 200:
            return json_response(PROJECT)
        return json_response({"detail": "busy"}, status=status)

    return handler


async def test_a_503_then_success_is_retried_with_the_retry_count(make_client: MakeClient) -> None:
    client = make_client(flaky(503, 502))
    assert (await client.projects.get(1)).id == 1
    sent = client._http.transport.requests  # type: ignore[attr-defined]
    assert len(sent) == 3
    assert [r.headers.get("X-Retry-Count") for r in sent] == [None, "1", "2"]


async def test_a_status_failing_forever_is_sent_max_retries_plus_one_times(
    make_client: MakeClient,
) -> None:
    client = make_client(
        flaky(*[503] * 100), retry=RetryPolicy(max_retries=4, initial_delay=0.001, max_delay=0.002)
    )
    with pytest.raises(ServerError) as info:
        await client.projects.get(1)
    assert info.value.status_code == 503
    assert len(client._http.transport.requests) == 5  # type: ignore[attr-defined]


async def test_a_post_reuses_its_idempotency_key_and_a_400_is_not_retried(
    make_client: MakeClient,
) -> None:
    client = make_client(flaky(503))
    await client._http.request("POST", "projects/", json_body={"name": "p"})
    transport = client._http.transport
    assert isinstance(transport, MockTransport)
    keys = {r.headers["Idempotency-Key"] for r in transport.requests}
    assert len(keys) == 1 and len(transport.requests) == 2
    client = make_client(flaky(400))
    with pytest.raises(ValidationError):
        await client.projects.get(1)
    assert len(client._http.transport.requests) == 1  # type: ignore[attr-defined]


async def test_transport_errors_are_retried_and_then_raised(make_client: MakeClient) -> None:
    calls = count(1)

    def refused(request: Request) -> Response:
        next(calls)
        raise ConnectFailed("refused", method=request.method, url=request.url)

    client = make_client(refused)
    with pytest.raises(TransportError):
        await client.projects.get(1)
    assert next(calls) == 5  # 4 attempts (max_retries=3), then this call


async def test_an_async_handler_works_too(make_client: MakeClient) -> None:
    async def handler(request: Request) -> Response:
        return json_response(PROJECT)

    client = make_client(handler)
    assert (await client.projects.get(1)).name == "p"


async def test_a_first_success_builds_no_backoff_and_a_first_failure_still_retries(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backoff

    built = count()
    real = backoff.on_exception

    def counting(*args: object, **kwargs: object) -> object:
        next(built)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backoff, "on_exception", counting)  # the module _retry uses
    client = make_client(flaky())
    assert (await client.projects.get(1)).id == 1
    assert next(built) == 0  # a call that succeeds at once costs no decorator per request
    client = make_client(flaky(503))
    assert (await client.projects.get(1)).id == 1
    sent = client._http.transport.requests  # type: ignore[attr-defined]
    assert [r.headers.get("X-Retry-Count") for r in sent] == [None, "1"]
