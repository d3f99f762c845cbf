"""Unit tests: the client against ``MockTransport`` handlers, no server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from synapse_async import AsyncClient, ClientConfig, RetryPolicy
from synapse_async.testing import Handler, MockTransport

BASE = "https://api.test/"
TOKEN = "tok-secret-123"

MakeClient = Callable[..., AsyncClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """``make_client(handler, **settings)``: a client whose requests go to ``handler``."""
    made: list[AsyncClient] = []

    def make(handler: Handler, **settings: Any) -> AsyncClient:
        settings.setdefault(
            "retry", RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.002)
        )
        config = ClientConfig.resolve(BASE, access_token=TOKEN, **settings)
        client = AsyncClient(config=config, transport=MockTransport(handler))
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def requests_of(client: AsyncClient) -> list[object]:
    """The requests a client sent through its MockTransport."""
    transport = client._http.transport
    assert isinstance(transport, MockTransport)
    return list(transport.requests)
