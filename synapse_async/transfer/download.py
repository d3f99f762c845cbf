"""Downloads: stream a URL into a file, atomically and resumably, through the one engine.

Bytes go to a hidden temp file beside the destination (``.<name>.<random>.download``) that is
renamed over it once complete, so the destination never holds a partial file; on failure or
cancellation the temp file is removed. Attempts run through ``HTTPClient.retrying`` like a
GET; after a connection dropped mid-body the next attempt asks for the rest
(``Range: bytes=<n>-``) and appends on 206 (a 200 restarts from byte 0). An attempt that
received bytes does not count against ``max_retries`` and restarts the budget.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import anyio.to_thread

from synapse_async.config import Timeout, TimeoutTypes, coerce_timeout
from synapse_async.errors import ChecksumMismatchError, TransportError

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["download"]

logger = logging.getLogger("synapse_async.http")

WRITE_SIZE = 1 << 20
"""Bytes gathered before one write in a worker thread (one thread hop per MiB)."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def download(
    http: HTTPClient,
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeouts: TimeoutTypes | None = None,
    max_redirects: int = 5,
    md5: str | None = None,
) -> int:
    """Stream ``url`` into the file ``dest``; returns its size.

    Redirects are followed (at most ``max_redirects``); credentials go only to the base
    URL's origin.

    Args:
        http: the client's HTTP layer.
        url: an absolute URL, or a path relative to the base URL.
        dest: the final file (its directory must exist).
        timeouts: per attempt; default: the client's connect and read timeouts, no total.
        max_redirects: redirects followed per attempt.
        md5: the server's MD5 (hex) of the file: the bytes received are checked against it
            before the rename; on a mismatch the file is downloaded afresh once.

    Raises:
        APIError: (a subclass per status) an error answer that is not retried.
        TransportError: the download kept failing (``TimeoutError`` on timeouts).
        ChecksumMismatchError: the bytes did not match ``md5``, twice.
    """
    final = Path(dest)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.download")
    tmo = (
        Timeout(connect=http.config.timeout.connect, read=http.config.timeout.read, total=None)
        if timeouts is None
        else coerce_timeout(timeouts)
    )
    fh: IO[bytes] = await anyio.to_thread.run_sync(tmp.open, "wb")
    done = False
    try:
        fetch = _Fetch(http, http.url_for(url), fh, tmo, max_redirects)
        have = await fetch.run()
        if md5 is not None:
            expected = md5.lower()
            actual = await anyio.to_thread.run_sync(_file_md5, fh, tmp)
            if actual != expected:
                logger.info(
                    "GET %s: MD5 %s of %d bytes, expected %s; downloading again",
                    fetch.shown,
                    actual,
                    have,
                    expected,
                )
                await anyio.to_thread.run_sync(_truncate, fh)
                have = await fetch.run()
                actual = await anyio.to_thread.run_sync(_file_md5, fh, tmp)
            if actual != expected:
                raise ChecksumMismatchError(
                    f"GET {fetch.shown}: the {have} bytes received have MD5 {actual}, but the "
                    f"server's checksum is {expected} (downloaded twice); the stored file "
                    "or something in between is corrupt: retry later or re-upload it",
                    url=fetch.shown,
                    expected=expected,
                    actual=actual,
                )
        await anyio.to_thread.run_sync(fh.close)
        await anyio.to_thread.run_sync(os.replace, tmp, final)
        done = True
        return have
    finally:
        if not done:
            fh.close()
            tmp.unlink(missing_ok=True)


class _Fetch:
    """The attempts of one download into ``fh`` (each appends from the file's end)."""

    def __init__(
        self, http: HTTPClient, url: str, fh: IO[bytes], tmo: Timeout, max_redirects: int
    ) -> None:
        self.http, self.url, self.fh, self.tmo = http, url, fh, tmo
        self.max_redirects = max_redirects
        self.have = 0
        self._mark = 0
        self.budget = http.budget()

    @property
    def shown(self) -> str:
        """The URL without its query (a signed URL's query is a secret)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def _progressed(self) -> bool:
        moved, self._mark = self.have > self._mark, self.have
        return moved

    async def run(self) -> int:
        """Download from the file's current end with retries; returns the file's size."""
        self.have = self._mark = self.fh.tell()
        self.budget = self.http.budget()
        await self.http.retrying(
            self._once, budget=self.budget, what=f"GET {self.shown}", progressed=self._progressed
        )
        return self.have

    async def _once(self) -> None:
        http = self.http
        if self.have:
            logger.info("resuming GET %s at byte %d", self.shown, self.have)
        for _ in range(self.max_redirects + 1):
            headers = {"Accept": "*/*"}
            if self.have:
                headers["Range"] = f"bytes={self.have}-"
            resp = await http.send(
                "GET",
                self.url,
                budget=self.budget,
                headers=headers,
                timeout=self.tmo,
                streamed=True,
                decompress=False,
                shown=self.shown,
                redirects=True,
            )
            try:
                location = resp.headers.get("Location")
                if resp.status in _REDIRECTS and location:
                    self.url = urljoin(self.url, location)
                    continue
                expected = resp.content_length
                if (
                    resp.status == 206
                    and _range_start(resp.headers.get("Content-Range")) == self.have
                ):
                    expected = None if expected is None else self.have + expected
                elif self.have:  # the server sent the whole file: start over
                    await anyio.to_thread.run_sync(_truncate, self.fh)
                    self.have = self._mark = 0
                pending: list[bytes] = []
                size = 0
                try:
                    async for chunk in resp.iter_bytes():
                        pending.append(chunk)
                        size += len(chunk)
                        if size >= WRITE_SIZE:
                            await self._write(pending)
                            pending, size = [], 0
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._write(pending)
                if expected is not None and self.have != expected:
                    raise TransportError(
                        f"GET {self.shown}: the body ended after {self.have} of {expected} bytes",
                        method="GET",
                        url=self.shown,
                    )
                return
            finally:
                await resp.aclose()
        raise TransportError(
            f"GET {self.shown}: more than {self.max_redirects} redirects",
            method="GET",
            url=self.shown,
        )

    async def _write(self, chunks: list[bytes]) -> None:
        if chunks:
            data = b"".join(chunks)
            await anyio.to_thread.run_sync(self.fh.write, data)
            self.have += len(data)


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
