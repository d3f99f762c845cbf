"""The transport seam: what sends one HTTP request and hands back its answer.

``HTTPClient`` (the retry engine, auth, errors) talks to a *transport*: any object with
``async def send(request: Request) -> Response`` (and optionally ``async def aclose()``).
The default is :class:`AiohttpTransport` (one aiohttp session, created on first use,
``trust_env=True`` so ``HTTP(S)_PROXY``/``NO_PROXY`` apply); it also wraps a caller's own
``aiohttp.ClientSession``. ``synapse_async.testing.MockTransport`` answers from a function.

A transport does one attempt: no retries, no status checks. It raises ``TransportError``
(or a subclass) when no answer could be had; anything else it raises is a bug.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl as _ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol, Union, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from synapse_async import _constants as C
from synapse_async.config import Timeout
from synapse_async.errors import (
    ConfigurationError,
    ConnectFailed,
    ConnectTimeoutError,
    LoopMismatchError,
    TimeoutError,
    TransportError,
)

__all__ = [
    "AiohttpTransport",
    "ConnectFailed",
    "Request",
    "Response",
    "SSLTypes",
    "Transport",
    "TransportTypes",
    "as_transport",
    "map_transport_error",
]


class Request:
    """One HTTP request as a transport sees it.

    Attributes:
        method: the HTTP method (upper case).
        url: the absolute URL.
        headers: the headers to send (credentials included when the URL is the API's).
        body: None, bytes, or an async iterable of byte chunks (streamed from disk).
        timeout: the timeouts of this attempt (already capped by the call's budget).
        decompress: decode a ``Content-Encoding`` (off for file downloads).
    """

    __slots__ = ("body", "decompress", "headers", "method", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: Timeout | None = None,
        decompress: bool = True,
    ) -> None:
        self.method = method
        self.url = url
        self.headers: Mapping[str, str] = headers or {}
        self.body = body
        self.timeout = timeout or Timeout()
        self.decompress = decompress

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        return f"<Request {self.method} {parts.scheme}://{parts.netloc}{parts.path}>"


class Response:
    """One HTTP answer: status and headers at once, the body read or streamed on demand.

    Args:
        status: the HTTP status.
        headers: the headers (looked up case-insensitively).
        content: the whole body, when it is already in memory.
        stream: the body as an async iterable of chunks (instead of ``content``).
        release: called by ``aclose()`` to give the connection back.

    Attributes:
        status: the HTTP status.
        headers: case-insensitive headers.
        body: the body bytes once read (``read()``), else ``b""``.
    """

    __slots__ = ("_release", "_stream", "body", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        *,
        content: bytes = b"",
        stream: AsyncIterable[bytes] | None = None,
        release: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        self.status = status
        self.headers: Mapping[str, str] = (
            headers
            if isinstance(headers, (CIMultiDict, CIMultiDictProxy))
            else CIMultiDict(headers or {})
        )
        self.body = content
        self._stream = stream
        self._release = release

    def __repr__(self) -> str:
        return f"<Response {self.status}>"

    def __str__(self) -> str:
        """The body as text once read (what ``print(err.response)`` shows), else the repr."""
        return self.body.decode("utf-8", "replace") if self.body else repr(self)

    def json(self) -> Any:
        """The body (already read) decoded as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.body)

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an int (None when absent or malformed)."""
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    async def read(self) -> bytes:
        """The whole body (read once, then kept in ``body``)."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self.body = b"".join([bytes(chunk) async for chunk in stream])
        return self.body

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive."""
        if self._stream is None:
            if self.body:
                yield self.body
            return
        stream, self._stream = self._stream, None
        async for chunk in stream:
            yield chunk

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body line by line (decoded as UTF-8, line endings removed), as it arrives."""
        pending = b""
        async for chunk in self.iter_bytes():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace").rstrip("\r")
        if pending:
            yield pending.decode("utf-8", "replace").rstrip("\r")

    async def aclose(self) -> None:
        """Give the connection back (reading the rest of the body is not needed)."""
        release, self._release = self._release, None
        if release is not None:
            result = release()
            if result is not None:
                await result


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns its answer (``AsyncClient(transport=...)``)."""

    async def send(self, request: Request) -> Response:
        """Send ``request`` once, within ``request.timeout``.

        Raises:
            TransportError: no answer could be had.
        """
        ...


TransportTypes = Union[Transport, aiohttp.ClientSession]
"""A transport, or an aiohttp session to send with."""

SSLTypes = Union[bool, _ssl.SSLContext]
"""TLS settings: verify (True), do not verify (False), or a configured ``ssl.SSLContext``."""


def as_transport(value: TransportTypes | None, *, max_connections: int, ssl: SSLTypes) -> Transport:
    """The transport for ``AsyncClient(transport=...)``: as given, or aiohttp's."""
    if value is None:
        return AiohttpTransport(max_connections=max_connections, ssl=ssl)
    if isinstance(value, aiohttp.ClientSession):
        return AiohttpTransport(value)
    if not callable(getattr(value, "send", None)):
        raise ConfigurationError(
            f"transport must have an async send(request) method or be an aiohttp "
            f"ClientSession, got {type(value).__name__}"
        )
    return value


def map_transport_error(exc: BaseException, method: str, url: str) -> TransportError:
    """Translate an aiohttp/asyncio/OS failure into the SDK's transport errors (one boundary).

    Every exception of ``aiohttp.client_exceptions`` maps to a ``TransportError`` subclass.
    """
    target = urlsplit(url).netloc or url
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError(
            f"{method} {url}: timed out connecting to {target}; check the host and network, "
            "or raise Timeout(connect=...)",
            method=method,
            url=url,
        )
    if isinstance(
        exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, asyncio.TimeoutError)
    ):
        return TimeoutError(
            f"{method} {url}: timed out waiting for the server; retry later or raise the "
            "timeout (Timeout(read=..., total=...))",
            method=method,
            url=url,
        )
    if isinstance(
        exc,
        (
            aiohttp.ClientConnectorCertificateError,
            aiohttp.ClientSSLError,
            aiohttp.ServerFingerprintMismatch,
            _ssl.SSLError,
        ),
    ):
        return TransportError(
            f"{method} {url}: TLS verification with {target} failed ({type(exc).__name__}); "
            "check the certificate or the host name",
            method=method,
            url=url,
            retryable=False,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectFailed(
            f"{method} {url}: cannot connect to {target} ({exc.os_error.strerror or exc}); "
            "is the server running and is base_url right?",
            method=method,
            url=url,
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return TransportError(
            f"{method}: invalid URL {url!r}", method=method, url=url, retryable=False
        )
    return TransportError(
        f"{method} {url}: connection to {target} failed ({_describe(exc)})", method=method, url=url
    )


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # some aiohttp errors cannot render before they are fully built
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
    )


class AiohttpTransport:
    """The default transport: one aiohttp ``ClientSession``, created on first use.

    Args:
        session: a caller's own session (used as it is, and not closed by ``aclose``).
        max_connections: the connection-pool size of the session made here.
        ssl: ``True`` (verify), ``False`` (do not verify: local test servers only) or an
            ``ssl.SSLContext`` (own CA bundle, client certificates).
        trust_env: honour ``HTTP(S)_PROXY`` / ``NO_PROXY`` (looked up once per scheme and
            host, not per request; ``~/.netrc`` is not read).
        headers: default headers of the session made here.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        max_connections: int = C.DEFAULT_MAX_CONNECTIONS,
        ssl: SSLTypes = True,
        trust_env: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._session = session
        self._owned = session is None
        self._max_connections = max_connections
        self._ssl = ssl
        self._trust_env = trust_env
        self._headers = dict(headers or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._proxies: dict[tuple[str, str], tuple[Any, Any]] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(owned_session={self._owned})"

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use on the running loop."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or (self._owned and session.closed):
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl),
                # trust_env here would cost two worker-thread hops per request (netrc and
                # proxy lookups): proxies from the environment are looked up in _proxy instead
                headers=self._headers,
                trust_env=False,
                auto_decompress=True,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
            self._pid = os.getpid()
        elif self._owned and self._loop is not loop:
            if self._pid != os.getpid():
                raise LoopMismatchError(
                    "this client was created in another process (before os.fork()); its "
                    "connections belong to the parent: make a new client in this process"
                )
            raise LoopMismatchError(
                "this client belongs to another event loop: use the async client in async code "
                "and synapse_sync.Client in sync code, and do not share one instance between "
                "event loops"
            )
        return session

    async def send(self, request: Request) -> Response:
        """Send ``request`` with aiohttp (no redirects followed)."""
        session = self.session
        proxy, proxy_auth = (
            self._proxy(request.url) if self._owned and self._trust_env else (None, None)
        )
        try:
            resp = await session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=_client_timeout(request.timeout),
                allow_redirects=False,
                auto_decompress=request.decompress,
                proxy=proxy,
                proxy_auth=proxy_auth,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise map_transport_error(exc, request.method, _plain(request.url)) from exc
        return _AiohttpResponse(resp, request)

    def _proxy(self, url: str) -> tuple[Any, Any]:
        """The environment's proxy (and its auth) for ``url``'s scheme and host, cached."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._proxies.get(key)
        if found is None:
            try:
                found = get_env_proxy_for_url(URL(url))
            except LookupError:
                found = (None, None)
            self._proxies[key] = found
        return found

    async def aclose(self) -> None:
        """Close the session made here (a caller's own session is left open)."""
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()


class _AiohttpResponse(Response):
    """An aiohttp answer: failures while reading the body map to ``TransportError``."""

    __slots__ = ("_request", "_resp")

    def __init__(self, resp: aiohttp.ClientResponse, request: Request) -> None:
        super().__init__(
            resp.status, resp.headers, stream=self._chunks(resp, request), release=resp.release
        )
        self._resp = resp
        self._request = request

    async def read(self) -> bytes:
        """The whole body (aiohttp reads it in one go)."""
        if self._stream is None:
            return self.body
        self._stream = None
        try:
            self.body = await self._resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise map_transport_error(exc, self._request.method, _plain(self._request.url)) from exc
        return self.body

    @staticmethod
    async def _chunks(resp: aiohttp.ClientResponse, request: Request) -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise map_transport_error(exc, request.method, _plain(request.url)) from exc


def _plain(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
