"""Test helpers: a transport that answers from a function, without a server.

Example::

    from synapse_async import AsyncClient
    from synapse_async.testing import MockTransport, json_response

    def handler(request):
        return json_response({"id": 1, "name": "p"})

    async with AsyncClient("https://api.example", access_token="t",
                           transport=MockTransport(handler)) as client:
        await client.projects.get(1)

The client's retry engine, error mapping and pagination all run as against a real server.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import Any, Union

from synapse_async.transport import Request, Response

__all__ = ["Handler", "MockTransport", "json_response"]

Handler = Callable[[Request], Union[Response, Awaitable[Response]]]
"""A function (plain or async) from a request to its answer; it may raise ``TransportError``."""


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer with ``data`` as its JSON body."""
    return Response(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        content=json.dumps(data).encode(),
    )


class MockTransport:
    """A transport whose answers come from ``handler`` (``AsyncClient(transport=...)``).

    A streamed request body is read into bytes before ``handler`` sees it, so
    ``request.body`` is bytes (or None, or form data as given).

    Args:
        handler: request -> response, plain or async.

    Attributes:
        requests: every request sent, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []

    def __repr__(self) -> str:
        return f"MockTransport({getattr(self.handler, '__name__', self.handler)!r})"

    async def send(self, request: Request) -> Response:
        """Record ``request`` and return the handler's answer."""
        if isinstance(request.body, AsyncIterable):
            request.body = b"".join([bytes(chunk) async for chunk in request.body])
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer
