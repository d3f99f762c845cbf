"""The one place that sends requests: one send path, one retry engine, one error table.

``HTTPClient`` does, for every request (JSON calls, streamed upload bodies, downloads, event
streams): credential headers (only to the base URL's origin), User-Agent, the call's time
budget, retries through ``_retry.retrying`` (``backoff``), the status -> exception table,
and redacted logging. The bytes go through a transport (``synapse_async.transport``).
"""

from __future__ import annotations

import builtins
import json
import logging
import platform
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

import aiohttp
import anyio

from synapse_async import _retry
from synapse_async._logging import loggable_url
from synapse_async._validation import has_control_chars
from synapse_async._version import __version__
from synapse_async.config import ClientConfig, Timeout, TimeoutTypes, coerce_timeout
from synapse_async.errors import (
    APIError,
    ClientClosedError,
    ConfigurationError,
    InvalidInputError,
    RateLimitError,
    SynapseError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)
from synapse_async.transport import (
    Request,
    Response,
    SSLTypes,
    Transport,
    TransportTypes,
    as_transport,
    map_transport_error,
)

__all__ = [
    "AUTO",
    "HTTPClient",
    "JSONBody",
    "build_path",
    "map_transport_error",
    "multipart_body",
]

logger = logging.getLogger("synapse_async.http")

USER_AGENT = f"synapse-async/{__version__} python/{platform.python_version()}"

T = TypeVar("T")

_JOINED_MAX = 256


class _Auto:
    """Sentinel: let the SDK decide (e.g. generate an Idempotency-Key for a POST)."""

    _instance: _Auto | None = None

    def __new__(cls) -> _Auto:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()
"""Sentinel default meaning "the SDK decides", distinct from None ("none at all")."""

Expect = Literal["json", "json_later", "bytes", "none"]


class JSONBody:
    """A JSON answer whose text is parsed only when ``load()`` is called.

    ``request(..., expect="json_later")`` returns one after checking the content type, so a
    consumer in another thread (the sync facade's listing) parses and decodes a page right
    before it uses it: the loop thread keeps bytes, which the garbage collector never scans,
    instead of thousands of parsed objects.
    """

    __slots__ = ("method", "raw", "response", "url")

    def __init__(self, raw: bytes, method: str, url: str, response: Response) -> None:
        self.raw = raw
        self.method = method
        self.url = url
        self.response = response

    def __repr__(self) -> str:
        return f"<JSONBody {self.method} {_log_url(self.url)}: {len(self.raw)} bytes>"

    def load(self) -> Any:
        """The parsed JSON.

        Raises:
            UnexpectedResponseError: the text is not valid JSON.
        """
        try:
            return json.loads(self.raw)
        except ValueError:
            resp = self.response
            raise UnexpectedResponseError(
                f"{self.method} {self.url}: the server sent invalid JSON "
                f"({_excerpt(self.raw.decode('utf-8', 'replace'))!r})",
                status_code=resp.status,
                request_id=resp.headers.get("X-Request-Id"),
                method=self.method,
                url=self.url,
                response=resp,
            ) from None


def build_path(*segments: object) -> str:
    """Join URL path segments, percent-quoting each, with the DRF trailing slash.

    ``build_path("tasks", 5)`` -> ``"tasks/5/"``. User input never reaches the URL unquoted.
    """
    parts = []
    for seg in segments:
        text = str(seg)
        if text == "" or text in (".", ".."):
            raise InvalidInputError(f"invalid URL path segment {seg!r}")
        parts.append(quote(text, safe=""))
    return "/".join(parts) + "/"


def multipart_body(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, Any]]
) -> Callable[[], Any]:
    """A body factory for ``HTTPClient.request(data=...)``: a fresh multipart form per attempt.

    Args:
        fields: plain form fields.
        files: field name -> (file name, bytes or a readable binary file object).
    """

    def build() -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (filename, content) in files.items():
            form.add_field(
                name, content, filename=filename, content_type="application/octet-stream"
            )
        return form

    return build


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names and values checked: strings without control characters.

    Raises:
        ConfigurationError: naming the header (never its value: it may be a secret).
    """
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if (
            not isinstance(name, str)
            or not isinstance(value, str)
            or has_control_chars(name)
            or has_control_chars(value)
        ):
            raise ConfigurationError(
                f"header {name!r}: names and values must be strings without control "
                "characters (a trailing newline from a file?); strip the value"
            )
        checked[name] = value
    return checked


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class HTTPClient:
    """Sends requests for one ``AsyncClient``.

    Args:
        config: the resolved client settings.
        transport: what sends the bytes (default: an ``AiohttpTransport`` made here; an
            ``aiohttp.ClientSession`` is wrapped in one).
        ssl: TLS settings of the default transport (default: ``config.verify_ssl``).
        extra_headers: headers added to every request (credential headers win).
        extra_query: query parameters added to every request to the API.

    Attributes:
        shared: per-client state shared with every ``with_config`` sibling (e.g. the upload
            protocol the server speaks, once learned).
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: TransportTypes | None = None,
        *,
        ssl: SSLTypes | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.transport: Transport = as_transport(
            transport,
            max_connections=config.max_connections,
            ssl=bool(config.verify_ssl) if ssl is None else ssl,
        )
        self.extra_headers = check_headers(extra_headers or {})
        self.extra_query = dict(extra_query or {})
        self.shared: dict[str, Any] = {} if shared is None else shared
        self._origin = config.origin
        # A URL starting with this is surely of the origin (the netloc ends at the "/").
        self._origin_prefix = f"{self._origin[0]}://{self._origin[1]}/"
        self._joined: dict[str, str] = {}  # relative path -> absolute URL, for the paths used
        self._auth = config.auth_headers()

    def with_config(
        self,
        config: ClientConfig,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> HTTPClient:
        """A sibling with other settings that shares this one's transport and connections.

        ``extra_headers`` and ``extra_query`` are added to this one's extras.
        """
        return HTTPClient(
            config,
            self.transport,
            extra_headers={**self.extra_headers, **(extra_headers or {})},
            extra_query={**self.extra_query, **(extra_query or {})},
            shared=self.shared,
        )

    def __repr__(self) -> str:
        return f"HTTPClient(base_url={self.config.base_url!r})"

    async def aclose(self) -> None:
        """Close the transport and its connections; later requests raise ``ClientClosedError``."""
        self.shared["closed"] = True
        close = getattr(self.transport, "aclose", None)
        if close is not None:
            await close()

    def url_for(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        """An absolute URL for a relative API path (or an absolute URL), with query params."""
        url = self._joined.get(path_or_url)
        if url is None:
            url = urljoin(self.config.base_url, path_or_url)
            if len(self._joined) < _JOINED_MAX:  # paths with ids are many: keep the first few
                self._joined[path_or_url] = url
        if self.extra_query and self._same_origin(url):
            params = {**self.extra_query, **(params or {})}
        if params:
            query = urlencode(
                [
                    (k, _param_str(v))
                    for k, v in params.items()
                    if v is not None
                    for v in (v if isinstance(v, (list, tuple)) else [v])
                ],
            )
            if query:
                url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url

    def _same_origin(self, url: str) -> bool:
        if url.startswith(self._origin_prefix):
            return True
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self._origin

    def _scrub(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        return text

    def _scrub_value(self, value: Any) -> Any:
        """``value`` (decoded JSON) with every credential in its strings replaced by ``***``."""
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, dict):
            return {self._scrub_value(k): self._scrub_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_value(v) for v in value]
        return value

    # -- the engine ---------------------------------------------------------------------

    def budget(self) -> _retry.Budget:
        """A fresh time budget for one call (the retry policy's ``budget``)."""
        return _retry.Budget(self.config.retry.budget)

    async def retrying(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        budget: _retry.Budget,
        what: str,
        idempotent: bool = True,
        retry_on: Callable[[SynapseError], bool] | None = None,
        progressed: Callable[[], bool] | None = None,
    ) -> T:
        """Run ``attempt`` under the client's retry policy and ``budget`` (the one loop).

        Args:
            attempt: one try.
            budget: the call's time budget (``budget()``).
            what: the request as logged (``"GET https://host/path"``).
            idempotent: whether repeating the request is harmless.
            retry_on: failures the protocol makes safe to resend besides the policy's
                (e.g. a part the server got corrupted).
            progressed: see ``_retry.retrying``.
        """
        policy = self.config.retry

        def retryable(exc: SynapseError) -> bool:
            return _retry.is_retryable(exc, policy, idempotent=idempotent) or (
                retry_on is not None and retry_on(exc)
            )

        return await _retry.retrying(
            attempt,
            policy=policy,
            budget=budget,
            retryable=retryable,
            what=what,
            progressed=progressed,
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        budget: _retry.Budget,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: Timeout | None = None,
        streamed: bool = False,
        decompress: bool = True,
        shown: str | None = None,
        redirects: bool = False,
    ) -> Response:
        """Send one attempt and return its answer; an error status is raised as ``APIError``.

        The caller reads the body and closes the answer (``aclose``).

        Args:
            method: HTTP method.
            url: the absolute URL.
            budget: the call's budget; this attempt's timeouts are capped by what is left.
            headers: request headers (credentials are added for the API's origin).
            body: None, bytes, form data or an async iterable of chunks.
            timeout: the attempt's timeouts (default: the client's).
            streamed: the body (or the answer) flows for as long as it takes: ``total`` is
                not capped by the budget, only the connect and read phases (without a read
                timeout either, the wait for the answer's head).
            decompress: decode ``Content-Encoding`` (off for file downloads).
            shown: the URL as shown in logs and errors (secrets removed).
            redirects: return a redirect (3xx with ``Location``) rather than raise it.
        """
        if self.shared.get("closed"):
            raise ClientClosedError(
                f"this client ({self.config.base_url}) was closed; make a new client"
            )
        hdrs = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **self.extra_headers,
            **(headers or {}),
        }
        if self._same_origin(url):
            hdrs.update(self._auth)
        shown = url if shown is None else shown
        tmo = budget.cap(self.config.timeout if timeout is None else timeout, total=not streamed)
        request = Request(method, url, headers=hdrs, body=body, timeout=tmo, decompress=decompress)
        started = time.monotonic()
        try:
            if tmo.read is None and tmo.total is None and body is None:
                # nothing else bounds the wait for the answer's head (an event stream)
                with anyio.fail_after(max(budget.remaining(), 0.001)):
                    resp = await self.transport.send(request)
            else:  # the transport applies the (capped) timeouts
                resp = await self.transport.send(request)
        except TransportError as exc:
            logger.debug("%s %s -> %s", method, self._debug_url(shown), type(exc).__name__)
            raise self._redact_error(exc, url, shown) from exc.__cause__
        except builtins.TimeoutError as exc:
            raise map_transport_error(exc, method, shown) from None
        logger.debug(
            "%s %s -> %d in %.1f ms",
            method,
            self._debug_url(shown),
            resp.status,
            (time.monotonic() - started) * 1000,
        )
        if resp.status >= 300 and not (
            redirects and 300 <= resp.status < 400 and "Location" in resp.headers
        ):
            try:
                await resp.read()
            finally:
                await resp.aclose()
            raise self._status_error(method, shown, resp)
        return resp

    def _debug_url(self, url: str) -> str:
        """``url`` for a DEBUG line: with its query string, credentials as ``***``."""
        return (
            loggable_url(url, self.config.secrets()) if logger.isEnabledFor(logging.DEBUG) else url
        )

    def _redact_error(self, exc: TransportError, url: str, shown: str) -> TransportError:
        if shown != url:
            exc.args = tuple(str(a).replace(_log_url(url), _log_url(shown)) for a in exc.args)
            exc.url = shown
        return exc

    # -- JSON calls -----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | None = None,
        idempotency_key: str | None = AUTO,
        expect: Expect = "json",
        redact: Collection[str] = (),
        retry_on: Callable[[SynapseError], bool] | None = None,
    ) -> Any:
        """Send one API request with retries; return the decoded JSON (or bytes / None).

        Args:
            method: HTTP method.
            path_or_url: path relative to the base URL (``"tasks/5/"``) or an absolute URL.
            params: query parameters (None values dropped, lists repeated).
            json_body: a JSON-serializable body.
            data: a raw body (bytes, aiohttp FormData, ...) or a zero-argument callable that
                builds a fresh one per attempt (streamed bodies: re-opened per attempt, and
                only the connect and read phases are capped by the budget).
            headers: extra headers.
            timeout: overrides the client's timeout for this call.
            idempotency_key: POST only; AUTO generates one (reused across retries), None sends
                none and disables retries of the POST.
            expect: decode the body as JSON, return raw bytes, or ignore it; ``json_later``
                checks the content type and returns a ``JSONBody`` to parse later.
            redact: secrets that are part of the URL (e.g. an agent token in the path): shown
                as ``***`` in logs, error messages and error attributes.
            retry_on: failures that may be resent besides the retry policy's.

        Raises:
            APIError: (a subclass per status) when the server answers with an error.
            TransportError: when no answer could be had after retries.
        """
        method = method.upper()
        url = self.url_for(path_or_url, params)
        shown = _redact_url(url, redact)
        hdrs: dict[str, str] = dict(headers or {})
        if method == "POST" and idempotency_key is AUTO:
            idempotency_key = uuid.uuid4().hex
        if method == "POST" and idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        idempotent = method in _retry.IDEMPOTENT_METHODS or "Idempotency-Key" in hdrs
        tmo = None if timeout is None else coerce_timeout(timeout)
        body = json.dumps(json_body).encode() if json_body is not None else None
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        streamed = callable(data)
        budget = self.budget()
        attempts = 0

        async def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                hdrs["X-Retry-Count"] = str(attempts - 1)
            payload = body if body is not None else (data() if streamed else data)
            resp = await self.send(
                method,
                url,
                budget=budget,
                headers=hdrs,
                body=payload,
                timeout=tmo,
                streamed=streamed,
                shown=shown,
            )
            try:
                raw = await resp.read()
            finally:
                await resp.aclose()
            return self._decode(method, shown, resp, raw, expect)

        return await self.retrying(
            attempt,
            budget=budget,
            what=f"{method} {_log_url(shown)}",
            idempotent=idempotent,
            retry_on=retry_on,
        )

    def _decode(self, method: str, url: str, resp: Response, raw: bytes, expect: Expect) -> Any:
        status = resp.status
        if expect == "none" or status == 204:
            return None
        if expect == "bytes":
            return raw
        if not raw:
            return None
        ctype = resp.headers.get("Content-Type", "")
        if "json" not in ctype:
            raise UnexpectedResponseError(
                f"{method} {url}: expected JSON but got {ctype or 'no content type'} "
                f"({_excerpt(raw.decode('utf-8', 'replace'))!r}); is base_url the API root?",
                status_code=status,
                detail=None,
                request_id=resp.headers.get("X-Request-Id"),
                method=method,
                url=url,
                response=resp,
            )
        body = JSONBody(raw, method, url, resp)
        return body if expect == "json_later" else body.load()

    # -- event streams --------------------------------------------------------------------

    async def stream_lines(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | None = None,
        redact: Collection[str] = (),
    ) -> AsyncGenerator[str, None]:
        """Send one request and yield the response body line by line as it arrives (SSE).

        Lines come without their line ending. Opening the stream is retried like a GET (until
        the answer's head arrived, within the call's budget); once it flows, a failure is
        raised (a stream cannot be replayed) and the caller decides whether to reconnect.
        Closing the iterator closes the connection.

        Args:
            method: HTTP method.
            path_or_url: path relative to the base URL, or an absolute URL.
            params: query parameters.
            headers: extra headers (``Accept: text/event-stream`` is the default).
            timeout: default: the client's connect timeout, no read or total limit (a quiet
                stream is not an error); a ``total`` here bounds the whole stream.
            redact: secrets in the URL, hidden in logs and errors (see ``request``).

        Raises:
            APIError: (a subclass per status) when the server answers with an error.
            TransportError: on a connection failure; ``TimeoutError`` when ``timeout`` expires.
        """
        method = method.upper()
        url = self.url_for(path_or_url, params)
        shown = _redact_url(url, redact)
        hdrs = {"Accept": "text/event-stream", **(headers or {})}
        tmo = (
            Timeout(connect=self.config.timeout.connect, read=None, total=None)
            if timeout is None
            else coerce_timeout(timeout)
        )
        budget = self.budget()

        async def attempt() -> Response:
            return await self.send(
                method, url, budget=budget, headers=hdrs, timeout=tmo, streamed=True, shown=shown
            )

        resp = await self.retrying(attempt, budget=budget, what=f"{method} {_log_url(shown)}")
        try:
            async for line in resp.iter_lines():
                yield line
        finally:
            with anyio.CancelScope(shield=True):
                await resp.aclose()

    # -- errors -----------------------------------------------------------------------------

    def _status_error(self, method: str, url: str, resp: Response) -> APIError:
        """The ``APIError`` for an error answer (credentials scrubbed everywhere)."""
        status, headers = resp.status, resp.headers
        raw = resp.body
        for secret in self.config.secrets():
            raw = raw.replace(secret.encode(), b"***")
        resp.body = raw
        ctype = headers.get("Content-Type", "")
        body: Any = None
        if "json" in ctype:
            try:
                body = self._scrub_value(json.loads(raw))
            except ValueError:
                body = None
        if isinstance(body, dict):
            detail = body.get("detail", body)
        elif body is not None:
            detail = body
        else:
            text = raw.decode("utf-8", "replace")
            kind = "an HTML page" if "<html" in text[:500].lower() else "a non-JSON body"
            detail = f"{kind}: {_excerpt(text)!r}" if text.strip() else "an empty body"
        if 300 <= status < 400:
            detail = (
                f"unexpected redirect to {headers.get('Location')!r}; check base_url "
                "(the SDK does not follow redirects, so credentials stay on the API host)"
            )
        detail_text = detail if isinstance(detail, str) else json.dumps(detail)
        request_id = headers.get("X-Request-Id")
        cls = error_class_for_status(status)
        message = f"{method} {url} -> {status}: {detail_text}"
        if request_id:
            message += f" (request id {request_id})"
        hint = _HINTS.get(cls.__name__)
        if hint:
            message += f"; {hint}"
        kwargs: dict[str, Any] = dict(
            status_code=status,
            detail=detail,
            request_id=request_id,
            method=method,
            url=url,
            body=body,
            response=resp,
        )
        if cls is RateLimitError:
            return RateLimitError(
                message, retry_after=_retry.parse_retry_after(headers.get("Retry-After")), **kwargs
            )
        return cls(message, **kwargs)


_HINTS = {
    "AuthenticationError": "check the access token (SYNAPSE_ACCESS_TOKEN)",
    "PermissionDeniedError": "the token is valid but lacks permission for this",
    "InsufficientCreditsError": "add credits (client.billing) or lower the order",
    "RateLimitError": "slow down or lower concurrency",
}


def _param_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _redact_url(url: str, secrets: Collection[str]) -> str:
    """``url`` with each of ``secrets`` (raw or percent-quoted) replaced by ``***``."""
    for secret in secrets:
        if secret:
            url = url.replace(quote(secret, safe=""), "***").replace(secret, "***")
    return url


def _log_url(url: str) -> str:
    """The URL without its query string (queries can carry user data)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
