"""The one place that talks HTTP.

``HTTPClient`` owns the aiohttp session and does, for every request: credential headers (only
to the base URL's origin), User-Agent, JSON encoding/decoding, the status -> exception table,
retries through ``backoff`` (see ``_retry``), and redacted debug logging.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import platform
import secrets
import ssl
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Collection, Mapping
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import quote, urlencode, urljoin, urlsplit

import aiohttp
import anyio.to_thread
import backoff

from synapse_async import _retry
from synapse_async._logging import loggable_url
from synapse_async._version import __version__
from synapse_async.config import ClientConfig, Timeout, TimeoutTypes, coerce_timeout
from synapse_async.errors import (
    APIError,
    ChecksumMismatchError,
    ClientClosedError,
    InvalidInputError,
    LoopMismatchError,
    RateLimitError,
    SynapseError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)

__all__ = ["AUTO", "HTTPClient", "build_path", "map_transport_error", "multipart_body"]

logger = logging.getLogger("synapse_async.http")

USER_AGENT = f"synapse-async/{__version__} python/{platform.python_version()}"


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

Expect = Literal["json", "bytes", "none"]


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


def map_transport_error(exc: BaseException, method: str, url: str) -> SynapseError:
    """Translate an aiohttp/asyncio/OS failure into the SDK's transport errors (one boundary).

    Every exception of ``aiohttp.client_exceptions`` maps to a ``TransportError`` subclass.
    """
    target = urlsplit(url).netloc or url
    if isinstance(exc, (aiohttp.ConnectionTimeoutError,)):
        err: TransportError = _ConnectTimeout(
            f"{method} {url}: timed out connecting to {target}; check the host and network, "
            "or raise Timeout(connect=...)", method=method, url=url)
    elif isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError,
                          asyncio.TimeoutError)):
        err = TimeoutError(
            f"{method} {url}: timed out waiting for the server; retry later or raise the "
            "timeout (Timeout(read=..., total=...))", method=method, url=url)
    elif isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError,
                          aiohttp.ServerFingerprintMismatch, ssl.SSLError)):
        err = TransportError(
            f"{method} {url}: TLS verification with {target} failed ({type(exc).__name__}); "
            "check the certificate or the host name", method=method, url=url)
        err.retryable = False  # type: ignore[attr-defined]
    elif isinstance(exc, aiohttp.ClientConnectorError):
        err = _retry.ConnectFailed(
            f"{method} {url}: cannot connect to {target} ({exc.os_error.strerror or exc}); "
            "is the server running and is base_url right?", method=method, url=url)
    elif isinstance(exc, (aiohttp.InvalidURL,)):
        err = TransportError(f"{method}: invalid URL {url!r}", method=method, url=url)
        err.retryable = False  # type: ignore[attr-defined]
    else:
        err = TransportError(
            f"{method} {url}: connection to {target} failed ({_describe(exc)})",
            method=method, url=url)
    return err


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # some aiohttp errors cannot render before they are fully built
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _ConnectTimeout(_retry.ConnectFailed, TimeoutError):
    """Timed out before the request was sent (safe to retry for every method)."""


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
            form.add_field(name, content, filename=filename,
                           content_type="application/octet-stream")
        return form

    return build


def _to_client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=timeout.total, sock_connect=timeout.connect,
                                 sock_read=timeout.read)


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class _SessionBox:
    """The session and its loop, shared by an HTTPClient and its ``with_config`` siblings."""

    __slots__ = ("closed", "loop", "pid", "session")

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.pid = 0


class HTTPClient:
    """Sends requests for one ``AsyncClient``; the only user of aiohttp's client API.

    Args:
        config: the resolved client settings.
    """

    def __init__(self, config: ClientConfig, *, _box: _SessionBox | None = None) -> None:
        self.config = config
        self._box = _box or _SessionBox()
        self._origin = config.origin
        self._auth = config.auth_headers()

    def with_config(self, config: ClientConfig) -> HTTPClient:
        """A sibling with other settings that shares this one's session and connections."""
        return HTTPClient(config, _box=self._box)

    def __repr__(self) -> str:
        return f"HTTPClient(base_url={self.config.base_url!r})"

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session, created on first use on the running loop."""
        box = self._box
        loop = asyncio.get_running_loop()
        if box.closed:
            raise ClientClosedError(
                f"this client ({self.config.base_url}) was closed; make a new client")
        if box.session is None or box.session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.config.max_connections,
                ssl=bool(self.config.verify_ssl),
            )
            box.session = aiohttp.ClientSession(
                connector=connector,
                timeout=_to_client_timeout(self.config.timeout),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                auto_decompress=True,
            )
            box.loop = loop
            box.pid = os.getpid()
        elif box.loop is not loop:
            if box.pid != os.getpid():
                raise LoopMismatchError(
                    "this client was created in another process (before os.fork()); its "
                    "connections belong to the parent: make a new client in this process")
            raise LoopMismatchError(
                "this client belongs to another event loop: use the async client in async code "
                "and synapse_sync.Client in sync code, and do not share one instance between "
                "event loops"
            )
        return box.session

    async def aclose(self) -> None:
        """Close the session and its connections; later requests raise ``ClientClosedError``."""
        self._box.closed = True
        session = self._box.session
        if session is not None and not session.closed:
            await session.close()

    def url_for(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        """An absolute URL for a relative API path (or an absolute URL), with query params."""
        url = urljoin(self.config.base_url, path_or_url)
        if params:
            query = urlencode(
                [(k, _param_str(v)) for k, v in params.items() if v is not None
                 for v in (v if isinstance(v, (list, tuple)) else [v])],
            )
            if query:
                url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self._origin

    def _scrub(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        return text

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
    ) -> Any:
        """Send one API request with retries; return the decoded JSON (or bytes / None).

        Args:
            method: HTTP method.
            path_or_url: path relative to the base URL (``"tasks/5/"``) or an absolute URL.
            params: query parameters (None values dropped, lists repeated).
            json_body: a JSON-serializable body.
            data: a raw body (bytes, aiohttp FormData, ...) or a zero-argument callable that
                builds a fresh one per attempt (needed for streamed bodies that are retried).
            headers: extra headers.
            timeout: overrides the client's timeout for this call.
            idempotency_key: POST only; AUTO generates one (reused across retries), None sends
                none and disables retries of the POST.
            expect: decode the body as JSON, return raw bytes, or ignore it.
            redact: secrets that are part of the URL (e.g. an agent token in the path): shown
                as ``***`` in logs, error messages and error attributes.

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
        if self._same_origin(url):
            hdrs.update(self._auth)
        tmo = self.config.timeout if timeout is None else coerce_timeout(timeout)
        policy = self.config.retry
        body = json.dumps(json_body).encode() if json_body is not None else None
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        attempts = 0

        async def once() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                hdrs["X-Retry-Count"] = str(attempts - 1)
            payload = body if body is not None else (data() if callable(data) else data)
            return await self._send_once(method, url, hdrs, payload, tmo, expect, shown)

        def giveup(exc: Exception) -> bool:
            return not _retry.is_retryable(exc, policy, idempotent=idempotent)

        def on_backoff(details: Any) -> None:
            exc = details.get("exception")
            logger.info("retrying %s %s after %s (attempt %d, waiting %.2fs)", method,
                        _log_url(shown), type(exc).__name__, details["tries"], details["wait"])

        if policy.max_retries == 0:
            return await once()
        retrying = backoff.on_exception(
            _retry.wait_generator,  # type: ignore[arg-type]
            SynapseError,
            max_tries=policy.max_retries + 1,
            max_time=policy.budget,
            jitter=None,
            giveup=giveup,
            on_backoff=on_backoff,
            logger=None,
            policy=policy,
        )(once)
        return await retrying()

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
        the first byte of the body); once it flows, a failure is raised (a stream cannot be
        replayed) and the caller decides whether to reconnect. Closing the iterator closes the
        connection.

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
        if self._same_origin(url):
            hdrs.update(self._auth)
        tmo = (Timeout(connect=self.config.timeout.connect, read=None, total=None)
               if timeout is None else coerce_timeout(timeout))
        policy = self.config.retry
        attempt = 0
        while True:  # retried (as a GET) only until the stream has started
            streaming = False
            failure: SynapseError
            cause: BaseException | None = None
            try:
                async with self.session.request(
                    method, url, headers=hdrs, timeout=_to_client_timeout(tmo),
                    allow_redirects=False,
                ) as resp:
                    logger.debug("%s %s -> %d (stream)", method, _log_url(shown), resp.status)
                    if resp.status >= 300:
                        raw = await resp.read()
                        h = resp.headers
                        raise self._status_error(
                            method, shown, resp.status, raw, h.get("Content-Type", ""),
                            h.get("X-Request-Id"), h.get("Retry-After"), h.get("Location"))
                    streaming = True
                    async for line in resp.content:
                        yield line.decode("utf-8", "replace").rstrip("\r\n")
                return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                logger.debug("%s %s -> %s (stream)", method, _log_url(shown),
                             type(exc).__name__)
                failure, cause = map_transport_error(exc, method, shown), exc
            except APIError as exc:
                failure = exc
            attempt += 1
            # a total limit is the caller's whole budget: no fresh attempt after it ran out
            spent = tmo.total is not None and isinstance(failure, TimeoutError)
            if streaming or spent or attempt > policy.max_retries or not _retry.is_retryable(
                    failure, policy, idempotent=True):
                raise failure from cause
            wait = _retry.retry_delay(failure, attempt, policy)
            logger.info("retrying %s %s after %s (attempt %d, waiting %.2fs)", method,
                        _log_url(shown), type(failure).__name__, attempt, wait)
            await asyncio.sleep(wait)

    async def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        timeouts: TimeoutTypes | None = None,
        chunk_size: int = 1 << 16,
        max_redirects: int = 5,
        md5: str | None = None,
    ) -> int:
        """Stream ``url`` into the file ``dest``, atomically and resumably; returns its size.

        Bytes go to a hidden temp file beside ``dest`` (``.<name>.<random>.download``) that is
        renamed over ``dest`` once complete, so ``dest`` never holds a partial file; on
        failure or cancellation the temp file is removed. Failures are retried like a GET
        (connection errors, timeouts, 429, 502/503/504, under the client's retry policy);
        after a connection dropped mid-body the next attempt asks for the rest
        (``Range: bytes=<n>-``) and appends on 206 (a 200 restarts from byte 0). Attempts that
        received bytes do not count against ``max_retries``. Redirects are followed (at most
        ``max_redirects``); credentials go only to the base URL's origin.

        Args:
            url: an absolute URL, or a path relative to the base URL.
            dest: the final file (its directory must exist).
            timeouts: per attempt; default: the client's connect and read timeouts, no
                total limit.
            chunk_size: bytes per read.
            max_redirects: redirects followed per attempt.
            md5: the server's MD5 (hex) of the file: the bytes received are checked against
                it before the rename; on a mismatch the file is downloaded afresh once.

        Raises:
            APIError: (a subclass per status) an error answer that is not retried.
            TransportError: the download kept failing (``TimeoutError`` on timeouts).
            ChecksumMismatchError: the bytes did not match ``md5``, twice.
        """
        final = Path(dest)
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.download")
        tmo = (Timeout(connect=self.config.timeout.connect, read=self.config.timeout.read,
                       total=None) if timeouts is None else coerce_timeout(timeouts))
        target = self.url_for(url)
        fh: IO[bytes] = await anyio.to_thread.run_sync(tmp.open, "wb")
        done = False
        try:
            target, have = await self._download_retrying(target, fh, tmo, chunk_size,
                                                         max_redirects)
            if md5 is not None:
                expected = md5.lower()
                actual = await anyio.to_thread.run_sync(_file_md5, fh, tmp)
                if actual != expected:
                    logger.info("GET %s: MD5 %s of %d bytes, expected %s; downloading again",
                                _log_url(target), actual, have, expected)
                    await anyio.to_thread.run_sync(_truncate, fh)
                    target, have = await self._download_retrying(target, fh, tmo, chunk_size,
                                                                 max_redirects)
                    actual = await anyio.to_thread.run_sync(_file_md5, fh, tmp)
                if actual != expected:
                    shown = _log_url(target)
                    raise ChecksumMismatchError(
                        f"GET {shown}: the {have} bytes received have MD5 {actual}, but the "
                        f"server's checksum is {expected} (downloaded twice); the stored file "
                        "or something in between is corrupt: retry later or re-upload it",
                        url=shown, expected=expected, actual=actual)
            await anyio.to_thread.run_sync(fh.close)
            await anyio.to_thread.run_sync(os.replace, tmp, final)
            done = True
            return have
        finally:
            if not done:
                fh.close()
                tmp.unlink(missing_ok=True)

    async def _download_retrying(
        self, target: str, fh: IO[bytes], tmo: Timeout, chunk_size: int, max_redirects: int,
    ) -> tuple[str, int]:
        """Download into ``fh`` (from its current end) with retries and resumes.

        Returns the final URL and the file's size.
        """
        policy = self.config.retry
        have = fh.tell()
        attempt = 0
        while True:
            failure: SynapseError
            before = have
            try:
                target = await self._download_once(target, fh, have, tmo, chunk_size,
                                                   max_redirects)
                return target, fh.tell()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                failure = map_transport_error(exc, "GET", _log_url(target))
                failure.__cause__ = exc
            except (APIError, TransportError) as exc:
                failure = exc
            have = fh.tell()  # what arrived, whatever the failure
            attempt = 0 if have > before else attempt + 1
            if attempt > policy.max_retries or not _retry.is_retryable(
                    failure, policy, idempotent=True):
                raise failure
            wait = _retry.retry_delay(failure, max(attempt, 1), policy) if attempt else 0.0
            logger.info("resuming GET %s at byte %d after %s (waiting %.2fs)",
                        _log_url(target), have, type(failure).__name__, wait)
            await asyncio.sleep(wait)

    async def _download_once(
        self, url: str, fh: IO[bytes], have: int, tmo: Timeout, chunk_size: int,
        max_redirects: int,
    ) -> str:
        """One attempt: append from byte ``have`` (or restart); returns the final URL."""
        for _ in range(max_redirects + 1):
            hdrs = {"Accept": "*/*"}
            if have:
                hdrs["Range"] = f"bytes={have}-"
            if self._same_origin(url):
                hdrs.update(self._auth)
            shown = _log_url(url)  # a signed URL's query is a secret: never in messages
            async with self.session.get(url, headers=hdrs, timeout=_to_client_timeout(tmo),
                                        allow_redirects=False, auto_decompress=False) as resp:
                h = resp.headers
                if resp.status in (301, 302, 303, 307, 308) and h.get("Location"):
                    url = urljoin(url, h["Location"])
                    continue
                if resp.status >= 300:
                    raise self._status_error("GET", shown, resp.status, await resp.read(),
                                             h.get("Content-Type", ""), h.get("X-Request-Id"),
                                             h.get("Retry-After"), h.get("Location"))
                expected = resp.content_length
                if resp.status == 206 and _range_start(h.get("Content-Range")) == have:
                    expected = None if expected is None else have + expected
                elif have:  # the server sent the whole file: start over
                    await anyio.to_thread.run_sync(_truncate, fh)
                    have = 0
                async for chunk in resp.content.iter_chunked(chunk_size):
                    await anyio.to_thread.run_sync(fh.write, chunk)
                    have += len(chunk)
                if expected is not None and have != expected:
                    raise TransportError(f"GET {shown}: the body ended after {have} of "
                                         f"{expected} bytes", method="GET", url=shown)
                return url
        raise TransportError(f"GET {_log_url(url)}: more than {max_redirects} redirects",
                             method="GET", url=_log_url(url))

    def _debug_url(self, url: str) -> str:
        """``url`` for a DEBUG line: with its query string, credentials as ``***``."""
        return loggable_url(url, self.config.secrets()) if logger.isEnabledFor(
            logging.DEBUG) else url

    async def _send_once(
        self, method: str, url: str, headers: dict[str, str], data: Any, timeout: Timeout,
        expect: Expect, shown: str | None = None,
    ) -> Any:
        real_url, url = url, url if shown is None else shown  # `url` is for display from here
        session = self.session
        started = time.monotonic()
        try:
            async with session.request(
                method, real_url, data=data, headers=headers, timeout=_to_client_timeout(timeout),
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status = resp.status
                ctype = resp.headers.get("Content-Type", "")
                request_id = resp.headers.get("X-Request-Id")
                retry_after = resp.headers.get("Retry-After")
                location = resp.headers.get("Location")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            err = map_transport_error(exc, method, url)
            logger.debug("%s %s -> %s", method, self._debug_url(url), type(exc).__name__)
            raise err from exc
        logger.debug("%s %s -> %d in %.1f ms", method, self._debug_url(url), status,
                     (time.monotonic() - started) * 1000)
        if status >= 300:
            raise self._status_error(method, url, status, raw, ctype, request_id, retry_after,
                                     location)
        if expect == "none" or status == 204:
            return None
        if expect == "bytes":
            return raw
        if not raw:
            return None
        if "json" not in ctype:
            raise UnexpectedResponseError(
                f"{method} {url}: expected JSON but got {ctype or 'no content type'} "
                f"({_excerpt(raw.decode('utf-8', 'replace'))!r}); is base_url the API root?",
                status_code=status, detail=None, request_id=request_id, method=method, url=url)
        try:
            return json.loads(raw)
        except ValueError:
            raise UnexpectedResponseError(
                f"{method} {url}: the server sent invalid JSON "
                f"({_excerpt(raw.decode('utf-8', 'replace'))!r})",
                status_code=status, request_id=request_id, method=method, url=url) from None

    def _status_error(
        self, method: str, url: str, status: int, raw: bytes, ctype: str,
        request_id: str | None, retry_after: str | None, location: str | None,
    ) -> APIError:
        body: Any = None
        detail: Any = None
        if "json" in ctype:
            try:
                body = json.loads(raw)
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
            detail = (f"unexpected redirect to {location!r}; check base_url "
                      "(the SDK does not follow redirects, so credentials stay on the API host)")
        detail_text = self._scrub(detail if isinstance(detail, str) else json.dumps(detail))
        cls = error_class_for_status(status)
        message = f"{method} {url} -> {status}: {detail_text}"
        if request_id:
            message += f" (request id {request_id})"
        hint = _HINTS.get(cls.__name__)
        if hint:
            message += f"; {hint}"
        kwargs: dict[str, Any] = dict(status_code=status, detail=detail, request_id=request_id,
                                      method=method, url=url, body=body)
        if cls is RateLimitError:
            return RateLimitError(message, retry_after=_retry.parse_retry_after(retry_after),
                                  **kwargs)
        return cls(message, **kwargs)


_HINTS = {
    "AuthenticationError": "check the access token (SYNAPSE_ACCESS_TOKEN)",
    "PermissionDeniedError": "the token is valid but lacks permission for this",
    "InsufficientCreditsError": "add credits (client.billing) or lower the order",
    "RateLimitError": "slow down or lower concurrency",
}


def _range_start(content_range: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes a-b/total`` header (None if unparsable)."""
    if not content_range or not content_range.startswith("bytes "):
        return None
    try:
        return int(content_range[6:].split("-", 1)[0])
    except ValueError:
        return None


def _truncate(fh: IO[bytes]) -> None:
    fh.seek(0)
    fh.truncate()


def _file_md5(fh: IO[bytes], path: Path) -> str:
    """The MD5 (hex) of what was written to ``fh`` (open for writing at ``path``)."""
    fh.flush()
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as src:
        while block := src.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


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

